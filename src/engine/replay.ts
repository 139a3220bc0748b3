// Drives the exact twin along a price path the way the chain would see it: the feeder publishes a
// price each step, and a keeper rebalances whenever rebalanceNeeded() says so. Used by the
// benchmark, and by the demo and the backtest to follow a token off-chain.
import type { EngineSystem } from "./system.ts";
import { REASON_NONE, type LeveragedToken } from "./token.ts";
import type { PriceFeed } from "./feed.ts";
import type { Tx } from "./world.ts";
import { RebalanceScreen } from "./screen.ts";

export interface ReplayOptions {
  /** Block time of the first price; each next price comes `stepSeconds` later. */
  startTime: bigint;
  stepSeconds: bigint;
  /** The keeper (must hold KEEPER_ROLE on the token) and the feeder (the feed's updater). */
  keeper: string;
  feeder: string;
  /** Check every step with BigInt only, without the float screen (for comparison; same results). */
  noScreen?: boolean;
  /** Called after each rebalance (step index, reason). */
  onRebalance?: (step: number, reason: number) => void;
}

export interface ReplayResult {
  steps: number;
  rebalances: number;
  /** Block time after the last step. */
  endTime: bigint;
  /** Rebalance checks settled by the float screen and by the exact twin. */
  screened: number;
  exactChecks: number;
}

/**
 * Publishes `prices[k]` at startTime + k x stepSeconds (k >= 1; prices[0] is taken to be the
 * current answer) and rebalances whenever needed. One Tx object is reused: nothing per step but
 * the BigInt arithmetic the contracts themselves do.
 */
export function replayPrices(
  system: EngineSystem,
  token: LeveragedToken,
  feed: PriceFeed,
  prices: BigInt64Array | readonly bigint[],
  o: ReplayOptions,
): ReplayResult {
  const feederTx: Tx = { from: o.feeder, time: o.startTime };
  const keeperTx: Tx = { from: o.keeper, time: o.startTime };
  const screen = new RebalanceScreen(token, system.vault);
  let rebalances = 0;
  let time = o.startTime;
  for (let k = 1; k < prices.length; k++) {
    time += o.stepSeconds;
    feederTx.time = time;
    feed.updateAnswer(feederTx, prices[k]!);
    const reason = o.noScreen === true ? token.rebalanceNeeded(time).reason : screen.reason(time);
    if (reason !== REASON_NONE) {
      keeperTx.time = time;
      token.rebalance(keeperTx);
      rebalances++;
      o.onRebalance?.(k, reason);
    }
  }
  return {
    steps: prices.length - 1,
    rebalances,
    endTime: time,
    screened: screen.screened,
    exactChecks: screen.exact,
  };
}
