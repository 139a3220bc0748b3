// Ideal models: the worked examples hold exactly, the closed form is right where it is obvious, the
// band model converges to the closed form as the band narrows, and costs go the right way.
import { expect } from "chai";
import { gbmPath, gbmPrices } from "../../src/feeds/paths.ts";
import { historyWindow, loadHistory } from "../../src/feeds/history.ts";
import {
  bandIdealFor,
  modelGap,
  runSetting,
  type BacktestPath,
  type Setting,
} from "../../src/backtest/backtest.ts";
import {
  D,
  bandValue,
  continuousLogValue,
  continuousValue,
  dailyResetValue,
  realizedVariance,
} from "../../src/engine/ideal.ts";
import { explainDailyPath, explainResult } from "../../src/engine/explain.ts";

describe("Ideal models", function () {
  describe("reset daily", function () {
    it("3x on +10% then -10% ends at exactly 0.91 of the start, against 0.99 for the underlying", function () {
      expect(dailyResetValue([100, 110, 99], 3).eq("0.91")).to.equal(true);
      expect(new D(99).div(100).eq("0.99")).to.equal(true);
      const e = explainDailyPath([100, 110, 99], 3);
      expect(e.token.eq("0.91") && e.underlying.eq("0.99")).to.equal(true);
      expect(e.text).to.contain("0.9100x").and.contain("0.9900x").and.contain("volatility decay");
    });

    it("3x on +10% then +10% ends at exactly 1.69 of the start, against 1.21 for the underlying", function () {
      expect(dailyResetValue([100, 110, 121], 3).eq("1.69")).to.equal(true);
      const e = explainDailyPath([100, 110, 121], 3);
      expect(e.underlying.eq("1.21")).to.equal(true);
      expect(e.text).to.contain("1.6900x").and.contain("compounded");
    });

    it("a 3x short on +10% then -10% also ends at 0.91, and is floored at zero by a gap past -33%", function () {
      expect(dailyResetValue([100, 110, 99], -3).eq("0.91")).to.equal(true);
      expect(dailyResetValue([100, 140, 100], -3).eq(0)).to.equal(true);
      expect(dailyResetValue([100, 60], 3).eq(0)).to.equal(true);
    });
  });

  describe("continuous rebalancing (closed form)", function () {
    it("without volatility or fees is exactly (S_T/S_0)^L", function () {
      const v = continuousValue({ leverage: 3, start: 100, end: 121, years: 1, sigma: 0 });
      expect(v.minus("1.771561").abs().lt("1e-35")).to.equal(true);
      const s = continuousValue({ leverage: -3, start: 100, end: 125, years: 1, sigma: 0 });
      expect(s.minus("0.512").abs().lt("1e-35")).to.equal(true);
    });

    it("charges (L^2 - L) sigma^2 T / 2 of volatility decay and the fees and funding on top", function () {
      const base = continuousLogValue({ leverage: 3, start: 1, end: 1, years: 2, sigma: "0.5" });
      expect(base.eq("-1.5")).to.equal(true); // (9 - 3) x 0.25 x 2 / 2
      const withFees = continuousLogValue({
        leverage: 3,
        start: 1,
        end: 1,
        years: 2,
        sigma: "0.5",
        managementFee: "0.01",
        fundingRate: "0.1",
      });
      expect(withFees.eq("-2.12")).to.equal(true); // -1.5 - 0.02 - 3 x 0.1 x 2
      const short = continuousLogValue({
        leverage: -3,
        start: 1,
        end: 1,
        years: 1,
        sigma: "0.5",
        fundingRate: "0.1",
      });
      expect(short.eq(new D("-1.5").plus("0.3"))).to.equal(true); // decay 12 x 0.25 / 2, receives 0.3
    });

    it("explains a result as trend, compounding, volatility decay and fee drag that multiply back", function () {
      const e = explainResult({
        leverage: 3,
        start: 100,
        end: 130,
        sigma: "0.6",
        years: 1,
        managementFee: "0.01825",
      });
      const recomposed = e.naiveMultiple
        .plus(e.compounding)
        .times(new D(1).minus(e.volatilityDecay))
        .times(new D(1).minus(e.feeDrag));
      expect(recomposed.minus(e.tokenMultiple).abs().lt("1e-30")).to.equal(true);
      expect(e.compounding.gt(0)).to.equal(true);
      expect(e.text).to.contain(e.tokenMultiple.toFixed(4)).and.contain("Volatility decay took 66.04%");
    });
  });

  describe("band rebalancing", function () {
    const prices = Array.from(
      gbmPrices({ seed: 7, start: 100_000, steps: 20_000, stepSeconds: 600, drift: 0.1, volatility: 0.6 }),
    );
    const closed = continuousLogValue({
      leverage: 3,
      start: prices[0]!,
      end: prices[prices.length - 1]!,
      years: 0,
      variance: realizedVariance(prices),
    });

    it("converges to the closed form as the band narrows (no costs)", function () {
      const errors = ["0.5", "0.1", "0.02", "0.004"].map((half) => {
        const r = bandValue(prices, {
          target: 3,
          isLong: true,
          min: new D(3).minus(half),
          max: new D(3).plus(half),
          stepSeconds: 600,
        });
        return r.value.ln().minus(closed).abs();
      });
      for (let k = 1; k < errors.length; k++) expect(errors[k]!.lt(errors[k - 1]!)).to.equal(true);
      expect(errors[errors.length - 1]!.lt("0.01")).to.equal(true);
    });

    it("pays trading fees and funding, receives funding as a short, and books the management fee", function () {
      const common = {
        target: 3,
        min: 2,
        max: 4,
        stepSeconds: 600,
        fundingRate: "0.0001",
        managementFee: "0.01825",
      };
      const free = bandValue(prices, { ...common, isLong: true, fundingRate: 0, managementFee: 0 });
      const long = bandValue(prices, { ...common, isLong: true, takerFee: "0.0005" });
      const short = bandValue(prices, { ...common, isLong: false, takerFee: "0.0005" });
      expect(long.rebalances).to.be.greaterThan(0);
      expect(long.tradingFees.gt(0) && long.funding.gt(0) && long.managementFees.gt(0)).to.equal(true);
      expect(long.value.lt(free.value)).to.equal(true);
      expect(short.funding.lt(0)).to.equal(true);
    });

    it("is depleted by a gap larger than 1/L", function () {
      const r = bandValue([100, 66], { target: 3, isLong: true, min: 2, max: 4, stepSeconds: 3600 });
      expect(r.depleted).to.equal(true);
      expect(r.value.eq(0)).to.equal(true);
    });
  });

  describe("band rebalancing with the chain's conventions", function () {
    const YEAR = 365 * 86400;
    const band = { target: 3, isLong: true, min: 2, max: 4 };

    it("charges funding at the price each update replaces, for the seconds it held", function () {
      // 3x of 1 at 100 for 8 h, then 200 for 16 h: funding is 3 x 1e-4 (the notional at 100), then
      // 6 x 2 x 1e-4 (the notional the doubling left, at 200); the first interval is not charged at 200
      const r = bandValue([100, 200, 200], {
        ...band,
        min: "0.1",
        max: 100,
        stepSeconds: 0,
        times: [0, 8 * 3600, 24 * 3600],
        fundingRate: "0.0001",
      });
      expect(r.rebalances).to.equal(0);
      expect(r.funding.eq(new D("0.0003").plus(new D(6).times("0.0002")))).to.equal(true);
      // the equity: 1 + 3 (the doubling) - the funding
      expect(r.equity.eq(new D(4).minus(r.funding))).to.equal(true);
    });

    it("takes the management fee in fee shares at each accrual: value, not equity or leverage", function () {
      // a flat path: leverage stays 3x, nothing rebalances, one accrual at the end for the whole year
      const flat = bandValue([100, 100, 100], {
        ...band,
        stepSeconds: YEAR / 2,
        managementFee: "0.02",
      });
      expect(flat.rebalances).to.equal(0);
      expect(flat.equity.eq(1)).to.equal(true);
      expect(flat.value.eq("0.98")).to.equal(true);
      expect(flat.managementFees.eq("0.02")).to.equal(true);
      // +50% after a quarter: 3x long goes to 4.5 / 2.5 = 1.8x, below the band: the rebalance accrues
      // for the quarter, the end for the rest; (1 - 0.02 / 4)(1 - 0.02 x 3 / 4), not 1 - 0.02
      const r = bandValue([100, 150, 150], {
        ...band,
        stepSeconds: 0,
        times: [0, YEAR / 4, YEAR],
        managementFee: "0.02",
      });
      expect(r.rebalances).to.equal(1);
      expect(r.equity.eq("2.5")).to.equal(true);
      expect(r.value.eq(new D("2.5").times("0.995").times("0.985"))).to.equal(true);
    });

    it("opens at target x deposit with the taker fee out of the deposit, and a new token's first daily check rebalances", function () {
      // 1% taker fee: the opening trade leaves 3 / 0.97 = 3.093x, off by more than the 0.05x epsilon,
      // so the first update rebalances though it is on the same day (a new token has never rebalanced)
      const r = bandValue([100, 100], {
        ...band,
        dailyEpsilon: "0.05",
        stepSeconds: 3600,
        startTime: 1_767_225_600,
        takerFee: "0.01",
      });
      expect(r.rebalances).to.equal(1);
      // it trades 3 / 0.97 - 3 of notional back, at 1%
      const cost = new D(3).div("0.97").minus(3).times("0.01");
      expect(r.tradingFees.eq(cost)).to.equal(true);
      expect(r.value.eq(new D(1).minus(cost))).to.equal(true);
      // without the daily check nothing trades: 3.093x is inside [2x, 4x]
      const bandOnly = bandValue([100, 100], { ...band, stepSeconds: 3600, takerFee: "0.01" });
      expect(bandOnly.rebalances).to.equal(0);
    });

    // The exact engine (the backtest's token, which equals the contracts to the unit in the
    // differential tests and the demo) against the model, fees and funding on. 10,000,000 USDT
    // deposits keep the engine's roundings (a unit of 1e-6 USDT per trade, funding and fee) below
    // 1e-10 of the equity, so what is left is the model.
    const DEPOSIT = 10_000_000n * 10n ** 6n;
    const settings = (isLong: boolean): Setting[] =>
      (["default", "double"] as const).flatMap((fees) =>
        (["band+daily", "band"] as const).map((mode) => ({
          leverage: 3,
          isLong,
          mode,
          bandWidth: 1 / 3,
          fees,
        })),
      );
    const agree = (path: BacktestPath, isLong: boolean) => {
      for (const s of settings(isLong)) {
        const engine = runSetting(path, s, DEPOSIT);
        const model = bandIdealFor(path, s);
        const label = `${engine.label}: engine ${engine.finalValueExact}, model ${model.value.toSignificantDigits(15).toString()}`;
        expect(engine.depleted, label).to.equal(false);
        expect(engine.rebalances, label).to.equal(model.rebalances);
        expect(engine.rebalances, label).to.be.greaterThan(0);
        expect(model.funding.isZero() || model.managementFees.isZero(), label).to.equal(false);
        expect(modelGap(engine.finalValueExact, model), label).to.be.lessThan(1e-9);
      }
    };

    describe("agree with the exact engine to 1e-9 relative", function () {
      this.timeout(120_000);
      const g = gbmPath({
        seed: 1,
        start: 100_000,
        steps: 365 * 24,
        stepSeconds: 3600,
        drift: 0,
        volatility: 0.6,
      });
      const seeded: BacktestPath = { times: g.map((p) => p.t), prices: g.map((p) => p.price) };
      const btc = loadHistory("btc");
      const window = (from: bigint, to: bigint): BacktestPath => {
        const rows = historyWindow(btc, from, to);
        return { times: rows.map((p) => p.t - rows[0]!.t), prices: rows.map((p) => p.price) };
      };
      const real = window(1_451_606_400n, 1_483_142_400n); // 2016-01-01 .. 2016-12-31

      it("a year of hourly seeded prices, 3x long, funding and management fee on", function () {
        agree(seeded, true);
      });

      it("a year of hourly seeded prices, 3x short (receiving funding)", function () {
        agree(seeded, false);
      });

      it("BTC's real daily closes of 2016, 3x long and short", function () {
        agree(real, true);
        agree(real, false);
      });

      it("BTC's closes after the 2020-03-12 crash, with the days the data set misses (3x long)", function () {
        const after = window(1_584_057_600n, 1_615_507_200n); // 2020-03-13 .. 2021-03-12
        const steps = new Set(after.times.slice(1).map((t, k) => t - after.times[k]!));
        expect([...steps].some((dt) => dt > 86_400)).to.equal(true);
        agree(after, true);
      });

      it("the rest is the engine's rounding: a tenth of the deposit, ten times the gap", function () {
        const s: Setting = {
          leverage: 3,
          isLong: false,
          mode: "band+daily",
          bandWidth: 1 / 3,
          fees: "default",
        };
        const model = bandIdealFor(real, s);
        const big = modelGap(runSetting(real, s, DEPOSIT).finalValueExact, model);
        const small = modelGap(runSetting(real, s, DEPOSIT / 10n).finalValueExact, model);
        expect(small / big).to.be.within(5, 20);
      });
    });
  });
});
