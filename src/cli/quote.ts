// `lt quote mint|redeem <SYMBOL> <amount>`: what a mint or a redeem would give, from two sources
// side by side: the token's own previews (run by the node) and the off-chain reference engine, both
// read at one block: the node's pending block, checked to be the same one (the same parent and the
// same time) before and after both reads, and read again when the chain moved on in between.
import { type RawRpc, rawRpcOf } from "../chain/tokenBook.ts";
import { type Context, resolveSymbol, tokenOf } from "./context.ts";
import { CliError, explainError } from "./errors.ts";
import {
  decimalString,
  formatShares,
  formatTime,
  formatUsdt,
  lines,
  SHARE_DECIMALS,
  USDT_DECIMALS,
  type Json,
  type Report,
} from "./format.ts";
import { parseShareAmount, parseUsdtAmount } from "./amounts.ts";

/** What a mint or a redeem pays, part by part, in USDT. */
export interface CostBreakdown {
  /** The mint or redeem fee (taken in shares), at the trade's price. */
  fee: bigint;
  /** The exchange's taker fee on the token's slice of the trade. */
  tradingCost: bigint;
  /** The exchange's price impact on it. */
  priceImpact: bigint;
}

/** A source of quotes: shares for `usdt` minted, USDT for `shares` redeemed (base units). */
export interface QuoteSource {
  quoteMint(symbol: string, usdt: bigint): Promise<bigint>;
  quoteRedeem(symbol: string, shares: bigint): Promise<bigint>;
  /** The costs part by part (the engine's; the previews give only the result). */
  breakdown?(side: QuoteSide, symbol: string, amount: bigint): Promise<CostBreakdown>;
}

/** Builds the engine's quote source for a connection; the lead wires src/engine in here. */
export type EngineQuoteFactory = (ctx: Context) => QuoteSource | Promise<QuoteSource>;

export const ENGINE_NOT_AVAILABLE = "n/a (engine not available)";

/**
 * Quotes from the token's ERC-4626 previews, run on the node's pending block: the previews run the
 * same code as the calls, so a transaction mined in that block gets exactly this.
 */
export function previewQuoteSource(ctx: Context): QuoteSource {
  return {
    quoteMint: (symbol, usdt) => tokenOf(ctx, symbol).previewDeposit(usdt, { blockTag: "pending" }),
    quoteRedeem: (symbol, shares) => tokenOf(ctx, symbol).previewRedeem(shares, { blockTag: "pending" }),
  };
}

export type QuoteSide = "mint" | "redeem";

/** The pending block as a pin: the block it builds on and its time. */
interface PendingPin {
  parentHash: string;
  parentNumber: number;
  timestamp: bigint;
}

async function pendingPin(rpc: RawRpc): Promise<PendingPin> {
  const latest = (await rpc.send("eth_getBlockByNumber", ["latest", false])) as {
    hash?: string;
    number?: string;
  } | null;
  const pending = (await rpc.send("eth_getBlockByNumber", ["pending", false])) as {
    parentHash?: string;
    timestamp?: string;
  } | null;
  if (latest?.hash === undefined || latest.number === undefined || pending?.timestamp === undefined) {
    throw new CliError("the node gave no latest or pending block to price the quote at");
  }
  // the pending block builds on the latest one (a node that reports its parent says so)
  const parentHash = pending.parentHash ?? latest.hash;
  return { parentHash, parentNumber: Number(BigInt(latest.number)), timestamp: BigInt(pending.timestamp) };
}

/** Tries before `readAtOneBlock` gives up on a chain that moves on during every read. */
export const ONE_BLOCK_TRIES = 5;

/**
 * Runs `read` (calls at the "pending" block) between two looks at the pending block, and returns
 * what it read with that block's number and time once both looks agree (the same parent, the same
 * time): every call in `read` then saw one block. Reads again when a block was mined or the pending
 * block's time moved on in between; after `tries` such tries, one plain sentence.
 */
export async function readAtOneBlock<T>(
  rpc: RawRpc,
  read: () => Promise<T>,
  tries = ONE_BLOCK_TRIES,
): Promise<{ value: T; block: number; timestamp: bigint }> {
  for (let i = 0; i < tries; i++) {
    const before = await pendingPin(rpc);
    const value = await read();
    const after = await pendingPin(rpc);
    if (
      before.parentHash === after.parentHash &&
      before.parentNumber === after.parentNumber &&
      before.timestamp === after.timestamp
    ) {
      return { value, block: before.parentNumber + 1, timestamp: before.timestamp };
    }
  }
  throw new CliError(
    `the chain moved on during each of ${tries} tries to read the token's preview and the engine's quote at one block; try again`,
  );
}

export async function quoteCommand(
  ctx: Context,
  sideText: string,
  input: string,
  amountText: string,
  engine?: EngineQuoteFactory,
): Promise<Report> {
  if (sideText !== "mint" && sideText !== "redeem") {
    throw new CliError(`"${sideText}" is not a kind of quote: use "lt quote mint" or "lt quote redeem"`);
  }
  const side: QuoteSide = sideText;
  const symbol = resolveSymbol(ctx.book, input);
  const amount =
    side === "mint" ? parseUsdtAmount(amountText) : await parseShareAmount(ctx, symbol, amountText, "redeem");
  const ectx = { rpcUrl: ctx.options.rpc, symbol, action: side };
  const preview = previewQuoteSource(ctx);
  const source = engine ? await engine(ctx) : undefined;
  const pinned = await readAtOneBlock(rawRpcOf(ctx.provider), async () => {
    let previewOut: bigint;
    try {
      previewOut =
        side === "mint" ? await preview.quoteMint(symbol, amount) : await preview.quoteRedeem(symbol, amount);
    } catch (e) {
      throw explainError(e, ectx);
    }
    let engineOut: bigint | null = null;
    let costs: CostBreakdown | null = null;
    let engineNote = ENGINE_NOT_AVAILABLE;
    if (source) {
      try {
        engineOut =
          side === "mint" ? await source.quoteMint(symbol, amount) : await source.quoteRedeem(symbol, amount);
        costs = source.breakdown ? await source.breakdown(side, symbol, amount) : null;
      } catch (e) {
        engineNote = `n/a (engine: ${explainError(e, ectx).message})`;
      }
    }
    return { previewOut, engineOut, costs, engineNote };
  });
  const { previewOut, engineOut, costs, engineNote } = pinned.value;
  const outDecimals = side === "mint" ? SHARE_DECIMALS : USDT_DECIMALS;
  const show = (v: bigint) => (side === "mint" ? `${formatShares(v)} ${symbol}` : `${formatUsdt(v)} USDT`);
  const input_ = side === "mint" ? `${formatUsdt(amount)} USDT` : `${formatShares(amount)} ${symbol}`;
  const rows: [string, string][] = [
    ["preview (token)", show(previewOut)],
    ["engine", engineOut === null ? engineNote : show(engineOut)],
  ];
  if (engineOut !== null && engineOut !== previewOut) {
    rows.push(["difference", `engine - preview = ${decimalString(engineOut - previewOut, outDecimals)}`]);
  }
  if (costs !== null) {
    const total = costs.fee + costs.tradingCost + costs.priceImpact;
    rows.push(
      ["costs", `${formatUsdt(total)} USDT in all, of which:`],
      [`  ${side} fee`, `${formatUsdt(costs.fee)} USDT (paid in ${symbol} to the treasury)`],
      [
        "  trading cost",
        `${formatUsdt(costs.tradingCost)} USDT (the exchange's taker fee on the position's change)`,
      ],
      ["  price impact", `${formatUsdt(costs.priceImpact)} USDT`],
    );
  }
  const data: { [key: string]: Json } = {
    side,
    symbol,
    amountIn: decimalString(amount, side === "mint" ? USDT_DECIMALS : SHARE_DECIMALS),
    unitIn: side === "mint" ? "USDT" : symbol,
    unitOut: side === "mint" ? symbol : "USDT",
    preview: decimalString(previewOut, outDecimals),
    engine: engineOut === null ? null : decimalString(engineOut, outDecimals),
    block: pinned.block,
    blockTime: Number(pinned.timestamp),
  };
  if (engineOut === null) data.engineNote = engineNote;
  if (costs !== null) {
    data.costs = {
      feeUsdt: decimalString(costs.fee, USDT_DECIMALS),
      tradingCostUsdt: decimalString(costs.tradingCost, USDT_DECIMALS),
      priceImpactUsdt: decimalString(costs.priceImpact, USDT_DECIMALS),
    };
  }
  const verb = side === "mint" ? `mint ${symbol} with ${input_}` : `redeem ${input_}`;
  const at = `block ${pinned.block} at ${formatTime(pinned.timestamp)}`;
  return { data, text: `quote: ${verb} (priced for the next block, ${at})\n${lines(rows, "  ")}` };
}
