// Mints and redeems of a token made with a ForwardDesk (forward pricing): `lt mint` and `lt redeem`
// place a request (approve + requestDeposit / requestRedeem), wait for the fill at the next price
// round and claim it; `lt requests`, `lt claim`, `lt cancel` and `lt fill`. What the CLI can tell
// beforehand it says before sending; what only the chain knows comes back from the revert, decoded
// (errors.ts names every desk error).
import type { ContractTransactionReceipt, ContractTransactionResponse, Log, Signature, Signer } from "ethers";
import type { ForwardDesk } from "../../types/ethers-contracts/ForwardDesk.sol/ForwardDesk.ts";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import { deskRequestGasLimit, gasLimitFrom, mintRedeemGasLimit } from "../chain/gas.ts";
import { signPermit } from "../chain/permit.ts";
import { deadlineFromNow, parseDurationOption, parseShareAmount, parseUsdtAmount } from "./amounts.ts";
import { type Context, resolveSymbol, signerOf, tokenOf, usdtOf } from "./context.ts";
import {
  CliError,
  decodeCustomError,
  depletedMessage,
  explainError,
  findRevertData,
  insufficientSharesMessage,
  insufficientUsdtMessage,
  mintPausedMessage,
  STATE,
  stateMessage,
  type ErrorContext,
} from "./errors.ts";
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
import { explainMinedRevert } from "./minedRevert.ts";
import { previewQuoteSource } from "./quote.ts";
import { formatPerToken, perTokenDown, perTokenJson, readTrueNav } from "./trueNav.ts";

/**
 * `lt mint` and `lt redeem`'s default --deadline: how long the USDT permit a mint signs stays valid
 * (chain time) and how long lt waits for the fill.
 */
export const DEFAULT_REQUEST_DEADLINE = "10m";
/** How often the wait asks the node. */
const POLL_MS = 250;
/** How often the wait says it is still waiting. */
const PROGRESS_MS = 5_000;

export interface DeskTradeOptions {
  /** Place the request and return (claim later with `lt claim`). */
  wait: boolean;
  /** The deadline: the USDT permit's validity (chain time) and how long to wait for the fill ("10m", "90s"). */
  deadline: string;
  /** An explicit minimum: refused on a desk token (the price is not known when the request is placed). */
  minOut?: string;
  /** Whether --max-slippage was given on the command line (not its default): refused on a request, too. */
  maxSlippageGiven?: boolean;
  /** Approve the desk to take the USDT or the shares when the allowance is short (default true). */
  approve?: boolean;
}

export type Side = "deposit" | "redeem";

/** The token's desk from the address book (read from the chain at connect), or undefined. */
export function deskAddressOf(ctx: Context, symbol: string): string | undefined {
  return ctx.book.desks?.[symbol];
}

function requireDesk(ctx: Context, symbol: string): ForwardDesk {
  const address = deskAddressOf(ctx, symbol);
  if (address === undefined) {
    throw new CliError(
      `${symbol} has no desk in this address book: it was deployed before forward pricing, so it has no requests to show, claim, cancel or fill; redeploy with npm run deploy`,
    );
  }
  return ForwardDesk__factory.connect(address, ctx.provider);
}

async function sendAndWait(
  signer: Signer,
  ectx: ErrorContext,
  tx: Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt> {
  const sent = await tx;
  let receipt: ContractTransactionReceipt | null;
  try {
    receipt = await sent.wait();
  } catch (e) {
    throw await explainMinedRevert(signer.provider, e, ectx);
  }
  if (!receipt) throw new CliError("the node did not return a receipt for the transaction");
  return receipt;
}

/** The open epoch right after the request's block: the epoch the request joined. */
async function epochAt(desk: ForwardDesk, block: number): Promise<bigint> {
  const [open] = await desk.epochs({ blockTag: block });
  return open;
}

/** One side of a fill as the token reported it: its trade, fees and trading cost. */
export interface FillSide {
  /** USDT the exchange's taker fee (and impact) took for this side's slice of the trade. */
  tradingCost: bigint;
  /** The mint or redeem fee, in shares to the treasury. */
  feeShares: bigint;
  /** The management fee this side's call accrued to the treasury first (shares). */
  managementFeeShares: bigint;
  /** The exchange's price it traded at (8 decimals). */
  price: bigint;
}

/** A fill as the desk's Filled event and the token's events in its transaction tell it. */
export interface FillReport {
  batch: bigint;
  firstEpoch: bigint;
  round: bigint;
  assetsIn: bigint;
  sharesOut: bigint;
  sharesIn: bigint;
  assetsOut: bigint;
  depositRefused: boolean;
  redeemRefused: boolean;
  caller: string;
  bounty: bigint;
  tx: string;
  block: number;
  timestamp: number;
  mint?: FillSide;
  redeem?: FillSide;
  /** What the desk matched between the two sides before the token traded the rest (Netted). */
  netted?: Netting;
  /** The token's NAV (total assets over supply, 18 decimals) right after the fill's block. */
  navAfter: bigint;
}

/** A fill's netting, as the desk's Netted event tells it. */
export interface Netting {
  /** Shares passed from the redeemers to the depositors. */
  shares: bigint;
  /** USDT the depositors paid the redeemers for them. */
  assets: bigint;
  redeemFeeShares: bigint;
  mintFeeShares: bigint;
}

/**
 * Each side's costs with the netted part counted: its fee on the matched shares joins the fee the
 * token charged on the rest (a side the token did not trade at all has no trading cost).
 */
export function sidesWithNetting(
  sides: { mint?: FillSide; redeem?: FillSide },
  netted: Netting | undefined,
): { mint?: FillSide; redeem?: FillSide } {
  if (netted === undefined) return sides;
  const price = sides.mint?.price ?? sides.redeem?.price ?? 0n;
  const add = (side: FillSide | undefined, feeShares: bigint): FillSide => ({
    tradingCost: side?.tradingCost ?? 0n,
    feeShares: (side?.feeShares ?? 0n) + feeShares,
    managementFeeShares: side?.managementFeeShares ?? 0n,
    price: side?.price ?? price,
  });
  return { mint: add(sides.mint, netted.mintFeeShares), redeem: add(sides.redeem, netted.redeemFeeShares) };
}

/** Reads a fill from its transaction's receipt (the Filled event and the token's events in it). */
export async function fillReportOf(
  ctx: Context,
  desk: ForwardDesk,
  token: LeveragedToken,
  receipt: { hash: string; blockNumber: number; logs: readonly Log[] },
): Promise<FillReport | undefined> {
  const deskAddress = (await desk.getAddress()).toLowerCase();
  const tokenAddress = (await token.getAddress()).toLowerCase();
  let filled: FillReport | undefined;
  let last: "mint" | "redeem" | undefined;
  let netted: Netting | undefined;
  const sides: { mint?: FillSide; redeem?: FillSide } = {};
  for (const log of receipt.logs) {
    const address = log.address.toLowerCase();
    if (address === deskAddress) {
      const parsed = desk.interface.parseLog(log);
      if (parsed?.name === "Netted") {
        netted = {
          shares: parsed.args.shares as bigint,
          assets: parsed.args.assets as bigint,
          redeemFeeShares: parsed.args.redeemFeeShares as bigint,
          mintFeeShares: parsed.args.mintFeeShares as bigint,
        };
      }
      if (parsed?.name !== "Filled") continue;
      const a = parsed.args;
      filled = {
        batch: a.batch as bigint,
        firstEpoch: a.firstEpoch as bigint,
        round: a.round as bigint,
        assetsIn: a.assetsIn as bigint,
        sharesOut: a.sharesOut as bigint,
        sharesIn: a.sharesIn as bigint,
        assetsOut: a.assetsOut as bigint,
        depositRefused: a.depositRefused as boolean,
        redeemRefused: a.redeemRefused as boolean,
        caller: a.caller as string,
        bounty: a.bounty as bigint,
        tx: receipt.hash,
        block: receipt.blockNumber,
        timestamp: 0,
        navAfter: 0n,
      };
    } else if (address === tokenAddress) {
      const parsed = token.interface.parseLog(log);
      if (parsed?.name === "Deposit") last = "mint";
      else if (parsed?.name === "Withdraw") last = "redeem";
      else if (parsed?.name === "PositionResized" && last !== undefined) {
        sides[last] = {
          tradingCost: parsed.args.cost as bigint,
          feeShares: parsed.args.feeShares as bigint,
          managementFeeShares: parsed.args.managementFeeShares as bigint,
          price: parsed.args.price as bigint,
        };
        last = undefined;
      }
    }
  }
  if (filled === undefined) return undefined;
  const block = await ctx.provider.getBlock(receipt.blockNumber);
  filled.timestamp = block?.timestamp ?? 0;
  filled.navAfter =
    (await readTrueNav(token, ctx.provider, receipt.blockNumber).catch(() => undefined))?.perToken ?? 0n;
  return { ...filled, ...sidesWithNetting(sides, netted), ...(netted === undefined ? {} : { netted }) };
}

/** The fill that took `epoch`: the first Filled from `fromBlock` whose batch reaches it. */
async function findFill(
  ctx: Context,
  desk: ForwardDesk,
  token: LeveragedToken,
  epoch: bigint,
  fromBlock: number,
): Promise<FillReport | undefined> {
  const events = await desk.queryFilter(desk.filters.Filled(), fromBlock);
  for (const ev of events) {
    const { batch, firstEpoch } = ev.args;
    if (firstEpoch <= epoch && epoch <= batch) {
      const receipt = await ctx.provider.getTransactionReceipt(ev.transactionHash);
      if (receipt === null) return undefined;
      return fillReportOf(ctx, desk, token, receipt);
    }
  }
  return undefined;
}

function say(ctx: Context, line: string): void {
  ctx.progress?.(line);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/**
 * Polls until the controller's request of `side` is no longer pending (filled or refused), or
 * `timeoutS` passes: then a plain error saying the request stays pending and what fills it.
 */
async function waitForFill(
  ctx: Context,
  symbol: string,
  desk: ForwardDesk,
  account: string,
  side: Side,
  timeoutS: number,
): Promise<void> {
  const started = Date.now();
  let lastSaid = started;
  const pending = () =>
    side === "deposit" ? desk.pendingDepositRequest(0n, account) : desk.pendingRedeemRequest(0n, account);
  for (;;) {
    if ((await pending()) === 0n) return;
    const now = Date.now();
    if (now - started >= timeoutS * 1000) {
      const [needed, lateAt] = await desk.fillNeeded();
      const due = needed
        ? `a fill is due (a newer price round exists): the keeper fills it, and anyone may from ${formatTime(lateAt)} (lt fill ${symbol}, for the bounty)`
        : "no newer price round has come yet, and the fill needs one";
      throw new CliError(
        `no fill within ${seconds(timeoutS * 1000)} (--deadline): ${due}; is the keeper (npm run keeper) and the price feeder running? The request stays pending and nothing is lost: lt requests ${symbol} shows it, lt claim ${symbol} takes it once filled`,
      );
    }
    if (now - lastSaid >= PROGRESS_MS) {
      lastSaid = now;
      const [needed] = await desk.fillNeeded();
      say(
        ctx,
        `waiting for the fill of your ${side} request on ${symbol} (${seconds(now - started)} of ${seconds(timeoutS * 1000)}): ${needed ? "a new price round has come, the keeper should fill it now" : "waiting for the next price round"}`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Whether the fill refused the controller's request of `side` (the token's state, too small...). */
async function refused(desk: ForwardDesk, account: string, side: Side): Promise<bigint> {
  const [assets, shares] = await desk.refundable(account);
  return side === "deposit" ? assets : shares;
}

/** The pro-rata part `mine / total` of `value`, rounded down. */
function share(value: bigint, mine: bigint, total: bigint): bigint {
  return total === 0n ? 0n : (value * mine) / total;
}

/**
 * The cost rows of `lt mint`/`lt redeem` for a request of `given` (USDT for a deposit, shares for a
 * redeem) in `fill`: the batch's mint or redeem fee (shares), trading cost and bounty, each pro rata
 * `given` over the batch's side, rounded down as the desk's claim is; the fee's worth is its shares
 * at the NAV after the fill. The fee in shares is the fee rate times the shares the mint made, so at
 * a NAV under 1 it is more shares than the rate times the USDT (0.78 shares on 1,000 USDT at 0.64).
 */
export function costRows(
  symbol: string,
  side: Side,
  fill: FillReport,
  given: bigint,
): { rows: [string, string][]; data: { [key: string]: Json } } {
  const total = side === "deposit" ? fill.assetsIn : fill.sharesIn;
  const s = side === "deposit" ? fill.mint : fill.redeem;
  const nav = fill.navAfter;
  const feeShares = s === undefined ? 0n : share(s.feeShares, given, total);
  // shares (18 decimals) x USDT per token (18 decimals) -> USDT (6 decimals)
  const feeUsdt = (feeShares * nav) / 10n ** 30n;
  const trading = s === undefined ? 0n : share(s.tradingCost, given, total);
  const bounty = side === "deposit" || fill.assetsIn === 0n ? share(fill.bounty, given, total) : 0n;
  const rows: [string, string][] = [
    [
      "filled",
      `batch ${fill.batch} at the price round of ${formatTime(fill.round)}, block ${fill.block} (tx ${fill.tx})`,
    ],
    ["NAV", `${formatPerToken(nav)} USDT per ${symbol} after the fill`],
    [
      "costs",
      `${side === "deposit" ? "mint" : "redeem"} fee ${formatShares(feeShares)} ${symbol} (about ${formatUsdt(feeUsdt)} USDT), trading cost ${formatUsdt(trading)} USDT` +
        (bounty > 0n ? `, late-fill bounty ${formatUsdt(bounty)} USDT` : "") +
        " (your share of the batch's)",
    ],
  ];
  return {
    rows,
    data: {
      batch: fill.batch.toString(),
      round: Number(fill.round),
      fillTx: fill.tx,
      fillBlock: fill.block,
      navAfterFill: perTokenJson(nav),
      feeShares: decimalString(feeShares, SHARE_DECIMALS),
      feeUsdt: decimalString(feeUsdt, USDT_DECIMALS),
      tradingCost: decimalString(trading, USDT_DECIMALS),
      bounty: decimalString(bounty, USDT_DECIMALS),
      batchUsdtIn: decimalString(fill.assetsIn, USDT_DECIMALS),
      batchSharesOut: decimalString(fill.sharesOut, SHARE_DECIMALS),
      batchSharesIn: decimalString(fill.sharesIn, SHARE_DECIMALS),
      batchUsdtOut: decimalString(fill.assetsOut, USDT_DECIMALS),
    },
  };
}

/**
 * The sentence refusing an explicit --max-slippage on a request of `side` on `symbol`: the desk
 * fills at the next price round, so there is no price to bound when the request is placed, and the
 * desk takes no bound; the time is what the user bounds (--deadline), or the request is taken back.
 */
export function maxSlippageRefusal(side: "mint" | "redeem", symbol: string): string {
  return `--max-slippage does not apply to a ${side} request: ${symbol}'s desk fills it at the next price round, whose price nobody knows when it is placed, so it takes no slippage bound; bound the time instead with --deadline (how long lt waits for the fill), and take the request back with lt cancel ${symbol} while its round is current`;
}

/** The limits a request cannot take, refused in a sentence before anything is read or sent. */
function refuseLimits(opts: DeskTradeOptions, symbol: string, side: "mint" | "redeem"): void {
  if (opts.minOut !== undefined) {
    throw new CliError(
      `${symbol} fills requests at the next price round, which nobody knows yet, so --min-out cannot be enforced; place the request without it (cancel it while its round is current: lt cancel ${symbol})`,
    );
  }
  if (opts.maxSlippageGiven === true) throw new CliError(maxSlippageRefusal(side, symbol));
}

/**
 * The errors of a request's estimate (the token's preview on the pending block) that mean the request
 * cannot succeed: the market's price is stale or broken, the token is depleted, settled or not minting
 * (a paused mint, a closed desk). Any other failure of the estimate only leaves it out.
 */
const REQUEST_BLOCKERS: Record<Side, ReadonlySet<string>> = {
  deposit: new Set([
    "StalePrice",
    "InvalidPrice",
    "TokenDepleted",
    "InvalidState",
    "MintPaused",
    "RequestClosed",
  ]),
  redeem: new Set(["StalePrice", "InvalidPrice", "TokenDepleted", "InvalidState", "RequestClosed"]),
};

/**
 * The estimate a request shows, or undefined when it cannot be had; when it reverts with an error
 * that means the request cannot succeed (REQUEST_BLOCKERS), that error's sentence, before anything
 * is sent.
 */
export async function requestEstimate(
  estimate: Promise<bigint>,
  side: Side,
  ectx: ErrorContext,
): Promise<bigint | undefined> {
  try {
    return await estimate;
  } catch (e) {
    const data = findRevertData(e);
    const error = data === null ? null : decodeCustomError(data);
    if (error !== null && REQUEST_BLOCKERS[side].has(error.name)) throw explainError(e, ectx);
    return undefined;
  }
}

/** `lt mint` on a token with a desk: request, wait for the fill, claim. */
export async function deskMint(
  ctx: Context,
  symbol: string,
  usdtText: string,
  opts: DeskTradeOptions,
): Promise<Report> {
  const ectx: ErrorContext = { rpcUrl: ctx.options.rpc, symbol, action: "mint" };
  const desk = requireDesk(ctx, symbol);
  const deskAddress = await desk.getAddress();
  refuseLimits(opts, symbol, "mint");
  const assets = parseUsdtAmount(usdtText);
  const deadlineS = parseDurationOption(opts.deadline);
  const signer = await signerOf(ctx);
  const account = await signer.getAddress();
  const token = tokenOf(ctx, symbol);
  const usdt = usdtOf(ctx);
  const allowance = await checkMintRequest(ctx, symbol, account, assets, deskAddress);
  const estimate = await requestEstimate(previewQuoteSource(ctx).quoteMint(symbol, assets), "deposit", ectx);

  let approveTx: string | null = null;
  let permit: Signature | undefined;
  let deadline = 0n;
  if (allowance < assets) {
    if (opts.approve === false) {
      throw new CliError(
        `insufficient USDT allowance: ${symbol}'s desk may spend ${formatUsdt(allowance)} of your USDT, the request needs ${formatUsdt(assets)}; approve it first (run without --no-approve)`,
      );
    }
    // one transaction: USDT's permit signed here, taken by the request; an approval only when the
    // signer cannot sign typed data
    // the chain's clock, not this machine's: a test node's may run ahead
    deadline = await deadlineFromNow(ctx.provider, deadlineS);
    permit = await signPermit(signer, usdt, deskAddress, assets, deadline).catch(() => undefined);
    if (permit === undefined) {
      const receipt = await sendAndWait(signer, ectx, usdt.connect(signer).approve(deskAddress, assets));
      approveTx = receipt.hash;
    }
  }
  const d = desk.connect(signer);
  const send =
    permit === undefined
      ? d.requestDeposit
          .estimateGas(assets, account, account)
          .then((gas) => d.requestDeposit(assets, account, account, { gasLimit: deskRequestGasLimit(gas) }))
      : d.requestDepositWithPermit
          .estimateGas(assets, account, deadline, permit.v, permit.r, permit.s)
          .then((gas) =>
            d.requestDepositWithPermit(assets, account, deadline, permit.v, permit.r, permit.s, {
              gasLimit: deskRequestGasLimit(gas),
            }),
          );
  const request = await sendAndWait(signer, ectx, send).catch((e: unknown) => {
    const reason = explainError(e, ectx).message;
    throw new CliError(approveTx ? `${reason} (the approval in ${approveTx} stays in place)` : reason);
  });
  const epoch = await epochAt(desk, request.blockNumber);
  const placed: { [key: string]: Json } = {
    action: "mint",
    symbol,
    account,
    desk: deskAddress,
    usdt: decimalString(assets, USDT_DECIMALS),
    estimate: estimate === undefined ? null : decimalString(estimate, SHARE_DECIMALS),
    epoch: epoch.toString(),
    approveTx,
    permit: permit !== undefined,
    permitDeadline: permit === undefined ? null : Number(deadline),
    requestTx: request.hash,
    requestBlock: request.blockNumber,
  };
  const rows: [string, string][] = [];
  if (approveTx) rows.push(["approved", `${formatUsdt(assets)} USDT for ${symbol}'s desk (tx ${approveTx})`]);
  if (permit !== undefined) {
    rows.push([
      "permit",
      `${formatUsdt(assets)} USDT for ${symbol}'s desk, signed until ${formatTime(deadline)} and taken in the request`,
    ]);
  }
  rows.push([
    "requested",
    `a mint of ${symbol} for ${formatUsdt(assets)} USDT, filled at the next price round (tx ${request.hash}, block ${request.blockNumber})`,
  ]);
  if (estimate !== undefined) rows.push(["estimate", `${formatShares(estimate)} ${symbol} at today's price`]);
  const what = `a mint of ${symbol} for ${formatUsdt(assets)} USDT`;
  const p = { symbol, side: "deposit" as const, desk, token, signer, account, ectx, request, epoch, what };
  return await finishRequest(ctx, p, placed, rows, assets, opts.wait ? deadlineS : undefined);
}

/**
 * What a mint request is checked against before anything is signed (lt mint and the web page): the
 * token is Active and minting, and the account holds the USDT; says why not in a sentence. Returns the
 * account's USDT allowance to the desk.
 */
export async function checkMintRequest(
  ctx: Context,
  symbol: string,
  account: string,
  assets: bigint,
  deskAddress: string,
): Promise<bigint> {
  const token = tokenOf(ctx, symbol);
  const usdt = usdtOf(ctx);
  const [status, delistingTime, balance, allowance] = await Promise.all([
    token.status(),
    token.delistingTime(),
    usdt.balanceOf(account),
    usdt.allowance(account, deskAddress),
  ]);
  const state = Number(status.state);
  if (state === STATE.Depleted) throw new CliError(depletedMessage(symbol));
  if (state !== STATE.Active) throw new CliError(stateMessage(symbol, state, delistingTime));
  if (status.mintPaused) throw new CliError(mintPausedMessage(symbol));
  if (balance < assets) throw new CliError(insufficientUsdtMessage(balance, assets));
  return allowance;
}

/**
 * What a redeem request is checked against before anything is sent (lt redeem and the web page): the
 * token takes redemptions (not depleted, not settled) and the account holds `shares`; says why not in
 * a sentence. Returns the account's share allowance to the desk.
 */
export async function checkRedeemRequest(
  ctx: Context,
  symbol: string,
  account: string,
  shares: bigint,
  deskAddress: string,
): Promise<bigint> {
  const token = tokenOf(ctx, symbol);
  const [status, delistingTime, balance, allowance] = await Promise.all([
    token.status(),
    token.delistingTime(),
    token.balanceOf(account),
    token.allowance(account, deskAddress),
  ]);
  const state = Number(status.state);
  if (state === STATE.Depleted) throw new CliError(depletedMessage(symbol));
  if (state !== STATE.Active && state !== STATE.Delisting)
    throw new CliError(stateMessage(symbol, state, delistingTime));
  if (balance < shares) throw new CliError(insufficientSharesMessage(symbol, balance, shares));
  return allowance;
}

/** `lt redeem` on a token with a desk: request, wait for the fill, claim. */
export async function deskRedeem(
  ctx: Context,
  symbol: string,
  amountText: string,
  opts: DeskTradeOptions,
): Promise<Report> {
  const ectx: ErrorContext = { rpcUrl: ctx.options.rpc, symbol, action: "redeem" };
  const desk = requireDesk(ctx, symbol);
  const deskAddress = await desk.getAddress();
  refuseLimits(opts, symbol, "redeem");
  const deadlineS = parseDurationOption(opts.deadline);
  const shares = await parseShareAmount(ctx, symbol, amountText, "redeem");
  const signer = await signerOf(ctx);
  const account = await signer.getAddress();
  const token = tokenOf(ctx, symbol);
  const allowance = await checkRedeemRequest(ctx, symbol, account, shares, deskAddress);
  const estimate = await requestEstimate(previewQuoteSource(ctx).quoteRedeem(symbol, shares), "redeem", ectx);
  let approveTx: string | null = null;
  if (allowance < shares) {
    const receipt = await sendAndWait(signer, ectx, token.connect(signer).approve(deskAddress, shares));
    approveTx = receipt.hash;
  }
  const d = desk.connect(signer);
  const request = await sendAndWait(
    signer,
    ectx,
    d.requestRedeem
      .estimateGas(shares, account, account)
      .then((gas) => d.requestRedeem(shares, account, account, { gasLimit: deskRequestGasLimit(gas) })),
  );
  const epoch = await epochAt(desk, request.blockNumber);
  const placed: { [key: string]: Json } = {
    action: "redeem",
    symbol,
    account,
    desk: deskAddress,
    shares: decimalString(shares, SHARE_DECIMALS),
    estimate: estimate === undefined ? null : decimalString(estimate, USDT_DECIMALS),
    epoch: epoch.toString(),
    approveTx,
    requestTx: request.hash,
    requestBlock: request.blockNumber,
  };
  const rows: [string, string][] = [];
  if (approveTx) rows.push(["approved", `${formatShares(shares)} ${symbol} for its desk (tx ${approveTx})`]);
  rows.push([
    "requested",
    `a redeem of ${formatShares(shares)} ${symbol}, filled at the next price round (tx ${request.hash}, block ${request.blockNumber})`,
  ]);
  if (estimate !== undefined) rows.push(["estimate", `${formatUsdt(estimate)} USDT at today's price`]);
  const what = `a redeem of ${formatShares(shares)} ${symbol}`;
  const p = { symbol, side: "redeem" as const, desk, token, signer, account, ectx, request, epoch, what };
  return await finishRequest(ctx, p, placed, rows, shares, opts.wait ? deadlineS : undefined);
}

/** A request just placed, as `finishRequest` takes it. */
interface PlacedRequest {
  symbol: string;
  side: Side;
  desk: ForwardDesk;
  token: LeveragedToken;
  signer: Signer;
  account: string;
  ectx: ErrorContext;
  request: ContractTransactionReceipt;
  epoch: bigint;
  /** "a mint of BTC3L for 100.00 USDT", "a redeem of 5.0 BTC3L" */
  what: string;
}

/**
 * The rest of `lt mint` and `lt redeem` on a desk token: with no `timeout` (--no-wait) say what comes
 * next; else wait for the fill, claim all that is claimable, and report the NAV and the cost split.
 */
async function finishRequest(
  ctx: Context,
  p: PlacedRequest,
  placed: { [key: string]: Json },
  rows: [string, string][],
  given: bigint,
  timeout: number | undefined,
): Promise<Report> {
  const { symbol, side, desk, account } = p;
  if (timeout === undefined) {
    rows.push([
      "next",
      `the keeper fills it at the next price round; then lt claim ${symbol} (lt requests ${symbol} shows it)`,
    ]);
    return { data: { ...placed, status: "pending" }, text: lines(rows) };
  }
  say(ctx, `requested ${p.what} in block ${p.request.blockNumber}; waiting for its fill`);
  await waitForFill(ctx, symbol, desk, account, side, timeout);
  const back = await refused(desk, account, side);
  const fill = await findFill(ctx, desk, p.token, p.epoch, p.request.blockNumber);
  if (back > 0n) {
    throw new CliError(
      side === "deposit"
        ? `the fill refused the mint (${symbol} took no mint then: paused, delisting or too small); your ${formatUsdt(back)} USDT wait in the desk: take them back with lt cancel ${symbol} deposit`
        : `the fill refused the redeem (${symbol} took no redeem then); your ${formatShares(back)} ${symbol} wait in the desk: take them back with lt cancel ${symbol} redeem`,
    );
  }
  const d = desk.connect(p.signer);
  const data: { [key: string]: Json } = { ...placed, status: "claimed" };
  let usdt: bigint;
  let shares: bigint;
  let claim: ContractTransactionReceipt;
  if (side === "deposit") {
    usdt = await desk.maxDeposit(account);
    const claimIt = d["deposit(uint256,address,address)"];
    claim = await sendAndWait(
      p.signer,
      p.ectx,
      claimIt
        .estimateGas(usdt, account, account)
        .then((gas) => claimIt(usdt, account, account, { gasLimit: gasLimitFrom(gas) })),
    );
    shares = claimedAmount(desk, claim, "Deposit", "shares");
    rows.push([
      "minted",
      `${formatShares(shares)} ${symbol} for ${formatUsdt(usdt)} USDT (claimed, tx ${claim.hash})`,
    ]);
    Object.assign(data, {
      shares: decimalString(shares, SHARE_DECIMALS),
      claimedUsdt: decimalString(usdt, USDT_DECIMALS),
    });
  } else {
    shares = await desk.maxRedeem(account);
    claim = await sendAndWait(
      p.signer,
      p.ectx,
      d.redeem
        .estimateGas(shares, account, account)
        .then((gas) => d.redeem(shares, account, account, { gasLimit: gasLimitFrom(gas) })),
    );
    usdt = claimedAmount(desk, claim, "Withdraw", "assets");
    rows.push([
      "redeemed",
      `${formatShares(shares)} ${symbol} for ${formatUsdt(usdt)} USDT (claimed, tx ${claim.hash})`,
    ]);
    Object.assign(data, {
      usdt: decimalString(usdt, USDT_DECIMALS),
      claimedShares: decimalString(shares, SHARE_DECIMALS),
    });
  }
  const perToken = perTokenDown(usdt, shares);
  Object.assign(data, {
    pricePerToken: perTokenJson(perToken),
    claimTx: claim.hash,
    claimBlock: claim.blockNumber,
  });
  if (fill !== undefined) {
    const c = costRows(symbol, side, fill, given);
    rows.push(...c.rows);
    Object.assign(data, c.data, { fillLatencyBlocks: fill.block - p.request.blockNumber });
  }
  rows.push(["paid", `${formatPerToken(perToken)} USDT per ${symbol}, every cost included`]);
  return { data, text: lines(rows) };
}

function claimedAmount(
  desk: ForwardDesk,
  receipt: ContractTransactionReceipt,
  name: string,
  arg: string,
): bigint {
  const at = receipt.to?.toLowerCase();
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== at) continue;
    const parsed = desk.interface.parseLog(log);
    if (parsed?.name === name) return BigInt(parsed.args.getValue(arg) as bigint);
  }
  throw new CliError(`the claim ${receipt.hash} succeeded but emitted no ${name} event`);
}

/** An account's requests on one desk, as `lt requests` reads them (and the web page). */
export interface Requests {
  pendingUsdt: bigint;
  pendingShares: bigint;
  /** Filled mints: shares to claim, and the USDT they were bought with. */
  claimableShares: bigint;
  claimableSharesUsdt: bigint;
  /** Filled redeems: USDT to claim, and the shares they were sold for. */
  claimableUsdt: bigint;
  claimableUsdtShares: bigint;
  refundableUsdt: bigint;
  refundableShares: bigint;
  /** A newer price round exists: the requests pending are due a fill. */
  fillDue: boolean;
  /** When fillDue, the chain time from which anyone may fill (the keeper fills before). */
  lateAt: bigint;
}

/** An account's requests on a desk, every view read at once (`lt requests` and the web page). */
export async function readDeskRequests(desk: ForwardDesk, account: string): Promise<Requests> {
  const [pendingUsdt, pendingShares, inUsdt, outShares, inShares, outUsdt, refund, due] = await Promise.all([
    desk.pendingDepositRequest(0n, account),
    desk.pendingRedeemRequest(0n, account),
    desk.maxDeposit(account),
    desk.maxMint(account),
    desk.maxRedeem(account),
    desk.maxWithdraw(account),
    desk.refundable(account),
    desk.fillNeeded(),
  ]);
  return {
    pendingUsdt,
    pendingShares,
    claimableShares: outShares,
    claimableSharesUsdt: inUsdt,
    claimableUsdt: outUsdt,
    claimableUsdtShares: inShares,
    refundableUsdt: refund[0],
    refundableShares: refund[1],
    fillDue: due[0],
    lateAt: due[1],
  };
}

/** One token's requests for one account, as `lt requests` shows them. */
interface RequestsRow extends Requests {
  symbol: string;
  desk: string;
  late: boolean;
}

async function requestsOf(ctx: Context, symbol: string, account: string, now: number): Promise<RequestsRow> {
  const desk = requireDesk(ctx, symbol);
  const [r, address] = await Promise.all([readDeskRequests(desk, account), desk.getAddress()]);
  return { symbol, desk: address, ...r, late: r.fillDue && BigInt(now) >= r.lateAt };
}

/** `lt requests [TOKEN]`: pending, claimable and refundable requests per token, and the desk's fill state. */
export async function requestsCommand(ctx: Context, input: string | undefined): Promise<Report> {
  const symbols = input === undefined ? Object.keys(ctx.book.desks ?? {}) : [resolveSymbol(ctx.book, input)];
  if (symbols.length === 0) {
    throw new CliError(
      "no token in this address book has a desk: the deployment predates forward pricing; redeploy with npm run deploy",
    );
  }
  const account = await (await signerOf(ctx)).getAddress();
  const now = (await ctx.provider.getBlock("latest"))?.timestamp ?? Math.floor(Date.now() / 1000);
  const rows = await Promise.all(symbols.map((s) => requestsOf(ctx, s, account, now)));
  const text: string[] = [`requests of ${account}`];
  for (const r of rows) {
    const parts: [string, string][] = [];
    const pending: string[] = [];
    if (r.pendingUsdt > 0n) pending.push(`mint for ${formatUsdt(r.pendingUsdt)} USDT`);
    if (r.pendingShares > 0n) pending.push(`redeem of ${formatShares(r.pendingShares)} ${r.symbol}`);
    parts.push(["pending", pending.length === 0 ? "none" : pending.join("; ")]);
    const claimable: string[] = [];
    if (r.claimableShares > 0n)
      claimable.push(
        `${formatShares(r.claimableShares)} ${r.symbol} (for ${formatUsdt(r.claimableSharesUsdt)} USDT)`,
      );
    if (r.claimableUsdt > 0n)
      claimable.push(
        `${formatUsdt(r.claimableUsdt)} USDT (for ${formatShares(r.claimableUsdtShares)} ${r.symbol})`,
      );
    parts.push([
      "claimable",
      claimable.length === 0 ? "none" : `${claimable.join("; ")}: lt claim ${r.symbol}`,
    ]);
    if (r.refundableUsdt > 0n || r.refundableShares > 0n) {
      parts.push([
        "refused",
        `${formatUsdt(r.refundableUsdt)} USDT and ${formatShares(r.refundableShares)} ${r.symbol} the fill refused: lt cancel ${r.symbol} takes them back`,
      ]);
    }
    parts.push([
      "fill",
      !r.fillDue
        ? "none due (requests wait for the next price round)"
        : r.late
          ? `due and late since ${formatTime(r.lateAt)}: anyone may fill it now for the bounty (lt fill ${r.symbol})`
          : `due: the keeper fills it; anyone may from ${formatTime(r.lateAt)}`,
    ]);
    text.push(`${r.symbol} (desk ${r.desk})`, lines(parts, "  "));
  }
  return {
    data: {
      account,
      tokens: rows.map((r) => ({
        symbol: r.symbol,
        desk: r.desk,
        pendingUsdt: decimalString(r.pendingUsdt, USDT_DECIMALS),
        pendingShares: decimalString(r.pendingShares, SHARE_DECIMALS),
        claimableShares: decimalString(r.claimableShares, SHARE_DECIMALS),
        claimableSharesForUsdt: decimalString(r.claimableSharesUsdt, USDT_DECIMALS),
        claimableUsdt: decimalString(r.claimableUsdt, USDT_DECIMALS),
        claimableUsdtForShares: decimalString(r.claimableUsdtShares, SHARE_DECIMALS),
        refundableUsdt: decimalString(r.refundableUsdt, USDT_DECIMALS),
        refundableShares: decimalString(r.refundableShares, SHARE_DECIMALS),
        fillDue: r.fillDue,
        lateAt: r.fillDue ? Number(r.lateAt) : null,
        late: r.late,
      })),
    },
    text: text.join("\n"),
  };
}

/** `lt claim <TOKEN>`: claims every filled request (shares and USDT) and takes back refused ones. */
export async function claimCommand(ctx: Context, input: string): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  const ectx: ErrorContext = { rpcUrl: ctx.options.rpc, symbol };
  const desk = requireDesk(ctx, symbol);
  const signer = await signerOf(ctx);
  const account = await signer.getAddress();
  const d = desk.connect(signer);
  const [assetsIn, sharesIn, [refundUsdt, refundShares], pendingUsdt, pendingShares] = await Promise.all([
    desk.maxDeposit(account),
    desk.maxRedeem(account),
    desk.refundable(account),
    desk.pendingDepositRequest(0n, account),
    desk.pendingRedeemRequest(0n, account),
  ]);
  if (assetsIn === 0n && sharesIn === 0n && refundUsdt === 0n && refundShares === 0n) {
    const waiting =
      pendingUsdt > 0n || pendingShares > 0n
        ? `your request waits for its fill at the next price round (lt requests ${symbol})`
        : "you have no request on it";
    throw new CliError(`nothing to claim on ${symbol}: ${waiting}`);
  }
  const rows: [string, string][] = [];
  const data: { [key: string]: Json } = { action: "claim", symbol, account };
  if (assetsIn > 0n) {
    const r = await sendAndWait(
      signer,
      ectx,
      d["deposit(uint256,address,address)"]
        .estimateGas(assetsIn, account, account)
        .then((gas) =>
          d["deposit(uint256,address,address)"](assetsIn, account, account, { gasLimit: gasLimitFrom(gas) }),
        ),
    );
    const shares = claimedAmount(desk, r, "Deposit", "shares");
    rows.push([
      "minted",
      `${formatShares(shares)} ${symbol} for ${formatUsdt(assetsIn)} USDT (tx ${r.hash})`,
    ]);
    Object.assign(data, {
      shares: decimalString(shares, SHARE_DECIMALS),
      forUsdt: decimalString(assetsIn, USDT_DECIMALS),
      depositTx: r.hash,
    });
  }
  if (sharesIn > 0n) {
    const r = await sendAndWait(
      signer,
      ectx,
      d.redeem
        .estimateGas(sharesIn, account, account)
        .then((gas) => d.redeem(sharesIn, account, account, { gasLimit: gasLimitFrom(gas) })),
    );
    const usdt = claimedAmount(desk, r, "Withdraw", "assets");
    rows.push([
      "redeemed",
      `${formatShares(sharesIn)} ${symbol} for ${formatUsdt(usdt)} USDT (tx ${r.hash})`,
    ]);
    Object.assign(data, {
      usdt: decimalString(usdt, USDT_DECIMALS),
      forShares: decimalString(sharesIn, SHARE_DECIMALS),
      redeemTx: r.hash,
    });
  }
  if (refundUsdt > 0n) {
    const r = await sendAndWait(signer, ectx, d.cancelDepositRequest(account));
    rows.push(["returned", `${formatUsdt(refundUsdt)} USDT of a mint the fill refused (tx ${r.hash})`]);
    Object.assign(data, { returnedUsdt: decimalString(refundUsdt, USDT_DECIMALS), returnUsdtTx: r.hash });
  }
  if (refundShares > 0n) {
    const r = await sendAndWait(signer, ectx, d.cancelRedeemRequest(account));
    rows.push([
      "returned",
      `${formatShares(refundShares)} ${symbol} of a redeem the fill refused (tx ${r.hash})`,
    ]);
    Object.assign(data, {
      returnedShares: decimalString(refundShares, SHARE_DECIMALS),
      returnSharesTx: r.hash,
    });
  }
  return { data, text: lines(rows) };
}

/** `lt cancel <TOKEN> [deposit|redeem]`: takes a request back while its price round is the current one. */
export async function cancelCommand(
  ctx: Context,
  input: string,
  sideText: string | undefined,
): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  const ectx: ErrorContext = { rpcUrl: ctx.options.rpc, symbol };
  if (sideText !== undefined && !["deposit", "redeem", "mint"].includes(sideText.toLowerCase())) {
    throw new CliError(`cancel what: "deposit" (a mint request) or "redeem", not "${sideText}"`);
  }
  const desk = requireDesk(ctx, symbol);
  const signer = await signerOf(ctx);
  const account = await signer.getAddress();
  const d = desk.connect(signer);
  const [[refundUsdt, refundShares], pendingUsdt, pendingShares] = await Promise.all([
    desk.refundable(account),
    desk.pendingDepositRequest(0n, account),
    desk.pendingRedeemRequest(0n, account),
  ]);
  const wanted = sideText?.toLowerCase();
  const sides: Side[] = [];
  if (
    wanted === "deposit" ||
    wanted === "mint" ||
    (wanted === undefined && (pendingUsdt > 0n || refundUsdt > 0n))
  )
    sides.push("deposit");
  if (wanted === "redeem" || (wanted === undefined && (pendingShares > 0n || refundShares > 0n)))
    sides.push("redeem");
  if (sides.length === 0) throw new CliError(`you have no request on ${symbol} to cancel`);
  const rows: [string, string][] = [];
  const data: { [key: string]: Json } = { action: "cancel", symbol, account };
  for (const side of sides) {
    const has = side === "deposit" ? pendingUsdt + refundUsdt : pendingShares + refundShares;
    if (has === 0n) throw new CliError(`you have no ${side} request on ${symbol} to cancel`);
    const call = side === "deposit" ? d.cancelDepositRequest : d.cancelRedeemRequest;
    const gas = await call.estimateGas(account).catch((e: unknown) => {
      throw explainError(e, ectx);
    });
    const r = await sendAndWait(signer, ectx, call(account, { gasLimit: gasLimitFrom(gas) }));
    const amount = (() => {
      for (const log of r.logs) {
        const parsed =
          log.address.toLowerCase() === r.to?.toLowerCase() ? desk.interface.parseLog(log) : null;
        if (parsed?.name === "DepositRequestCancelled") return BigInt(parsed.args.assets as bigint);
        if (parsed?.name === "RedeemRequestCancelled") return BigInt(parsed.args.shares as bigint);
      }
      return 0n;
    })();
    if (side === "deposit") {
      rows.push(["cancelled", `the mint request: ${formatUsdt(amount)} USDT back (tx ${r.hash})`]);
      Object.assign(data, { returnedUsdt: decimalString(amount, USDT_DECIMALS), depositTx: r.hash });
    } else {
      rows.push(["cancelled", `the redeem request: ${formatShares(amount)} ${symbol} back (tx ${r.hash})`]);
      Object.assign(data, { returnedShares: decimalString(amount, SHARE_DECIMALS), redeemTx: r.hash });
    }
  }
  return { data, text: lines(rows) };
}

/** `lt fill <TOKEN>`: fills the desk's waiting requests (anyone once late, for the bounty). */
export async function fillCommand(ctx: Context, input: string): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  const ectx: ErrorContext = { rpcUrl: ctx.options.rpc, symbol };
  const desk = requireDesk(ctx, symbol);
  const token = tokenOf(ctx, symbol);
  const signer = await signerOf(ctx);
  const account = await signer.getAddress();
  const [[needed, lateAt], isKeeper, latest] = await Promise.all([
    desk.fillNeeded(),
    token.KEEPER_ROLE().then((role) => token.hasRole(role, account)),
    ctx.provider.getBlock("latest"),
  ]);
  if (!needed) {
    throw new CliError(
      `nothing to fill on ${symbol}: no request waits from before the current price round (requests fill at the next one)`,
    );
  }
  const now = latest?.timestamp ?? Math.floor(Date.now() / 1000);
  if (!isKeeper && BigInt(now) < lateAt) {
    throw new CliError(
      `the fill is not late yet: only ${symbol}'s keeper fills before ${formatTime(lateAt)} (in ${Number(lateAt) - now} s); anyone may from then, for the bounty`,
    );
  }
  const d = desk.connect(signer);
  const gas = await d.fill.estimateGas().catch((e: unknown) => {
    throw explainError(e, ectx);
  });
  // a fill mints and redeems through the token: sized like a mint and a redeem in one
  const r = await sendAndWait(signer, ectx, d.fill({ gasLimit: mintRedeemGasLimit(gas) + 100_000n }));
  const fill = await fillReportOf(ctx, desk, token, r);
  if (fill === undefined) throw new CliError(`the fill ${r.hash} succeeded but emitted no Filled event`);
  const rows: [string, string][] = [
    [
      "filled",
      `batch ${fill.batch} (epochs ${fill.firstEpoch}-${fill.batch}) at the price round of ${formatTime(fill.round)}`,
    ],
    [
      "mints",
      fill.depositRefused
        ? `${formatUsdt(fill.assetsIn)} USDT refused by the token (requesters take it back: lt cancel)`
        : `${formatUsdt(fill.assetsIn)} USDT for ${formatShares(fill.sharesOut)} ${symbol}`,
    ],
    [
      "redeems",
      fill.redeemRefused
        ? `${formatShares(fill.sharesIn)} ${symbol} refused by the token (requesters take them back: lt cancel)`
        : `${formatShares(fill.sharesIn)} ${symbol} for ${formatUsdt(fill.assetsOut)} USDT`,
    ],
    ["NAV", `${formatPerToken(fill.navAfter)} USDT per ${symbol} after the fill`],
    ["bounty", `${formatUsdt(fill.bounty)} USDT to ${account}${isKeeper ? " (the keeper takes none)" : ""}`],
    ["tx", `${r.hash} (block ${r.blockNumber})`],
  ];
  return {
    data: {
      action: "fill",
      symbol,
      account,
      batch: fill.batch.toString(),
      firstEpoch: fill.firstEpoch.toString(),
      round: Number(fill.round),
      usdtIn: decimalString(fill.assetsIn, USDT_DECIMALS),
      sharesOut: decimalString(fill.sharesOut, SHARE_DECIMALS),
      sharesIn: decimalString(fill.sharesIn, SHARE_DECIMALS),
      usdtOut: decimalString(fill.assetsOut, USDT_DECIMALS),
      depositRefused: fill.depositRefused,
      redeemRefused: fill.redeemRefused,
      bounty: decimalString(fill.bounty, USDT_DECIMALS),
      navAfterFill: perTokenJson(fill.navAfter),
      tx: r.hash,
      block: r.blockNumber,
    },
    text: lines(rows),
  };
}
