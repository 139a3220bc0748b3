// The operator's rules, as pure functions: what `lt admin` accepts and the one sentence that says why
// the contract would refuse it, checked before anything is sent. They mirror the contracts' checks
// (LeveragedToken's constructor and setters, the exchange's addMarket) and their constants.
import { bandFor, tokenNaming, type Band } from "../common/params.ts";
import { CliError } from "./cliError.ts";
import {
  decimalString,
  formatLeverage,
  formatPercent,
  formatUsdt,
  parseAmount,
  parsePercent,
  WAD,
} from "./format.ts";

export const MIN_TOKEN_LEVERAGE = 2n;
export const MAX_TOKEN_LEVERAGE = 5n;
/** LeveragedToken.MIN_DELISTING_NOTICE */
export const MIN_DELISTING_NOTICE = 3 * 86_400;
/** The fee caps of LeveragedToken (_setFees): mint and redeem 1%, management 5% a year, bounty 100 USDT. */
export const FEE_CAPS = {
  mintFee: WAD / 100n,
  redeemFee: WAD / 100n,
  managementFee: (WAD * 5n) / 100n,
  rebalanceBounty: 100n * 10n ** 6n,
};
/** Mint and redeem fees are stored in pips (1e-6): a WAD multiple of 1e12. */
const PIP = 10n ** 12n;

/** "5" or "5x": a whole leverage from 2 to 5. */
export function parseTokenLeverage(text: string): bigint {
  const clean = text.trim().toLowerCase().replace(/x$/, "");
  if (!/^\d+$/.test(clean)) {
    throw new CliError(`"${text}" is not a leverage: write a whole number from 2 to 5, such as 3 or 3x`);
  }
  const x = BigInt(clean);
  if (x < MIN_TOKEN_LEVERAGE || x > MAX_TOKEN_LEVERAGE) {
    throw new CliError(`a token's leverage must be from 2x to 5x (got ${text})`);
  }
  return x;
}

/** "long" / "short" (or "l" / "s"): true for long. */
export function parseSide(text: string): boolean {
  const clean = text.trim().toLowerCase();
  if (clean === "long" || clean === "l") return true;
  if (clean === "short" || clean === "s") return false;
  throw new CliError(`"${text}" is not a side: write long or short`);
}

/** A market name as the exchange keys it: 1 to 31 letters or digits, upper case (bytes32). */
export function parseMarketName(text: string): string {
  const clean = text.trim().toUpperCase();
  if (!/^[A-Z0-9]{1,31}$/.test(clean)) {
    throw new CliError(`"${text}" is not a market name: use letters and digits, such as SOL`);
  }
  return clean;
}

/** A leverage given as "2.5" or "2.5x", as a WAD. */
export function parseLeverageWad(text: string, what: string): bigint {
  const clean = text.trim().toLowerCase().replace(/x$/, "");
  try {
    return parseAmount(clean, 18, what);
  } catch {
    throw new CliError(`"${text}" is not a leverage for ${what}: write a number such as 2.5 or 2.5x`);
  }
}

export interface NewTokenSpec extends Band {
  symbol: string;
  name: string;
  market: string;
  isLong: boolean;
  targetLeverage: bigint;
}

/** The token for (market, leverage, side): band and ripcord as for 3x (scaled), or as given. */
export function newTokenSpec(
  market: string,
  leverage: bigint,
  isLong: boolean,
  given: Partial<Pick<Band, "minLeverage" | "maxLeverage" | "ripcordLeverage">> = {},
): NewTokenSpec {
  const targetLeverage = leverage * WAD;
  return {
    ...tokenNaming(market, leverage, isLong),
    market,
    isLong,
    targetLeverage,
    ...bandFor(targetLeverage),
    ...given,
  };
}

/**
 * Why the token's constructor would refuse `spec` on an exchange whose most leverage is
 * `exchangeMax` (WAD), in one sentence, or null when it would not.
 */
export function tokenSpecProblem(spec: NewTokenSpec, exchangeMax: bigint): string | null {
  const { targetLeverage: t, minLeverage: lo, maxLeverage: hi, ripcordLeverage: rip } = spec;
  if (t > exchangeMax) {
    return `the exchange allows at most ${formatLeverage(exchangeMax)}, below the target ${formatLeverage(t)}`;
  }
  if (lo === 0n || lo >= t) {
    return `the band's lower edge ${formatLeverage(lo)} must be above 0x and below the target ${formatLeverage(t)}`;
  }
  if (hi <= t) {
    return `the band's upper edge ${formatLeverage(hi)} must be above the target ${formatLeverage(t)}`;
  }
  if (rip < hi || rip > exchangeMax) {
    return `the ripcord ${formatLeverage(rip)} must be at or above the band's upper edge ${formatLeverage(hi)} and at most the exchange's ${formatLeverage(exchangeMax)}`;
  }
  if (spec.rebalanceEpsilon === 0n || spec.rebalanceEpsilon >= hi - t) {
    return `the daily rebalance threshold ${formatLeverage(spec.rebalanceEpsilon)} must be above 0x and below the band's upper margin ${formatLeverage(hi - t)}`;
  }
  return null;
}

export interface FeeSettings {
  mintFee: bigint;
  redeemFee: bigint;
  managementFee: bigint; // WAD per year
  rebalanceBounty: bigint; // USDT
}

export interface FeeArgs {
  mint?: string;
  redeem?: string;
  management?: string;
  bounty?: string;
}

/** The fees after `args` (percentages; the bounty in USDT), the others kept as `current`. */
export function newFees(current: FeeSettings, args: FeeArgs): FeeSettings {
  const pct = (text: string | undefined, name: string, keep: bigint) =>
    text === undefined ? keep : parsePercent(text, name);
  return {
    mintFee: pct(args.mint, "--mint", current.mintFee),
    redeemFee: pct(args.redeem, "--redeem", current.redeemFee),
    managementFee: pct(args.management, "--management", current.managementFee),
    rebalanceBounty:
      args.bounty === undefined
        ? current.rebalanceBounty
        : args.bounty.trim() === "0"
          ? 0n
          : parseAmount(args.bounty, 6, "USDT"),
  };
}

/** Why setFees would refuse `fees` (a cap, or a mint or redeem fee finer than a pip), or null. */
export function feesProblem(fees: FeeSettings): string | null {
  const caps: [keyof FeeSettings, string][] = [
    ["mintFee", "the mint fee"],
    ["redeemFee", "the redeem fee"],
    ["managementFee", "the management fee"],
  ];
  for (const [key, label] of caps) {
    if (fees[key] > FEE_CAPS[key]) {
      return `${label} ${formatPercent(fees[key])} is above its cap of ${formatPercent(FEE_CAPS[key])}`;
    }
  }
  if (fees.rebalanceBounty > FEE_CAPS.rebalanceBounty) {
    return `the ripcord bounty ${formatUsdt(fees.rebalanceBounty)} USDT is above its cap of ${formatUsdt(FEE_CAPS.rebalanceBounty)} USDT`;
  }
  for (const [key, label] of caps.slice(0, 2)) {
    if (fees[key] % PIP !== 0n) {
      return `${label} ${decimalString(fees[key] * 100n, 18)}% is finer than the token stores (whole pips, 0.0001%)`;
    }
  }
  return null;
}

/** Why a delisting at `time` would be refused when the block it lands in is at `now`, or null. */
export function delistingProblem(time: number, now: number): string | null {
  const earliest = now + MIN_DELISTING_NOTICE;
  return time < earliest
    ? `a delisting needs at least 3 days' notice: the earliest time now is ${new Date(earliest * 1000).toISOString()}`
    : null;
}
