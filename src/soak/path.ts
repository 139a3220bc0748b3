// The soak's price path: a seeded, very volatile GBM per market with scripted jumps, written as the
// feeder's CSV files (one per market, `seconds,price` rows from 0), so a restarted feeder can go on
// from any step.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatUnits } from "ethers";
import { gbmPath, toPrice8 } from "../feeds/paths.ts";

export interface Jump {
  market: string;
  /** Step at which it happens (every later price moves with it). */
  step: number;
  /** Relative move: -0.12 for -12%. */
  move: number;
}

export interface SoakPathOptions {
  /** Current price of each market, 8 decimals. */
  starts: Record<string, bigint>;
  seed: number;
  volatility: number;
  stepSeconds: number;
  steps: number;
  jumps: readonly Jump[];
}

/** Prices per market for steps 0..steps (8 decimals). */
export function soakPrices(o: SoakPathOptions): Record<string, bigint[]> {
  const out: Record<string, bigint[]> = {};
  Object.entries(o.starts).forEach(([market, start], i) => {
    const path = gbmPath({
      seed: o.seed + i,
      start: Number(start) / 1e8,
      steps: o.steps,
      stepSeconds: o.stepSeconds,
      drift: 0,
      volatility: o.volatility,
    });
    out[market] = path.map((p, k) => {
      let factor = 1;
      for (const j of o.jumps) if (j.market === market && k >= j.step) factor *= 1 + j.move;
      return factor === 1 ? p.price : toPrice8((Number(p.price) / 1e8) * factor);
    });
  });
  return out;
}

/** Writes steps from..end of each market as `<dir>/<market>-<from>.csv`; returns market -> file. */
export function writeCsvFrom(
  prices: Record<string, bigint[]>,
  from: number,
  stepSeconds: number,
  dir: string,
): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [market, series] of Object.entries(prices)) {
    const rows = series.slice(from).map((p, k) => `${k * stepSeconds},${formatUnits(p, 8)}`);
    const file = join(dir, `${market}-${from}.csv`);
    writeFileSync(file, `timestamp,price\n${rows.join("\n")}\n`);
    files[market] = file;
  }
  return files;
}
