// `lt mint <SYMBOL> <usdt>` and `lt redeem <SYMBOL> <tokens|all>`: requests at the token's desk
// (src/cli/desk.ts), and a settled token's redeem straight from the token (its frozen USDT, no price
// at stake). Everything the CLI can tell beforehand (state, balance) it says before sending anything;
// what only the chain knows comes back from the revert, decoded.
import type { ContractTransactionReceipt, Signer } from "ethers";
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import { mintRedeemGasLimit } from "../chain/gas.ts";
import { parseDurationOption, parseShareAmount } from "./amounts.ts";
import { type Context, resolveSymbol, signerOf, tokenOf } from "./context.ts";
import { CliError, explainError, insufficientSharesMessage, STATE, type ErrorContext } from "./errors.ts";
import {
  decimalString,
  formatPercent,
  formatShares,
  formatUsdt,
  lines,
  parseAmount,
  parsePercent,
  SHARE_DECIMALS,
  USDT_DECIMALS,
  WAD,
  type Json,
  type Report,
} from "./format.ts";
import { explainMinedRevert } from "./minedRevert.ts";
import { previewQuoteSource } from "./quote.ts";
import { deskAddressOf, deskMint, deskRedeem, DEFAULT_REQUEST_DEADLINE } from "./desk.ts";

export interface TradeOptions {
  /** The most the result may fall short of the preview: "0.5%" (the default) or "0.5". */
  maxSlippage: string;
  /**
   * Whether --max-slippage was given on the command line rather than left at its default: a request
   * at the desk refuses it (only a settled token's redeem, paid at once, has a price to bound).
   */
  maxSlippageGiven?: boolean;
  /** An explicit minimum result (shares for a mint, USDT for a redeem); overrides maxSlippage. */
  minOut?: string;
  /** A token with a desk: wait for the fill and claim (default true; --no-wait only places the request). */
  wait?: boolean;
  /**
   * How long the trade may take ("10m" by default): on a token with a desk the USDT permit's validity
   * and the wait for the fill; an instant call (a settled token's redeem) is waited for this long.
   */
  deadline?: string;
  /** The old name of --deadline (kept working, hidden from the help). */
  timeout?: string;
}

/** A mint is always a request: --max-slippage has no default there, and is refused when given. */
export interface MintOptions extends Omit<TradeOptions, "maxSlippage"> {
  maxSlippage?: string;
  /** Approve the token to take the USDT when the allowance is short (default true). */
  approve: boolean;
}

export const DEFAULT_SLIPPAGE = "0.5%";

/** preview x (1 - slippage), rounded down: the least the user accepts. */
export function minimumOutDown(preview: bigint, slippage: bigint): bigint {
  return (preview * (WAD - slippage)) / WAD;
}

function eventArg(
  token: LeveragedToken,
  receipt: ContractTransactionReceipt,
  name: string,
  arg: string,
): bigint {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== receipt.to?.toLowerCase()) continue;
    const parsed = token.interface.parseLog(log);
    if (parsed?.name === name) return BigInt(parsed.args.getValue(arg) as bigint);
  }
  throw new CliError(`the transaction ${receipt.hash} succeeded but emitted no ${name} event`);
}

/** --deadline (or its old name --timeout), or the default. */
function deadlineOf(opts: Pick<TradeOptions, "deadline" | "timeout">): string {
  return opts.timeout ?? opts.deadline ?? DEFAULT_REQUEST_DEADLINE;
}

async function send(
  token: LeveragedToken,
  signer: Signer,
  ectx: ErrorContext,
  deadlineS: number,
  call: (t: LeveragedToken) => Promise<{
    hash: string;
    wait(confirms?: number, timeout?: number): Promise<ContractTransactionReceipt | null>;
  }>,
): Promise<ContractTransactionReceipt> {
  const tx = await call(token.connect(signer));
  let receipt: ContractTransactionReceipt | null;
  try {
    receipt = await tx.wait(1, deadlineS * 1000);
  } catch (e) {
    if ((e as { code?: unknown }).code === "TIMEOUT") {
      throw new CliError(
        `the transaction ${tx.hash} was not mined within the --deadline of ${deadlineS} s; it may still be mined: look it up before sending again`,
      );
    }
    throw await explainMinedRevert(signer.provider, e, ectx);
  }
  if (!receipt) throw new CliError("the node did not return a receipt for the transaction");
  return receipt;
}

export async function mintCommand(
  ctx: Context,
  input: string,
  usdtText: string,
  opts: MintOptions,
): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  const ectx: ErrorContext = { rpcUrl: ctx.options.rpc, symbol, action: "mint" };
  try {
    if (deskAddressOf(ctx, symbol) !== undefined) {
      return await deskMint(ctx, symbol, usdtText, {
        wait: opts.wait !== false,
        deadline: deadlineOf(opts),
        minOut: opts.minOut,
        maxSlippageGiven: opts.maxSlippageGiven,
        approve: opts.approve,
      });
    }
    throw new CliError(noDeskMessage(symbol));
  } catch (e) {
    throw explainError(e, ectx);
  }
}

/** Every token mints and redeems through its desk; an address book without one predates forward pricing. */
function noDeskMessage(symbol: string): string {
  return `${symbol} has no desk in this address book: it was deployed before forward pricing (every token mints and redeems through its ForwardDesk now); redeploy with npm run deploy`;
}

export async function redeemCommand(
  ctx: Context,
  input: string,
  amountText: string,
  opts: TradeOptions,
): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  const ectx: ErrorContext = { rpcUrl: ctx.options.rpc, symbol, action: "redeem" };
  try {
    const slippage = parsePercent(opts.maxSlippage, "--max-slippage");
    const deadlineS = parseDurationOption(deadlineOf(opts));
    const minOut = opts.minOut === undefined ? undefined : parseAmount(opts.minOut, USDT_DECIMALS, "USDT");
    const shares = await parseShareAmount(ctx, symbol, amountText, "redeem");
    const signer = await signerOf(ctx);
    const account = await signer.getAddress();
    const token = tokenOf(ctx, symbol);
    const [status, balance] = await Promise.all([token.status(), token.balanceOf(account)]);
    const state = Number(status.state);
    // a settled token pays its frozen USDT to anyone, instantly: no price is at stake, no desk
    if (deskAddressOf(ctx, symbol) !== undefined && state !== STATE.Settled) {
      return await deskRedeem(ctx, symbol, amountText, {
        wait: opts.wait !== false,
        deadline: deadlineOf(opts),
        minOut: opts.minOut,
        maxSlippageGiven: opts.maxSlippageGiven,
      });
    }
    if (state !== STATE.Settled) throw new CliError(noDeskMessage(symbol));
    if (balance < shares) throw new CliError(insufficientSharesMessage(symbol, balance, shares));
    // settled: the frozen USDT per token, so the preview is what the call pays
    const preview = await previewQuoteSource(ctx).quoteRedeem(symbol, shares);
    const minAssets = minOut ?? minimumOutDown(preview, slippage);
    if (preview < minAssets)
      throw new CliError(
        `${symbol} pays ${formatUsdt(preview)} USDT for ${formatShares(shares)} tokens, less than the ${formatUsdt(minAssets)} USDT asked (--min-out)`,
      );
    const receipt = await send(token, signer, ectx, deadlineS, async (t) =>
      t.redeem(shares, account, account, {
        gasLimit: mintRedeemGasLimit(await t.redeem.estimateGas(shares, account, account)),
      }),
    );
    const assets = eventArg(token, receipt, "Withdraw", "assets");
    const data: { [key: string]: Json } = {
      action: "redeem",
      symbol,
      account,
      shares: decimalString(shares, SHARE_DECIMALS),
      usdt: decimalString(assets, USDT_DECIMALS),
      preview: decimalString(preview, USDT_DECIMALS),
      minUsdt: decimalString(minAssets, USDT_DECIMALS),
      settled: state === STATE.Settled,
      tx: receipt.hash,
      block: receipt.blockNumber,
    };
    const rows: [string, string][] = [
      ["redeemed", `${formatShares(shares)} ${symbol} for ${formatUsdt(assets)} USDT`],
      ["preview", `${formatUsdt(preview)} USDT`],
      [
        "minimum",
        `${formatUsdt(minAssets)} USDT` +
          (minOut === undefined ? ` (max slippage ${formatPercent(slippage)})` : " (--min-out)"),
      ],
      ["tx", `${receipt.hash} (block ${receipt.blockNumber})`],
    ];
    return { data, text: lines(rows) };
  } catch (e) {
    throw explainError(e, ectx);
  }
}
