// The shipped BTC history and the options that pick it (no chain): the file parses and spans
// 2014-09-17..2021-08-24 with the figures the README quotes, --from/--to are checked in plain
// sentences, the demo's path puts BTC on the real prices and ETH on its seeded GBM, and the backtest
// runs it with every digit of a decayed token's value and names the gap that took 3x long through zero.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { backtestMain } from "../../src/backtest/cli.ts";
import { depletedCell, formatBacktestTable, runSetting, type Setting } from "../../src/backtest/backtest.ts";
import { dateTime } from "../../src/common/options.ts";
import { connectDemoChain, demoMain, historyConflict, readHistoryPath } from "../../src/demo/cli.ts";
import {
  deadPoolLines,
  demoChartSpec,
  formatTable,
  growthOf,
  skippedLines,
  spotChartSpec,
} from "../../src/demo/output.ts";
import type { SeriesPoint } from "../../src/report/chart.ts";
import { depletionReport, GAP_SHARE, type DemoReport } from "../../src/demo/report.ts";
import { runDemo } from "../../src/demo/run.ts";
import { decayedSentence, usd } from "../../src/demo/story.ts";
import { formatFloat, formatValue, parseExact } from "../../src/report/digits.ts";
import { HISTORIES, historyName, historyWindow, isoDate, loadHistory } from "../../src/feeds/history.ts";

const day = (d: string): bigint => dateTime("date")(d);
const btc = loadHistory("btc");
const pathOf = (from?: string, to?: string) => {
  const rows = historyWindow(
    btc,
    from === undefined ? undefined : day(from),
    to === undefined ? undefined : day(to),
  );
  return { times: rows.map((p) => p.t - rows[0]!.t), prices: rows.map((p) => p.price) };
};
const multiple = (from?: string, to?: string) => {
  const p = pathOf(from, to);
  return Number(p.prices[p.prices.length - 1]!) / Number(p.prices[0]!);
};
const short3: Setting = { leverage: 3, isLong: false, mode: "band+daily", bandWidth: 1 / 3, fees: "default" };
const long3: Setting = { ...short3, isLong: true };

/** Runs a program's main and returns its error message (the scripts print it as "demo: ..." with exit 1). */
async function refusal(main: (argv: string[]) => Promise<number>, argv: string[]): Promise<string> {
  try {
    await main(argv);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${argv.join(" ")} was not refused`);
}

describe("real history: data/btc-usd-daily.csv", function () {
  it("parses, spans 2014-09-17 to 2021-08-24 at 00:00 UTC, and has the README's figures", function () {
    expect(btc.market).to.equal("BTC");
    expect(btc.rows).to.have.length(2530);
    expect(isoDate(btc.rows[0]!.t)).to.equal("2014-09-17");
    expect(isoDate(btc.rows[btc.rows.length - 1]!.t)).to.equal("2021-08-24");
    for (const r of btc.rows) expect(r.t % 86_400).to.equal(0);
    // BTC x106 over the span, x32.6 over 2016-2017
    expect(multiple()).to.be.within(106.0, 106.2);
    expect(multiple("2016-01-01", "2017-12-31")).to.be.within(32.55, 32.65);
    // the worst close to close is 2020-03-12's -37.2%
    let worst = { move: 0, date: "" };
    for (let k = 1; k < btc.rows.length; k++) {
      const move = Number(btc.rows[k]!.price) / Number(btc.rows[k - 1]!.price) - 1;
      if (move < worst.move) worst = { move, date: isoDate(btc.rows[k]!.t) };
    }
    expect(worst.date).to.equal("2020-03-12");
    expect(worst.move).to.be.within(-0.373, -0.371);
  });

  it("is credited beside the file and in the README (CC BY 4.0)", function () {
    const note = readFileSync("data/README.md", "utf8");
    expect(note).to.include("btc-usd-daily.csv");
    expect(note).to.include("parsabe/Open-data");
    expect(note).to.include("CC BY 4.0");
    expect(readFileSync("README.md", "utf8")).to.match(/data\/btc-usd-daily\.csv[^\n]*\n?[^\n]*CC BY 4\.0/);
    expect(HISTORIES.btc.credit).to.include("CC BY 4.0");
  });

  it("picks a window by date and refuses bad dates in a sentence", function () {
    const w = historyWindow(btc, day("2016-01-01"), day("2017-12-31"));
    expect(isoDate(w[0]!.t)).to.equal("2016-01-01");
    expect(isoDate(w[w.length - 1]!.t)).to.equal("2017-12-31");
    expect(w).to.have.length(731);
    expect(() => historyWindow(btc, day("2013-01-01"))).to.throw(
      "--from 2013-01-01 is outside the history: the btc history runs from 2014-09-17 to 2021-08-24",
    );
    expect(() => historyWindow(btc, undefined, day("2022-01-01"))).to.throw(/--to 2022-01-01 is outside/);
    expect(() => historyWindow(btc, day("2017-01-01"), day("2016-01-01"))).to.throw(
      "--from 2017-01-01 must be before --to 2016-01-01",
    );
    expect(() => historyWindow(btc, day("2016-01-01"), day("2016-01-01T12:00"))).to.throw(
      /has 1 price; a run needs at least two/,
    );
    expect(() => historyName("eth")).to.throw('there is no price history "eth"; the histories are: btc');
    expect(historyName(" BTC ")).to.equal("btc");
  });

  it("refuses options that do not go with --history, and --from/--to without it", async function () {
    const given =
      (...xs: string[]) =>
      (x: string) =>
        xs.includes(x);
    expect(historyConflict(undefined, given("from"))).to.equal(
      "--from picks dates of a real history: add --history btc",
    );
    expect(historyConflict(undefined, given())).to.equal(undefined);
    expect(historyConflict("btc", given("from", "to"))).to.equal(undefined);
    expect(historyConflict("btc", given("days", "start"))).to.match(
      /^--days, --start do not apply to --history/,
    );
    // the programs say it before any chain starts
    expect(await refusal(demoMain, ["--history", "btc", "--from", "2013-01-01"])).to.match(
      /^--from 2013-01-01 is outside the history/,
    );
    expect(await refusal(demoMain, ["--to", "2016-01-01"])).to.match(/add --history btc$/);
    expect(await refusal(demoMain, ["--history", "btc", "--csv", "BTC=x.csv"])).to.match(
      /--history and --csv both give BTC's prices/,
    );
    expect(await refusal(backtestMain, ["--history", "btc", "--days", "3"])).to.match(
      /^--days cannot be used with --history/,
    );
    expect(await refusal(backtestMain, ["--history", "btc", "--from", "2021-08-24"])).to.match(
      /has 1 price; a run needs at least two/,
    );
  });

  it("explains --history, --from and --to in both programs' help (the demo's --help crashed on its bigint default)", async function () {
    for (const main of [demoMain, backtestMain]) {
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string | Uint8Array) => {
        out.push(String(chunk));
        return true;
      }) as typeof process.stdout.write;
      let code: number;
      try {
        code = await main(["--help"]);
      } finally {
        process.stdout.write = write;
      }
      const help = out.join("");
      expect(code, help).to.equal(0);
      expect(help).to.match(/--history <name>\s+(replay )?real prices shipped in data\//);
      expect(help).to.include("--from <date>").and.include("--to <date>");
      expect(help).to.include("2014-09-17 to 2021-08-24");
    }
  });

  it("gives the demo BTC's real prices and dates, and ETH its seeded path on the same days", function () {
    const o = {
      history: "btc",
      from: day("2016-01-01"),
      to: day("2017-12-31"),
      csv: [],
      seed: 1,
      drift: 0,
      vol: 0.6,
    };
    const { path, start, description } = readHistoryPath(o);
    expect(isoDate(start)).to.equal("2016-01-01");
    expect(path.times).to.have.length(731);
    expect(path.times[730]).to.equal(730 * 86_400);
    const w = historyWindow(btc, o.from, o.to);
    expect(path.prices.BTC).to.deep.equal(w.map((p) => p.price));
    expect(path.prices.ETH).to.have.length(731);
    expect(new Set(path.prices.ETH.map(String)).size).to.be.greaterThan(700); // a random walk, not flat
    expect(path.sources.ETH).to.match(/^GBM seed 2/);
    expect(description).to.include("2016-01-01 to 2017-12-31").and.include("CC BY 4.0");
    // the same options, the same path; another seed moves ETH only
    expect(readHistoryPath(o).path).to.deep.equal(path);
    const other = readHistoryPath({ ...o, seed: 5 }).path;
    expect(other.prices.BTC).to.deep.equal(path.prices.BTC);
    expect(other.prices.ETH).to.not.deep.equal(path.prices.ETH);
  });
});

describe("real history in the backtest: every digit, and gaps named", function () {
  it("gives 3x short over 2016-2017 its decayed value with significant digits, not 0", function () {
    const r = runSetting(pathOf("2016-01-01", "2017-12-31"), short3);
    expect(r.depleted).to.equal(false);
    // about 1.6e-8 of its start: the 6-decimal nav() said 0
    expect(r.finalValue).to.be.within(1e-8, 3e-8);
    expect(r.finalValueExact).to.match(/^0\.0000000[1-2]\d{5,}$/);
    // the table shows its significant digits, not 0.0000
    expect(formatBacktestTable([r])).to.match(/  0\.0000000[1-2]\d+  /);
    const long = runSetting(pathOf("2016-01-01", "2017-12-31"), long3);
    expect(long.finalValue).to.be.greaterThan(100);
    // (no closeTo: hardhat's chai matchers take it for a bigint comparison when the suite runs together)
    expect(Math.abs(Number(long.finalValueExact) / long.finalValue - 1)).to.be.lessThan(1e-12);
  });

  it("is quoted in the README as the backtest prints it (2016-2017, and the short's end over the span)", function () {
    const readme = readFileSync("README.md", "utf8").replace(/\s+/g, " ");
    const shown = (r: ReturnType<typeof runSetting>) => formatValue(parseExact(r.finalValueExact));
    const p = pathOf("2016-01-01", "2017-12-31");
    const long = runSetting(p, long3);
    const free = runSetting(p, { ...long3, fees: "none" });
    const short = runSetting(p, short3);
    expect(readme).to.include(
      `into **${shown(long)}** (the closed form: ${formatFloat(long.idealValue)}; without fees ${Number(shown(free)).toLocaleString("en-US")})`,
    );
    expect(readme).to.include(
      `keeps **${shown(short)}** of its start (the closed form ${formatFloat(short.idealValue)})`,
    );
    expect(readme).to.include(`a decayed short's ${shown(short)} is not`);
    const whole = runSetting(pathOf(), short3);
    const cell = depletedCell(whole, btc.rows[0]!.t); // "0 (depleted 2018-10-01, -0.54%)"
    const [, date, move] = /depleted (\S+), (\S+)\)/.exec(cell)!;
    expect(readme).to.include(`runs out of equity on ${date} on a ${move} day`);
  });

  it("depletes 3x long in the 2020-03-12 gap and says the move", function () {
    const p = pathOf("2020-01-01", "2020-06-30");
    const r = runSetting(p, long3);
    expect(r.depleted).to.equal(true);
    expect(r.finalValueExact).to.equal("0");
    expect(isoDate(Number(day("2020-01-01")) + r.depletedAt!.time)).to.equal("2020-03-12");
    expect(r.depletedAt!.move).to.be.within(-0.373, -0.371);
    expect(formatBacktestTable([r], Number(day("2020-01-01")))).to.include(
      "0 (depleted 2020-03-12, -37.17%)",
    );
  });
});

describe("demo: a depletion is a gap or decay", function () {
  const WAD = 10n ** 18n;
  const at = (iso: string) => Number(day(iso));
  const base = {
    market: "BTC" as const,
    timeBefore: at("2020-03-11"),
    time: at("2020-03-12"),
    perTokenBefore: 749_159_000_000_000_000n,
    assetsBefore: 205_001_300_000n,
    supply: 273_642n * WAD,
  };

  it("calls a one-update loss of all the equity at the leverage held a gap, with its move", function () {
    const d = depletionReport(
      { ...base, priceBefore: 791_169_000_000n, priceAfter: 497_085_000_000n, leverageBefore: 3n * WAD },
      3,
    );
    expect(d.kind).to.equal("gap");
    expect(d.date).to.equal("2020-03-12");
    expect(d.move).to.be.within(-0.372, -0.371);
    expect(d.levered).to.be.within(1.11, 1.12);
    expect(d.intervalSeconds).to.equal(86_400);
    expect(d.valueBeforeUsdt).to.equal(205_001.3);
  });

  it("calls a token that ran out on a small move decay, not a gap", function () {
    // a 3x short on a +0.7% day: 2.1% of its equity, the rest had decayed before
    const d = depletionReport(
      {
        ...base,
        priceBefore: 100_000_000n,
        priceAfter: 100_700_000n,
        leverageBefore: 3n * WAD,
        perTokenBefore: 3n,
      },
      -3,
    );
    expect(d.kind).to.equal("decay");
    expect(d.levered).to.be.within(0.0209, 0.0211);
    expect(d.perTokenBefore).to.equal("0.000000000000000003");
    // the same +0.7% does not take a long's equity either, and a +35% one takes a short's
    expect(
      depletionReport({ ...base, priceBefore: 100n, priceAfter: 135n, leverageBefore: 3n * WAD }, -3).kind,
    ).to.equal("gap");
    expect(GAP_SHARE).to.be.lessThan(1);
  });
});

describe("npm run demo -- --history btc --from 2020-03-05 --to 2020-03-14 (on chain)", function () {
  this.timeout(120_000);
  let report: DemoReport;

  before(async function () {
    const { path, start, description } = readHistoryPath({
      history: "btc",
      from: day("2020-03-05"),
      to: day("2020-03-14"),
      csv: [],
      seed: 1,
      drift: 0,
      vol: 0.6,
    });
    const chain = await connectDemoChain(undefined, start);
    try {
      report = await runDemo(
        {
          path,
          recordEverySeconds: 86_400,
          arbEverySeconds: 86_400,
          checkEverySeconds: 86_400,
          feeIntervalSeconds: 86_400,
          description,
          network: "in-process",
          start,
        },
        chain,
      );
    } finally {
      await chain.close();
    }
  });

  it("runs on the real dates, chain = engine to the unit, values with all their digits", function () {
    expect(isoDate(report.startTime)).to.equal("2020-03-05");
    expect(report.allNavsEqual).to.equal(true);
    for (const t of report.tokens) {
      expect(t.navEqual, t.symbol).to.equal(true);
      expect(t.valueEndChain, t.symbol).to.equal(t.valueEndEngine);
      // nav() is the 18-decimal value rounded down to 6
      expect(parseExact(t.valueEndEngine) / 10n ** 12n, t.symbol).to.equal(
        parseExact(t.navEndEngine) / 10n ** 12n,
      );
    }
  });

  it("tells BTC3L's depletion on 2020-03-12 as a gap with its move, and what holders were paid", function () {
    const l = report.tokens.find((t) => t.symbol === "BTC3L")!;
    expect(l.depletion?.kind).to.equal("gap");
    expect(l.depletion?.date).to.equal("2020-03-12");
    expect(l.depletion!.move).to.be.within(-0.372, -0.371);
    expect(l.valueEndEngine).to.equal("0");
    expect(l.settledUsdt).to.equal(0);
    const text = report.story.join(" ");
    expect(text).to.include("BTC3L went through zero on 2020-03-12: BTC moved -37.17% close to close");
    expect(text).to.include(`worth ${usd(l.depletion!.valueBeforeUsdt)}`);
    expect(text).to.include("were settled at 0.00 USDT in all");
    expect(text).to.not.match(/BTC3L returned[^.]*volatility decay/);
    // no other token was depleted
    expect(report.tokens.filter((t) => t.depletion !== undefined)).to.have.length(1);
  });

  it("shows BTC3L's pool as dead, and the arbitrage leaves it alone", function () {
    const l = report.tokens.find((t) => t.symbol === "BTC3L")!;
    expect(l.spot.dead).to.equal(true);
    expect(report.tokens.filter((t) => t.spot.dead)).to.have.length(1);
    expect(formatTable(report)).to.match(/BTC3L .* dead \(\d+\.\d{4}\)/);
    const lines = deadPoolLines(report);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include("BTC3L's pool is dead: BTC3L was depleted on 2020-03-12");
    // no arbitrage trade on the dead pool after the depletion: its spot stayed where it was
    const spots = report.series.spots.BTC3L!;
    const after = spots.filter((p) => p.day >= 7);
    expect(new Set(after.map((p) => p.spot)).size).to.equal(1);
  });

  it("charts growth of 1 USDT without dividing by a zero NAV: a series that starts at 0 is left out", function () {
    expect(growthOf(0.5, 2)).to.equal(0.25);
    expect(growthOf(1, 0)).to.equal(undefined);
    expect(growthOf(1, undefined)).to.equal(undefined);
    const bad: DemoReport = structuredClone(report);
    bad.series.navs.BTC3L = bad.series.navs.BTC3L!.map(() => 0);
    for (const spec of [demoChartSpec(bad, false), spotChartSpec(bad, false), demoChartSpec(bad, true)]) {
      const layers = "layer" in spec ? spec.layer : [];
      const values = layers.flatMap((l) =>
        "data" in l && l.data != null && "values" in l.data ? (l.data.values as SeriesPoint[]) : [],
      );
      expect(values.length).to.be.greaterThan(0);
      expect(values.every((p) => Number.isFinite(p.y))).to.equal(true);
      expect(values.some((p) => p.series.startsWith("BTC3L"))).to.equal(false);
      expect(values.some((p) => p.series === "BTC3S NAV")).to.equal(true);
    }
  });

  it("says which keeper actions were not sent and why (none here; the exchange's pool refusing a profit in 2017)", function () {
    expect(skippedLines(report)).to.deep.equal([]);
    const bad: DemoReport = structuredClone(report);
    bad.tokens[0] = {
      ...bad.tokens[0]!,
      skippedActions: 3,
      skippedWhy: [
        { time: bad.startTime + 86_400, action: "rebalance", error: "InsufficientLiquidity(5, 4)" },
      ],
    };
    expect(skippedLines(bad)).to.deep.equal([
      "BTC3L: 3 keeper actions not sent, the engine predicting a revert; the first: rebalance at 2020-03-06 00:00 UTC, InsufficientLiquidity(5, 4)",
    ]);
  });

  it("names volatility decay for a decayed token only where the closed form's volatility term takes the value", function () {
    const s = report.tokens.find((t) => t.symbol === "BTC3S")!;
    // BTC3S over 2014-2021 as measured: x106, 75.5% a year, 1.6e-16 of its start left
    const decayed = {
      ...s,
      underlyingReturn: 105.1199,
      valueEndEngine: "0.000000000000000074",
      valueMultiple: "0.000000000000000073",
      idealReturn: -1,
      idealValue: 4.0e-17,
    };
    const volatile = {
      markets: {
        ...report.markets,
        BTC: { ...report.markets.BTC, variance: 3.9566, realizedVolatility: 0.7551 },
      },
    };
    const text = decayedSentence(volatile, decayed);
    expect(text).to.include("BTC3S is alive but worth 0.000000000000000074 USDT a token");
    expect(text).to.include("the closed form predicts 0.00000000000000004 of the start");
    expect(text).to.include("the -3x trend alone (BTC x106.1) leaves 0.000000836");
    expect(text).to.match(/volatility decay at 75\.51% leaves 0\.000000000\d+ of that\.$/);
    // at a negligible variance the closed form charges no decay, and the sentence does not name it
    const calm = { markets: { ...report.markets, BTC: { ...report.markets.BTC, variance: 0.001 } } };
    expect(decayedSentence(calm, decayed)).to.match(
      /volatility decay takes only 0\.60% of that: the rest is/,
    );
  });
});
