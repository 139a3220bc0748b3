// The operator's rules as pure functions: each refusal is the sentence the contract's check means,
// and the derived band is the 3x band scaled to the target.
import { expect } from "chai";
import { bandFor } from "../../src/common/params.ts";
import {
  delistingProblem,
  feesProblem,
  MIN_DELISTING_NOTICE,
  newFees,
  newTokenSpec,
  parseMarketName,
  parseSide,
  parseTokenLeverage,
  tokenSpecProblem,
} from "../../src/cli/adminRules.ts";
import { upkeepGasLimit } from "../../src/cli/automation.ts";

const WAD = 10n ** 18n;
const EXCHANGE_MAX = 10n * WAD;

describe("lt admin's rules", function () {
  it("derives the band and ripcord of any leverage as the 3x token's, scaled", function () {
    expect(bandFor(3n * WAD)).to.deep.equal({
      minLeverage: 2n * WAD,
      maxLeverage: 4n * WAD,
      ripcordLeverage: (9n * WAD) / 2n,
      rebalanceEpsilon: WAD / 20n,
    });
    const eth5s = newTokenSpec("ETH", 5n, false);
    expect(eth5s.symbol).to.equal("ETH5S");
    expect(eth5s.name).to.equal("ETH 5x Short");
    expect(eth5s.ripcordLeverage).to.equal((15n * WAD) / 2n);
    expect(tokenSpecProblem(eth5s, EXCHANGE_MAX)).to.equal(null);
    const given = newTokenSpec("SOL", 2n, true, { maxLeverage: (5n * WAD) / 2n });
    expect(given.maxLeverage).to.equal((5n * WAD) / 2n);
    expect(given.minLeverage).to.equal((4n * WAD) / 3n);
  });

  const refusals: [string, () => unknown, string][] = [
    ["leverage 6", () => parseTokenLeverage("6"), "a token's leverage must be from 2x to 5x (got 6)"],
    ["leverage 1x", () => parseTokenLeverage("1x"), "a token's leverage must be from 2x to 5x (got 1x)"],
    [
      "leverage 2.5",
      () => parseTokenLeverage("2.5"),
      '"2.5" is not a leverage: write a whole number from 2 to 5',
    ],
    ["side up", () => parseSide("up"), '"up" is not a side: write long or short'],
    ["market S-O-L", () => parseMarketName("S-O-L"), '"S-O-L" is not a market name'],
  ];
  for (const [name, call, sentence] of refusals) {
    it(`refuses ${name}: "${sentence}"`, function () {
      expect(call).to.throw(sentence);
    });
  }

  it("says which of the token constructor's checks a band would fail", function () {
    const spec = newTokenSpec("ETH", 4n, true);
    const cases: [Partial<typeof spec>, bigint, string | null][] = [
      [{}, EXCHANGE_MAX, null],
      [{}, 3n * WAD, "the exchange allows at most 3.00x, below the target 4.00x"],
      [
        { minLeverage: 4n * WAD },
        EXCHANGE_MAX,
        "the band's lower edge 4.00x must be above 0x and below the target 4.00x",
      ],
      [{ maxLeverage: 4n * WAD }, EXCHANGE_MAX, "the band's upper edge 4.00x must be above the target 4.00x"],
      [
        { ripcordLeverage: 5n * WAD },
        EXCHANGE_MAX,
        "the ripcord 5.00x must be at or above the band's upper edge 5.33x",
      ],
      [
        {},
        5n * WAD,
        "the ripcord 6.00x must be at or above the band's upper edge 5.33x and at most the exchange's 5.00x",
      ],
      [{ rebalanceEpsilon: 2n * WAD }, EXCHANGE_MAX, "the daily rebalance threshold 2.00x must be above 0x"],
    ];
    for (const [change, max, sentence] of cases) {
      const problem = tokenSpecProblem({ ...spec, ...change }, max);
      if (sentence === null) expect(problem).to.equal(null);
      else expect(problem).to.include(sentence);
    }
  });

  it("keeps the fees not given and refuses one past its cap or finer than a pip", function () {
    const current = {
      mintFee: 5n * 10n ** 14n,
      redeemFee: 5n * 10n ** 14n,
      managementFee: 10n ** 16n,
      rebalanceBounty: 5_000_000n,
    };
    const fees = newFees(current, { redeem: "0.1%", bounty: "0" });
    expect(fees).to.deep.equal({ ...current, redeemFee: 10n ** 15n, rebalanceBounty: 0n });
    expect(feesProblem(fees)).to.equal(null);
    expect(feesProblem(newFees(current, { management: "6%" }))).to.equal(
      "the management fee 6% is above its cap of 5%",
    );
    expect(feesProblem(newFees(current, { bounty: "101" }))).to.equal(
      "the ripcord bounty 101.00 USDT is above its cap of 100.00 USDT",
    );
    expect(feesProblem(newFees(current, { mint: "0.00015%" }))).to.equal(
      "the mint fee 0.00015% is finer than the token stores (whole pips, 0.0001%)",
    );
    expect(feesProblem(newFees(current, { mint: "0.0002%" }))).to.equal(null);
  });

  it("asks for three days' notice of a delisting, to the second", function () {
    const now = 1_800_000_000;
    expect(delistingProblem(now + MIN_DELISTING_NOTICE, now)).to.equal(null);
    expect(delistingProblem(now + MIN_DELISTING_NOTICE - 1, now)).to.equal(
      `a delisting needs at least 3 days' notice: the earliest time now is ${new Date((now + MIN_DELISTING_NOTICE) * 1000).toISOString()}`,
    );
  });

  it("registers an upkeep with its measured gas + 50%, rounded up", function () {
    expect(upkeepGasLimit(100_000n)).to.equal(150_000n);
    expect(upkeepGasLimit(100_001n)).to.equal(150_002n);
  });
});
