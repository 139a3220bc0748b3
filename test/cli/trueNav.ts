// NAV per token with the digits it has: six decimals from 0.01 up, four significant digits below.
import { expect } from "chai";
import { formatPerToken, perTokenDown, perTokenJson } from "../../src/cli/trueNav.ts";

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
