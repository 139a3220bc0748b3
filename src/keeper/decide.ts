// What the keeper does for one token, decided from a snapshot of its on-chain state. Pure.
import { formatUnits } from "ethers";

/** ILeveragedToken.State */
export const TokenState = { Active: 0, Delisting: 1, Settled: 2, Depleted: 3 } as const;
export const STATE_NAMES = ["active", "delisting", "settled", "depleted"] as const;
/** rebalanceNeeded() reasons */
export const REASON_NAMES = ["none", "band", "daily", "ripcord", "depleted", "reopen"] as const;

export interface TokenSnapshot {
  state: number;
  needed: boolean;
  reason: number;
  supply: bigint;
  lastFeeAccrual: number;
  delistingTime: number;
  /** Latest block's timestamp. */
  now: number;
}

export type Action =
  | { kind: "rebalance"; reason: number }
  | { kind: "settle" }
  | { kind: "settleHolders" }
  | { kind: "accrueFee"; elapsed: number };

export interface DecideOptions {
  /** Accrue the management fee when this many seconds of chain time passed since the last accrual. */
  feeIntervalSeconds: number;
}

/**
 * At most one action per token and tick, most urgent first: settle a token whose delisting time
 * has come (or that is depleted), pay a settled token's holders, rebalance, accrue the fee.
 */
export function decide(s: TokenSnapshot, o: DecideOptions): Action | undefined {
  if (s.state === TokenState.Depleted) return { kind: "settle" };
  if (s.state === TokenState.Settled) return { kind: "settleHolders" };
  if (s.state === TokenState.Delisting && s.now >= s.delistingTime) return { kind: "settle" };
  if (s.needed) return { kind: "rebalance", reason: s.reason };
  const elapsed = s.now - s.lastFeeAccrual;
  if (s.supply > 0n && o.feeIntervalSeconds > 0 && elapsed >= o.feeIntervalSeconds) {
    return { kind: "accrueFee", elapsed };
  }
  return undefined;
}

/** Splits `items` into batches of at most `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new Error(`batch size must be at least 1, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A WAD leverage as "3.000000" (6 decimals, rounded down). */
export function formatLeverage(wad: bigint): string {
  if (wad === 2n ** 256n - 1n) return "infinite";
  const micro = wad / 10n ** 12n;
  return formatUnits(micro, 6).replace(
    /^(\d+)\.(\d*)$/,
    (_m, w: string, f: string) => `${w}.${f.padEnd(6, "0")}`,
  );
}

/** Gas limit from an estimate: estimate + 20%, rounded up. */
export function gasLimitFrom(estimate: bigint): bigint {
  return (estimate * 12n + 9n) / 10n;
}
