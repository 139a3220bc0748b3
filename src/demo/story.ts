// The compounding and volatility-decay story in plain sentences, every number taken from the report
// (and formatted by `percent` / `usd`, so a test can find each one in the text). A token whose
// equity went in one price update is told as a gap, with the move that caused it; volatility decay
// is named only where the closed form says so.
import { formatFloat, formatValue, parseExact } from "../report/digits.ts";
import type { DemoReport, TokenReport } from "./types.ts";

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

/** The closed form (continuous rebalancing at the path's realized volatility) ends below L times the move. */
export function closedFormDecays(t: TokenReport): boolean {
  return t.idealReturn < t.leveredUnderlyingReturn;
}

/** "close to close" for a whole number of days between the prices, else the interval. */
function interval(seconds: number): string {
  if (seconds % 86_400 === 0) return seconds === 86_400 ? "close to close" : `over ${seconds / 86_400} days`;
  return seconds % 3600 === 0 ? `over ${seconds / 3600} h` : `over ${seconds} s`;
}

/** What the holders got: the settlement's payout and earlier redeems. */
function holdersPaid(t: TokenReport): string {
  const d = t.depletion!;
  const settled =
    t.settledUsdt === null
      ? "are not settled yet (a depleted token settles at 0)"
      : `were settled at ${usd(t.settledUsdt)} in all (${formatValue(parseExact(t.settledPerToken ?? "0"))} USDT a token)`;
  const before =
    t.redeemedUsdt > 0
      ? `; before it, redeems had paid the wallets ${usd(t.redeemedUsdt)}` +
        (t.arbRedeemedUsdt > 0 ? ` and the arbitrageur ${usd(t.arbRedeemedUsdt)}` : "")
      : "";
  return (
    `Its ${d.tokens.toLocaleString("en-US", { maximumFractionDigits: 0 })} tokens, worth ${usd(d.valueBeforeUsdt)} ` +
    `(${formatValue(parseExact(d.perTokenBefore))} USDT a token) at the price before, ${settled}${before}.`
  );
}

/** A depleted token's sentence: a gap (the move at its leverage took the equity) or decay to dust. */
export function depletionSentence(t: TokenReport): string {
  const d = t.depletion;
  if (d === undefined) throw new Error(`${t.symbol} was not depleted`);
  const side = t.leverage > 0 ? "long" : "short";
  if (d.kind === "gap")
    return (
      `${t.symbol} went through zero on ${d.date}: ${t.market} moved ${percent(d.move)} ${interval(d.intervalSeconds)} in one price update, ` +
      `and at the ${d.leverageBefore.toFixed(2)}x it held, a ${side} loses ${share(d.levered)} of its equity on that move: ` +
      `a gap, which no rebalancing between two prices can catch, not volatility decay. ${holdersPaid(t)}`
    );
  return (
    `${t.symbol} ran out of equity on ${d.date} on a move of ${percent(d.move)} (${share(Math.max(d.levered, 0))} of its equity at ${d.leverageBefore.toFixed(2)}x), ` +
    `not a gap: it had already decayed to ${formatValue(parseExact(d.perTokenBefore))} USDT a token, and the fees of its last rebalances took the rest` +
    `${closedFormDecays(t) ? " (volatility decay, as the closed form says)" : ""}. ${holdersPaid(t)}`
  );
}

/** Why a live token ended where it did against L times the move. */
function returnSentence(r: DemoReport, t: TokenReport): string {
  const beat = t.tokenReturn >= t.leveredUnderlyingReturn;
  return (
    `${t.market} moved ${percent(t.underlyingReturn)} in ${r.days.toFixed(1)} days and ${t.symbol} returned ${percent(t.tokenReturn)}, ` +
    `${beat ? "more" : "less"} than the ${percent(t.leveredUnderlyingReturn)} of ${t.leverage}x the move: ` +
    (!beat
      ? closedFormDecays(t)
        ? "rebalancing sells after falls and buys after rises, so back-and-forth moves ate into the value (volatility decay)."
        : "the closed form at this volatility ends above that, so it was not volatility decay but the band's rebalancing path, fees and funding."
      : t.underlyingReturn * t.leverage >= 0
        ? "rebalancing re-levers the gains after each rise, so the trend compounded."
        : "rebalancing cuts the position after each fall, so the losses shrank as they compounded and the token stays above zero.")
  );
}

/** The share of value the closed form's volatility term leaves: exp(-(L^2 - L) sigma^2 T / 2). */
export function decayFactor(r: Pick<DemoReport, "markets">, t: TokenReport): number {
  return Math.exp((-(t.leverage * t.leverage - t.leverage) * r.markets[t.market].variance) / 2);
}

/** Volatility decay is named when the closed form's volatility term takes more than this share. */
export const DECAY_NAMED = 0.01;

/**
 * A live token left with less than 1% of its start value: how much, what the closed form predicts,
 * and how much of that is the trend and how much volatility decay (named only when the closed form
 * takes more than 1% for it).
 */
export function decayedSentence(r: Pick<DemoReport, "markets">, t: TokenReport): string {
  const growth = 1 + t.underlyingReturn;
  const trend = Math.pow(growth, t.leverage);
  const kept = decayFactor(r, t);
  return (
    `${t.symbol} is alive but worth ${formatValue(parseExact(t.valueEndEngine))} USDT a token, ${formatValue(parseExact(t.valueMultiple))} of its start; ` +
    `the closed form predicts ${formatFloat(t.idealValue)} of the start: the ${t.leverage}x trend alone (${t.market} x${formatFloat(growth, 4)}) leaves ${formatFloat(trend)}, ` +
    (1 - kept > DECAY_NAMED
      ? `and volatility decay at ${share(r.markets[t.market].realizedVolatility)} leaves ${formatFloat(kept)} of that.`
      : `and volatility decay takes only ${share(1 - kept)} of that: the rest is the band's path, fees and funding.`)
  );
}

export function storySentences(r: DemoReport): string[] {
  const t = example(r);
  const m = r.markets[t.market];
  const short = r.tokens.find((x) => x.market === t.market && x.leverage < 0);
  const out: string[] = [];
  if (t.depletion === undefined) out.push(returnSentence(r, t));
  for (const x of r.tokens) if (x.depletion !== undefined) out.push(depletionSentence(x));
  for (const x of r.tokens)
    if (x.depletion === undefined && parseExact(x.valueMultiple) < 10n ** 16n)
      out.push(decayedSentence(r, x));
  out.push(
    `At ${share(m.realizedVolatility)} realized annual volatility, the ideal ${t.leverage}x token loses ${share(t.volatilityDecay)} of its value to volatility decay` +
      (short === undefined ? "" : ` and the ${short.leverage}x short ${share(short.volatilityDecay)}`) +
      `; the closed form (continuous rebalancing, fees and funding included) predicts ${percent(t.idealReturn)} for ${t.symbol} against the ${percent(t.tokenReturn)} it made on chain` +
      (t.depletion?.kind === "gap" ? " (the closed form has no gaps: its prices move continuously)." : "."),
  );
  const fees = r.tokens.reduce(
    (a, x) => ({
      management: a.management + x.fees.managementUsdt,
      trading: a.trading + x.fees.tradingUsdt,
      funding: a.funding + x.fees.fundingUsdt,
    }),
    { management: 0, trading: 0, funding: 0 },
  );
  const rebalances = r.tokens.reduce((a, x) => a + x.rebalances, 0);
  out.push(
    `Across the ${r.tokens.length} tokens the keeper rebalanced ${rebalances} times, paying ${usd(fees.trading)} in trading costs; ` +
      `management fees came to ${usd(fees.management)} and net funding to ${usd(fees.funding)} (positive: paid by the tokens).`,
  );
  return out;
}
