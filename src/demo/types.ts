// The demo's shared types: what the run records and checks (run.ts) and what the report is built
// from and says (report.ts, story.ts, output.ts). A module of its own so none of them imports another
// for a type.
import type { MarketName } from "../common/params.ts";
import type { LeveragedToken as EngineToken } from "../engine/token.ts";
import type { MultiPath } from "./path.ts";

export interface NavCheck {
  time: number;
  symbol: string;
  chain: bigint;
  engine: bigint;
  /** USDT per token with 18 decimals (total assets over supply), on chain and in the engine (final checks). */
  chainExact?: bigint;
  engineExact?: bigint;
}

/** A token whose equity went in one price update (the engine's state before and the update's prices). */
export interface Depletion {
  /** Unix time of the price update that took the equity. */
  time: number;
  market: MarketName;
  priceBefore: bigint;
  priceAfter: bigint;
  /** The update before it: its time, the token's leverage (WAD), value per token (18 decimals), assets and supply. */
  timeBefore: number;
  leverageBefore: bigint;
  perTokenBefore: bigint;
  assetsBefore: bigint;
  supply: bigint;
}

/** How a token's equity went: in a gap (the move at its leverage took all of it) or decayed to dust first. */
export interface DepletionReport {
  time: number;
  date: string;
  kind: "gap" | "decay";
  /** The underlying's move in that price update (close to close on a daily path). */
  move: number;
  leverageBefore: number;
  /** The equity the move took at that leverage: leverage x the adverse move (1 = all of it). */
  levered: number;
  /** Seconds between the price update before and the one that took the equity. */
  intervalSeconds: number;
  /** Value per token and in all at the update before (USDT; exact 18-decimal string too). */
  perTokenBefore: string;
  valueBeforeUsdt: number;
  tokens: number;
}

export interface ChainFees {
  symbol: string;
  managementShares: bigint;
  mintRedeemShares: bigint;
  tradingUsdt: bigint;
  /** Paid (+) or received (-), settled at trades plus owed at the end. */
  fundingUsdt: bigint;
  bountyUsdt: bigint;
}

export interface Recorded {
  /** Seconds since the start of the replay. */
  times: number[];
  prices: Partial<Record<MarketName, bigint[]>>;
  /** Value per token with 18 decimals (total assets over supply), so a decayed token's is not 0. */
  navs: Record<string, bigint[]>;
  marks: { time: number; symbol: string; reason: number; nav: bigint }[];
  /** Per token, after the arbitrage ran: the pool's price and the no-arbitrage band (USDT per token). */
  spots: Record<string, RecordedSpot[]>;
}

export interface RecordedSpot {
  /** Seconds since the start of the replay. */
  time: number;
  nav: bigint;
  spot: number;
  lower: number;
  upper: number;
  /** A desk request of the arbitrage's waits for its fill: the pool moves when it is claimed. */
  pending: boolean;
}

/** After an arbitrage pass: the NAV, the pool's price and the no-arbitrage band (USDT per token). */
export interface SpotPoint {
  day: number;
  nav: number;
  spot: number;
  lower: number;
  upper: number;
  /** A desk request of the arbitrage's waited for its fill (its pool leg comes after the fill). */
  pending: boolean;
}

/** The arbitrage on one token's pool over the run. */
export interface ArbStats {
  trades: number;
  /** Realized USDT profit (base units). */
  profit: bigint;
  /** Largest premium (spot / NAV - 1 > 0) and discount (< 0) the arbitrage found before trading. */
  maxPremium: number;
  maxDiscount: number;
  /** The pool's price after the last pass (USDT per token). */
  spotEnd: number;
  /** The last pass found the token depleted or worth nothing: the pool is dead. */
  dead: boolean;
}

export interface TokenReport {
  symbol: string;
  market: MarketName;
  /** Signed: -3 for a 3x short. */
  leverage: number;
  navStart: string; // USDT per share, decimal (nav(): 6 decimals)
  navEndChain: string;
  navEndEngine: string;
  /** USDT per token with 18 decimals (total assets over supply; the frozen payout once settled): "0.91", not "0.909999". */
  valueStart: string;
  valueEndChain: string;
  valueEndEngine: string;
  /** The token's end value over its start, 18 decimals ("0" only for a depleted token). */
  valueMultiple: string;
  navEqual: boolean;
  /** Chain minus engine, in USDT base units (0 when equal). */
  navDifference: string;
  rebalances: number;
  triggers: Record<string, number>;
  /** Keeper actions the engine predicted would revert (and so were not sent). */
  skippedActions: number;
  /** The first ten of them: when, which action, and the error the engine (and the chain) would give. */
  skippedWhy: { time: number; action: string; error: string }[];
  fees: {
    /** Management fee shares valued at the NAV when they accrued; mint/redeem fee shares at the final NAV. */
    managementUsdt: number;
    mintRedeemUsdt: number;
    tradingUsdt: number;
    fundingUsdt: number;
    bountyUsdt: number;
    managementShares: string;
    mintRedeemShares: string;
  };
  underlyingReturn: number;
  leveredUnderlyingReturn: number;
  tokenReturn: number;
  idealReturn: number;
  /** The ideal's end value over its start, with its digits (idealReturn + 1 loses them near -100%). */
  idealValue: number;
  /** Value the ideal token lost to volatility decay: 1 - exp(-(L^2 - L) sigma^2 T / 2). */
  volatilityDecay: number;
  supplyEnd: string;
  /** How its equity went, if it did. */
  depletion?: DepletionReport;
  /** USDT paid by redeems over the run to the demo's wallets and to the arbitrageur, and at settlement (null: not settled). */
  redeemedUsdt: number;
  arbRedeemedUsdt: number;
  /** The keeper's fills of the token's desk (each a batch of every request of earlier rounds). */
  deskFills: number;
  /** Its fills that netted deposits against redemptions, the USDT matched, and the trading cost
   * netting saved (against the same fills with the sides traded apart). */
  netting: { fills: number; matchedUsdt: number; tradingCostSavedUsdt: number };
  settledUsdt: number | null;
  /** The settlement's payout per token (18 decimals), null when not settled. */
  settledPerToken: string | null;
  spot: {
    /** The token is depleted or worth nothing: its pool still quotes a price, but nothing backs it. */
    dead: boolean;
    spotEnd: number;
    maxPremium: number;
    maxDiscount: number;
    arbTrades: number;
    arbProfitUsdt: number;
  };
}

export interface MarketReport {
  source: string;
  start: number;
  end: number;
  return: number;
  /** Annualized realized volatility of the path, and its sigma^2 T (sum of squared log returns). */
  realizedVolatility: number;
  variance: number;
  /** The same sigma^2 T at 40 digits (the ideal model's input). */
  varianceExact: string;
}

export interface DemoReport {
  network: string;
  chainId: string;
  description: string;
  /** Unix time of the path's first point, and the one asked for (they differ on a node whose clock was past it). */
  startTime: number;
  requestedStartTime: number;
  endTime: number;
  days: number;
  steps: number;
  blocks: number;
  wallSeconds: number;
  cpuSeconds: number;
  markets: Record<MarketName, MarketReport>;
  tokens: TokenReport[];
  allNavsEqual: boolean;
  /** Daily checks (and the final one) where chain and engine NAV, or rebalanceNeeded()'s reason, differed. */
  navMismatches: { time: number; symbol: string; chain: string; engine: string }[];
  /** The arbitrageur's USDT profit over the run, in the engine and on chain (equal). */
  arbitrage: { profitUsdt: number; profitUsdtChain: number; trades: number };
  story: string[];
  series: {
    days: number[];
    prices: Record<string, number[]>;
    navs: Record<string, number[]>;
    marks: { day: number; symbol: string; reason: string; nav: number }[];
    spots: Record<string, SpotPoint[]>;
  };
}

export interface ReportInput {
  network: string;
  chainId: bigint;
  description: string;
  path: MultiPath;
  start: bigint;
  requestedStart: bigint;
  end: bigint;
  symbols: string[];
  engineTokens: EngineToken[];
  navStart: bigint[];
  /** Value per token at the start, 18 decimals (total assets over supply). */
  valueStart: bigint[];
  finalChecks: NavCheck[];
  mismatches: NavCheck[];
  triggers: number[][];
  skipped: number[];
  skippedWhy: { time: number; action: string; error: string }[][];
  fees: ChainFees[];
  /** Management fee shares valued at the NAV when each accrued (USDT base units). */
  managementValue: bigint[];
  recorded: Recorded;
  arbitrage: { perToken: ArbStats[]; arbitrageurProfit: bigint; arbitrageurProfitChain: bigint };
  blocks: number;
  /** Per token: the price update its equity went in (undefined: it did not). */
  depletions: (Depletion | undefined)[];
  /** Per token: USDT paid by redeems over the run to the wallets, and to the arbitrageur. */
  redeemed: bigint[];
  /** Per token: the keeper's fills of its desk. */
  deskFills: number[];
  /** Per token: the fills that netted, the USDT matched, and the trading cost the same fills would
   * have paid more with their sides traded apart (the engine's counterfactual, rolled back). */
  netting: { fills: number; matchedUsdt: bigint; tradingCostSaved: bigint }[];
  arbRedeemed: bigint[];
  /** Per token: the settlement (undefined: not settled). */
  settled: ({ assets: bigint; supply: bigint } | undefined)[];
  wallSeconds: number;
  cpuSeconds: number;
}
