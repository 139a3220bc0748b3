// Ideal models: the worked examples hold exactly, the closed form is right where it is obvious, the
// band model converges to the closed form as the band narrows, and costs go the right way.
import { expect } from "chai";
import { gbmPrices } from "../../src/feeds/paths.ts";
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
});
