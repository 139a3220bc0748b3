// The book a token prices against, read from the chain at one block: what the contract's `_bookNow`
// reads (the block's time, the status slot, fees, supply and cap, and the exchange's trading snapshot
// for the token), with the management fee accrued to that block's time and, when a rebalance is due,
// moved to after the rebalance a mint or a redeem runs first (`_liveBookNow`), so the reference engine
// (src/engine) quotes exactly what the token's previews say at that block. `lt quote` and the NAV
// arbitrage read it at the "pending" block: the one a transaction sent now lands in.
import { toQuantity, type ContractRunner } from "ethers";
import type { LeveragedToken, MockPerpVault } from "../../types/ethers-contracts/index.js";
import { type Book, isEngineRevert, TokenState, tradableBook } from "../engine/index.ts";
import { readRebalanceRules } from "./tokenParameters.ts";
import { managementFeeSharesDown } from "../engine/math.ts";

/** A block to read at: a tag, or a block number. */
export type BookBlock = "pending" | "latest" | number;

/** The one raw JSON-RPC call the reader needs beyond the contracts (Hardhat's pending block has no
 * number, which ethers' getBlock refuses, so the block's time is read raw). */
export interface RawRpc {
  send(method: string, params: unknown[]): Promise<unknown>;
}

export interface TokenBook {
  /** Supply (management fee accrued to `timestamp`), the exchange's snapshot (after the rebalance a
   * mint or a redeem runs first when one is due; equity 0 when the token has none left), the limits
   * and the fee. */
  book: Book;
  state: TokenState;
  targetLeverage: bigint;
  isLong: boolean;
  /** Settled tokens pay from the settlement pot: the book does not price their redemptions. */
  settled: boolean;
  /** The time of the block read (the block a transaction sent now lands in, for "pending"). */
  timestamp: bigint;
}

/** A runner's provider as a raw JSON-RPC client (ethers' JsonRpcProvider, Hardhat's provider). */
export function rawRpcOf(runner: ContractRunner | null | undefined): RawRpc {
  const provider = runner?.provider ?? null;
  const send = (provider as { send?: unknown } | null)?.send;
  if (provider === null || typeof send !== "function") {
    throw new Error("the signer's provider cannot send raw JSON-RPC requests (eth_getBlockByNumber)");
  }
  const call = send as (this: unknown, method: string, params: unknown[]) => Promise<unknown>;
  return { send: (method, params) => call.call(provider, method, params) };
}

/** The time of block `at` (raw eth_getBlockByNumber, so the pending block works on every node). */
export async function blockTimestamp(rpc: RawRpc, at: BookBlock = "pending"): Promise<bigint> {
  const tag = typeof at === "number" ? toQuantity(at) : at;
  const block = (await rpc.send("eth_getBlockByNumber", [tag, false])) as { timestamp?: string } | null;
  if (block === null || block.timestamp === undefined) throw new Error(`the node has no ${at} block`);
  return BigInt(block.timestamp);
}

/** Reads what the token's `_bookNow` reads at block `at` and returns the engine's Book for it. */
export async function readTokenBook(
  rpc: RawRpc,
  token: LeveragedToken,
  vault: MockPerpVault,
  at: BookBlock = "pending",
): Promise<TokenBook> {
  const tag = { blockTag: at };
  const [timestamp, status, fees, supply, supplyCap, market, rules] = await Promise.all([
    blockTimestamp(rpc, at),
    token.status(tag),
    token.fees(tag),
    token.totalSupply(tag),
    token.supplyCap(tag),
    token.market(),
    readRebalanceRules(token),
  ]);
  const { targetLeverage, isLong } = rules;
  const state = Number(status.state) as TokenState;
  const snapshot = await vault.tradingSnapshot(market, await token.getAddress(), tag);
  // totalSupply() already counts the pending fee shares; add the management fee due by this block
  let accrued = supply;
  if (accrued !== 0n && (state === TokenState.Active || state === TokenState.Delisting)) {
    accrued += managementFeeSharesDown(supply, status.managementFee, timestamp - status.lastFeeAccrual);
  }
  const read: Book = {
    supply: accrued,
    size: snapshot.size,
    equity: snapshot.equity,
    price: snapshot.price,
    takerFee: snapshot.takerFee,
    priceImpact: snapshot.priceImpact,
    limits: { mintFee: fees.mintFee, redeemFee: fees.redeemFee, supplyCap },
    managementFeeShares: accrued - supply,
  };
  let book = read;
  if (state === TokenState.Active || state === TokenState.Delisting) {
    try {
      book = tradableBook(read, rules, status.lastRebalance, timestamp);
    } catch (e) {
      if (!isEngineRevert(e)) throw e;
      book = { ...read, equity: 0n }; // TokenDepleted: nothing can be minted or redeemed
    }
  }
  return {
    book,
    state,
    targetLeverage,
    isLong,
    settled: state === TokenState.Settled,
    timestamp,
  };
}
