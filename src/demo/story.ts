// The compounding and volatility-decay story in three plain sentences, every number taken from the
// report (and formatted by `percent` / `usd`, so a test can find each one in the text).
import type { DemoReport, TokenReport } from "./report.ts";

/** 0.1234 -> "+12.34%". */
export function percent(x: number): string {
  return `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)}%`;
}

/** 0.1234 -> "12.34%" (a size, no sign). */
export function share(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** 1234.5 -> "1,234.50 USDT". */
export function usd(x: number): string {
  return `${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} USDT`;
}

/** The long token of the market that moved most, the sentence's example. */
function example(r: DemoReport): TokenReport {
  const longs = r.tokens.filter((t) => t.leverage > 0);
  return longs.reduce((a, b) => (Math.abs(b.underlyingReturn) > Math.abs(a.underlyingReturn) ? b : a));
}

export function storySentences(r: DemoReport): string[] {
  const t = example(r);
  const m = r.markets[t.market];
  const short = r.tokens.find((x) => x.market === t.market && x.leverage < 0);
  const beat = t.tokenReturn >= t.leveredUnderlyingReturn;
  const first =
    `${t.market} moved ${percent(t.underlyingReturn)} in ${r.days.toFixed(1)} days and ${t.symbol} returned ${percent(t.tokenReturn)}, ` +
    `${beat ? "more" : "less"} than the ${percent(t.leveredUnderlyingReturn)} of ${t.leverage}x the move: ` +
    (!beat
      ? "rebalancing sells after falls and buys after rises, so back-and-forth moves ate into the value (volatility decay)."
      : t.underlyingReturn * t.leverage >= 0
        ? "rebalancing re-levers the gains after each rise, so the trend compounded."
        : "rebalancing cuts the position after each fall, so the losses shrank as they compounded and the token stays above zero.");
  const second =
    `At ${share(m.realizedVolatility)} realized annual volatility, the ideal ${t.leverage}x token loses ${share(t.volatilityDecay)} of its value to volatility decay` +
    (short === undefined ? "" : ` and the ${short.leverage}x short ${share(short.volatilityDecay)}`) +
    `; the closed form (continuous rebalancing, fees and funding included) predicts ${percent(t.idealReturn)} for ${t.symbol} against the ${percent(t.tokenReturn)} it made on chain.`;
  const fees = r.tokens.reduce(
    (a, x) => ({
      management: a.management + x.fees.managementUsdt,
      trading: a.trading + x.fees.tradingUsdt,
      funding: a.funding + x.fees.fundingUsdt,
    }),
    { management: 0, trading: 0, funding: 0 },
  );
  const rebalances = r.tokens.reduce((a, x) => a + x.rebalances, 0);
  const third =
    `Across the ${r.tokens.length} tokens the keeper rebalanced ${rebalances} times, paying ${usd(fees.trading)} in trading costs; ` +
    `management fees came to ${usd(fees.management)} and net funding to ${usd(fees.funding)} (positive: paid by the tokens).`;
  return [first, second, third];
}
