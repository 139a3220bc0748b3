// The backtest: settings grid, sanity of the results (flat path, trend, fees, band width), the CSV
// input and the files it writes.
import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backtestMain } from "../../src/backtest/cli.ts";
import {
  DEFAULT_GRID,
  paramsFor,
  runSetting,
  settingsGrid,
  type BacktestPath,
  type Setting,
} from "../../src/backtest/backtest.ts";
import { gbmPath } from "../../src/feeds/paths.ts";
import { PNG_SIGNATURE } from "../../src/report/chart.ts";

const HOUR = 3600;

function flat(steps: number, price = 100_000n * 10n ** 8n): BacktestPath {
  return { times: [...Array(steps + 1).keys()].map((k) => k * HOUR), prices: Array(steps + 1).fill(price) };
}

function gbm(days: number, seed: number, volatility = 0.8): BacktestPath {
  const p = gbmPath({ seed, start: 100_000, steps: days * 24, stepSeconds: HOUR, drift: 0, volatility });
  return { times: p.map((x) => x.t), prices: p.map((x) => x.price) };
}

const base: Setting = { leverage: 3, isLong: true, mode: "band+daily", bandWidth: 1 / 3, fees: "default" };

describe("Backtest", function () {
  this.timeout(60_000);

  it("builds the grid: every band mode per width, daily-only once, for each leverage, side and fee level", function () {
    const grid = settingsGrid({
      leverages: [2, 3, 5],
      bandWidths: [0.1, 0.5],
      modes: ["band+daily", "band", "daily"],
      fees: ["none", "default"],
    });
    expect(grid).to.have.length(2 * 3 * 2 * (2 + 2 + 1));
    expect(grid.filter((s) => s.mode === "daily")).to.have.length(12);
    expect(settingsGrid()).to.have.length(
      DEFAULT_GRID.fees.length * 3 * 2 * (2 * DEFAULT_GRID.bandWidths.length + 1),
    );
    // the 3x band of ±1/3 is the standard token's [2x, 4x]
    const p = paramsFor(base);
    expect(p.minLeverage).to.equal(2n * 10n ** 18n);
    expect(p.maxLeverage).to.equal(4n * 10n ** 18n);
    expect(() => paramsFor({ ...base, leverage: 6, bandWidth: 0.9 })).to.throw(/above the exchange's 10x/);
  });

  it("keeps exactly its value on a flat path without fees, and never rebalances on the band", function () {
    for (const mode of ["band+daily", "band"] as const) {
      const r = runSetting(flat(72), { ...base, mode, fees: "none" });
      expect(r.finalValue, mode).to.equal(1);
      expect(r.triggers.band).to.equal(0);
    }
  });

  it("gains more with more leverage on a steady rise", function () {
    const steps = 240;
    const path: BacktestPath = {
      times: [...Array(steps + 1).keys()].map((k) => k * HOUR),
      prices: [...Array(steps + 1).keys()].map((k) => 100_000n * 10n ** 8n + BigInt(k) * 50n * 10n ** 8n),
    };
    const v = [2, 3, 5].map((leverage) => runSetting(path, { ...base, leverage, fees: "none" }).finalValue);
    expect(v[0]).to.be.greaterThan(1.2);
    expect(v[1]).to.be.greaterThan(v[0]!);
    expect(v[2]).to.be.greaterThan(v[1]!);
  });

  it("loses more with higher fees (daily-only: the same rebalance times)", function () {
    const path = gbm(10, 3);
    const v = (["none", "default", "double"] as const).map(
      (fees) => runSetting(path, { ...base, mode: "daily", fees }).finalValue,
    );
    expect(v[0]).to.be.greaterThan(v[1]!);
    expect(v[1]).to.be.greaterThan(v[2]!);
  });

  it("rebalances more often with a narrower band, and follows the ideal closed form without fees", function () {
    const path = gbm(10, 5);
    const narrow = runSetting(path, { ...base, mode: "band", bandWidth: 0.1, fees: "none" });
    const wide = runSetting(path, { ...base, mode: "band", bandWidth: 0.6, fees: "none" });
    expect(narrow.rebalances).to.be.greaterThan(wide.rebalances);
    expect(narrow.triggers.daily).to.equal(0);
    // a 10% band on hourly steps is close to continuous rebalancing
    expect(Math.abs(narrow.finalValue / narrow.idealValue - 1)).to.be.lessThan(0.05);
  });

  it("--band-model prints the band ideal beside the engine, within 1e-9 on real 2016 closes, fees and funding on", async function () {
    const dir = mkdtempSync(join(tmpdir(), "backtest-"));
    const log = console.log;
    const lines: string[] = [];
    console.log = (s: string) => lines.push(s);
    try {
      const code = await backtestMain([
        ...["--history", "btc", "--from", "2016-01-01", "--to", "2016-12-31", "--leverage", "3"],
        ...["--bands", String(1 / 3), "--modes", "band+daily,daily", "--fees", "default,double"],
        ...["--band-model", "--deposit", "10000000", "--out", dir, "--no-progress"],
      ]);
      console.log = log;
      expect(code).to.equal(0);
      const json = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as {
        depositUsdt: number;
        results: { label: string; finalValueExact: string; bandModel?: { value: string; gap: number } }[];
      };
      expect(json.depositUsdt).to.equal(10_000_000);
      expect(json.results).to.have.length(2 * 2 * 2);
      for (const r of json.results) {
        expect(r.bandModel, r.label).to.not.equal(undefined);
        expect(r.bandModel!.gap, r.label).to.be.lessThan(1e-9);
        expect(Number(r.bandModel!.value) / Number(r.finalValueExact) - 1, r.label).to.be.within(-1e-9, 1e-9);
      }
      const table = lines.join("\n");
      expect(table).to.match(/band model +gap/);
      expect(table).to.match(/3x long, band\+daily ±33%, fees default .* \d\.\de-1\d/);
    } finally {
      console.log = log;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs 10,000,000 USDT through 2016-2017 to the end: the 3x long grows 500-fold past the exchange's old one-slot position (issue 17)", async function () {
    const dir = mkdtempSync(join(tmpdir(), "backtest-"));
    const log = console.log;
    console.log = () => undefined;
    try {
      // before: SafeCastOverflowedIntDowncast(56, ...) when the long's open cost passed 36 billion USDT
      const code = await backtestMain([
        ...["--history", "btc", "--from", "2016-01-01", "--to", "2017-12-31", "--leverage", "3"],
        ...["--bands", String(1 / 3), "--modes", "band+daily", "--fees", "none,default"],
        ...["--deposit", "10000000", "--out", dir, "--no-progress"],
      ]);
      console.log = log;
      expect(code).to.equal(0);
      const json = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as {
        points: number;
        results: {
          isLong: boolean;
          fees: string;
          finalValue: number;
          depleted: boolean;
          rebalances: number;
        }[];
      };
      expect(json.points).to.equal(731);
      expect(json.results).to.have.length(4);
      const long = (fees: string) => json.results.find((r) => r.isLong && r.fees === fees)!;
      // measured: 515.10 with default fees (5.15 billion USDT), 1,087.09 without
      expect(long("default").finalValue).to.be.within(500, 530);
      expect(long("none").finalValue).to.be.within(1_050, 1_120);
      for (const r of json.results) expect(r.depleted).to.equal(false);
    } finally {
      console.log = log;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the feeder's CSV format and writes results.json and the band-width chart", async function () {
    const dir = mkdtempSync(join(tmpdir(), "backtest-"));
    try {
      const csv = join(dir, "btc.csv");
      const p = gbmPath({ seed: 9, start: 60_000, steps: 96, stepSeconds: HOUR, drift: 0, volatility: 0.7 });
      writeFileSync(
        csv,
        "timestamp,price\n" +
          p.map((x) => `${1_700_000_000 + x.t},${(Number(x.price) / 1e8).toFixed(2)}`).join("\n"),
      );
      const out = join(dir, "out");
      const log = console.log;
      const lines: string[] = [];
      console.log = (s: string) => lines.push(s);
      let code: number;
      try {
        code = await backtestMain([
          "--csv",
          csv,
          "--leverage",
          "3",
          "--bands",
          "0.2,0.5",
          "--fees",
          "default",
          "--out",
          out,
          "--no-progress",
        ]);
      } finally {
        console.log = log;
      }
      expect(code).to.equal(0);
      const json = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as {
        points: number;
        results: { label: string; finalValue: number }[];
      };
      expect(json.points).to.equal(97);
      expect(json.results).to.have.length(2 * (2 + 2 + 1));
      expect(lines.join("\n")).to.include(json.results[0]!.label);
      expect(readFileSync(join(out, "band-width.svg"), "utf8").startsWith("<svg")).to.equal(true);
      expect(readFileSync(join(out, "band-width.png")).subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
      writeFileSync(csv, "timestamp,price\n1700000000,abc\n");
      let message = "";
      try {
        await backtestMain(["--csv", csv, "--out", out, "--no-progress"]);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).to.match(/line 2: price "abc" is not a positive decimal number/);
      expect(existsSync(join(out, "results.json"))).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
