// A short demo run (three days of hourly steps) on the in-process chain: on-chain and engine NAVs
// equal, the files exist and are valid SVG/PNG, and the story's numbers are the report's; the same
// options give the same report to the unit whatever the chain's clock says when the run begins.
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { connectDemoChain, startPrices } from "../../src/demo/cli.ts";
import {
  demoChartSpec,
  formatTable,
  navCheckLines,
  spotChartSpec,
  writeDemoOutputs,
} from "../../src/demo/output.ts";
import { csvMultiPath, gbmMultiPath } from "../../src/demo/path.ts";
import type { DemoReport } from "../../src/demo/report.ts";
import { runDemo, SETUP_SECONDS, type DemoOptions } from "../../src/demo/run.ts";
import { percent, share, usd } from "../../src/demo/story.ts";
import { PNG_SIGNATURE } from "../../src/report/chart.ts";
import { PATH_START, parsePriceCsv } from "../../src/feeds/paths.ts";
import { noArbitrageBand, ratioToNumber } from "../../src/spot/poolMath.ts";
import { DEFAULT_FEES, tokenParams } from "../../src/common/params.ts";
import { DEFAULT_EXCHANGE_PARAMS } from "../../src/engine/exchange.ts";

const TAKER_FEE = DEFAULT_EXCHANGE_PARAMS.takerFee;

const THREE_DAYS: DemoOptions = {
  path: gbmMultiPath({
    seed: 7,
    days: 3,
    stepSeconds: 3600,
    drift: 0,
    volatility: 0.8,
    starts: startPrices(),
  }),
  recordEverySeconds: 6 * 3600,
  arbEverySeconds: 6 * 3600,
  // every profitable trade taken (no minimum), so every pool ends each pass inside the band
  arbMinProfit: 0n,
  checkEverySeconds: 86_400,
  feeIntervalSeconds: 86_400,
  description: "test",
  network: "in-process",
  start: PATH_START,
};

/** The demo on a fresh in-process chain whose clock starts at `genesis` (default: as `npm run demo`). */
async function demoOn(o: DemoOptions, genesis?: bigint): Promise<DemoReport> {
  const chain =
    genesis === undefined
      ? await connectDemoChain(undefined, o.start)
      : await network.create({ override: { initialDate: new Date(Number(genesis) * 1000) } });
  try {
    return await runDemo(o, chain);
  } finally {
    await chain.close();
  }
}

/** A report without what only the machine decides (how long it took). */
function financial(r: DemoReport): Omit<DemoReport, "wallSeconds" | "cpuSeconds"> {
  const { wallSeconds: _w, cpuSeconds: _c, ...rest } = r;
  return rest;
}

describe("npm run demo (three days, hourly)", function () {
  this.timeout(180_000);
  let report: DemoReport;
  let dir: string;
  let files: Awaited<ReturnType<typeof writeDemoOutputs>>;

  before(async function () {
    report = await demoOn(THREE_DAYS);
    dir = mkdtempSync(join(tmpdir(), "demo-"));
    files = await writeDemoOutputs(report, dir, true);
  });

  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("ends with the same NAV on chain and in the engine for every token, at every daily check too", function () {
    expect(report.tokens.map((t) => t.symbol)).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S"]);
    for (const t of report.tokens) {
      expect(t.navEndChain, t.symbol).to.equal(t.navEndEngine);
      expect(t.navEqual).to.equal(true);
      expect(t.navDifference).to.equal("0");
    }
    expect(report.navMismatches).to.deep.equal([]);
    expect(report.allNavsEqual).to.equal(true);
    expect(navCheckLines(report).every((l) => l.endsWith("yes (to the last unit)"))).to.equal(true);
  });

  it("mints and redeems through the desks: the keeper fills after the price pushes, the wallets' daily requests and the arbitrage's", function () {
    for (const t of report.tokens) {
      // the first deposits, two daily rounds of requests, the arbitrage's requests and the last round
      expect(t.deskFills, t.symbol).to.be.at.least(4);
      expect(t.deskFills, t.symbol).to.be.at.most(report.steps + 1);
      // the second wallet's daily redemptions were claimed
      expect(t.redeemedUsdt, t.symbol).to.be.greaterThan(0);
    }
  });

  it("nets a day's deposits against its redemptions: USDT matched at NAV, trading cost saved against the same fills traded apart", function () {
    const netted = report.tokens.filter((t) => t.netting.fills > 0);
    // every day one wallet deposits and another redeems in each token: their fills net
    expect(netted.map((t) => t.symbol)).to.deep.equal(report.tokens.map((t) => t.symbol));
    for (const t of netted) {
      expect(t.netting.fills, t.symbol).to.be.at.most(t.deskFills);
      expect(t.netting.matchedUsdt, t.symbol).to.be.greaterThan(0);
      // the matched part pays no taker fee: a 3x token's trades cost at least 0.05% of 3x the matched
      // value on each side traded apart
      expect(t.netting.tradingCostSavedUsdt, t.symbol).to.be.greaterThan(t.netting.matchedUsdt * 0.0015);
    }
  });

  it("says NO loudly, with the difference, when a NAV differs", function () {
    const bad: DemoReport = structuredClone(report);
    bad.tokens[1] = { ...bad.tokens[1]!, navEqual: false, navEndChain: "0.5", navDifference: "-12" };
    bad.navMismatches = [{ time: bad.startTime + 86_400, symbol: "ETH3L", chain: "7", engine: "8" }];
    const lines = navCheckLines(bad);
    expect(lines[1]).to.match(
      /^BTC3S: on-chain NAV == engine NAV: NO !!! chain 0.5, engine .*difference -12 units$/,
    );
    expect(lines).to.have.length(5);
    expect(lines[3]).to.include("yes (to the last unit)");
    expect(lines[3]!.startsWith("ETH3S")).to.equal(true);
    expect(lines[lines.length - 1]).to.match(
      /^NO !!! 1 checks differed .* ETH3L at day 1\.00, chain 7, engine 8$/,
    );
  });

  it("replays every step, rebalances at each 00:00 UTC and accounts the fees", function () {
    expect(report.steps).to.equal(72);
    expect(Math.abs(report.days - 3)).to.be.lessThan(1e-9); // closeTo by hand (Hardhat's chai plugin redefines it)
    for (const t of report.tokens) {
      // three midnights pass in three days: the daily check fires (band rebalances may add more)
      expect(t.rebalances).to.be.at.least(2);
      expect(t.rebalances).to.equal(Object.values(t.triggers).reduce((a, b) => a + b, 0));
      expect(t.fees.tradingUsdt).to.be.greaterThan(0);
      // 170,000 USDT deposited plus the pool's 100,000-token seed at NAV 1 (and what the arbitrage
      // mints or redeems), 0.005% a day for three days, valued at NAVs near 1
      const expected = 270_000 * 0.00005 * 3;
      expect(t.fees.managementUsdt).to.be.within(expected * 0.5, expected * 1.6);
      expect(Math.sign(t.fees.fundingUsdt)).to.equal(t.leverage > 0 ? 1 : -1); // longs pay, shorts receive
      expect(Math.abs(t.leveredUnderlyingReturn - t.leverage * t.underlyingReturn)).to.be.lessThan(1e-12);
      // three days: the token tracks the ideal closed form within a few percent of value
      expect(Math.abs(t.tokenReturn - t.idealReturn)).to.be.lessThan(0.05);
    }
  });

  it("gives the same report to the unit whatever hour the chain's clock shows when it begins", async function () {
    expect(report.startTime).to.equal(Number(PATH_START));
    expect(report.requestedStartTime).to.equal(Number(PATH_START));
    // chains started at hours spread over the day before the start: the wall clock the old demo
    // started its path at (so its midnights, rebalances and fees moved with the hour)
    for (const hour of [0, 5, 11, 17, 23]) {
      const genesis = PATH_START - 86_400n + BigInt(hour * 3600);
      const again = await demoOn(THREE_DAYS, genesis);
      expect(financial(again), `chain clock at ${hour}:00 the day before`).to.deep.equal(financial(report));
    }
  });

  it("on a chain whose clock is past the start, starts the next day at the same hour with the same result", async function () {
    const late = await demoOn(THREE_DAYS, PATH_START + 10n * 3600n);
    expect(late.requestedStartTime).to.equal(Number(PATH_START));
    expect(late.startTime).to.equal(Number(PATH_START) + 86_400);
    // the setup fits before the start, which keeps its time of day: every figure is the same
    expect(BigInt(late.startTime) - SETUP_SECONDS).to.be.greaterThan(PATH_START + 10n * 3600n);
    const shifted = { ...financial(late), startTime: report.startTime, endTime: late.endTime - 86_400 };
    expect(shifted).to.deep.equal(financial(report));
  });

  it("writes report.json, nav.svg and nav.png", function () {
    const json = JSON.parse(readFileSync(files.report, "utf8")) as DemoReport;
    expect(json.tokens[0]!.navEndChain).to.equal(report.tokens[0]!.navEndChain);
    const svg = readFileSync(files.svg, "utf8");
    expect(svg.startsWith("<svg")).to.equal(true);
    expect(svg.trimEnd().endsWith("</svg>")).to.equal(true);
    const png = readFileSync(files.png);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
    expect(png.length).to.be.greaterThan(1000);
    const spec = demoChartSpec(report, true);
    expect(JSON.stringify(spec)).to.include('"type":"log"');
    expect(json.series.days.length).to.equal(report.series.navs.BTC3L!.length);
  });

  it("keeps every pool inside the no-arbitrage band at every recorded point where no desk request waits, and at the end", function () {
    let pending = 0;
    for (const t of report.tokens) {
      const points = report.series.spots[t.symbol]!;
      // every 6 h of three days, the start and the end
      expect(points).to.have.length(13);
      points.forEach((p, k) => {
        // the band the arbitrage used, and the one poolMath gives for the recorded NAV (3x, 0.05% fees)
        const nav = BigInt(Math.round(p.nav * 1e6));
        const band = noArbitrageBand(nav, {
          mintFee: DEFAULT_FEES.mintFee,
          redeemFee: DEFAULT_FEES.redeemFee,
          tradingCost: 3n * TAKER_FEE,
        });
        const lower = ratioToNumber(band.lower);
        const upper = ratioToNumber(band.upper);
        expect(Math.abs(p.lower / lower - 1), `${t.symbol} lower at ${k}`).to.be.lessThan(1e-5);
        expect(Math.abs(p.upper / upper - 1), `${t.symbol} upper at ${k}`).to.be.lessThan(1e-5);
        // a mint through the desk is filled at the next price round: its tokens reach the pool then
        if (p.pending) pending++;
        else
          expect(p.spot, `${t.symbol} at point ${k}`).to.be.within(
            p.lower * (1 - 1e-5),
            p.upper * (1 + 1e-5),
          );
      });
      // every trade finished at the end (its last requests filled at one more round): inside the band
      const last = points[points.length - 1]!;
      expect(t.spot.spotEnd, t.symbol).to.be.within(last.lower * (1 - 1e-3), last.upper * (1 + 1e-3));
    }
    expect(pending).to.be.greaterThan(0);
    expect(pending).to.be.lessThan(report.tokens.length * 13);
  });

  it("reports the arbitrage per token: trades, premiums, profits that add up to the arbitrageur's", function () {
    // a 3x token on an 80%-volatility path leaves its pool behind every six hours
    expect(report.arbitrage.trades).to.be.greaterThan(0);
    let profit = 0;
    for (const t of report.tokens) {
      expect(t.spot.arbTrades, t.symbol).to.be.at.least(0);
      expect(t.spot.maxPremium).to.be.at.least(0);
      expect(t.spot.maxDiscount).to.be.at.most(0);
      if (t.spot.arbTrades > 0) {
        expect(t.spot.arbProfitUsdt, t.symbol).to.be.greaterThan(0);
        expect(Math.max(t.spot.maxPremium, -t.spot.maxDiscount)).to.be.greaterThan(0.003);
      } else expect(t.spot.arbProfitUsdt).to.equal(0);
      profit += t.spot.arbProfitUsdt;
    }
    expect(report.arbitrage.trades).to.equal(report.tokens.reduce((a, t) => a + t.spot.arbTrades, 0));
    expect(Math.abs(report.arbitrage.profitUsdt - profit)).to.be.lessThan(1e-6);
    expect(report.arbitrage.profitUsdtChain).to.equal(report.arbitrage.profitUsdt);
    const table = formatTable(report);
    for (const t of report.tokens) expect(table).to.include(t.spot.arbProfitUsdt.toFixed(2));
    const json = JSON.parse(readFileSync(files.report, "utf8")) as DemoReport;
    expect(json.tokens[0]!.spot).to.deep.equal(report.tokens[0]!.spot);
    expect(json.arbitrage).to.deep.equal(report.arbitrage);
  });

  it("draws spot against NAV per token in spot.svg and spot.png", function () {
    const svg = readFileSync(files.spot.svg, "utf8");
    expect(svg.startsWith("<svg")).to.equal(true);
    expect(readFileSync(files.spot.png).subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
    const spec = JSON.stringify(spotChartSpec(report, false));
    for (const t of report.tokens) {
      expect(spec).to.include(`${t.symbol} spot`);
      expect(spec).to.include(`${t.symbol} NAV`);
    }
  });

  it("says in its sentences the numbers of the report", function () {
    const text = report.story.join(" ");
    expect(report.story).to.have.length(3);
    const ex = report.tokens
      .filter((t) => t.leverage > 0)
      .reduce((a, b) => (Math.abs(b.underlyingReturn) > Math.abs(a.underlyingReturn) ? b : a));
    expect(text).to.include(`${ex.symbol} returned ${percent(ex.tokenReturn)}`);
    expect(text).to.include(`${ex.market} moved ${percent(ex.underlyingReturn)}`);
    expect(text).to.include(percent(ex.leveredUnderlyingReturn));
    expect(text).to.include(`predicts ${percent(ex.idealReturn)}`);
    expect(text).to.include(
      `${share(report.markets[ex.market].realizedVolatility)} realized annual volatility`,
    );
    expect(text).to.include(`loses ${share(ex.volatilityDecay)}`);
    const sum = (f: (t: DemoReport["tokens"][number]) => number) =>
      report.tokens.reduce((a, t) => a + f(t), 0);
    expect(text).to.include(`rebalanced ${sum((t) => t.rebalances)} times`);
    expect(text).to.include(usd(sum((t) => t.fees.tradingUsdt)));
    expect(text).to.include(usd(sum((t) => t.fees.managementUsdt)));
    // the table shows the same returns
    const table = formatTable(report);
    for (const t of report.tokens) expect(table).to.include(percent(t.tokenReturn));
  });

  it("lists its tokens from the factory: one created after the deployment is replayed, checked and shown like the first four", async function () {
    const o: DemoOptions = {
      ...THREE_DAYS,
      path: gbmMultiPath({
        seed: 3,
        days: 1,
        stepSeconds: 3600,
        drift: 0,
        volatility: 0.8,
        starts: startPrices(),
      }),
      laterTokens: [tokenParams("BTC", 2n, true)],
    };
    const r = await demoOn(o);
    // the factory's order: the deploy's four, then the one created later, by the symbols they report
    expect(r.tokens.map((t) => t.symbol)).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S", "BTC2L"]);
    const later = r.tokens[4]!;
    expect(later.leverage).to.equal(2);
    expect(later.market).to.equal("BTC");
    expect(later.navEqual).to.equal(true);
    expect(r.allNavsEqual).to.equal(true);
    expect(later.deskFills).to.be.at.least(2);
    expect(later.spot.spotEnd).to.be.greaterThan(0);
    expect(formatTable(r)).to.match(/^BTC2L /m);
    expect(Object.keys(r.series.navs)).to.include("BTC2L");
  });

  it("replays a CSV path that starts far from the feeds' prices (the first row is pushed before the deposits)", async function () {
    const rows = ["timestamp,price"];
    for (let k = 0; k <= 36; k++)
      rows.push(`${1_700_000_000 + k * 7200},${(60_000 * (1 + 0.01 * Math.sin(k))).toFixed(2)}`);
    const points = parsePriceCsv(rows.join("\n"), "test.csv");
    const csv = await demoOn({
      path: csvMultiPath({ BTC: { points, source: "test.csv" } }, startPrices()),
      recordEverySeconds: 7200,
      arbEverySeconds: 86_400,
      checkEverySeconds: 86_400,
      feeIntervalSeconds: 86_400,
      description: "csv",
      network: "in-process",
      start: PATH_START,
    });
    expect(csv.steps).to.equal(36);
    expect(csv.markets.BTC.start).to.equal(60_000);
    expect(csv.markets.ETH.source).to.equal("flat (no CSV given)");
    expect(csv.markets.ETH.return).to.equal(0);
    for (const t of csv.tokens) expect(t.navEndChain, t.symbol).to.equal(t.navEndEngine);
    expect(csv.allNavsEqual).to.equal(true);
    // no jump from the feed's 100,000 to the CSV's 60,000 after the deposits: NAVs stay near 1
    const btc3l = csv.tokens.find((t) => t.symbol === "BTC3L")!;
    expect(Math.abs(btc3l.tokenReturn)).to.be.lessThan(0.2);
  });

  it("merges CSV paths on one time grid, a market without a CSV staying flat", function () {
    const p = csvMultiPath(
      {
        BTC: {
          points: [
            { t: 0, price: 100n },
            { t: 3600, price: 110n },
            { t: 7200, price: 120n },
          ],
          source: "a",
        },
      },
      { BTC: 1n, ETH: 5n },
    );
    expect(p.times).to.deep.equal([0, 3600, 7200]);
    expect(p.prices.BTC).to.deep.equal([100n, 110n, 120n]);
    expect(p.prices.ETH).to.deep.equal([5n, 5n, 5n]);
    expect(() =>
      gbmMultiPath({ seed: 1, days: 0, stepSeconds: 3600, drift: 0, volatility: 0.6, starts: startPrices() }),
    ).to.throw(/--days must be more than zero/);
  });
});
