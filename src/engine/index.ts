// The engine's typed API, shared by the keeper, the CLI, the demo and the backtest: quote a mint or
// a redeem before sending it (exactly what the contract will do at that block time), predict the
// prices at which the next rebalance triggers, and the ideal models with their explanations.
import { EngineRevert } from "./errors.ts";
import { UINT256_MAX, notionalUp } from "./math.ts";
import {
  REASON_BAND,
  REASON_DEPLETED,
  REASON_RIPCORD,
  TokenState,
  leverageOf,
  quoteRedeem as quoteRedeemBook,
  type LeveragedToken,
} from "./token.ts";
import type { Exchange } from "./exchange.ts";

export { EngineRevert, isEngineRevert } from "./errors.ts";
export * as math from "./math.ts";
export { Erc20Ledger, ZERO_ADDRESS } from "./erc20.ts";
export { PriceFeed } from "./feed.ts";
export { Exchange, equityOf, type PositionState, type Snapshot, type TradeResult } from "./exchange.ts";
export {
  LeveragedToken,
  TokenState,
  MINIMUM_SHARES,
  DEAD,
  KEEPER_ROLE,
  REASON_NONE,
  REASON_BAND,
  REASON_DAILY,
  REASON_RIPCORD,
  REASON_DEPLETED,
  REASON_REOPEN,
  leverageOf,
  rebalanceReasonOf,
  restore,
  tradableBook,
  bookNowOf,
  type RebalanceRules,
  quoteDeposit as quoteDepositBook,
  quoteMintAssets as quoteMintOnBook,
  quoteRedeem as quoteRedeemOnBook,
  type Book,
  type Quote,
  type TokenConfig,
} from "./token.ts";
export {
  ForwardDesk,
  type DeskConfig,
  type DeskEpoch,
  type DeskOrder,
  type DeskSide,
  type DeskStorage,
  type FillNeeded,
} from "./desk.ts";
export { World, type Tx } from "./world.ts";
export type { EngineEvent } from "./events.ts";
export {
  EngineSystem,
  type SystemDeployment,
  type MarketDeployment,
  type TokenDeployment,
  type LocalOptions,
  localSystem,
  syntheticAddress,
} from "./system.ts";
export { RebalanceScreen } from "./screen.ts";
export { replayPrices, type ReplayOptions, type ReplayResult } from "./replay.ts";
export * from "./ideal.ts";
export * from "./explain.ts";

export interface MintQuote {
  /** Shares the receiver gets (0: the deposit is too small and would revert DepositTooSmall). */
  shares: bigint;
  /** Mint fee in shares, minted to the treasury. */
  feeShares: bigint;
  /** Position change, trading cost of this slice (USDT) and the price it trades at. */
  sizeDelta: bigint;
  tradingCost: bigint;
  price: bigint;
  /** Supply the quote priced against (management fee accrued to `time`). */
  supply: bigint;
}

export interface RedeemQuote {
  /** USDT paid to the receiver. */
  assets: bigint;
  /** Redeem fee in shares, owed to the treasury (pending until minted to it). */
  feeShares: bigint;
  sizeDelta: bigint;
  tradingCost: bigint;
  price: bigint;
}

/** What deposit(assets) would do at block time `time` (throws EngineRevert where the contract reverts). */
export function quoteMint(token: LeveragedToken, assets: bigint, time: bigint): MintQuote {
  const b = token.liveBookNow(time);
  const d = token.quoteDeposit(b, assets);
  return {
    shares: d.shares,
    feeShares: d.feeShares,
    sizeDelta: d.quote.sizeDelta,
    tradingCost: d.quote.cost,
    price: d.quote.price,
    supply: b.supply,
  };
}

/** What redeem(shares) would pay at block time `time`. */
export function quoteRedeem(token: LeveragedToken, shares: bigint, time: bigint): RedeemQuote {
  if (token.state() === TokenState.Settled) {
    return {
      assets: token.previewRedeem(shares, time),
      feeShares: 0n,
      sizeDelta: 0n,
      tradingCost: 0n,
      price: 0n,
    };
  }
  const r = quoteRedeemBook(token.liveBookNow(time), shares);
  return {
    assets: r.assets,
    feeShares: r.feeShares,
    sizeDelta: r.quote.sizeDelta,
    tradingCost: r.quote.cost,
    price: r.quote.price,
  };
}

/** Applies a slippage tolerance (basis points) to a quote: the minShares / minAssets to send. */
export function withSlippage(amount: bigint, bps: number): bigint {
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) {
    throw new Error(`slippage must be a whole number of basis points between 0 and 10000, got ${bps}`);
  }
  return (amount * BigInt(10_000 - bps)) / 10_000n;
}

export interface TokenSummary {
  nav: bigint; // USDT per 1e18 shares
  leverage: bigint; // WAD
  equity: bigint;
  size: bigint;
  price: bigint;
  supply: bigint;
  rebalance: { needed: boolean; reason: number };
}

/** NAV, leverage, equity, position and the rebalance check at `time`, as the contract's views say. */
export function summarize(token: LeveragedToken, vault: Exchange, time: bigint): TokenSummary {
  const s = vault.snapshot(token.market, token.address, time);
  return {
    nav: token.nav(time),
    leverage: leverageOf(s.size, s.equity, s.price),
    equity: s.equity,
    size: s.size,
    price: s.price,
    supply: token.supplyNow(time),
    rebalance: token.rebalanceNeeded(time),
  };
}

export interface RebalanceTriggers {
  /** The highest price below the current one at which rebalanceNeeded() turns true (band, ripcord
   * or depletion), and the lowest above; undefined when no price triggers on that side. */
  below?: bigint;
  above?: bigint;
  /** Same, for the ripcord (anyone may rebalance, for the bounty) or depletion. */
  ripcordBelow?: bigint;
  ripcordAbove?: bigint;
}

/**
 * The exact oracle prices at which the next rebalance triggers, at block time `time`, if the price
 * jumped there now (funding accrual at that price included): each is the first integer price, going
 * away from the current one, at which the contract's rebalanceNeeded() leaves "none" for the band
 * (or ripcord) reason. The daily 00:00 UTC rebalance is time-triggered and not included.
 */
export function nextRebalanceTriggers(
  token: LeveragedToken,
  vault: Exchange,
  time: bigint,
): RebalanceTriggers {
  const current = vault.markPrice(token.market, time);
  const reasonAt = (price: bigint): number => {
    const s = vault.snapshotAtPrice(token.market, token.address, time, price);
    if (s.size === 0n) return 0;
    if (s.equity <= 0n) return REASON_DEPLETED;
    const lev = leverageOf(s.size, s.equity, price);
    if (lev >= token.ripcordLeverage) return REASON_RIPCORD;
    if (lev > token.maxLeverage || lev < token.minLeverage) return REASON_BAND;
    return 0;
  };
  const band = (r: number) => r >= REASON_BAND;
  const ripcord = (r: number) => r >= REASON_RIPCORD;
  return {
    below: firstTrigger(current, -1n, (p) => band(reasonAt(p))),
    above: firstTrigger(current, 1n, (p) => band(reasonAt(p))),
    ripcordBelow: firstTrigger(current, -1n, (p) => ripcord(reasonAt(p))),
    ripcordAbove: firstTrigger(current, 1n, (p) => ripcord(reasonAt(p))),
  };
}

/**
 * First price from `from` in direction `dir` where `hit` holds, assuming it keeps holding beyond
 * (leverage is monotonic in price on each side while equity lasts). Doubling, then bisection.
 */
function firstTrigger(from: bigint, dir: bigint, hit: (p: bigint) => boolean): bigint | undefined {
  if (hit(from)) return from;
  let ok = from; // last price known not to hit
  let step = from / 1000n + 1n;
  let probe: bigint;
  for (;;) {
    probe = dir > 0n ? ok + step : ok - step;
    if (probe < 1n) {
      if (ok === 1n || !hit(1n)) return undefined;
      probe = 1n;
      break;
    }
    if (probe > UINT256_MAX / 10n ** 20n) return undefined;
    if (hit(probe)) break;
    ok = probe;
    step *= 2n;
  }
  let lo = ok;
  let hi = probe;
  while ((hi > lo ? hi - lo : lo - hi) > 1n) {
    const mid = (lo + hi) / 2n;
    if (hit(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The position's notional in USDT at `price` (rounded up, as the contract's leverage uses). */
export function notionalAt(size: bigint, price: bigint): bigint {
  return notionalUp(size, price);
}

/** Whether an error is the engine's prediction that the contract reverts with `name`. */
export function revertsWith(e: unknown, name: string): boolean {
  return e instanceof EngineRevert && e.errorName === name;
}
