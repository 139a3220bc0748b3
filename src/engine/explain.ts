// Plain-word explanations of a leveraged token's result, from the ideal models: how much came from
// the trend (and its compounding), how much volatility decay took, and how much the fees took.
// Used by the CLI and the demo; every number in the text comes from the returned fields.
import { D, continuousLogValue, dailyResetValue, type Dec, type Num } from "./ideal.ts";

export interface Explanation {
  /** Token value at the end over the start (ideal continuous model). */
  tokenMultiple: Dec;
  /** Underlying end over start. */
  underlyingMultiple: Dec;
  /** What a naive "L times the underlying's return" would give: 1 + L (S_T/S_0 - 1). */
  naiveMultiple: Dec;
  /** Compounding gain (or loss) of the trend alone: exp(L log(S_T/S_0)) - naive. */
  compounding: Dec;
  /** Volatility decay as a fraction of value: 1 - exp(-(L^2 - L) sigma^2 T / 2). */
  volatilityDecay: Dec;
  /** Fee drag as a fraction of value: 1 - exp(-fees). */
  feeDrag: Dec;
  text: string;
}

export interface ExplainInput {
  leverage: Num; // signed: -3 for a 3x short
  start: Num;
  end: Num;
  /** Realized variance sigma^2 T of the path (see realizedVariance), or sigma and years. */
  variance?: Num;
  sigma?: Num;
  years: Num;
  managementFee?: Num;
  fundingRate?: Num;
}

function pct(x: Dec): string {
  return `${x.times(100).toFixed(2)}%`;
}

function times(x: Dec): string {
  return `${x.toFixed(4)}x`;
}

/** Splits the ideal result into trend, compounding, volatility decay and fee drag, in words. */
export function explainResult(i: ExplainInput): Explanation {
  const L = new D(i.leverage);
  const growth = new D(i.end).div(new D(i.start));
  const trendOnly = continuousLogValue({
    leverage: L,
    start: i.start,
    end: i.end,
    years: i.years,
    variance: 0,
  });
  const withDecay = continuousLogValue({ ...i, managementFee: 0, fundingRate: 0 });
  const all = continuousLogValue(i);
  const naive = L.times(growth.minus(1)).plus(1);
  const trendMultiple = trendOnly.exp();
  const decay = new D(1).minus(withDecay.minus(trendOnly).exp());
  const drag = new D(1).minus(all.minus(withDecay).exp());
  const token = all.exp();
  const side = L.isNegative() ? "short" : "long";
  const text = [
    `The underlying moved ${times(growth)} (${pct(growth.minus(1))}); a ${L.abs().toString()}x ${side} token ends at ${times(token)} of its start.`,
    `Plain ${L.abs().toString()}x of the move would be ${times(naive)}; rebalancing compounds the trend to ${times(trendMultiple)}` +
      ` (${trendMultiple.gte(naive) ? "a compounding gain" : "a compounding loss"} of ${pct(trendMultiple.minus(naive).abs())} of the start).`,
    `Volatility decay took ${pct(decay)} of the value: each rebalance sells after falls and buys after rises.`,
    `Fees and funding took ${pct(drag)}.`,
  ].join(" ");
  return {
    tokenMultiple: token,
    underlyingMultiple: growth,
    naiveMultiple: naive,
    compounding: trendMultiple.minus(naive),
    volatilityDecay: decay,
    feeDrag: drag,
    text,
  };
}

/** The reset-daily model on a few daily prices, in words (e.g. 3x on +10% then -10%). */
export function explainDailyPath(
  prices: readonly Num[],
  leverage: Num,
): { token: Dec; underlying: Dec; text: string } {
  const L = new D(leverage);
  const token = dailyResetValue(prices, L);
  const underlying = new D(prices[prices.length - 1]!).div(new D(prices[0]!));
  const naive = L.times(underlying.minus(1)).plus(1);
  const moves = prices
    .slice(1)
    .map((p, k) => {
      const r = new D(p).div(new D(prices[k]!)).minus(1);
      return `${r.isNegative() ? "" : "+"}${pct(r)}`;
    })
    .join(" then ");
  const verdict = token.gte(naive)
    ? `more than ${times(naive)}, ${L.abs().toString()}x the underlying's move: the trend compounded`
    : `less than ${times(naive)}, ${L.abs().toString()}x the underlying's move: volatility decay`;
  return {
    token,
    underlying,
    text: `${L.abs().toString()}x ${L.isNegative() ? "short" : "long"} on ${moves}: the token ends at ${times(token)} of its start, the underlying at ${times(underlying)}; ${verdict}.`,
  };
}
