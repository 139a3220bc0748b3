import { expect } from "chai";
import fc from "fast-check";
import { CliError } from "../../src/cli/cliError.ts";
import {
  decimalString,
  formatChange,
  formatDown,
  formatLeverage,
  formatNav,
  formatPercent,
  formatPrice,
  formatShares,
  formatUsdt,
  parseAmount,
  parsePercent,
} from "../../src/cli/format.ts";
import { valueAtNavDown } from "../../src/cli/balance.ts";
import { minimumOutDown } from "../../src/cli/trade.ts";

const WAD = 10n ** 18n;

describe("CLI formatting", function () {
  it("writes exact decimal strings for JSON", function () {
    expect(decimalString(1_000_000_000n, 6)).to.equal("1000");
    expect(decimalString(1_500_000n, 6)).to.equal("1.5");
    expect(decimalString(1n, 18)).to.equal("0.000000000000000001");
    expect(decimalString(-1_250_000n, 6)).to.equal("-1.25");
    expect(decimalString(0n, 6)).to.equal("0");
  });

  it("shows amounts truncated toward zero, with separators and 2-6 decimals of USDT", function () {
    expect(formatUsdt(1_000_000_000n)).to.equal("1,000.00");
    expect(formatUsdt(123_456n)).to.equal("0.123456");
    expect(formatUsdt(1_234_567_891_234n)).to.equal("1,234,567.891234");
    expect(formatShares(997_998_496_127_500_000_000n)).to.equal("997.998496"); // not rounded up
    expect(formatShares(5n * 10n ** 17n)).to.equal("0.5");
    expect(formatShares(1n)).to.equal("0"); // dust shows as 0, never as more
    expect(formatNav(999_999n)).to.equal("0.999999");
    expect(formatPrice(8_888_888_888_888n)).to.equal("$88,888.88");
    expect(formatLeverage(3n * WAD)).to.equal("3.00x");
    expect(formatLeverage(3_999_999_999_999_999_999n)).to.equal("3.99x");
    expect(formatPercent(5n * 10n ** 14n)).to.equal("0.05%");
    expect(formatPercent(18_250_000_000_000_000n)).to.equal("1.825%");
    expect(formatChange(8_888_888_888_888n, 10_000_000_000_000n)).to.equal("-11.11%");
    expect(formatChange(13_333_333_333_333n, 10_000_000_000_000n)).to.equal("+33.33%");
    expect(formatDown(-1_234_560n, 6, 2, 2)).to.equal("-1.23");
    expect(formatDown(-1n, 6, 2, 2)).to.equal("0.00"); // no "-0.00"
  });

  it("parses human amounts exactly, and names the problem with a bad one", function () {
    expect(parseAmount("100", 6, "USDT")).to.equal(100_000_000n);
    expect(parseAmount("1,234.5", 6, "USDT")).to.equal(1_234_500_000n);
    expect(parseAmount(".5", 18, "BTC3L")).to.equal(5n * 10n ** 17n);
    expect(parseAmount("0.000001", 6, "USDT")).to.equal(1n);
    expect(parseAmount("1,000,000", 6, "USDT")).to.equal(1_000_000_000_000n);
    for (const ambiguous of ["1,5", "1,50", "1.000,5", "1,0000", ",5", "12,34.5"]) {
      expect(() => parseAmount(ambiguous, 6, "USDT"), ambiguous).to.throw(
        CliError,
        `"${ambiguous}" is ambiguous: write the decimal point as a dot (1.5) and commas only between thousands (1,000)`,
      );
    }
    expect(() => parseAmount("ten", 6, "USDT")).to.throw(CliError, '"ten" is not an amount of USDT');
    expect(() => parseAmount("-5", 6, "USDT")).to.throw(CliError, '"-5" is not an amount of USDT');
    expect(() => parseAmount("1e6", 6, "USDT")).to.throw(CliError, "is not an amount");
    expect(() => parseAmount("0.0000001", 6, "USDT")).to.throw(CliError, "more decimals than USDT has (6)");
    expect(() => parseAmount("0", 6, "USDT")).to.throw(
      CliError,
      "the amount of USDT must be greater than zero",
    );
    expect(() => parseAmount("", 6, "USDT")).to.throw(CliError, "is not an amount");
  });

  it("reads back every amount it writes (property)", function () {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 40n }), fc.constantFrom(6, 8, 18), (value, decimals) => {
        expect(parseAmount(decimalString(value, decimals), decimals, "X")).to.equal(value);
        expect(parseAmount(formatDown(value, decimals, 0, decimals), decimals, "X")).to.equal(value);
      }),
    );
  });

  it("parses a slippage limit as a percentage", function () {
    expect(parsePercent("0.5%", "--max-slippage")).to.equal(5n * 10n ** 15n);
    expect(parsePercent("0.5", "--max-slippage")).to.equal(5n * 10n ** 15n);
    expect(parsePercent("1 %", "--max-slippage")).to.equal(10n ** 16n);
    expect(parsePercent("0", "--max-slippage")).to.equal(0n);
    expect(() => parsePercent("100%", "--max-slippage")).to.throw(
      CliError,
      "--max-slippage must be under 100%",
    );
    expect(() => parsePercent("-1", "--max-slippage")).to.throw(
      CliError,
      "is not a percentage for --max-slippage",
    );
    expect(() => parsePercent("abc", "--max-slippage")).to.throw(CliError, "is not a percentage");
  });

  it("takes the minimum result and the value at NAV rounded down", function () {
    expect(minimumOutDown(1_000n, 5n * 10n ** 15n)).to.equal(995n);
    expect(minimumOutDown(999n, 5n * 10n ** 15n)).to.equal(994n); // 994.005 down
    expect(minimumOutDown(1_000n, 0n)).to.equal(1_000n);
    expect(valueAtNavDown(3n * 10n ** 18n, 1_000_001n)).to.equal(3_000_003n);
    expect(valueAtNavDown(10n ** 18n - 1n, 1_000_000n)).to.equal(999_999n);
  });
});
