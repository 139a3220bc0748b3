// The demo's and the backtest's price paths: one time grid shared by every market, a price per
// market at each point (8 decimals). Seeded GBM by default, or CSV files (timestamp,price), one per
// market; a market without a CSV keeps its start price (a flat path). Pure.
import type { MarketName } from "../common/params.ts";
import { fromPrice8, gbmPath, type PricePoint } from "../feeds/paths.ts";

export const DEMO_MARKETS: readonly MarketName[] = ["BTC", "ETH"];

export interface MultiPath {
  /** Seconds after the start of each point; times[0] = 0. */
  times: number[];
  prices: Record<MarketName, bigint[]>;
  /** Where each market's prices came from, for the report. */
  sources: Record<MarketName, string>;
}

export interface GbmSpec {
  seed: number;
  days: number;
  stepSeconds: number;
  drift: number;
  volatility: number;
  starts: Record<MarketName, bigint>;
}

/** A seeded GBM per market (seed for BTC, seed + 1 for ETH) on the grid 0, step, 2 step, ... */
export function gbmMultiPath(o: GbmSpec): MultiPath {
  if (!(o.days > 0)) throw new Error(`--days must be more than zero, got ${o.days}`);
  const steps = Math.floor((o.days * 86_400) / o.stepSeconds);
  if (steps < 1) throw new Error(`--days ${o.days} is shorter than one step of ${o.stepSeconds} s`);
  const prices = {} as Record<MarketName, bigint[]>;
  const sources = {} as Record<MarketName, string>;
  let times: number[] = [];
  DEMO_MARKETS.forEach((m, i) => {
    const path = gbmPath({
      seed: o.seed + i,
      start: fromPrice8(o.starts[m]),
      steps,
      stepSeconds: o.stepSeconds,
      drift: o.drift,
      volatility: o.volatility,
    });
    path[0] = { t: 0, price: o.starts[m] };
    times = path.map((p) => p.t);
    prices[m] = path.map((p) => p.price);
    sources[m] = `GBM seed ${o.seed + i}, drift ${o.drift}, volatility ${o.volatility}`;
  });
  return { times, prices, sources };
}

/**
 * CSV paths (parsePriceCsv output, relative times) merged on the union of their timestamps, cut to
 * `days` if given; at a time where a market has no row it keeps its previous price. Markets without
 * a CSV stay at their start price.
 */
export function csvMultiPath(
  csv: Partial<Record<MarketName, { points: PricePoint[]; source: string }>>,
  starts: Record<MarketName, bigint>,
  days?: number,
): MultiPath {
  const limit = days === undefined ? Infinity : days * 86_400;
  const given = Object.keys(csv) as MarketName[];
  if (given.length === 0) throw new Error("no CSV given");
  const all = new Set<number>();
  for (const m of given) for (const p of csv[m]!.points) if (p.t <= limit) all.add(p.t);
  const times = [...all].sort((a, b) => a - b);
  if (times.length < 2) throw new Error(`the CSV has fewer than two rows within ${days} days`);
  const prices = {} as Record<MarketName, bigint[]>;
  const sources = {} as Record<MarketName, string>;
  for (const m of DEMO_MARKETS) {
    const rows = csv[m];
    if (rows === undefined) {
      prices[m] = times.map(() => starts[m]);
      sources[m] = "flat (no CSV given)";
      continue;
    }
    const byT = new Map(rows.points.map((p) => [p.t, p.price]));
    let last = rows.points[0]!.price;
    prices[m] = times.map((t) => {
      last = byT.get(t) ?? last;
      return last;
    });
    sources[m] = rows.source;
  }
  return { times, prices, sources };
}

/** "BTC=file.csv", "eth=x.csv" or plain "file.csv" (BTC): the market and the file. */
export function parseCsvArg(text: string): { market: MarketName; file: string } {
  const m = /^([A-Za-z]+)=(.+)$/.exec(text);
  if (m === null) return { market: "BTC", file: text };
  const up = m[1]!.toUpperCase();
  if (up !== "BTC" && up !== "ETH")
    throw new Error(`--csv ${text}: unknown market "${m[1]}", use BTC or ETH`);
  return { market: up, file: m[2]! };
}

/** GBM settings for the markets a history does not cover. */
export interface GbmOthers {
  seed: number;
  drift: number;
  volatility: number;
  starts: Record<MarketName, bigint>;
}

/**
 * A real history (rows with their own unix times) for its market; every other market a seeded
 * daily GBM (seed + the market's index, as gbmMultiPath) read at the history's times, or its CSV
 * when one is given. The path starts at the history's first row; `start` is that row's time.
 */
export function historyMultiPath(
  history: { market: MarketName; rows: PricePoint[]; source: string },
  gbm: GbmOthers,
  csv: Partial<Record<MarketName, { points: PricePoint[]; source: string }>> = {},
): { path: MultiPath; start: bigint } {
  const first = history.rows[0]!.t;
  const points = history.rows.map((p) => ({ t: p.t - first, price: p.price }));
  if (csv[history.market] !== undefined)
    throw new Error(
      `--history and --csv both give ${history.market}'s prices; use one of them for ${history.market}`,
    );
  if (Object.keys(csv).length > 0) {
    const path = csvMultiPath({ ...csv, [history.market]: { points, source: history.source } }, gbm.starts);
    return { path, start: BigInt(first) };
  }
  const times = points.map((p) => p.t);
  const prices = {} as Record<MarketName, bigint[]>;
  const sources = {} as Record<MarketName, string>;
  const DAY = 86_400;
  const days = Math.ceil(times[times.length - 1]! / DAY);
  DEMO_MARKETS.forEach((m, i) => {
    if (m === history.market) {
      prices[m] = points.map((p) => p.price);
      sources[m] = history.source;
      return;
    }
    const daily = gbmPath({
      seed: gbm.seed + i,
      start: fromPrice8(gbm.starts[m]),
      steps: days,
      stepSeconds: DAY,
      drift: gbm.drift,
      volatility: gbm.volatility,
    });
    daily[0] = { t: 0, price: gbm.starts[m] };
    prices[m] = times.map((t) => daily[Math.floor(t / DAY)]!.price);
    sources[m] = `GBM seed ${gbm.seed + i}, drift ${gbm.drift}, volatility ${gbm.volatility}, daily`;
  });
  return { path: { times, prices, sources }, start: BigInt(first) };
}
