// Price paths the feeder, the engine, the demo and the backtest share: a seeded geometric Brownian
// motion, a CSV of timestamp,price, and scripted jumps. Pure functions; prices are 8-decimal bigints
// (Chainlink USD feeds) wherever they leave this module as on-chain values.

export const PRICE_DECIMALS = 8;
export const PRICE_ONE = 10n ** 8n;
export const YEAR_SECONDS = 365 * 24 * 3600;
/**
 * Where a path's first point falls unless told otherwise (the demo's and the backtest's default
 * start): 2026-01-01 00:00 UTC, a midnight, so the daily 00:00 UTC check lines up with the path's days
 * and the same options give the same result whatever the hour they run at.
 */
export const PATH_START = 1_767_225_600n;

/** One point of a path: seconds since the path's start and the price (8 decimals). */
export interface PricePoint {
  t: number;
  price: bigint;
}

/** A deterministic 32-bit generator (mulberry32): the same seed gives the same path everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws from a uniform generator (Box-Muller, both outputs used). */
export function normals(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const z = spare;
      spare = undefined;
      return z;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export interface GbmOptions {
  seed: number;
  /** Start price as a plain number of USD (e.g. 100000). */
  start: number;
  steps: number;
  /** Seconds per step (3600 = hourly). */
  stepSeconds: number;
  /** Annual drift mu (0.1 = 10% a year) and annual volatility sigma (0.6 = 60%). */
  drift: number;
  volatility: number;
}

/**
 * GBM prices as floats, `steps + 1` of them starting with `start`:
 * S_{k+1} = S_k x exp((mu - sigma^2 / 2) dt + sigma sqrt(dt) Z), dt in years.
 */
export function gbmPrices(o: GbmOptions): Float64Array {
  validateGbm(o);
  const z = normals(mulberry32(o.seed));
  const dt = o.stepSeconds / YEAR_SECONDS;
  const driftTerm = (o.drift - (o.volatility * o.volatility) / 2) * dt;
  const shock = o.volatility * Math.sqrt(dt);
  const out = new Float64Array(o.steps + 1);
  let s = o.start;
  out[0] = s;
  for (let k = 1; k <= o.steps; k++) {
    s *= Math.exp(driftTerm + shock * z());
    out[k] = s;
  }
  return out;
}

/** The GBM path as on-chain points: 8-decimal prices, never below one unit. */
export function gbmPath(o: GbmOptions): PricePoint[] {
  const prices = gbmPrices(o);
  const out: PricePoint[] = new Array(prices.length);
  for (let k = 0; k < prices.length; k++) out[k] = { t: k * o.stepSeconds, price: toPrice8(prices[k]!) };
  return out;
}

/** A USD float as an 8-decimal price, rounded to the nearest unit and at least 1. */
export function toPrice8(usd: number): bigint {
  if (!Number.isFinite(usd) || usd <= 0) throw new Error(`price must be a positive number, got ${usd}`);
  const units = BigInt(Math.round(usd * 1e8));
  return units > 0n ? units : 1n;
}

/** An 8-decimal price as a USD float (for charts and ideal models). */
export function fromPrice8(price: bigint): number {
  return Number(price) / 1e8;
}

export interface Jump {
  /** Step at which the jump happens (the price from this step on is moved). */
  step: number;
  /** Relative move, e.g. -0.12 for a 12% drop. */
  move: number;
}

/** A flat path of `steps` steps at `start` with scripted relative jumps applied cumulatively. */
export function jumpPath(start: number, steps: number, stepSeconds: number, jumps: Jump[]): PricePoint[] {
  if (!(start > 0)) throw new Error(`start price must be positive, got ${start}`);
  const out: PricePoint[] = [];
  let s = start;
  for (let k = 0; k <= steps; k++) {
    for (const j of jumps) if (j.step === k) s *= 1 + j.move;
    out.push({ t: k * stepSeconds, price: toPrice8(s) });
  }
  return out;
}

/**
 * Parses `timestamp,price` lines (a header line and blank lines allowed; `#` starts a comment).
 * Timestamps are unix seconds, strictly increasing; prices are positive decimals in USD. The returned
 * points are relative to the first timestamp. Errors name the file and line.
 */
export function parsePriceCsv(text: string, source = "csv"): PricePoint[] {
  const rows = parsePriceCsvRows(text, source);
  const first = rows[0]!.t;
  return rows.map((p) => ({ t: p.t - first, price: p.price }));
}

/** parsePriceCsv with the file's own timestamps (unix seconds), not relative to the first row. */
export function parsePriceCsvRows(text: string, source = "csv"): PricePoint[] {
  const out: PricePoint[] = [];
  let first: number | undefined;
  let last = -Infinity;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const cells = line.split(",").map((c) => c.trim());
    const where = `${source} line ${i + 1}`;
    if (cells.length !== 2) throw new Error(`${where}: expected "timestamp,price", got "${line}"`);
    const [ts, px] = cells as [string, string];
    if (out.length === 0 && first === undefined && !/^\d/.test(ts)) continue; // header
    if (!/^\d+$/.test(ts)) throw new Error(`${where}: timestamp "${ts}" is not a whole number of seconds`);
    if (!/^\d+(\.\d+)?$/.test(px))
      throw new Error(`${where}: price "${px}" is not a positive decimal number`);
    const t = Number(ts);
    if (t <= last) throw new Error(`${where}: timestamp ${t} is not after the previous one (${last})`);
    const price = decimalToPrice8(px);
    if (price <= 0n) throw new Error(`${where}: price "${px}" must be greater than zero`);
    first ??= t;
    last = t;
    out.push({ t, price });
  }
  if (out.length < 2) throw new Error(`${source}: needs at least two price rows, found ${out.length}`);
  return out;
}

/** "1234.5678" -> 123456780000n, exactly (extra decimals beyond 8 are rounded half up). */
export function decimalToPrice8(text: string): bigint {
  const [whole, frac = ""] = text.split(".") as [string, string?];
  const padded = (frac + "000000000").slice(0, 9);
  let units = BigInt(whole) * PRICE_ONE + BigInt(padded.slice(0, 8));
  if (Number(padded[8]) >= 5) units += 1n;
  return units;
}

function validateGbm(o: GbmOptions): void {
  if (!Number.isInteger(o.steps) || o.steps < 1)
    throw new Error(`steps must be a positive integer, got ${o.steps}`);
  if (!(o.stepSeconds > 0)) throw new Error(`stepSeconds must be positive, got ${o.stepSeconds}`);
  if (!(o.start > 0)) throw new Error(`start price must be positive, got ${o.start}`);
  if (!(o.volatility >= 0)) throw new Error(`volatility must be zero or more, got ${o.volatility}`);
  if (!Number.isFinite(o.drift)) throw new Error(`drift must be a number, got ${o.drift}`);
}
