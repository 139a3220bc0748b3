// The demo's report: per token the final NAV on chain and in the engine, rebalances by trigger,
// fees, the underlying's and the token's return and the ideal closed-form value; the story
// sentences; the recorded series for the chart. Numbers for people are plain JS numbers (fractions:
// 0.1234 = 12.34%); exact on-chain amounts stay as decimal strings of their base units.
import { formatUnits } from "ethers";
import { MARKETS, WAD, type MarketName } from "../common/params.ts";
import { continuousValue, realizedVariance } from "../engine/ideal.ts";
import type { LeveragedToken as EngineToken } from "../engine/token.ts";
import { fromPrice8, YEAR_SECONDS } from "../feeds/paths.ts";
import { REASON_NAMES } from "../keeper/decide.ts";
import type { MultiPath } from "./path.ts";
import type {
  Depletion,
  DepletionReport,
  ChainFees,
  Recorded,
  RecordedSpot,
  SpotPoint,
  ArbStats,
  TokenReport,
  MarketReport,
  DemoReport,
  ReportInput,
  NavCheck,
} from "./types.ts";
import { storySentences } from "./story.ts";
import { exactDecimal, perTokenDown, ratio18, toNumber } from "../report/digits.ts";

// the report's types live in types.ts; importers of the report get them here too
export type * from "./types.ts";

/** A 6-decimal nav() as an 18-decimal value per token (where no exact value was read). */
const perTokenFromNav = (nav: bigint): bigint => nav * 10n ** 12n;

const usdt = (x: bigint): number => Number(formatUnits(x, 6));
/** Shares (18 decimals) valued at a NAV (USDT per 1e18 shares), in USDT. */
const sharesToUsdt = (shares: bigint, nav: bigint): number => usdt((shares * nav) / WAD);

export function marketReport(path: MultiPath, m: MarketName): MarketReport {
  const prices = path.prices[m];
  const start = fromPrice8(prices[0]!);
  const end = fromPrice8(prices[prices.length - 1]!);
  const years = path.times[path.times.length - 1]! / YEAR_SECONDS;
  const variance = realizedVariance(prices.map((p) => p.toString()));
  return {
    source: path.sources[m],
    start,
    end,
    return: end / start - 1,
    realizedVolatility: years > 0 ? Math.sqrt(variance.toNumber() / years) : 0,
    variance: variance.toNumber(),
    varianceExact: variance.toString(),
  };
}

/**
 * The ideal token's end value over its start (not a return: 1 + a return near -100% has no digits
 * left in a float, and a decayed short's 4e-17 would read as 3.3e-16).
 */
export function idealValue(
  path: MultiPath,
  m: MarketName,
  leverage: number,
  managementFeeWad: bigint,
  variance: string,
): number {
  const prices = path.prices[m];
  const years = path.times[path.times.length - 1]! / YEAR_SECONDS;
  const fundingPer8h = Number(formatUnits(MARKETS[m].fundingRate, 18));
  return continuousValue({
    leverage,
    start: prices[0]!.toString(),
    end: prices[prices.length - 1]!.toString(),
    variance,
    years,
    managementFee: formatUnits(managementFeeWad, 18),
    fundingRate: fundingPer8h * 3 * 365,
  }).toNumber();
}

/** Gap or decay: a depletion is a gap when the update's move, at the leverage held before it, took (nearly) all the equity. */
export function depletionReport(d: Depletion, leverage: number): DepletionReport {
  const move = Number(d.priceAfter) / Number(d.priceBefore) - 1;
  const held = Number(formatUnits(d.leverageBefore, 18));
  // the equity the move took: a long loses L x the fall, a short L x the rise
  const levered = held * (leverage > 0 ? -move : move);
  return {
    time: d.time,
    date: new Date(d.time * 1000).toISOString().slice(0, 10),
    // fees and funding of one update are a sliver: a move that took 90% or more is what emptied it
    kind: levered >= GAP_SHARE ? "gap" : "decay",
    move,
    leverageBefore: held,
    levered,
    intervalSeconds: d.time - d.timeBefore,
    perTokenBefore: exactDecimal(d.perTokenBefore),
    valueBeforeUsdt: usdt(d.assetsBefore),
    tokens: Number(formatUnits(d.supply, 18)),
  };
}

/** The share of equity a single update's move must take for its depletion to be called a gap. */
export const GAP_SHARE = 0.9;

export function buildReport(r: ReportInput): DemoReport {
  const markets = {} as Record<MarketName, MarketReport>;
  for (const m of Object.keys(r.path.prices) as MarketName[]) markets[m] = marketReport(r.path, m);
  const tokens: TokenReport[] = r.symbols.map((symbol, i) => {
    const t = r.engineTokens[i]!;
    const m = (Object.keys(MARKETS) as MarketName[]).find((x) => MARKETS[x].id === t.market)!;
    const L = (Number(formatUnits(t.targetLeverage, 18)) * (t.isLong ? 1 : -1)) as number;
    const check = r.finalChecks[i]!;
    const f = r.fees[i]!;
    const navEnd = check.engine;
    const valueStart = r.valueStart[i]!;
    const valueEnd = check.engineExact ?? perTokenFromNav(check.engine);
    const depletion = r.depletions[i];
    const settled = r.settled[i];
    const ideal = idealValue(r.path, m, L, t.st.status.managementFee, markets[m].varianceExact);
    const triggers: Record<string, number> = {};
    REASON_NAMES.forEach((name, reason) => {
      if (reason > 0) triggers[name] = r.triggers[i]![reason]!;
    });
    return {
      symbol,
      market: m,
      leverage: L,
      navStart: formatUnits(r.navStart[i]!, 6),
      navEndChain: formatUnits(check.chain, 6),
      navEndEngine: formatUnits(check.engine, 6),
      valueStart: exactDecimal(valueStart),
      valueEndChain: exactDecimal(check.chainExact ?? perTokenFromNav(check.chain)),
      valueEndEngine: exactDecimal(valueEnd),
      valueMultiple: exactDecimal(ratio18(valueEnd, valueStart)),
      navEqual: check.chain === check.engine && check.chainExact === check.engineExact,
      navDifference: (check.chain - check.engine).toString(),
      rebalances: r.triggers[i]!.reduce((a, b) => a + b, 0),
      triggers,
      skippedActions: r.skipped[i]!,
      skippedWhy: r.skippedWhy[i]!,
      fees: {
        managementUsdt: usdt(r.managementValue[i]!),
        mintRedeemUsdt: sharesToUsdt(f.mintRedeemShares, navEnd),
        tradingUsdt: usdt(f.tradingUsdt),
        fundingUsdt: usdt(f.fundingUsdt),
        bountyUsdt: usdt(f.bountyUsdt),
        managementShares: f.managementShares.toString(),
        mintRedeemShares: f.mintRedeemShares.toString(),
      },
      underlyingReturn: markets[m].return,
      leveredUnderlyingReturn: L * markets[m].return,
      tokenReturn: toNumber(ratio18(valueEnd, valueStart)) - 1,
      // the closed form, computed once: the return is its value less 1
      idealReturn: ideal - 1,
      idealValue: ideal,
      volatilityDecay: 1 - Math.exp((-(L * L - L) * markets[m].variance) / 2),
      supplyEnd: formatUnits(t.totalSupply(), 18),
      ...(depletion === undefined ? {} : { depletion: depletionReport(depletion, L) }),
      redeemedUsdt: usdt(r.redeemed[i]!),
      arbRedeemedUsdt: usdt(r.arbRedeemed[i]!),
      deskFills: r.deskFills[i]!,
      netting: {
        fills: r.netting[i]!.fills,
        matchedUsdt: usdt(r.netting[i]!.matchedUsdt),
        tradingCostSavedUsdt: usdt(r.netting[i]!.tradingCostSaved),
      },
      settledUsdt: settled === undefined ? null : usdt(settled.assets),
      settledPerToken:
        settled === undefined ? null : exactDecimal(perTokenDown(settled.assets, settled.supply)),
      spot: {
        dead: r.arbitrage.perToken[i]!.dead,
        spotEnd: r.arbitrage.perToken[i]!.spotEnd,
        maxPremium: r.arbitrage.perToken[i]!.maxPremium,
        maxDiscount: r.arbitrage.perToken[i]!.maxDiscount,
        arbTrades: r.arbitrage.perToken[i]!.trades,
        arbProfitUsdt: usdt(r.arbitrage.perToken[i]!.profit),
      },
    };
  });
  const DAY = 86_400;
  const seriesPrices: Record<string, number[]> = {};
  for (const [m, ps] of Object.entries(r.recorded.prices)) seriesPrices[m] = ps.map(fromPrice8);
  const seriesNavs: Record<string, number[]> = {};
  for (const [s, ns] of Object.entries(r.recorded.navs)) seriesNavs[s] = ns.map((v) => toNumber(v));
  const report: DemoReport = {
    network: r.network,
    chainId: r.chainId.toString(),
    description: r.description,
    startTime: Number(r.start),
    requestedStartTime: Number(r.requestedStart),
    endTime: Number(r.end),
    // the replayed path's length (the last arbitrage pass adds a few seconds of blocks after it)
    days: r.path.times[r.path.times.length - 1]! / DAY,
    steps: r.path.times.length - 1,
    blocks: r.blocks,
    wallSeconds: r.wallSeconds,
    cpuSeconds: r.cpuSeconds,
    markets,
    tokens,
    allNavsEqual: r.mismatches.length === 0,
    navMismatches: r.mismatches.map((c) => ({
      time: c.time,
      symbol: c.symbol,
      chain: c.chain.toString(),
      engine: c.engine.toString(),
    })),
    arbitrage: {
      profitUsdt: usdt(r.arbitrage.arbitrageurProfit),
      profitUsdtChain: usdt(r.arbitrage.arbitrageurProfitChain),
      trades: r.arbitrage.perToken.reduce((a, x) => a + x.trades, 0),
    },
    story: [],
    series: {
      days: r.recorded.times.map((t) => t / DAY),
      prices: seriesPrices,
      navs: seriesNavs,
      marks: r.recorded.marks.map((k) => ({
        day: k.time / DAY,
        symbol: k.symbol,
        reason: REASON_NAMES[k.reason] ?? String(k.reason),
        nav: toNumber(k.nav),
      })),
      spots: Object.fromEntries(
        Object.entries(r.recorded.spots).map(([s, ps]) => [
          s,
          ps.map((p) => ({
            day: p.time / DAY,
            nav: usdt(p.nav),
            spot: p.spot,
            lower: p.lower,
            upper: p.upper,
            pending: p.pending,
          })),
        ]),
      ),
    },
  };
  report.story = storySentences(report);
  return report;
}
