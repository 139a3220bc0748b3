// What the NAV arbitrage's two halves share: the pass over the pools (arbitrage.ts) and the desk legs
// (deskArbitrage.ts: request, fill at the next price round, claim). The context, a pass's result,
// the pool as read at the pending block, a leg's wait for its receipt, and the pool swaps (with a
// real deadline).
import { InvalidArgumentError } from "commander";
import type { ContractTransactionResponse, Signer } from "ethers";
import { gasLimitFrom } from "../chain/gas.ts";
import { blockTimestamp, rawRpcOf } from "../chain/tokenBook.ts";
import type { ForwardDesk } from "../../types/ethers-contracts/ForwardDesk.sol/ForwardDesk.ts";
import type { LeveragedToken, MockPerpVault } from "../../types/ethers-contracts/index.js";
import type { AddressBook } from "../chain/addressBook.ts";
import { minedRevertOf, minedRevertReason } from "../chain/minedRevert.ts";
import type { TokenBook } from "../chain/tokenBook.ts";
import type { Logger } from "../common/log.ts";
import { quoteMintOnBook, quoteRedeemOnBook } from "../engine/index.ts";
import { describe } from "../common/revert.ts";
import type { Band, BandFees, Ratio, Reserves } from "./poolMath.ts";
import type { UniswapV2Pair, UniswapV2Router02 } from "./uniswap.ts";
import type { ArbCache, PoolHandles } from "./poolHandles.ts";

/** The least expected profit a trade needs, by default: 1 USDT (a trade for cents costs three
 * transactions and carries the inventory risk of its wait for the fill). */
export const DEFAULT_MIN_PROFIT = 1_000_000n;

/** `--min-profit`-style option: USDT with at most 6 decimals, 0 or more, in base units. */
export function usdtOption(name: string) {
  return (value: string): bigint => {
    const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(value.trim());
    if (m === null)
      throw new InvalidArgumentError(`${name} must be an amount of USDT, 0 or more, with at most 6 decimals`);
    return BigInt(m[1]!) * 1_000_000n + BigInt((m[2] ?? "").padEnd(6, "0"));
  };
}

/** USDT base units as a decimal string ("1.5"). */
export function usdtText(units: bigint): string {
  const sign = units < 0n ? "-" : "";
  const a = units < 0n ? -units : units;
  const frac = (a % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return `${sign}${a / 1_000_000n}${frac === "" ? "" : "." + frac}`;
}

/** Every read prices the block a transaction sent now lands in. */
export const PENDING = { blockTag: "pending" } as const;

/** LeveragedToken.State */
export const ACTIVE = 0n;
export const DELISTING = 1n;
export const SETTLED = 2n;

export interface ArbContext {
  /** The arbitrageur: holds the USDT inventory and signs (its provider reads the chain). */
  signer: Signer;
  book: AddressBook;
  log?: Logger;
  /** Decide and log, never send. */
  dryRun?: boolean;
  /** Only these symbols (default: every pool in the address book). */
  symbols?: string[];
  /** How the token legs are priced (default ENGINE_LEGS); tests substitute a wrong twin to see the
   * arbitrage refuse to trade when it disagrees with the token's previews. */
  engine?: EngineLegs;
  /** The desk trades still open, by symbol: what each request expected, for the report when its fill
   * is claimed on a later pass. The chain holds the requests themselves (a restarted bot finishes
   * them), this only what they were expected to get; keep one for the life of the bot. */
  open?: OpenTrades;
  /** Only finish the desk trades that are open (claims, pool legs, refunds); open no new one. */
  finishOnly?: boolean;
  /** The least profit (USDT base units) the engine must expect of a trade before it is opened
   * (default DEFAULT_MIN_PROFIT); a trade expected to make less is skipped, said so. */
  minProfit?: bigint;
  /** The contract handles, immutable views and approvals kept between passes (poolHandles.ts); keep
   * one for the life of the bot (default: a new one each pass). */
  cache?: ArbCache;
}

/** The token legs' prices over a book read at one block. */
export interface EngineLegs {
  /** The least USDT whose deposit mints `shares` (checked on chain with previewDeposit). */
  mintCost(t: TokenBook, shares: bigint): bigint;
  /** USDT that redeem(shares) pays (previewRedeem's twin). */
  redeemPayout(t: TokenBook, shares: bigint): bigint;
}

/** The reference engine's quotes (src/engine), exact to the unit at the book's block. */
export const ENGINE_LEGS: EngineLegs = {
  mintCost: (t, shares) => quoteMintOnBook(t.book, shares, t.targetLeverage, t.isLong),
  redeemPayout: (t, shares) => quoteRedeemOnBook(t.book, shares).assets,
};

export type ArbAction = "mint-sell" | "buy-redeem";

/** What the arbitrageur holds of one token and its desk (base units). */
export interface Inventory {
  usdt: bigint;
  tokens: bigint;
  /** Waiting in the desk for a fill: USDT of a deposit request, tokens of a redeem request. */
  pendingUsdt: bigint;
  pendingTokens: bigint;
}

export interface ArbResult {
  symbol: string;
  /** traded (both legs done), requested (a desk request placed: its other leg waits for the fill),
   * waiting (a desk request waits for its fill), would-trade (dry run), inside (nothing to do),
   * skipped (why says why), failed. */
  outcome: "traded" | "requested" | "waiting" | "would-trade" | "inside" | "skipped" | "failed";
  action?: ArbAction;
  why?: string;
  /** A price feed was stale: nothing can be priced until it updates (the loop backs off). */
  stale?: boolean;
  /** Profitable, but expected to make less than the context's minProfit: not opened. */
  belowMinProfit?: boolean;
  /** The token is depleted, settled at 0 or has no equity: its pool quotes tokens worth nothing. */
  dead?: boolean;
  /** USDT per token, for logs and charts (NaN, null in a log line, when a failure came before the read). */
  navBefore: number;
  spotBefore: number;
  spotAfter?: number;
  band: { lower: number; upper: number };
  /** Tokens minted and sold, or bought and redeemed. */
  tokens?: bigint;
  usdtIn?: bigint;
  usdtOut?: bigint;
  /** The engine's profit (USDT base units) before sending: the pool's leg from the reserves and
   * the token's leg priced by the engine at the pending block; the realized profit after. */
  expectedProfit?: bigint;
  profit?: bigint;
  /** The engine's price of the token leg (mint cost or redeem payout) and the block time it is for. */
  engineQuote?: bigint;
  pricedAt?: number;
  /** Through a desk: USDT per token the engine quoted at the request's price (fees and trading cost
   * included), and what the fill at the next price round gave. */
  expectedNav?: number;
  filledNav?: number;
  /** Through a desk: what the arbitrageur holds after the pass, its risk while a request waits. */
  inventory?: Inventory;
  txs?: string[];
}

export interface PoolView {
  symbol: string;
  /** The pool's handles: its read-only ones batch their views. */
  handles: PoolHandles;
  token: LeveragedToken;
  /** The token's ForwardDesk (undefined only in an address book from before forward pricing). */
  desk?: ForwardDesk;
  vault: MockPerpVault;
  pair: UniswapV2Pair;
  reserves: Reserves;
  nav: bigint;
  /** NAV exactly: total assets over the supply with the management fee accrued to the pending block. */
  navExact: Ratio;
  fees: BandFees;
  band: Band;
  state: bigint;
  mintOpen: boolean;
}

/** A desk trade from its request until its last leg: what it expected and what it got so far. */
export interface OpenTrade {
  action: ArbAction;
  /** The block time the request was priced at. */
  requestedAt: number;
  /** Tokens the request expected (mint-sell) or that were bought and requested for redemption. */
  tokens: bigint;
  expectedNav: number;
  expectedProfit: bigint;
  /** USDT the trade spent (the deposit, the pool purchase) and got back (sale, claims, refunds). */
  usdtIn: bigint;
  usdtOut: bigint;
  filledNav?: number;
  txs: string[];
}

export type OpenTrades = Map<string, OpenTrade>;

/** Waits for a leg; one mined and reverted is an error naming the leg and its decoded reason. */
export async function mined(ctx: ArbContext, leg: string, tx: ContractTransactionResponse): Promise<void> {
  try {
    await tx.wait();
  } catch (e) {
    const m = minedRevertOf(e);
    const provider = ctx.signer.provider;
    if (m === undefined || provider === null) throw e;
    const r = await minedRevertReason(provider, m.hash).catch(() => undefined);
    const why = r?.outOfGas
      ? `out of gas (limit ${r.gasLimit})`
      : r?.data == null
        ? "the node did not say why"
        : describe({ data: r.data });
    throw new Error(`the ${leg} ${m.hash} was mined in block ${m.block} and reverted: ${why}`, { cause: e });
  }
}

/** Sends one desk, token or pool call (estimated, + 20% gas unless told) and waits for it; its hash. */
export async function sendLeg(
  ctx: ArbContext,
  leg: string,
  estimate: () => Promise<bigint>,
  send: (o: { gasLimit: bigint }) => Promise<ContractTransactionResponse>,
  gasLimit: (gas: bigint) => bigint = gasLimitFrom,
): Promise<string> {
  const tx = await send({ gasLimit: gasLimit(await estimate()) });
  await mined(ctx, leg, tx);
  return tx.hash;
}

/** How long an arbitrage swap stays valid: the Router voids one mined later (never 2^64 - 1). */
export const SWAP_DEADLINE_SECONDS = 120;

/** A pool swap of exactly `amountIn` for at least `minOut` along `path`, valid for SWAP_DEADLINE_SECONDS. */
export interface Swap {
  router: UniswapV2Router02;
  amountIn: bigint;
  minOut: bigint;
  path: string[];
}

/** The swap's arguments for the arbitrageur, its deadline counted from the pending block's time. */
async function swapArgs(ctx: ArbContext, s: Swap) {
  const provider = ctx.signer.provider;
  if (provider === null) throw new Error("the arbitrageur's signer has no provider");
  const deadline = (await blockTimestamp(rawRpcOf(provider), "pending")) + BigInt(SWAP_DEADLINE_SECONDS);
  return [s.amountIn, s.minOut, s.path, await ctx.signer.getAddress(), deadline] as const;
}

/** The amounts the swap would give at the pending block (eth_call); reverts as the swap would. */
export async function trySwap(ctx: ArbContext, s: Swap): Promise<bigint[]> {
  return s.router.swapExactTokensForTokens.staticCall(...(await swapArgs(ctx, s)), PENDING);
}

/** Sends the swap as the leg `leg` and waits for it; its hash. */
export async function swapLeg(ctx: ArbContext, leg: string, s: Swap): Promise<string> {
  const args = await swapArgs(ctx, s);
  const swap = s.router.swapExactTokensForTokens;
  return sendLeg(
    ctx,
    leg,
    () => swap.estimateGas(...args),
    (o) => swap(...args, o),
  );
}

/** USDT per token (a float, for reports) of `usdt` base units for `tokens` base units. */
export function perToken(usdt: bigint, tokens: bigint): number {
  return tokens === 0n ? Number.NaN : (Number(usdt) / Number(tokens)) * 1e12;
}
