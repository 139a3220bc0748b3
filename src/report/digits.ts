// Per-token values with all their digits: USDT per token from total assets and supply carried with 18
// decimals (the 6-decimal nav() rounds a decayed token's 1.6e-8 USDT to 0 and 0.91 to 0.909999), the
// engine's exact state read the same way, and a display with significant digits. Pure.
import { Decimal } from "decimal.js";
import type { LeveragedToken as EngineToken } from "../engine/token.ts";
import { TokenState } from "../engine/token.ts";

/** Per-token values and ratios are carried with 18 decimals. */
export const PER_TOKEN_DECIMALS = 18;
export const PER_TOKEN_ONE = 10n ** 18n;

/** USDT (6 decimals) per `supply` shares (18 decimals), with 18 decimals, rounded down; 1 USDT with no supply. */
export function perTokenDown(assets: bigint, supply: bigint): bigint {
  return supply === 0n ? PER_TOKEN_ONE : (assets * 10n ** 30n) / supply;
}

/**
 * The engine token's value per token at `time`, 18 decimals: total assets over the supply with the
 * management fee accrued to `time` (what nav() divides), the frozen payout once settled, 0 once
 * depleted.
 */
export function enginePerToken(token: EngineToken, time: bigint): bigint {
  const state = token.state();
  if (state === TokenState.Depleted) return 0n;
  if (state === TokenState.Settled) return perTokenDown(token.st.settledAssets, token.st.settledSupply);
  return perTokenDown(token.totalAssets(time), token.supplyNow(time));
}

/** `a` / `b` with 18 decimals, rounded down (0 when `b` is 0: there is nothing to compare with). */
export function ratio18(a: bigint, b: bigint): bigint {
  return b === 0n ? 0n : (a * PER_TOKEN_ONE) / b;
}

/**
 * A non-negative fixed-point value (`decimals` decimals) rounded half up to `digits` significant
 * digits, in plain decimal notation with no trailing zeros: 0.91, 514.777, 0.0000000162345, 0. The
 * whole part is never rounded away (1234567.8 with 6 digits is 1234568).
 */
export function formatSignificant(value: bigint, decimals = PER_TOKEN_DECIMALS, digits = 6): string {
  if (value < 0n) return "-" + formatSignificant(-value, decimals, digits);
  if (value === 0n) return "0";
  if (!(Number.isInteger(digits) && digits >= 1)) throw new Error(`digits must be a whole number >= 1`);
  const length = value.toString().length;
  // keep `digits` digits counted from the first non-zero one, but never drop below the units
  const drop = Math.min(Math.max(length - digits, 0), decimals);
  let kept = value;
  if (drop > 0) {
    const unit = 10n ** BigInt(drop);
    kept = ((value + unit / 2n) / unit) * unit;
  }
  const one = 10n ** BigInt(decimals);
  const whole = (kept / one).toString();
  const fraction = (kept % one).toString().padStart(decimals, "0").replace(/0+$/, "");
  return fraction === "" ? whole : `${whole}.${fraction}`;
}

/** A per-token value or a ratio for a table: significant digits, and "0" only for what is 0. */
export function formatValue(value: bigint, digits = 6): string {
  return formatSignificant(value, PER_TOKEN_DECIMALS, digits);
}

/** A fixed-point value as a float (charts, JSON numbers): exact enough for any display. */
export function toNumber(value: bigint, decimals = PER_TOKEN_DECIMALS): number {
  const one = 10n ** BigInt(decimals);
  return Number(value / one) + Number(value % one) / Number(one);
}

/** The exact decimal of an 18-decimal value, no trailing zeros: "514.777412345678901234", "0". */
export function exactDecimal(value: bigint): string {
  return formatSignificant(value, PER_TOKEN_DECIMALS, 80);
}

/** An 18-decimal decimal string (exactDecimal's output) back as a bigint. */
export function parseExact(text: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,18}))?$/.exec(text);
  if (m === null) throw new Error(`"${text}" is not a decimal with at most 18 decimals`);
  const v = BigInt(m[2]!) * PER_TOKEN_ONE + BigInt((m[3] ?? "").padEnd(18, "0"));
  return m[1] === "-" ? -v : v;
}

/** A float with significant digits in plain notation (no exponent): 1.62345e-8 -> "0.0000000162345". */
export function formatFloat(x: number, digits = 6): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  return new Decimal(x).toSignificantDigits(digits).toFixed();
}
