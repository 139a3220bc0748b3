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
  /** The exchange's pool holds less cash than the sides in profit are owed (liquidity() cash < reserved). */
  poolShort?: boolean;
  /** The token's exchange position is at an unrealized loss its margin holds. */
  atLoss?: boolean;
}

export type Action =
  | { kind: "fill" }
  | { kind: "rebalance"; reason: number }
  | { kind: "settle" }
  | { kind: "settleHolders" }
  | { kind: "settlePnl" }
  | { kind: "accrueFee"; elapsed: number };

export interface DecideOptions {
  /** Accrue the management fee when this many seconds of chain time passed since the last accrual. */
  feeIntervalSeconds: number;
}

/**
 * At most one action per token and tick, most urgent first: settle a token whose delisting time
 * has come (or that is depleted), pay a settled token's holders, settle a losing position's loss
 * into the exchange's pool when the pool is short of what winners are owed (so the winning tokens'
 * exits find the cash; it moves none of the token's equity), rebalance, accrue the fee.
 */
export function decide(s: TokenSnapshot, o: DecideOptions): Action | undefined {
  if (s.state === TokenState.Depleted) return { kind: "settle" };
  if (s.state === TokenState.Settled) return { kind: "settleHolders" };
  if (s.state === TokenState.Delisting && s.now >= s.delistingTime) return { kind: "settle" };
  if (s.poolShort === true && s.atLoss === true) return { kind: "settlePnl" };
  if (s.needed) return { kind: "rebalance", reason: s.reason };
  const elapsed = s.now - s.lastFeeAccrual;
  if (s.supply > 0n && o.feeIntervalSeconds > 0 && elapsed >= o.feeIntervalSeconds) {
    return { kind: "accrueFee", elapsed };
  }
  return undefined;
}

/** A token's ForwardDesk as the keeper sees it: `fillNeeded()` and whether it may fill now. */
export interface DeskSnapshot {
  /** fillNeeded(): requests placed before the current price round wait. */
  needed: boolean;
  /** fillNeeded(): from when anyone may fill (unix seconds). */
  lateAt: number;
  /** Latest block's timestamp. */
  now: number;
  /** The keeper holds the token's KEEPER_ROLE (it may fill at once). */
  isKeeper: boolean;
}

/**
 * Whether to fill the desk this tick. A fill comes before the token's own action (decide): its mint
 * and redeem price the waiting requests at the new round, and bring the token back to target first
 * when they find a rebalance due (in the fill's own exchange trade when that is cheaper), so the
 * keeper's own rebalance is then rarely due. A keeper with KEEPER_ROLE fills as soon as a fill is
 * needed; without it, once the fill is late (the bounty).
 */
export function decideFill(d: DeskSnapshot): boolean {
  return d.needed && (d.isKeeper || d.now >= d.lateAt);
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
