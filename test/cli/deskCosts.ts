// The cost split `lt mint` and `lt redeem` print for a desk token: the request's pro-rata share of
// its batch's fee, trading cost and bounty, and the fee's worth at the NAV after the fill.
import { expect } from "chai";
import { costRows, sidesWithNetting, type FillReport } from "../../src/cli/desk.ts";

const WAD = 10n ** 18n;
const USDT = 10n ** 6n;

function fill(over: Partial<FillReport>): FillReport {
  return {
    batch: 3n,
    firstEpoch: 3n,
    round: 1_796_287_718n,
    assetsIn: 0n,
    sharesOut: 0n,
    sharesIn: 0n,
    assetsOut: 0n,
    depositRefused: false,
    redeemRefused: false,
    caller: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    bounty: 0n,
    tx: "0x" + "c6".repeat(32),
    block: 135,
    timestamp: 0,
    navAfter: WAD,
    ...over,
  };
}

describe("lt mint and lt redeem: the cost split of a desk fill", function () {
  it("a mint alone in its batch: the fee is 0.05% of the shares minted, worth 0.05% of the USDT added at the NAV after", function () {
    // the e2e fill on the hardhat node: BTC3L at NAV 0.639 after a 12% BTC drop, 1,000 USDT in,
    // 1,561.51 shares to the desk and 0.781147 to the treasury (PositionResized.feeShares)
    const f = fill({
      assetsIn: 1000n * USDT,
      sharesOut: 1_561_513_039_896_974_732_891n,
      navAfter: 639_123_733_746_626_857n,
      mint: {
        tradingCost: 1_500_705n,
        feeShares: 781_147_093_495_234_984n,
        managementFeeShares: 531_608_718_254_173n,
        price: 8_800_434_908_755n,
      },
    });
    const { data, rows } = costRows("BTC3L", "deposit", f, 1000n * USDT);
    expect(data.feeShares).to.equal("0.781147093495234984");
    expect(data.feeUsdt).to.equal("0.499249"); // 0.05% of 1,000 less the 1.500705 trading cost
    expect(data.tradingCost).to.equal("1.500705");
    expect(data.bounty).to.equal("0");
    // the management fee accrued first is in the NAV, not in the mint fee
    expect(rows.find(([k]) => k === "costs")![1]).to.equal(
      "mint fee 0.781147 BTC3L (about 0.499249 USDT), trading cost 1.500705 USDT (your share of the batch's)",
    );
  });

  it("a mint sharing its batch gets its own pro-rata share of the batch's fee, trading cost and bounty, rounded down", function () {
    // 1,000 of 4,000 USDT: a quarter of everything
    const f = fill({
      assetsIn: 4000n * USDT,
      sharesOut: 6_246_000n * 10n ** 15n,
      bounty: 5n * USDT,
      navAfter: 64n * 10n ** 16n,
      mint: {
        tradingCost: 6_000_003n,
        feeShares: 3_124_562_281_140_570_286n,
        managementFeeShares: 7n,
        price: 1n,
      },
    });
    const { data } = costRows("BTC3L", "deposit", f, 1000n * USDT);
    expect(data.feeShares).to.equal("0.781140570285142571");
    expect(data.tradingCost).to.equal("1.5"); // 6.000003 / 4, rounded down
    expect(data.bounty).to.equal("1.25");
    expect(data.feeUsdt).to.equal("0.499929"); // 0.781140570285142571 x 0.64, rounded down
    expect(data.batchUsdtIn).to.equal("4000");
  });

  it("a redeem's share is its shares over the batch's, and it pays the bounty only when no deposit was filled", function () {
    const redeem = { tradingCost: 400_000n, feeShares: 2n * 10n ** 17n, managementFeeShares: 0n, price: 1n };
    const withDeposits = fill({ assetsIn: 10n * USDT, sharesIn: 400n * WAD, bounty: USDT, redeem });
    const mine = costRows("BTC3L", "redeem", withDeposits, 100n * WAD).data;
    expect(mine.feeShares).to.equal("0.05");
    expect(mine.tradingCost).to.equal("0.1");
    expect(mine.bounty).to.equal("0");
    const alone = fill({ sharesIn: 400n * WAD, bounty: USDT, redeem });
    expect(costRows("BTC3L", "redeem", alone, 100n * WAD).data.bounty).to.equal("0.25");
  });

  it("a fill whose side has no PositionResized reports no fee and no trading cost", function () {
    const { data } = costRows("BTC3L", "deposit", fill({ assetsIn: 100n * USDT }), 100n * USDT);
    expect(data.feeShares).to.equal("0");
    expect(data.feeUsdt).to.equal("0");
    expect(data.tradingCost).to.equal("0");
  });
});

describe("lt mint and lt redeem: a netted fill's costs", function () {
  const side = {
    tradingCost: 2n * USDT,
    feeShares: 5n * WAD,
    managementFeeShares: 1n,
    price: 88_000n * 10n ** 8n,
  };
  const netted = {
    shares: 100n * WAD,
    assets: 99n * USDT,
    redeemFeeShares: 3n * WAD,
    mintFeeShares: 4n * WAD,
  };

  it("adds the fee on the matched shares to the fee the token charged on the rest, side by side", function () {
    const s = sidesWithNetting({ mint: side }, netted);
    expect(s.mint).to.deep.equal({ ...side, feeShares: 9n * WAD });
    // the redemptions were all matched: their fee is the desk's, and they paid no trading cost
    expect(s.redeem).to.deep.equal({
      tradingCost: 0n,
      feeShares: 3n * WAD,
      managementFeeShares: 0n,
      price: side.price,
    });
  });

  it("leaves a fill that was not netted as the token reported it", function () {
    const sides = { mint: side };
    expect(sidesWithNetting(sides, undefined)).to.equal(sides);
  });
});
