// What a token is worth per token, as it is: a settled token's frozen USDT per token (settledAssets /
// settledSupply, which the 6-decimal nav() rounds to nothing once the holders are paid), a depleted
// token as soon as its equity is gone (rebalanceNeeded says so before anyone calls rebalance()), and
// NAV from total assets and supply with the significant digits it has (a decayed token's 1.6e-8
// USDT is not "0.00").
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import { blockTimestamp, type RawRpc } from "../chain/tokenBook.ts";
import { managementFeeSharesDown } from "../engine/math.ts";
import { STATE } from "./errors.ts";
import { decimalString, formatDown } from "./format.ts";
import { perTokenDown } from "../report/digits.ts";

/** rebalanceNeeded's reason when the token's equity is gone. */
export const REASON_DEPLETED = 4n;
/** USDT per token carried with 18 decimals. */
export const PER_TOKEN_DECIMALS = 18;

export interface TrueNav {
  /** The state to show: Depleted as soon as the equity is gone. */
  state: number;
  /** The state the contract holds (Active until someone calls rebalance() on a depleted token). */
  stateOnChain: number;
  /** USDT per token with 18 decimals, rounded down; the frozen payout once settled. */
  perToken: bigint;
}

/** USDT (6 decimals) per `supply` shares (18 decimals), with 18 decimals, rounded down. */
export { perTokenDown };

/**
 * Reads the token's true NAV at one block (the latest, unless given): total assets over the supply
 * with the management fee accrued to that block's time, as nav() divides them. Throws what the
 * chain throws (a stale price) for a live token.
 */
export async function readTrueNav(token: LeveragedToken, rpc: RawRpc, block?: number): Promise<TrueNav> {
  const at = block ?? Number(BigInt((await rpc.send("eth_blockNumber", [])) as string));
  const tag = { blockTag: at };
  const state = Number(await token.state(tag));
  if (state === STATE.Settled) {
    const [assets, supply] = await Promise.all([token.settledAssets(tag), token.settledSupply(tag)]);
    return { state, stateOnChain: state, perToken: perTokenDown(assets, supply) };
  }
  if (state === STATE.Depleted) return { state, stateOnChain: state, perToken: 0n };
  const [[, reason], assets, supply, status, now] = await Promise.all([
    token.rebalanceNeeded(tag),
    token.totalAssets(tag),
    token.totalSupply(tag),
    token.status(tag),
    blockTimestamp(rpc, at),
  ]);
  if (reason === REASON_DEPLETED) return { state: STATE.Depleted, stateOnChain: state, perToken: 0n };
  const accrued =
    supply === 0n ? 0n : managementFeeSharesDown(supply, status.managementFee, now - status.lastFeeAccrual);
  return { state, stateOnChain: state, perToken: perTokenDown(assets, supply + accrued) };
}

/**
 * A per-token value (18 decimals) for people: six decimals from 0.01 up ("2.352104"), below that
 * its first four significant digits ("0.00000001623"), and "0.00" for nothing.
 */
export function formatPerToken(value: bigint): string {
  if (value >= 10n ** 16n || value === 0n) return formatDown(value, PER_TOKEN_DECIMALS, 2, 6);
  const digits = value.toString().length; // value < 1e16: the fraction has 18 - digits leading zeros
  return formatDown(value, PER_TOKEN_DECIMALS, 0, PER_TOKEN_DECIMALS - digits + 4);
}

/** The exact per-token value for JSON ("2.352104", "0.000000016234"). */
export function perTokenJson(value: bigint): string {
  return decimalString(value, PER_TOKEN_DECIMALS);
}
