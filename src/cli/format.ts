// Human units in and out: parsing what the user types, showing amounts, and the JSON the CLI prints.
// Every display truncates toward zero (a balance is never shown larger than it is); JSON carries the
// exact value as a decimal string.
import { CliError } from "./cliError.ts";

export const USDT_DECIMALS = 6;
export const SHARE_DECIMALS = 18;
export const PRICE_DECIMALS = 8;
export const WAD_DECIMALS = 18;
export const WAD = 10n ** 18n;

/** A JSON value: every amount is a decimal string, so nothing loses precision. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** What a command hands back: the JSON for --json and the text for people. */
export interface Report {
  data: { [key: string]: Json };
  text: string;
}

/** The exact decimal value of `value` / 10^decimals, trailing zeros trimmed ("1000", "0.5", "-1.25"). */
export function decimalString(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const unit = 10n ** BigInt(decimals);
  const whole = (abs / unit).toString();
  const fraction = decimals === 0 ? "" : (abs % unit).toString().padStart(decimals, "0").replace(/0+$/, "");
  return (negative ? "-" : "") + whole + (fraction ? "." + fraction : "");
}

/**
 * `value` / 10^decimals truncated toward zero to at most `maxShown` decimals, padded to at least
 * `minShown`, with thousands separators: formatDown(1234567890n, 6, 2, 6) = "1,234.56789".
 */
export function formatDown(value: bigint, decimals: number, minShown: number, maxShown: number): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const unit = 10n ** BigInt(decimals);
  const whole = (abs / unit).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let fraction = (abs % unit).toString().padStart(decimals, "0").slice(0, maxShown).replace(/0+$/, "");
  fraction = fraction.padEnd(minShown, "0");
  const text = whole + (fraction ? "." + fraction : "");
  return negative && /[1-9]/.test(text) ? "-" + text : text;
}

/** USDT with 2 to 6 decimals: "1,000.00", "0.123456". */
export function formatUsdt(value: bigint): string {
  return formatDown(value, USDT_DECIMALS, 2, 6);
}

/** Token shares with up to 6 decimals: "997.998496". */
export function formatShares(value: bigint): string {
  return formatDown(value, SHARE_DECIMALS, 0, 6);
}

/** An oracle price (8 decimals) as dollars: "$100,000.00". */
export function formatPrice(value: bigint): string {
  return "$" + formatDown(value, PRICE_DECIMALS, 2, 2);
}

/** NAV per token (USDT, 6 decimals) with all its decimals: "1.000123". */
export function formatNav(value: bigint): string {
  return formatDown(value, USDT_DECIMALS, 2, 6);
}

/** Leverage (WAD) as "3.00x". */
export function formatLeverage(wad: bigint): string {
  return formatDown(wad, WAD_DECIMALS, 2, 2) + "x";
}

/** A rate or fraction (WAD) as a percentage: 5e14 -> "0.05%". */
export function formatPercent(wad: bigint): string {
  return formatDown(wad * 100n, WAD_DECIMALS, 0, 4) + "%";
}

/** The move from `from` to `to` as a signed percentage with two decimals: "+33.33%", "-11.11%". */
export function formatChange(to: bigint, from: bigint): string {
  const change = ((to - from) * WAD * 100n) / from;
  return (change >= 0n ? "+" : "") + formatDown(change, WAD_DECIMALS, 2, 2) + "%";
}

/** A unix time as "2026-11-26 00:41:16 UTC". */
export function formatTime(seconds: number | bigint): string {
  return new Date(Number(seconds) * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
}

/**
 * Parses a human amount ("100", "99.5", "1,000") into base units of `decimals`, exactly. `what`
 * names the unit in the error ("USDT", "BTC3L").
 */
export function parseAmount(text: string, decimals: number, what: string): bigint {
  const trimmed = text.trim();
  // a comma only separates thousands: "1,5" may mean 1.5 (a decimal comma) or 15, so it is refused
  if (trimmed.includes(",") && !/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(trimmed)) {
    throw new CliError(
      `"${text}" is ambiguous: write the decimal point as a dot (1.5) and commas only between thousands (1,000)`,
    );
  }
  const clean = trimmed.replace(/,/g, "").replace(/_/g, "");
  const match = /^(\d*)(?:\.(\d*))?$/.exec(clean);
  if (!match || clean === "" || clean === ".") {
    throw new CliError(`"${text}" is not an amount of ${what}: write a number such as 100 or 99.5`);
  }
  const whole = match[1] ?? "";
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) {
    throw new CliError(`"${text}" has more decimals than ${what} has (${decimals})`);
  }
  const value = BigInt((whole || "0") + fraction.padEnd(decimals, "0"));
  if (value === 0n) throw new CliError(`the amount of ${what} must be greater than zero`);
  return value;
}

/** Parses a slippage limit, "0.5%" or "0.5" (both mean half a percent), into a WAD fraction. */
export function parsePercent(text: string, what: string): bigint {
  const clean = text.trim().replace(/%$/, "").trim();
  const match = /^(\d*)(?:\.(\d*))?$/.exec(clean);
  if (!match || clean === "" || clean === "." || (match[2] ?? "").length > 16) {
    throw new CliError(`"${text}" is not a percentage for ${what}: write it like 0.5% or 1`);
  }
  const value = BigInt((match[1] || "0") + (match[2] ?? "").padEnd(16, "0")); // percent x 1e16 = WAD
  if (value >= WAD) throw new CliError(`${what} must be under 100% (got ${text})`);
  return value;
}

/** JSON with every bigint written as a decimal string (callers convert units before this). */
export function toJson(value: Json): string {
  return JSON.stringify(value, null, 2);
}

/** Aligned "label  value" lines. */
export function lines(rows: [string, string][], indent = ""): string {
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`).join("\n");
}

/** A plain table with a header, columns aligned (numbers right-aligned when `right` says so). */
export function table(header: string[], rows: string[][], right: boolean[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const render = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [render(header), render(widths.map((w) => "-".repeat(w))), ...rows.map(render)].join("\n");
}

/** 0x1234…abcd */
export function shortAddress(address: string): string {
  return address.slice(0, 6) + "…" + address.slice(-4);
}
