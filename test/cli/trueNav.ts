// NAV per token with the digits it has: six decimals from 0.01 up, four significant digits below.
import { expect } from "chai";
import { formatPerToken, perTokenDown, perTokenJson } from "../../src/cli/trueNav.ts";
import { valueAtNavDown, valueAtPerTokenDown } from "../../src/cli/balance.ts";
import { STATE } from "../../src/cli/errors.ts";
import { deadPool } from "../../src/cli/spot.ts";
import {
  exactDecimal,
  formatFloat,
  formatSignificant,
  formatValue,
  parseExact,
  ratio18,
} from "../../src/report/digits.ts";

const WAD = 10n ** 18n;

describe("true NAV", function () {
  it("divides total assets (USDT) by supply (shares) with 18 decimals, rounding down", function () {
    expect(perTokenDown(2_352_104n, WAD)).to.equal(2_352_104n * 10n ** 12n);
    expect(perTokenDown(1n, 3n * WAD)).to.equal(333_333_333_333n); // 1e-6 USDT over 3 tokens
    expect(perTokenDown(0n, WAD)).to.equal(0n);
    expect(perTokenDown(0n, 0n)).to.equal(WAD); // no supply: 1 USDT, as nav() says
  });

  const shown: [bigint, string, string][] = [
    [2_352_104_999_999_999_999n, "2.352104", "2.352104999999999999"],
    [10n ** 16n, "0.01", "0.01"],
    [16_234_567_890n, "0.00000001623", "0.00000001623456789"],
    [999_999_999_999_999n, "0.0009999", "0.000999999999999999"],
    [1n, "0.000000000000000001", "0.000000000000000001"],
    [0n, "0.00", "0"],
  ];
  for (const [value, text, exact] of shown) {
    it(`shows ${exact} as ${text}`, function () {
      expect(formatPerToken(value)).to.equal(text);
      expect(perTokenJson(value)).to.equal(exact);
    });
  }
});

describe("values with all their digits (src/report/digits.ts)", function () {
  const cases: [bigint, string][] = [
    [909_999_999_999_999_999n, "0.91"], // what the 6-decimal nav() printed as 0.909999
    [910_000_000_000_000_000n, "0.91"],
    [514_777_412_345_678_901_234n, "514.777"],
    [16_048_412_345n, "0.0000000160484"],
    [1n, "0.000000000000000001"],
    [0n, "0"],
    [1_234_567_890_000_000_000_000_000n, "1234568"], // the whole part is never rounded away
  ];
  for (const [value, text] of cases)
    it(`shows ${value} (18 decimals) as ${text}`, function () {
      expect(formatValue(value)).to.equal(text);
    });

  it("keeps exact decimals exact, and floats in plain notation", function () {
    expect(exactDecimal(514_777_412_345_678_901_234n)).to.equal("514.777412345678901234");
    expect(parseExact("514.777412345678901234")).to.equal(514_777_412_345_678_901_234n);
    expect(parseExact("0")).to.equal(0n);
    expect(() => parseExact("1e-8")).to.throw(/not a decimal/);
    expect(formatFloat(1.6234567e-8)).to.equal("0.0000000162346");
    expect(formatFloat(0)).to.equal("0");
    expect(formatSignificant(123_456n, 6, 2)).to.equal("0.12");
    expect(ratio18(1n, 0n)).to.equal(0n);
    expect(ratio18(91n, 100n)).to.equal(910_000_000_000_000_000n);
  });
});

describe("lt with a token worth dust or nothing", function () {
  it("values a decayed holding with its digits (nav() said 0) and calls a depleted or zero-settled pool dead", function () {
    // 1,000,000 BTC3S at 1.6e-8 USDT a token: 0.016 USDT, not 0
    const perToken = perTokenDown(16_000n, 10n ** 24n);
    expect(perToken).to.equal(16_000_000_000n);
    expect(valueAtPerTokenDown(1_000_000n * WAD, perToken)).to.equal(16_000n);
    expect(valueAtNavDown(1_000_000n * WAD, perToken / 10n ** 12n)).to.equal(0n); // the 6-decimal way
    expect(deadPool(STATE.Depleted, 0n)).to.equal(true);
    expect(deadPool(STATE.Settled, 0n)).to.equal(true);
    expect(deadPool(STATE.Settled, 10n ** 17n)).to.equal(false); // a settled token redeems at its payout
    expect(deadPool(STATE.Active, 1n)).to.equal(false); // dust, but alive
  });
});
