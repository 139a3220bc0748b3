// Real price histories shipped with the project (data/, credited in data/README.md): their rows with
// the dates they carry, and the window between two dates that `--history`, `--from` and `--to`
// pick. Errors are plain sentences naming the option and the dates the history has.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { MarketName } from "../common/params.ts";
import { parsePriceCsvRows, type PricePoint } from "./paths.ts";

export interface HistorySpec {
  market: MarketName;
  /** Path inside the project. */
  file: string;
  /** Where the numbers came from, for reports and charts (the licence asks for it). */
  credit: string;
}

export const HISTORIES = {
  btc: {
    market: "BTC",
    file: "data/btc-usd-daily.csv",
    credit: "BTC-USD daily closes, Yahoo Finance via parsabe/Open-data (BTC-OpenData-Challenge), CC BY 4.0",
  },
} as const satisfies Record<string, HistorySpec>;

export type HistoryName = keyof typeof HISTORIES;

export const HISTORY_NAMES = Object.keys(HISTORIES) as HistoryName[];

/** The project's root (data/ lives there). */
const ROOT = resolve(import.meta.dirname, "../..");

export interface History {
  name: HistoryName;
  market: MarketName;
  credit: string;
  /** Rows with their own unix timestamps (00:00 UTC of each day), increasing. */
  rows: PricePoint[];
}

/** "btc" -> the name, or a plain sentence listing the histories there are. */
export function historyName(text: string): HistoryName {
  const name = text.trim().toLowerCase();
  if (!(HISTORY_NAMES as string[]).includes(name))
    throw new Error(`there is no price history "${text}"; the histories are: ${HISTORY_NAMES.join(", ")}`);
  return name as HistoryName;
}

/** Reads a shipped history (all of it). */
export function loadHistory(name: HistoryName): History {
  const spec = HISTORIES[name];
  const file = resolve(ROOT, spec.file);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new Error(`cannot read the ${name} history at ${file}`);
  }
  return { name, market: spec.market, credit: spec.credit, rows: parsePriceCsvRows(text, spec.file) };
}

/** 1584000000 -> "2020-03-12". */
export function isoDate(unixSeconds: number | bigint): string {
  return new Date(Number(unixSeconds) * 1000).toISOString().slice(0, 10);
}

/**
 * The rows from `from` to `to` (unix seconds, both included; either may be left out for the
 * history's own first or last day). Refuses, in a sentence, dates outside the history, a `from`
 * not before `to`, and a window with fewer than two prices.
 */
export function historyWindow(h: History, from?: bigint, to?: bigint): PricePoint[] {
  const first = h.rows[0]!.t;
  const last = h.rows[h.rows.length - 1]!.t;
  const span = `the ${h.name} history runs from ${isoDate(first)} to ${isoDate(last)}`;
  if (from !== undefined && (from < BigInt(first) || from > BigInt(last)))
    throw new Error(`--from ${isoDate(from)} is outside the history: ${span}`);
  if (to !== undefined && (to < BigInt(first) || to > BigInt(last)))
    throw new Error(`--to ${isoDate(to)} is outside the history: ${span}`);
  if (from !== undefined && to !== undefined && from >= to)
    throw new Error(`--from ${isoDate(from)} must be before --to ${isoDate(to)}`);
  const lo = from === undefined ? first : Number(from);
  const hi = to === undefined ? last : Number(to);
  const rows = h.rows.filter((p) => p.t >= lo && p.t <= hi);
  if (rows.length < 2)
    throw new Error(
      `from ${isoDate(lo)} to ${isoDate(hi)} the ${h.name} history has ${rows.length} price${rows.length === 1 ? "" : "s"}; ` +
        "a run needs at least two",
    );
  return rows;
}
