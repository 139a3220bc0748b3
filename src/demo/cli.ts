// `npm run demo -- [options]`: parses the options, runs the demo on the chosen network with a
// progress bar on stderr, prints the table, the NAV checks and the story, writes the files.
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { SingleBar, Presets } from "cli-progress";
import { network } from "hardhat";
import { MARKETS, type MarketName } from "../common/params.ts";
import { dateTime, duration, number, positive, wholeNumber } from "../common/options.ts";
import { HISTORY_NAMES, historyName, historyWindow, isoDate, loadHistory } from "../feeds/history.ts";
import { PATH_START, parsePriceCsv, type PricePoint } from "../feeds/paths.ts";
import {
  deadPoolLines,
  formatTable,
  navCheckLines,
  nettingLines,
  skippedLines,
  utcTime,
  writeDemoOutputs,
} from "./output.ts";
import { csvMultiPath, gbmMultiPath, historyMultiPath, parseCsvArg, type MultiPath } from "./path.ts";
import { alignStart, runDemo, SETUP_SECONDS } from "./run.ts";
import { DEFAULT_MIN_PROFIT, usdtOption } from "../spot/arbShared.ts";

/** The markets' start prices (the feeds' initial answers). */
export function startPrices(): Record<MarketName, bigint> {
  return { BTC: MARKETS.BTC.initialPrice, ETH: MARKETS.ETH.initialPrice };
}

type CsvFiles = Partial<Record<MarketName, { points: PricePoint[]; source: string }>>;

/** Reads every --csv (BTC=file, ETH=file or file for BTC) into one multi-market path. */
export function readCsvPath(args: string[], days: number | undefined): MultiPath {
  // the CSV's first prices are pushed before the deposits (see runDemo)
  return csvMultiPath(readCsvFiles(args), startPrices(), days);
}

function readCsvFiles(args: string[]): CsvFiles {
  const csv: CsvFiles = {};
  for (const a of args) {
    const { market, file } = parseCsvArg(a);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new Error(`cannot read the CSV file ${file}`);
    }
    csv[market] = { points: parsePriceCsv(text, file), source: file };
  }
  return csv;
}

export interface HistoryChoice {
  history: string;
  from?: bigint;
  to?: bigint;
  csv: string[];
  seed: number;
  drift: number;
  vol: number;
}

/**
 * `--history btc [--from date] [--to date]`: the shipped history's window for its market (BTC3L and
 * BTC3S), the other market on its seeded GBM at the same dates (or its --csv); the path starts at the
 * window's first date, so the report's dates are the history's.
 */
export function readHistoryPath(o: HistoryChoice): { path: MultiPath; start: bigint; description: string } {
  const h = loadHistory(historyName(o.history));
  const rows = historyWindow(h, o.from, o.to);
  if (o.csv.some((a) => parseCsvArg(a).market === h.market))
    throw new Error(`--history and --csv both give ${h.market}'s prices; use one of them for ${h.market}`);
  const first = rows[0]!.t;
  const last = rows[rows.length - 1]!.t;
  const source = `${h.name} history ${isoDate(first)} to ${isoDate(last)} (${h.credit})`;
  const { path, start } = historyMultiPath(
    { market: h.market, rows, source },
    { seed: o.seed, drift: o.drift, volatility: o.vol, starts: startPrices() },
    readCsvFiles(o.csv),
  );
  return { path, start, description: source };
}

/** What --history rules out, and --from/--to without it, as a sentence (undefined when all is well). */
export function historyConflict(
  history: string | undefined,
  given: (option: string) => boolean,
): string | undefined {
  if (history === undefined) {
    const dated = ["from", "to"].filter(given).map((x) => `--${x}`);
    return dated.length > 0
      ? `${dated.join(" and ")} pick${dated.length === 1 ? "s" : ""} dates of a real history: add --history ${HISTORY_NAMES[0]}`
      : undefined;
  }
  const clash = ["days", "step", "start"].filter(given).map((x) => `--${x}`);
  return clash.length > 0
    ? `${clash.join(", ")} do${clash.length === 1 ? "es" : ""} not apply to --history, whose dates set the path: choose them with --from and --to`
    : undefined;
}

/**
 * The demo's chain: a fresh in-process one whose clock starts a day before `start` (so the run owns
 * every timestamp and the same options give the same report whatever the hour), or a network of
 * hardhat.config.ts, whose clock may already be past `start`.
 */
export async function connectDemoChain(networkName: string | undefined, start: bigint) {
  if (networkName !== undefined) return network.create({ network: networkName });
  return network.create({
    override: {
      initialDate: new Date(Number(start - 86_400n) * 1000),
      // a fixed gas price: without one every transaction sent (the arbitrage's) first asks the
      // node for eth_feeHistory; the base fee, 1 gwei at most on the demo's part-full blocks, is far below
      gasPrice: DEMO_GAS_PRICE,
    },
  });
}

/** The in-process chain's gas price for transactions sent without one (ETH only: no USDT moves). */
export const DEMO_GAS_PRICE = 10n ** 10n;

export async function demoMain(argv: string[]): Promise<number> {
  const started = Date.now();
  const program = new Command("demo")
    .description(
      "Deploys the system, mints BTC3L, BTC3S, ETH3L and ETH3S from a few wallets, replays a year of prices with the keeper, and checks every NAV against the exact engine",
    )
    .option("--network <name>", "a network from hardhat.config.ts (default: a fresh in-process chain)")
    .option("--days <n>", "days of prices to replay", positive("--days"), 365)
    .option(
      "--step <duration>",
      "time between price points of the GBM path (1h, 30m, 1d)",
      duration("--step"),
      3600,
    )
    .addOption(
      // a bigint default needs its own words: commander's help cannot print one (it crashed --help)
      new Option(
        "--start <date-time>",
        "UTC instant of the path's first point: 2026-01-01, 2026-01-01T06:00 or unix seconds (on a node whose clock is past it: the next day at that time)",
      )
        .argParser(dateTime("--start"))
        .default(PATH_START, "2026-01-01 00:00 UTC"),
    )
    .option("--seed <n>", "GBM seed (BTC uses it, ETH the next one)", wholeNumber("--seed"), 1)
    .option("--drift <mu>", "GBM annual drift (0.1 = 10%)", number("--drift"), 0)
    .option("--vol <sigma>", "GBM annual volatility (0.6 = 60%)", positive("--vol"), 0.6)
    .option(
      "--csv <file>",
      "a timestamp,price CSV instead of GBM: FILE (BTC) or BTC=FILE / ETH=FILE; repeat for both",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      "--history <name>",
      `replay real prices shipped in data/ for BTC3L and BTC3S (${HISTORY_NAMES.join(", ")}: BTC-USD daily closes 2014-09-17 to 2021-08-24); ETH keeps its seeded path unless --csv ETH=FILE`,
    )
    .option(
      "--from <date>",
      "with --history: the first day to replay (2016-01-01; default the first)",
      dateTime("--from"),
    )
    .option(
      "--to <date>",
      "with --history: the last day to replay (2017-12-31; default the last)",
      dateTime("--to"),
    )
    .option("--record <duration>", "record NAVs for the chart this often", duration("--record"), 6 * 3600)
    .option(
      "--arb <duration>",
      "run the NAV arbitrage on the Uniswap pools this often (each pass costs ~0.1 s)",
      duration("--arb"),
      86_400,
    )
    .addOption(
      // a bigint default needs its own words: commander's help cannot print one
      new Option(
        "--min-profit <usdt>",
        "the arbitrage opens no trade the engine expects to make less USDT than this",
      )
        .argParser(usdtOption("--min-profit"))
        .default(DEFAULT_MIN_PROFIT, "1"),
    )
    .option("--log-scale", "log y axis on the chart", false)
    .option("--out <dir>", "output folder", "out/demo")
    .option("--no-progress", "no progress bar")
    .exitOverride();
  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    // commander has printed its message (or the help); anything else is a bug to show
    if (!(e instanceof CommanderError)) throw e;
    return e.exitCode;
  }
  const o = program.opts<{
    network?: string;
    start: bigint;
    days: number;
    step: number;
    seed: number;
    drift: number;
    vol: number;
    csv: string[];
    history?: string;
    from?: bigint;
    to?: bigint;
    record: number;
    arb: number;
    minProfit: bigint;
    logScale: boolean;
    out: string;
    progress: boolean;
  }>();
  const conflict = historyConflict(o.history, (x) => program.getOptionValueSource(x) === "cli");
  if (conflict !== undefined) throw new Error(conflict);
  const history = o.history === undefined ? undefined : readHistoryPath({ ...o, history: o.history });
  const path =
    history !== undefined
      ? history.path
      : o.csv.length > 0
        ? readCsvPath(o.csv, program.getOptionValueSource("days") === "default" ? undefined : o.days)
        : gbmMultiPath({
            seed: o.seed,
            days: o.days,
            stepSeconds: o.step,
            drift: o.drift,
            volatility: o.vol,
            starts: startPrices(),
          });
  if (history !== undefined) o.start = history.start;
  const description =
    history !== undefined
      ? history.description
      : o.csv.length > 0
        ? `CSV ${o.csv.join(", ")}`
        : `GBM seed ${o.seed}, vol ${o.vol}, drift ${o.drift}, step ${o.step} s`;
  const connection = await connectDemoChain(o.network, o.start);
  if (o.network !== undefined) {
    // a node's clock cannot go back: say where the run moves it
    const latest = await connection.ethers.provider.getBlock("latest");
    const now = BigInt(latest?.timestamp ?? 0);
    const start = alignStart(o.start, now);
    if (start !== o.start)
      console.error(
        `demo: the clock of ${o.network} is at ${utcTime(now)}, past --start ${utcTime(o.start)}: ` +
          `the demo moves it to ${utcTime(start - SETUP_SECONDS)} for the deployment and starts the path ` +
          `at ${utcTime(start)} (the same time of day); an earlier deployment's prices on it will be stale`,
      );
  }
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: "demo [{bar}] {percentage}% | step {value}/{total} | {eta_formatted} left",
    },
    Presets.shades_classic,
  );
  const steps = path.times.length - 1;
  if (o.progress) bar.start(steps, 0);
  let report;
  try {
    report = await runDemo(
      {
        path,
        recordEverySeconds: o.record,
        arbEverySeconds: o.arb,
        arbMinProfit: o.minProfit,
        checkEverySeconds: 86_400,
        feeIntervalSeconds: 86_400,
        description,
        network: o.network ?? "in-process",
        start: o.start,
        onProgress: o.progress ? (k) => (k % 24 === 0 || k === steps ? bar.update(k) : undefined) : undefined,
      },
      connection,
    );
  } finally {
    if (o.progress) bar.stop();
    await connection.close();
  }
  const files = await writeDemoOutputs(report, o.out, o.logScale);
  console.log(formatTable(report));
  console.log("");
  for (const line of navCheckLines(report)) console.log(line);
  for (const line of deadPoolLines(report)) console.log(line);
  for (const line of skippedLines(report)) console.log(line);
  for (const line of nettingLines(report)) console.log(line);
  console.log("");
  for (const s of report.story) console.log(s);
  console.log("");
  console.log(
    `${report.steps} steps (${report.days.toFixed(1)} days from ${utcTime(BigInt(report.startTime))}, ` +
      `${report.blocks} blocks) on ${report.network} in ` +
      `${report.wallSeconds.toFixed(1)} s (${report.cpuSeconds.toFixed(1)} s of CPU)`,
  );
  console.log(`wrote ${files.report}, ${files.svg}, ${files.png}, ${files.spot.svg}, ${files.spot.png}`);
  console.log(
    `done in ${((Date.now() - started) / 1000).toFixed(1)} s in all (deployment, replay, checks, chart)`,
  );
  return report.allNavsEqual && report.tokens.every((t) => t.navEqual) ? 0 : 2;
}
