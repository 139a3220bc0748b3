// Pool math: the pair's formulas, the band, and trade sizes that land exactly at the band's edge.
import { expect } from "chai";
import fc from "fast-check";
import {
  afterBuy,
  afterSell,
  buyToLower,
  getAmountIn,
  getAmountOut,
  lessThan,
  isDeadNav,
  noArbitrageBand,
  noArbitrageBandAt,
  position,
  ratioToNumber,
  spotPrice,
  sellToUpper,
  sqrtDown,
  type Reserves,
} from "../../src/spot/poolMath.ts";

const WAD = 10n ** 18n;
const FEES = { mintFee: WAD / 2000n, redeemFee: WAD / 2000n, tradingCost: (15n * WAD) / 10_000n };

describe("spot pool math", function () {
  it("getAmountOut and getAmountIn are the pair's formulas, rounded for the pool", function () {
    // 1 token into 100 / 100: 997 * 100 / (100 * 1000 + 997) = 0.98715..., rounded down
    expect(getAmountOut(10n ** 18n, 100n * WAD, 100n * 10n ** 6n)).to.equal(987158n);
    // 987158 USDT units out needs at most 1 token in; the router rounds the input up
    const back = getAmountIn(987158n, 100n * WAD, 100n * 10n ** 6n);
    expect(back <= 10n ** 18n).to.equal(true);
    expect(getAmountOut(back, 100n * WAD, 100n * 10n ** 6n)).to.equal(987158n);
    expect(() => getAmountIn(100n, 10n, 100n)).to.throw(/too little liquidity/);
  });

  it("the band is NAV over and under the fees, computed independently in floats", function () {
    const band = noArbitrageBand(1_234_567n, FEES);
    const nav = 1.234567;
    const upper = nav / (0.9995 * 0.9985 * 0.997);
    const lower = nav * 0.9995 * 0.9985 * 0.997;
    expect(Math.abs((Number(band.upper.num) / Number(band.upper.den)) * 1e12 - upper)).to.be.lessThan(1e-9);
    expect(Math.abs((Number(band.lower.num) / Number(band.lower.den)) * 1e12 - lower)).to.be.lessThan(1e-9);
    expect(() => noArbitrageBand(1n, { ...FEES, mintFee: WAD })).to.throw(/mintFee/);
  });

  it("sqrtDown is the integer square root", function () {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 700n }), (n) => {
        const r = sqrtDown(n);
        return r * r <= n && (r + 1n) * (r + 1n) > n;
      }),
    );
  });

  const pools = fc.record({
    token: fc.bigInt({ min: 10n ** 18n, max: 10n ** 27n }),
    nav: fc.bigInt({ min: 1_000n, max: 10n ** 10n }),
  });
  /** Reserves priced at `factor` x NAV. */
  const reservesAt = (token: bigint, nav: bigint, factor: number): Reserves => ({
    token,
    usdt: (token * nav * BigInt(Math.round(factor * 1e6))) / (WAD * 1_000_000n),
  });

  it("selling sellToUpper tokens ends at or just under the upper edge", function () {
    fc.assert(
      fc.property(pools, fc.double({ min: 1.006, max: 3, noNaN: true }), ({ token, nav }, factor) => {
        const r = reservesAt(token, nav, factor);
        const band = noArbitrageBand(nav, FEES);
        fc.pre(r.usdt > 10_000n && position(r, band) === "above");
        const dx = sellToUpper(r, band.upper);
        const after = afterSell(r, dx);
        expect(position(after, band)).to.equal("inside");
        // not past it by more than the sizing's step: 0.01% fewer tokens leave it above
        const less = dx - dx / 10_000n - 1n;
        if (less > 0n)
          expect(
            lessThan(band.upper, { num: afterSell(r, less).usdt, den: afterSell(r, less).token }),
          ).to.equal(true);
      }),
      { numRuns: 200 },
    );
  });

  it("buying buyToLower tokens ends at or just over the lower edge", function () {
    fc.assert(
      fc.property(pools, fc.double({ min: 0.3, max: 0.994, noNaN: true }), ({ token, nav }, factor) => {
        const r = reservesAt(token, nav, factor);
        const band = noArbitrageBand(nav, FEES);
        fc.pre(r.usdt > 10_000n && position(r, band) === "below");
        const dx = buyToLower(r, band.lower);
        const after = afterBuy(r, dx);
        expect(position(after, band)).to.equal("inside");
        const less = dx - dx / 10_000n - 1n;
        if (less > 0n) expect(position(afterBuy(r, less), band)).to.equal("below");
      }),
      { numRuns: 200 },
    );
  });

  it("a pool inside the band needs no trade", function () {
    const band = noArbitrageBand(10n ** 6n, FEES);
    const r = { token: 1000n * WAD, usdt: 1000n * 10n ** 6n };
    expect(sellToUpper(r, band.upper)).to.equal(0n);
    expect(buyToLower(r, band.lower)).to.equal(0n);
  });

  describe("a token worth dust or nothing", function () {
    // BTC3S over 2016-2017: 1.6e-8 USDT a token while Active; nav() (6 decimals) says 0
    const dust = { num: 16_000n, den: 10n ** 24n }; // 16,000 USDT units over 1,000,000 tokens
    const pool = { token: 1000n * WAD, usdt: 520n * 10n ** 6n }; // the pool still quotes 0.52

    it("prices the band at total assets over supply, so a dust NAV keeps its digits", function () {
      expect(noArbitrageBand(0n, FEES).upper.num).to.equal(0n); // what nav() gave: a band at 0
      const band = noArbitrageBandAt(dust, FEES);
      expect(ratioToNumber(band.upper)).to.be.within(1.6e-8, 1.7e-8);
      expect(ratioToNumber(band.lower)).to.be.within(1.5e-8, 1.6e-8);
      expect(isDeadNav(dust)).to.equal(false);
      // the mint-and-sell size exists and lands inside the band (the pool is far above it)
      const dx = sellToUpper(pool, band.upper);
      expect(dx > 0n).to.equal(true);
      expect(position(afterSell(pool, dx), band)).to.equal("inside");
    });

    it("refuses, in words, to size a sale down to a price of 0 (was: Division by zero)", function () {
      const dead = noArbitrageBandAt({ num: 0n, den: 10n ** 24n }, FEES);
      expect(isDeadNav({ num: 0n, den: 1n })).to.equal(true);
      expect(position(pool, dead)).to.equal("above");
      expect(() => sellToUpper(pool, dead.upper)).to.throw(/upper edge is 0 \(a token worth nothing\)/);
      // nothing is ever below a lower edge of 0: no purchase
      expect(buyToLower(pool, dead.lower)).to.equal(0n);
      expect(() => noArbitrageBandAt({ num: 1n, den: 0n }, FEES)).to.throw(/non-negative fraction/);
      expect(Number.isNaN(ratioToNumber(spotPrice({ token: 0n, usdt: 5n })))).to.equal(true);
    });
  });
});
