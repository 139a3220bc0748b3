// Ideal models of a leveraged token, in decimal.js at 40 significant digits: what the token would
// do with perfect, frictionless (or simply priced) rebalancing. They explain results (compounding
// in trends, volatility decay, fee drag) and bound what the contracts should do.
import { Decimal } from "decimal.js";

/** A decimal.js constructor of its own: 40 significant digits, rounding half-even. */
export const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });
export type Dec = InstanceType<typeof D>;
export type Num = Dec | number | string;

const YEAR_SECONDS = 365 * 24 * 3600;
const FUNDING_PERIOD = 8 * 3600;

function dec(x: Num): Dec {
  return new D(x);
}

/**
 * Reset-daily model: each period the token returns exactly L times the underlying's return
 * (V_{k+1} = V_k (1 + L r_k)), floored at zero. `prices` are the underlying at each reset.
 * Negative L is a short. Returns V_T / V_0.
 */
export function dailyResetValue(prices: readonly Num[], leverage: Num): Dec {
  if (prices.length < 1) throw new Error("dailyResetValue needs at least one price");
  const L = dec(leverage);
  let v = new D(1);
  for (let k = 1; k < prices.length; k++) {
    const r = dec(prices[k]!)
      .div(dec(prices[k - 1]!))
      .minus(1);
    v = v.times(L.times(r).plus(1));
    if (v.lte(0)) return new D(0);
  }
  return v;
}

export interface ContinuousInput {
  leverage: Num;
  /** Start and end price of the underlying. */
  start: Num;
  end: Num;
  /** Annual volatility (0.6 = 60%) and horizon in years; or pass `variance` = sigma^2 T directly. */
  sigma?: Num;
  years: Num;
  variance?: Num;
  /** Costs as annual rates: management fee, funding paid per unit of notional (longs pay when +). */
  managementFee?: Num;
  fundingRate?: Num;
}

/**
 * Continuous rebalancing in closed form:
 * log(V_T/V_0) = L log(S_T/S_0) - (L^2 - L) sigma^2 T / 2 - fees,
 * with fees = managementFee x T + L x fundingRate x T (a short receives positive funding).
 */
export function continuousLogValue(i: ContinuousInput): Dec {
  const L = dec(i.leverage);
  const T = dec(i.years);
  const variance =
    i.variance !== undefined
      ? dec(i.variance)
      : dec(i.sigma ?? 0)
          .pow(2)
          .times(T);
  const trend = L.times(dec(i.end).div(dec(i.start)).ln());
  const decay = L.pow(2).minus(L).times(variance).div(2);
  const fees = dec(i.managementFee ?? 0)
    .times(T)
    .plus(L.times(dec(i.fundingRate ?? 0)).times(T));
  return trend.minus(decay).minus(fees);
}

export function continuousValue(i: ContinuousInput): Dec {
  return continuousLogValue(i).exp();
}

/** Sum of squared log returns of a path: its realized sigma^2 T. */
export function realizedVariance(prices: readonly Num[]): Dec {
  let sum = new D(0);
  for (let k = 1; k < prices.length; k++) {
    const r = dec(prices[k]!)
      .div(dec(prices[k - 1]!))
      .ln();
    sum = sum.plus(r.times(r));
  }
  return sum;
}

export interface BandOptions {
  /** Target leverage, positive; `isLong` false for a short. */
  target: Num;
  isLong: boolean;
  /** Rebalance when leverage leaves [min, max]. */
  min: Num;
  max: Num;
  /** Optional daily rebalance at 00:00 UTC when off target by more than this (leverage units). */
  dailyEpsilon?: Num;
  /** Seconds between path points (prices are at t0, t0 + step, ...) and the start time (unix). */
  stepSeconds: number;
  startTime?: number;
  /** Taker fee on traded notional (0.0005 = 5 bps). */
  takerFee?: Num;
  /** Funding rate per 8 hours (longs pay shorts when positive), accrued per second. */
  fundingRate?: Num;
  /** Management fee per year, accrued per second. */
  managementFee?: Num;
}

export interface BandResult {
  value: Dec; // V_T / V_0
  rebalances: number;
  tradingFees: Dec; // in units of V_0
  funding: Dec; // paid (+) or received (-)
  managementFees: Dec;
  depleted: boolean;
}

/**
 * Band rebalancing on a price path: the token holds notional N = L x V after each rebalance; between
 * rebalances its value moves with N (so leverage drifts), it pays funding on N and the management
 * fee on V; when leverage leaves the band (or at the daily 00:00 UTC check) it trades back to exactly
 * target x V, paying the taker fee on the traded notional, as the contract does.
 */
export function bandValue(prices: readonly Num[], o: BandOptions): BandResult {
  const target = dec(o.target);
  const lo = dec(o.min);
  const hi = dec(o.max);
  const eps = o.dailyEpsilon === undefined ? undefined : dec(o.dailyEpsilon);
  const fee = dec(o.takerFee ?? 0);
  const side = o.isLong ? 1 : -1;
  const fundingPerSecond = dec(o.fundingRate ?? 0).div(FUNDING_PERIOD);
  const mgmtPerSecond = dec(o.managementFee ?? 0).div(YEAR_SECONDS);
  const dt = o.stepSeconds;
  const start = o.startTime ?? 0;
  let v = new D(1);
  let n = target.times(side); // signed notional in units of V_0
  let rebalances = 0;
  let tradingFees = new D(0);
  let funding = new D(0);
  let mgmt = new D(0);
  let lastDay = Math.floor(start / 86400);
  for (let k = 1; k < prices.length; k++) {
    const growth = dec(prices[k]!).div(dec(prices[k - 1]!));
    v = v.plus(n.times(growth.minus(1)));
    n = n.times(growth);
    const paid = n.times(fundingPerSecond).times(dt);
    const m = v.times(mgmtPerSecond).times(dt);
    v = v.minus(paid).minus(m);
    funding = funding.plus(paid);
    mgmt = mgmt.plus(m);
    if (v.lte(0))
      return { value: new D(0), rebalances, tradingFees, funding, managementFees: mgmt, depleted: true };
    const lev = n.abs().div(v);
    const day = Math.floor((start + k * dt) / 86400);
    const daily = eps !== undefined && day > lastDay && lev.minus(target).abs().gt(eps);
    if (lev.lt(lo) || lev.gt(hi) || daily) {
      const want = target.times(v);
      const cost = want.minus(n.abs()).abs().times(fee);
      v = v.minus(cost);
      tradingFees = tradingFees.plus(cost);
      n = want.times(side);
      rebalances++;
      lastDay = day;
    }
  }
  return { value: v, rebalances, tradingFees, funding, managementFees: mgmt, depleted: false };
}

/**
 * The same band model in plain float64 (no fees breakdown, no funding or management fee): the speed
 * reference of the benchmark. `dailyEpsilon` > 0 adds the 00:00 UTC rebalance as in bandValue.
 * Returns V_T / V_0 and the number of rebalances.
 */
export function bandValueFloat(
  prices: Float64Array,
  o: {
    target: number;
    min: number;
    max: number;
    isLong: boolean;
    takerFee: number;
    dailyEpsilon: number;
    stepSeconds: number;
    startTime: number;
  },
): { value: number; rebalances: number } {
  const side = o.isLong ? 1 : -1;
  let v = 1;
  let n = o.target * side;
  let rebalances = 0;
  let lastDay = Math.floor(o.startTime / 86400);
  for (let k = 1; k < prices.length; k++) {
    const growth = prices[k]! / prices[k - 1]!;
    v += n * (growth - 1);
    n *= growth;
    if (v <= 0) return { value: 0, rebalances };
    const lev = Math.abs(n) / v;
    const day = Math.floor((o.startTime + k * o.stepSeconds) / 86400);
    const daily = o.dailyEpsilon > 0 && day > lastDay && Math.abs(lev - o.target) > o.dailyEpsilon;
    if (lev < o.min || lev > o.max || daily) {
      const want = o.target * v;
      v -= Math.abs(want - Math.abs(n)) * o.takerFee;
      n = want * side;
      rebalances++;
      lastDay = day;
    }
  }
  return { value: v, rebalances };
}
