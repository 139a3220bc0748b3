import { expect } from "chai";
import fc from "fast-check";
import {
  leverageAtPriceDown,
  nextRebalanceTriggers,
  priceAtLeverageDown,
  type PositionState,
} from "../../src/cli/triggers.ts";

const WAD = 10n ** 18n;
const PRICE = 10n ** 8n;
const USDT = 10n ** 6n;
const BAND = { minLeverage: 2n * WAD, maxLeverage: 4n * WAD, ripcordLeverage: (9n * WAD) / 2n };

// 1,000 USDT at 3x on BTC at 100,000: 0.03 BTC
const LONG: PositionState = { size: (3n * WAD) / 100n, equity: 1_000n * USDT, price: 100_000n * PRICE };
const SHORT: PositionState = { ...LONG, size: -LONG.size };

describe("nextRebalanceTriggers", function () {
  it("puts a fresh 3x long's band edges at -11.1% and +33.3%, and its ripcord at -14.3%", function () {
    // 4x at P x 4 x (3 - 1) / (3 x (4 - 1)) = 8/9 P; 2x at P x 2 x 2 / (3 x 1) = 4/3 P;
    // 4.5x at P x 4.5 x 2 / (3 x 3.5) = 6/7 P; each rounded down to 1e-8 dollars
    expect(nextRebalanceTriggers(LONG, BAND)).to.deep.equal({
      atMaxLeverage: 8_888_888_888_888n,
      atMinLeverage: 13_333_333_333_333n,
      atRipcord: 8_571_428_571_428n,
    });
  });

  it("puts a fresh 3x short's band edges at +6.7% and -11.1%", function () {
    // 4x at P x 4 x (3 + 1) / (3 x (4 + 1)) = 16/15 P; 2x at P x 2 x 4 / (3 x 3) = 8/9 P;
    // 4.5x at P x 4.5 x 4 / (3 x 5.5) = 12/11 P
    expect(nextRebalanceTriggers(SHORT, BAND)).to.deep.equal({
      atMaxLeverage: 10_666_666_666_666n,
      atMinLeverage: 8_888_888_888_888n,
      atRipcord: 10_909_090_909_090n,
    });
  });

  it("has no trigger without a position or without equity, nor a long at 1x or less", function () {
    const none = { atMaxLeverage: null, atMinLeverage: null, atRipcord: null };
    expect(nextRebalanceTriggers({ ...LONG, size: 0n }, BAND)).to.deep.equal(none);
    expect(nextRebalanceTriggers({ ...LONG, equity: 0n }, BAND)).to.deep.equal(none);
    expect(nextRebalanceTriggers({ ...SHORT, equity: -1n }, BAND)).to.deep.equal(none);
    // a long's leverage falls toward 1x as the price rises, never below
    expect(priceAtLeverageDown(LONG, WAD)).to.equal(null);
    expect(priceAtLeverageDown(LONG, WAD / 2n)).to.equal(null);
    // a long at 0.5x (notional 500, equity 1,000) stays under 1x at every price
    expect(priceAtLeverageDown({ ...LONG, size: LONG.size / 6n }, 2n * WAD)).to.equal(null);
    // a short reaches any leverage: at 1x it is where equity equals notional
    expect(priceAtLeverageDown(SHORT, WAD)).to.equal(6_666_666_666_666n);
    expect(nextRebalanceTriggers(LONG, { minLeverage: 2n * WAD, maxLeverage: 4n * WAD }).atRipcord).to.equal(
      null,
    );
  });

  it("gives prices at which the leverage is the one asked for (property)", function () {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.bigInt({ min: 10n ** 12n, max: 10n ** 24n }), // |size|
        fc.bigInt({ min: 1_000n * PRICE, max: 200_000n * PRICE }), // price
        fc.integer({ min: 1_100, max: 9_000 }), // current leverage x 1000
        fc.integer({ min: 1_100, max: 9_000 }), // target leverage x 1000
        (isLong, abs, price, current, target) => {
          const size = isLong ? abs : -abs;
          const equity = (abs * price * 1000n) / (BigInt(current) * 10n ** 20n);
          fc.pre(equity > 10n * USDT);
          const p = { size, equity, price };
          const leverage = (BigInt(target) * WAD) / 1000n;
          const at = priceAtLeverageDown(p, leverage);
          expect(at, "a price exists").to.be.a("bigint");
          const got = leverageAtPriceDown(p, at!);
          expect(got, "equity remains there").to.be.a("bigint");
          // the price is rounded down by less than 1e-8 dollars: the leverage there is within 1e-9
          // of the target, relative
          const diff = got! > leverage ? got! - leverage : leverage - got!;
          expect(diff * 10n ** 9n <= leverage, `leverage ${got} vs ${leverage}`).to.equal(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("computes leverage at a price from size, equity and the move", function () {
    expect(leverageAtPriceDown(LONG, LONG.price)).to.equal(3n * WAD);
    // long -10%: notional 2,700, equity 700: 3.857142857142857142x
    expect(leverageAtPriceDown(LONG, 90_000n * PRICE)).to.equal(3_857_142_857_142_857_142n);
    // short +10%: notional 3,300, equity 700: 4.714285714285714285x
    expect(leverageAtPriceDown(SHORT, 110_000n * PRICE)).to.equal(4_714_285_714_285_714_285n);
    expect(leverageAtPriceDown(LONG, 60_000n * PRICE)).to.equal(null); // equity gone
    expect(leverageAtPriceDown({ ...LONG, size: 0n }, LONG.price)).to.equal(0n);
  });
});
