// `npm run backtest -- [options]`: a price path (seeded GBM or a CSV in the feeder's format) through
// the exact engine for a grid of settings; a table on stdout, out/backtest/results.json and a chart
// of final value against band width.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { Presets, SingleBar } from "cli-progress";
import { MARKETS, USDT } from "../common/params.ts";
import { HISTORY_NAMES, historyName, historyWindow, isoDate, loadHistory } from "../feeds/history.ts";
import { fromPrice8, gbmPath, parsePriceCsv } from "../feeds/paths.ts";
import { lineChartSpec, writeChart, type SeriesPoint } from "../report/chart.ts";
import { dateTime, duration, number, positive, positiveInt, wholeNumber } from "../common/options.ts";
import {
  DEFAULT_GRID,
  DEPOSIT,
  formatBacktestTable,
  runBacktest,
  settingsGrid,
  type BacktestPath,
  type BacktestResult,
  type FeeLevel,
  type Mode,
} from "./backtest.ts";

function list<T>(name: string, parse: (s: string) => T) {
  return (value: string): T[] =>
    value.split(",").map((s) => {
      try {
        return parse(s.trim());
      } catch (e) {
        throw new InvalidArgumentError(`${name}: ${(e as Error).message}`);
      }
    });
}

function oneOf<T extends string>(allowed: readonly T[]) {
  return (s: string): T => {
    if (!(allowed as readonly string[]).includes(s))
      throw new Error(`"${s}" is not one of ${allowed.join(", ")}`);
    return s as T;
  };
}

function fraction(s: string): number {
  const n = Number(s);
  if (s === "" || !(n > 0 && n < 1)) throw new Error(`"${s}" is not a fraction between 0 and 1`);
  return n;
}

function leverage(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 6) throw new Error(`"${s}" is not a whole leverage from 1 to 6`);
  return n;
}

/** The chart: final value against band width, one line per leverage and side (band modes, one fee level). */
export function backtestChartSpec(results: readonly BacktestResult[], fees: FeeLevel) {
  // log scale: the values span orders of magnitude; a depleted run (0) has no point
  const points: SeriesPoint[] = results
    .filter((r) => r.mode !== "daily" && r.fees === fees && r.finalValue > 0)
    .map((r) => ({
      x: r.bandWidth * 100,
      y: r.finalValue,
      series: `${r.leverage}x ${r.isLong ? "long" : "short"} (${r.mode})`,
    }));
  return lineChartSpec(points, [], {
    title: `Final value of 1 USDT against band width (fees ${fees})`,
    xTitle: "band half-width, % of target leverage",
    yTitle: "final value (log scale)",
    logScale: true,
    width: 700,
    height: 380,
  });
}

export async function backtestMain(argv: string[]): Promise<number> {
  const program = new Command("backtest")
    .description("Runs the exact engine over a price path for many settings at once (no chain)")
    .option("--days <n>", "days of GBM prices (or the first days of the CSV)", positive("--days"), 365)
    .option("--step <duration>", "GBM step (1h, 30m, 1d)", duration("--step"), 3600)
    .option("--seed <n>", "GBM seed", wholeNumber("--seed"), 1)
    .option("--drift <mu>", "GBM annual drift", number("--drift"), 0)
    .option("--vol <sigma>", "GBM annual volatility", positive("--vol"), 0.6)
    .option("--csv <file>", "a timestamp,price CSV (the feeder's format) instead of GBM")
    .option(
      "--history <name>",
      `real prices shipped in data/ instead of GBM (${HISTORY_NAMES.join(", ")}: BTC-USD daily closes 2014-09-17 to 2021-08-24)`,
    )
    .option(
      "--from <date>",
      "with --history: the first day (2016-01-01; default the first)",
      dateTime("--from"),
    )
    .option("--to <date>", "with --history: the last day (2017-12-31; default the last)", dateTime("--to"))
    .option("--leverage <list>", "leverages", list("--leverage", leverage), DEFAULT_GRID.leverages)
    .option(
      "--bands <list>",
      "band half-widths as fractions of the target",
      list("--bands", fraction),
      DEFAULT_GRID.bandWidths,
    )
    .option(
      "--modes <list>",
      "band+daily, band, daily",
      list("--modes", oneOf<Mode>(["band+daily", "band", "daily"])),
      DEFAULT_GRID.modes,
    )
    .option(
      "--fees <list>",
      "none, default, double",
      list("--fees", oneOf<FeeLevel>(["none", "default", "double"])),
      DEFAULT_GRID.fees,
    )
    .option(
      "--band-model",
      "also run the band ideal (decimal.js, the chain's conventions) for every setting and print its gap to the engine",
    )
    .option(
      "--deposit <usdt>",
      "the one deposit, in whole USDT (the engine's roundings are a unit of 1e-6 USDT: a larger deposit makes them smaller against the equity)",
      positiveInt("--deposit"),
      Number(DEPOSIT / USDT),
    )
    .option("--out <dir>", "output folder", "out/backtest")
    .option("--no-progress", "no progress bar")
    .exitOverride();
  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 1;
  }
  const o = program.opts<{
    days: number;
    step: number;
    seed: number;
    drift: number;
    vol: number;
    csv?: string;
    history?: string;
    from?: bigint;
    to?: bigint;
    leverage: number[];
    bands: number[];
    modes: Mode[];
    fees: FeeLevel[];
    out: string;
    progress: boolean;
    bandModel?: boolean;
    deposit: number;
  }>();
  let path: BacktestPath;
  let source: string;
  /** The path's first date (unix seconds) when it has real dates. */
  let startUnix: number | undefined;
  const given = (x: string) => program.getOptionValueSource(x) === "cli";
  if (o.history === undefined && (given("from") || given("to")))
    throw new Error(`--from and --to pick dates of a real history: add --history ${HISTORY_NAMES[0]}`);
  if (o.history !== undefined) {
    const clash = ["csv", "days", "step", "seed", "drift", "vol"].filter(given).map((x) => `--${x}`);
    if (clash.length > 0)
      throw new Error(
        `${clash.join(", ")} cannot be used with --history, whose prices and dates set the path: choose the dates with --from and --to`,
      );
    const h = loadHistory(historyName(o.history));
    const rows = historyWindow(h, o.from, o.to);
    const first = rows[0]!.t;
    path = { times: rows.map((p) => p.t - first), prices: rows.map((p) => p.price) };
    startUnix = first;
    source = `${h.name} history ${isoDate(first)} to ${isoDate(rows[rows.length - 1]!.t)} (${h.credit})`;
  } else if (o.csv !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.csv, "utf8");
    } catch {
      throw new Error(`cannot read the CSV file ${o.csv}`);
    }
    const limit = program.getOptionValueSource("days") === "default" ? Infinity : o.days * 86_400;
    const points = parsePriceCsv(text, o.csv).filter((p) => p.t <= limit);
    if (points.length < 2) throw new Error(`${o.csv}: fewer than two rows within ${o.days} days`);
    path = { times: points.map((p) => p.t), prices: points.map((p) => p.price) };
    source = o.csv;
  } else {
    const steps = Math.floor((o.days * 86_400) / o.step);
    if (steps < 1) throw new Error(`--days ${o.days} is shorter than one step`);
    const points = gbmPath({
      seed: o.seed,
      start: fromPrice8(MARKETS.BTC.initialPrice),
      steps,
      stepSeconds: o.step,
      drift: o.drift,
      volatility: o.vol,
    });
    path = { times: points.map((p) => p.t), prices: points.map((p) => p.price) };
    source = `GBM seed ${o.seed}, vol ${o.vol}, drift ${o.drift}, step ${o.step} s`;
  }
  const settings = settingsGrid({ leverages: o.leverage, bandWidths: o.bands, modes: o.modes, fees: o.fees });
  const bar = new SingleBar(
    { stream: process.stderr, format: "backtest [{bar}] {value}/{total} settings | {eta_formatted} left" },
    Presets.shades_classic,
  );
  if (o.progress) bar.start(settings.length, 0);
  const started = Date.now();
  let results: BacktestResult[];
  try {
    results = runBacktest(path, settings, o.progress ? (i) => bar.update(i) : undefined, {
      bandModel: o.bandModel === true,
      deposit: BigInt(o.deposit) * USDT,
    });
  } finally {
    if (o.progress) bar.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  mkdirSync(o.out, { recursive: true });
  const file = join(o.out, "results.json");
  const start = fromPrice8(path.prices[0]!);
  const end = fromPrice8(path.prices[path.prices.length - 1]!);
  writeFileSync(
    file,
    JSON.stringify(
      {
        source,
        points: path.prices.length,
        depositUsdt: o.deposit,
        days: path.times[path.times.length - 1]! / 86_400,
        start,
        end,
        seconds,
        results,
      },
      null,
      2,
    ) + "\n",
  );
  const chartFees = o.fees.includes("default") ? "default" : o.fees[0]!;
  const chart = await writeChart(o.out, "band-width", backtestChartSpec(results, chartFees));
  console.log(
    `${source}: ${start.toFixed(2)} -> ${end.toFixed(2)} (${((end / start - 1) * 100).toFixed(2)}%)`,
  );
  console.log(formatBacktestTable(results, startUnix));
  console.log(`${results.length} settings x ${path.prices.length - 1} steps in ${seconds.toFixed(1)} s`);
  console.log(`wrote ${file}, ${chart.svg}, ${chart.png}`);
  return 0;
}
