// Mint and redeem from the page, as `lt mint` and `lt redeem` do them on a token's ForwardDesk
// (src/cli/desk.ts): the same checks before sending with the same sentences, a USDT permit signed
// and taken by the request (one transaction), the request filled by the keeper at the next price
// round, then the claim; every failure explained by the CLI's explainError. The wallet signs
// (an ethers Signer over the injected EIP-1193 provider); reads go through the page's own node
// connection.
import type { ContractTransactionReceipt, ContractTransactionResponse, Signer } from "ethers";
import type { ForwardDesk } from "../../types/ethers-contracts/ForwardDesk.sol/ForwardDesk.ts";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { deskRequestGasLimit, gasLimitFrom } from "../chain/gas.ts";
import { signPermit } from "../chain/permit.ts";
import { deadlineFromNow } from "../cli/amounts.ts";
import { tokenOf, usdtOf, type Context } from "../cli/context.ts";
import {
  checkMintRequest,
  checkRedeemRequest,
  costRows,
  DEFAULT_REQUEST_DEADLINE,
  fillReportOf,
  readDeskRequests,
  type FillReport,
  type Requests,
  type Side,
} from "../cli/desk.ts";
import { costBreakdown, engineQuoteSource } from "../cli/engineQuote.ts";
import { CliError, explainError, type ErrorContext } from "../cli/errors.ts";
import type { CostBreakdown } from "../cli/quote.ts";
import { parseDuration } from "../common/duration.ts";
import { poolBuy, poolSell, readPool, type PoolQuote } from "./reads.ts";

/**
 * The trade panel's Deadline, in minutes: how long the USDT permit a mint signs stays valid in chain
 * time, as `lt mint --deadline` (whose default it shares). A day at most: the request is sent at once.
 */
export const DEADLINE_MINUTES = {
  default: parseDuration(DEFAULT_REQUEST_DEADLINE) / 60,
  min: 1,
  max: 1440,
} as const;

/** The Deadline field's text as seconds; a bad one is a plain sentence (and nothing is signed). */
export function parseDeadlineMinutes(text: string): number {
  const t = text.trim();
  const minutes = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(minutes >= DEADLINE_MINUTES.min && minutes <= DEADLINE_MINUTES.max)) {
    throw new CliError(
      `The deadline must be a whole number of minutes from ${DEADLINE_MINUTES.min} to ${DEADLINE_MINUTES.max} (a day)${t === "" ? "" : `, not ${t}`}; nothing was sent.`,
    );
  }
  return minutes * 60;
}

export function deskOf(ctx: Context, symbol: string): ForwardDesk {
  const address = ctx.book.desks?.[symbol];
  if (address === undefined) {
    throw new CliError(`${symbol} has no desk, and the page trades only through desks`);
  }
  return ForwardDesk__factory.connect(address, ctx.provider);
}

async function mined(
  ectx: ErrorContext,
  tx: Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt> {
  try {
    const receipt = await (await tx).wait();
    if (receipt === null) throw new CliError("the node did not return a receipt for the transaction");
    return receipt;
  } catch (e) {
    throw explainError(e, ectx);
  }
}

export interface Placed {
  side: Side;
  symbol: string;
  /** USDT (6 decimals) for a deposit, shares (18 decimals) for a redeem. */
  amount: bigint;
  tx: string;
  block: number;
  /** The desk's epoch the request joined. */
  epoch: bigint;
  permit: boolean;
  /** When the permit stops being valid (chain time, unix seconds), or null without a permit. */
  permitDeadline: bigint | null;
  approveTx: string | null;
}

/** The CLI's checks of a mint, before anything is signed: state, pause, balance. */
export async function checkMint(
  ctx: Context,
  symbol: string,
  account: string,
  assets: bigint,
): Promise<void> {
  await checkMintRequest(ctx, symbol, account, assets, await deskOf(ctx, symbol).getAddress());
}

/**
 * Places a mint request of `assets` USDT: a permit valid for `deadlineSeconds` of chain time in the
 * request, or an approval first if the wallet cannot sign one.
 */
export async function requestMint(
  ctx: Context,
  signer: Signer,
  symbol: string,
  assets: bigint,
  deadlineSeconds: number,
): Promise<Placed> {
  const ectx: ErrorContext = { rpcUrl: ctx.options.rpc, symbol, action: "mint" };
  const account = await signer.getAddress();
  await checkMint(ctx, symbol, account, assets);
  const desk = deskOf(ctx, symbol);
  const deskAddress = await desk.getAddress();
  const usdt = usdtOf(ctx);
  const d = desk.connect(signer);
  let approveTx: string | null = null;
  let permitDeadline: bigint | null = null;
  let send: Promise<ContractTransactionResponse>;
  if ((await usdt.allowance(account, deskAddress)) >= assets) {
    send = d.requestDeposit
      .estimateGas(assets, account, account)
      .then((gas) => d.requestDeposit(assets, account, account, { gasLimit: deskRequestGasLimit(gas) }));
  } else {
    // lt mint's deadline: the chain's clock, not the browser's (a test node's may run ahead), and the
    // pending block's time, so an idle node's old latest block does not make the permit already past
    const deadline = await deadlineFromNow(ctx.provider, deadlineSeconds);
    const permit = await signPermit(signer, usdt, deskAddress, assets, deadline).catch((e: unknown) => {
      const x = e as { code?: string };
      if (x.code === "ACTION_REJECTED") throw explainError(e, ectx);
      return undefined; // a wallet that cannot sign typed data approves instead
    });
    if (permit === undefined) {
      approveTx = (await mined(ectx, usdt.connect(signer).approve(deskAddress, assets))).hash;
      send = d.requestDeposit
        .estimateGas(assets, account, account)
        .then((gas) => d.requestDeposit(assets, account, account, { gasLimit: deskRequestGasLimit(gas) }));
    } else {
      permitDeadline = deadline;
      send = d.requestDepositWithPermit
        .estimateGas(assets, account, deadline, permit.v, permit.r, permit.s)
        .then((gas) =>
          d.requestDepositWithPermit(assets, account, deadline, permit.v, permit.r, permit.s, {
            gasLimit: deskRequestGasLimit(gas),
          }),
        );
    }
  }
  const receipt = await mined(ectx, send);
  const [epoch] = await desk.epochs({ blockTag: receipt.blockNumber });
  return {
    side: "deposit",
    symbol,
    amount: assets,
    tx: receipt.hash,
    block: receipt.blockNumber,
    epoch,
    permit: permitDeadline !== null,
    permitDeadline,
    approveTx,
  };
}

/** Places a redeem request of `shares`, approving the desk for them first when needed (as lt redeem). */
export async function requestRedeem(
  ctx: Context,
  signer: Signer,
  symbol: string,
  shares: bigint,
): Promise<Placed> {
  const ectx: ErrorContext = { rpcUrl: ctx.options.rpc, symbol, action: "redeem" };
  const account = await signer.getAddress();
  const desk = deskOf(ctx, symbol);
  const deskAddress = await desk.getAddress();
  const allowance = await checkRedeemRequest(ctx, symbol, account, shares, deskAddress);
  let approveTx: string | null = null;
  if (allowance < shares) {
    approveTx = (await mined(ectx, tokenOf(ctx, symbol, signer).approve(deskAddress, shares))).hash;
  }
  const d = desk.connect(signer);
  const receipt = await mined(
    ectx,
    d.requestRedeem
      .estimateGas(shares, account, account)
      .then((gas) => d.requestRedeem(shares, account, account, { gasLimit: deskRequestGasLimit(gas) })),
  );
  const [epoch] = await desk.epochs({ blockTag: receipt.blockNumber });
  return {
    side: "redeem",
    symbol,
    amount: shares,
    tx: receipt.hash,
    block: receipt.blockNumber,
    epoch,
    permit: false,
    permitDeadline: null,
    approveTx,
  };
}

/** The account's requests on the token's desk, as `lt requests` reads them. */
export async function readRequests(ctx: Context, symbol: string, account: string): Promise<Requests> {
  return readDeskRequests(deskOf(ctx, symbol), account);
}

export interface Claimed {
  minted?: { shares: bigint; usdt: bigint; tx: string };
  redeemed?: { shares: bigint; usdt: bigint; tx: string };
  returnedUsdt?: bigint;
  returnedShares?: bigint;
}

function eventArg(desk: ForwardDesk, r: ContractTransactionReceipt, name: string, arg: string): bigint {
  for (const log of r.logs) {
    if (log.address.toLowerCase() !== r.to?.toLowerCase()) continue;
    const parsed = desk.interface.parseLog(log);
    if (parsed?.name === name) return BigInt(parsed.args.getValue(arg) as bigint);
  }
  throw new CliError(`the claim ${r.hash} succeeded but emitted no ${name} event`);
}

/** Claims every filled request on the desk and takes back refused ones (`lt claim`). */
export async function claimAll(ctx: Context, signer: Signer, symbol: string): Promise<Claimed> {
  const ectx: ErrorContext = { rpcUrl: ctx.options.rpc, symbol };
  const account = await signer.getAddress();
  const desk = deskOf(ctx, symbol);
  const d = desk.connect(signer);
  const r = await readRequests(ctx, symbol, account);
  const out: Claimed = {};
  if (r.claimableSharesUsdt > 0n) {
    const usdt = r.claimableSharesUsdt;
    const claim = d["deposit(uint256,address,address)"];
    const receipt = await mined(
      { ...ectx, action: "mint" },
      claim
        .estimateGas(usdt, account, account)
        .then((gas) => claim(usdt, account, account, { gasLimit: gasLimitFrom(gas) })),
    );
    out.minted = { shares: eventArg(desk, receipt, "Deposit", "shares"), usdt, tx: receipt.hash };
  }
  if (r.claimableUsdtShares > 0n) {
    const shares = r.claimableUsdtShares;
    const receipt = await mined(
      { ...ectx, action: "redeem" },
      d.redeem
        .estimateGas(shares, account, account)
        .then((gas) => d.redeem(shares, account, account, { gasLimit: gasLimitFrom(gas) })),
    );
    out.redeemed = { shares, usdt: eventArg(desk, receipt, "Withdraw", "assets"), tx: receipt.hash };
  }
  if (r.refundableUsdt > 0n) {
    await mined(ectx, d.cancelDepositRequest(account));
    out.returnedUsdt = r.refundableUsdt;
  }
  if (r.refundableShares > 0n) {
    await mined(ectx, d.cancelRedeemRequest(account));
    out.returnedShares = r.refundableShares;
  }
  return out;
}

/** Takes a pending request back while its price round is the current one (`lt cancel`). */
export async function cancelRequest(ctx: Context, signer: Signer, symbol: string, side: Side): Promise<void> {
  const ectx: ErrorContext = {
    rpcUrl: ctx.options.rpc,
    symbol,
    action: side === "deposit" ? "mint" : "redeem",
  };
  const account = await signer.getAddress();
  const d = deskOf(ctx, symbol).connect(signer);
  const call = side === "deposit" ? d.cancelDepositRequest : d.cancelRedeemRequest;
  await mined(
    ectx,
    call.estimateGas(account).then((gas) => call(account, { gasLimit: gasLimitFrom(gas) })),
  );
}

/** The fill that took `placed`'s epoch (the desk's first Filled from its block whose batch reaches it). */
export async function findFill(ctx: Context, placed: Placed): Promise<FillReport | undefined> {
  const desk = deskOf(ctx, placed.symbol);
  for (const ev of await desk.queryFilter(desk.filters.Filled(), placed.block)) {
    const { batch, firstEpoch } = ev.args;
    if (firstEpoch <= placed.epoch && placed.epoch <= batch) {
      const receipt = await ctx.provider.getTransactionReceipt(ev.transactionHash);
      if (receipt === null) return undefined;
      return fillReportOf(ctx, desk, tokenOf(ctx, placed.symbol), receipt);
    }
  }
  return undefined;
}

/**
 * `account`'s last `side` request on `symbol`'s desk from `fromBlock`, read from the desk's
 * DepositRequest or RedeemRequest events, as a Placed (no permit or approval known): what the page
 * finds on load for a filled request it did not place in this session, to show that fill's cost
 * split. Requests in the same epoch add up, as the desk adds them; undefined when there is none.
 */
export async function lastPlaced(
  ctx: Context,
  symbol: string,
  account: string,
  side: Side,
  fromBlock: number,
): Promise<Placed | undefined> {
  const desk = deskOf(ctx, symbol);
  const requests =
    side === "deposit"
      ? (await desk.queryFilter(desk.filters.DepositRequest(account), fromBlock)).map((e) => ({
          block: e.blockNumber,
          tx: e.transactionHash,
          amount: e.args.assets,
        }))
      : (await desk.queryFilter(desk.filters.RedeemRequest(account), fromBlock)).map((e) => ({
          block: e.blockNumber,
          tx: e.transactionHash,
          amount: e.args.shares,
        }));
  const last = requests[requests.length - 1];
  if (last === undefined) return undefined;
  const epochAt = async (block: number) => (await desk.epochs({ blockTag: block }))[0];
  const epoch = await epochAt(last.block);
  let [amount, block] = [0n, last.block];
  for (const r of requests.slice().reverse()) {
    if (r.block !== last.block && (await epochAt(r.block)) !== epoch) break;
    [amount, block] = [amount + r.amount, r.block];
  }
  return {
    side,
    symbol,
    amount,
    tx: last.tx,
    block,
    epoch,
    permit: false,
    permitDeadline: null,
    approveTx: null,
  };
}

/** lt mint's cost lines for the request's share of its fill. */
export function fillLines(placed: Placed, fill: FillReport): [string, string][] {
  return costRows(placed.symbol, placed.side, fill, placed.amount).rows;
}

export interface TradeQuote {
  side: Side;
  amount: bigint;
  /** The engine's estimate at today's price: shares for a mint, USDT for a redeem. */
  estimate: bigint;
  costs: CostBreakdown;
  pool: PoolQuote | null;
  /** What the pool gives for the same amount: shares bought, or USDT for the shares sold. */
  poolOut: bigint | null;
}

/** The engine's estimate and cost split (lt quote's), and the pool's output for the same amount. */
export async function quoteTrade(
  ctx: Context,
  symbol: string,
  side: Side,
  amount: bigint,
  nav: bigint | null,
): Promise<TradeQuote> {
  const engine = engineQuoteSource(ctx);
  const quoteSide = side === "deposit" ? "mint" : "redeem";
  const [estimate, costs, pool] = await Promise.all([
    side === "deposit" ? engine.quoteMint(symbol, amount) : engine.quoteRedeem(symbol, amount),
    costBreakdown(ctx, quoteSide, symbol, amount),
    readPool(ctx, symbol, nav).catch(() => null),
  ]);
  const poolOut = pool === null ? null : side === "deposit" ? poolBuy(pool, amount) : poolSell(pool, amount);
  return { side, amount, estimate, costs, pool, poolOut };
}
