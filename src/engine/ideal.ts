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
  /**
   * Each price's time in seconds after `startTime` (times[0] = 0, increasing), for a path with
   * uneven steps (real closes skip days); by default k x `stepSeconds`.
   */
  times?: readonly number[];
  /** Taker fee on traded notional (0.0005 = 5 bps). */
  takerFee?: Num;
  /** Funding rate per 8 hours (longs pay shorts when positive), accrued per second. */
  fundingRate?: Num;
  /** Management fee per year (365 days), accrued per second. */
  managementFee?: Num;
}

export interface BandResult {
  /** Value per token at the end over the value per token after the first deposit (V_T / V_0). */
  value: Dec;
  rebalances: number;
  /** Exchange equity at the end, in units of the equity after the first deposit. */
  equity: Dec;
  tradingFees: Dec; // in units of V_0, the opening trade's not included (it is before V_0)
  funding: Dec; // paid (+) or received (-)
  /** The management fee shares, valued when they accrued. */
  managementFees: Dec;
  depleted: boolean;
}

/**
 * Band rebalancing on a price path, with the chain's conventions, so that with the token's own
 * parameters it agrees with the exact engine (and so the contracts) to about 1e-9 relative, fees
 * and funding on (test/engine/ideal.ts, test/backtest/backtest.ts):
 *
 * - The first deposit opens target x deposit of notional and pays the taker fee on it out of the
 *   deposit, so leverage starts at target / (1 - target x fee); V_0 is the value per token after it.
 * - Between rebalances the position's size is fixed: the equity moves with the notional N (so
 *   leverage drifts), and each price update charges funding for the interval the price it replaces
 *   held, at that price: N_{k-1} x rate x (t_k - t_{k-1}) / 8 h (the exchange's funding index).
 * - The management fee is paid in fee shares minted to the treasury, not out of the equity: it does
 *   not move leverage. Each accrual multiplies the value per token by 1 - min(fee x elapsed / year,
 *   1/2) for the seconds since the last one; the token accrues when it is touched, here at every
 *   rebalance and at the end (the valuation), as a token only the keeper's rebalances touch.
 * - When leverage leaves the band, or at the daily 00:00 UTC check (the last rebalance before
 *   today's midnight, a new token never having rebalanced, and leverage off target by more than the
 *   epsilon), the position trades to exactly target x equity, paying the taker fee on the traded
 *   notional, so leverage ends a little above target, as on chain.
 * - Equity at or below zero, or a rebalance that would cost all of it, depletes the token (value 0).
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
  const half = new D("0.5");
  const start = o.startTime ?? 0;
  const times = o.times;
  if (times !== undefined && times.length !== prices.length)
    throw new Error(`bandValue: ${times.length} times for ${prices.length} prices`);
  const timeAt = (k: number) => (times === undefined ? k * o.stepSeconds : times[k]!);
  const price = prices.map((p) => dec(p));
  let e = new D(1); // equity, in units of the equity after the first deposit
  let n = target.div(new D(1).minus(target.times(fee))).times(side); // signed notional, same units
  let dilution = new D(1); // value per token over equity (per unit of V_0)
  let lastAccrual = 0;
  let rebalances = 0;
  let tradingFees = new D(0);
  let funding = new D(0);
  let mgmt = new D(0);
  /** The token accrues its management fee at `t`: fee shares dilute the value per token. */
  const accrue = (t: number) => {
    if (t === lastAccrual) return;
    const f = D.min(mgmtPerSecond.times(t - lastAccrual), half);
    const taken = e.times(dilution).times(f);
    mgmt = mgmt.plus(taken);
    dilution = dilution.times(new D(1).minus(f));
    lastAccrual = t;
  };
  const depleted = (): BandResult => ({
    value: new D(0),
    rebalances,
    equity: new D(0),
    tradingFees,
    funding,
    managementFees: mgmt,
    depleted: true,
  });
  let lastRebalanceDay = -Infinity;
  for (let k = 1; k < price.length; k++) {
    const t = timeAt(k);
    const paid = n.times(fundingPerSecond).times(t - timeAt(k - 1)); // at the replaced price
    const growth = price[k]!.div(price[k - 1]!);
    e = e.plus(n.times(growth.minus(1))).minus(paid);
    n = n.times(growth);
    funding = funding.plus(paid.times(dilution));
    if (e.lte(0)) return depleted();
    const lev = n.abs().div(e);
    const day = Math.floor((start + t) / 86400);
    const daily = eps !== undefined && day > lastRebalanceDay && lev.minus(target).abs().gt(eps);
    if (lev.lt(lo) || lev.gt(hi) || daily) {
      accrue(t);
      const want = target.times(e);
      const cost = want.minus(n.abs()).abs().times(fee);
      if (e.minus(cost).lte(0)) return depleted();
      e = e.minus(cost);
      tradingFees = tradingFees.plus(cost.times(dilution));
      n = want.times(side);
      rebalances++;
      lastRebalanceDay = day;
    }
  }
  accrue(timeAt(price.length - 1));
  return {
    value: e.times(dilution),
    rebalances,
    equity: e,
    tradingFees,
    funding,
    managementFees: mgmt,
    depleted: false,
  };
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
