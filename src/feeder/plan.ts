// The feeder's plan: which price each market gets at which time offset. Built from the shared price
// paths (src/feeds/paths.ts); pure. A market is any name the exchange lists (BTC, ETH, and those
// `lt admin market` adds, such as SOL).
import { gbmPath, jumpPath, fromPrice8, type PricePoint } from "../feeds/paths.ts";

/** A market's name as the exchange keys it (bytes32): BTC, ETH, SOL. */
export type MarketName = string;

export interface FeedStep {
  /** Seconds after the start of the plan. */
  t: number;
  prices: Partial<Record<MarketName, bigint>>;
}

/**
 * A market name, upper case: 1 to 31 letters or digits (what fits the exchange's bytes32 key). With
 * `known` (the markets the feeder found), one of those.
 */
export function parseMarket(text: string, known?: readonly MarketName[]): MarketName {
  const up = text.trim().toUpperCase();
  if (!/^[A-Z0-9]{1,31}$/.test(up)) {
    throw new Error(`"${text}" is not a market name: use letters and digits, such as BTC or SOL`);
  }
  if (known !== undefined && !known.includes(up)) {
    throw new Error(`the exchange lists no market ${up} (it lists ${known.join(", ")})`);
  }
  return up;
}

export interface JumpSpec {
  market: MarketName;
  /** Relative move: -0.12 for -12%. */
  move: number;
  /** Step (1-based) at which it happens; undefined = after the market's previous jump. */
  step?: number;
}

/** "BTC:-12%", "ETH:+5%@3": a relative move of one market in percent, optionally at a step. */
export function parseJump(text: string): JumpSpec {
  const m = /^([A-Za-z0-9]+):([+-]?\d+(?:\.\d+)?)%(?:@(\d+))?$/.exec(text.trim());
  if (m === null) throw new Error(`jump "${text}" is not MARKET:MOVE%[@STEP], e.g. BTC:-12% or ETH:+5%@3`);
  const market = parseMarket(m[1]!);
  const move = Number(m[2]) / 100;
  if (!(move > -1)) throw new Error(`jump "${text}" would take the price to zero or below`);
  const step = m[3] === undefined ? undefined : Number(m[3]);
  if (step !== undefined && step < 1) throw new Error(`jump "${text}": the step must be 1 or more`);
  return { market, move, step };
}

/** Merges per-market paths (same step grid, point 0 = the start, not pushed) into steps 1..N. */
function mergePaths(paths: Partial<Record<MarketName, PricePoint[]>>): FeedStep[] {
  const byT = new Map<number, FeedStep>();
  for (const [market, path] of Object.entries(paths) as [MarketName, PricePoint[]][]) {
    for (const p of path.slice(1)) {
      const step = byT.get(p.t) ?? { t: p.t, prices: {} };
      step.prices[market] = p.price;
      byT.set(p.t, step);
    }
  }
  return [...byT.values()].sort((a, b) => a.t - b.t);
}

export interface GbmPlanOptions {
  markets: readonly MarketName[];
  starts: Partial<Record<MarketName, bigint>>;
  seed: number;
  drift: number;
  volatility: number;
  stepSeconds: number;
  steps: number;
}

/** A seeded GBM path per market (seed, seed + 1, ... in market order) from the current prices. */
export function gbmPlan(o: GbmPlanOptions): FeedStep[] {
  const paths: Partial<Record<MarketName, PricePoint[]>> = {};
  o.markets.forEach((market, i) => {
    const start = o.starts[market];
    if (start === undefined) throw new Error(`no start price for ${market}`);
    paths[market] = gbmPath({
      seed: o.seed + i,
      start: fromPrice8(start),
      steps: o.steps,
      stepSeconds: o.stepSeconds,
      drift: o.drift,
      volatility: o.volatility,
    });
  });
  return mergePaths(paths);
}

/**
 * The GBM path of a market that joins a running plan after `done` of its steps (a market listed while
 * the feeder runs): seeded `o.seed + index` (its place among the markets), from `start`, on the plan's
 * remaining steps (the same times as the others').
 */
export function gbmJoin(
  o: Omit<GbmPlanOptions, "markets" | "starts">,
  market: MarketName,
  index: number,
  start: bigint,
  done: number,
): FeedStep[] {
  if (done >= o.steps) return [];
  const path = gbmPath({
    seed: o.seed + index,
    start: fromPrice8(start),
    steps: o.steps - done,
    stepSeconds: o.stepSeconds,
    drift: o.drift,
    volatility: o.volatility,
  });
  const shift = done * o.stepSeconds;
  return mergePaths({ [market]: path.map((p) => ({ t: p.t + shift, price: p.price })) });
}

/** Scripted jumps from the current prices, one step apart; jumps without a step follow each other. */
export function jumpPlan(
  jumps: readonly JumpSpec[],
  starts: Partial<Record<MarketName, bigint>>,
  stepSeconds: number,
): FeedStep[] {
  const next: Partial<Record<MarketName, number>> = {};
  const placed = jumps.map((j) => {
    const step = j.step ?? next[j.market] ?? 1;
    next[j.market] = step + 1;
    return { ...j, step };
  });
  const steps = Math.max(...placed.map((j) => j.step));
  const paths: Partial<Record<MarketName, PricePoint[]>> = {};
  for (const market of new Set(placed.map((j) => j.market))) {
    const start = starts[market];
    if (start === undefined) throw new Error(`no start price for ${market}`);
    const mine = placed.filter((j) => j.market === market).map((j) => ({ step: j.step, move: j.move }));
    paths[market] = jumpPath(fromPrice8(start), steps, stepSeconds, mine).filter(
      (p, k) => k === 0 || mine.some((j) => j.step === k),
    );
  }
  return mergePaths(paths);
}

/** A CSV path (parsePriceCsv) for one market: every row is pushed, the first at offset 0. */
export function csvPlan(points: readonly PricePoint[], market: MarketName): FeedStep[] {
  return points.map((p) => ({ t: p.t, prices: { [market]: p.price } }));
}
