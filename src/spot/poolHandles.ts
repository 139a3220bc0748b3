// What the arbitrage keeps between its visits to a pool: the contract handles (connected once: an
// ethers contract parses its whole ABI when it is made), the views that never change once the
// contracts exist (the token's market, leverage, side, ripcord and desk, the pair's token order),
// whether the approvals are in place (unlimited, so once set they stay), and read-only handles whose
// views go out together (viewBatch.ts). Keep one ArbCache for the life of the bot, as `open`.
import { ZeroAddress, type Signer } from "ethers";
import type { ForwardDesk } from "../../types/ethers-contracts/ForwardDesk.sol/ForwardDesk.ts";
import type { LeveragedToken, MockPerpVault, MockUSDT } from "../../types/ethers-contracts/index.js";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { MockUSDT__factory } from "../../types/ethers-contracts/factories/mocks/MockUSDT__factory.ts";
import type { AddressBook } from "../chain/addressBook.ts";
import { rawRpcOf, type RawRpc } from "../chain/tokenBook.ts";
import { connectPair, connectRouter, type UniswapV2Pair, type UniswapV2Router02 } from "./uniswap.ts";
import { ViewBatcher } from "./viewBatch.ts";

/** A token's contracts, for views only: their calls made together go out as one request. */
export interface PoolReads {
  token: LeveragedToken;
  desk?: ForwardDesk;
  vault: MockPerpVault;
  pair: UniswapV2Pair;
  usdt: MockUSDT;
}

/** One pool and its token, as the arbitrage uses them on every visit. */
export interface PoolHandles {
  symbol: string;
  /** Connected to the arbitrageur: what sends transactions. */
  token: LeveragedToken;
  desk?: ForwardDesk;
  vault: MockPerpVault;
  pair: UniswapV2Pair;
  usdt: MockUSDT;
  router: UniswapV2Router02;
  reads: PoolReads;
  /** The block times read with the batched views. */
  rpc: RawRpc;
  me: string;
  tokenAddress: string;
  routerAddress: string;
  market: string;
  targetLeverage: bigint;
  /** The pair's token0 is the token (not USDT). */
  tokenIsToken0: boolean;
  /** Every approval both directions need is in place (unlimited: they stay). */
  approved: boolean;
}

export interface ArbCache {
  batcher: ViewBatcher;
  pools: Map<string, PoolHandles>;
}

/** A cache for `signer`'s arbitrage (one batcher over its provider). */
export function newArbCache(signer: Signer): ArbCache {
  const provider = signer.provider;
  if (provider === null) throw new Error("the arbitrageur's signer has no provider");
  return { batcher: new ViewBatcher(provider), pools: new Map() };
}

/** `symbol`'s handles, made and their immutable views read on the first visit. */
export async function poolHandles(
  cache: ArbCache,
  signer: Signer,
  book: AddressBook,
  symbol: string,
): Promise<PoolHandles> {
  const tokenAddress = book.tokens[symbol];
  const pairAddress = book.pools?.[symbol];
  if (tokenAddress === undefined || pairAddress === undefined) {
    throw new Error(
      `no pool for ${symbol} in the address book (pools: ${Object.keys(book.pools ?? {}).join(", ") || "none"})`,
    );
  }
  const router = book.uniswap?.router;
  if (router === undefined) throw new Error("the address book has no uniswap addresses; redeploy");
  const key = [symbol, tokenAddress, pairAddress, book.perpVault, book.usdt, router].join(":").toLowerCase();
  const known = cache.pools.get(key);
  if (known !== undefined) return known;
  const b = cache.batcher;
  const reads: PoolReads = {
    token: LeveragedToken__factory.connect(tokenAddress, b),
    vault: MockPerpVault__factory.connect(book.perpVault, b),
    pair: connectPair(pairAddress, b),
    usdt: MockUSDT__factory.connect(book.usdt, b),
  };
  const [me, market, targetLeverage, desk, token0] = await Promise.all([
    signer.getAddress(),
    reads.token.market(),
    reads.token.targetLeverage(),
    reads.token.desk(),
    reads.pair.token0(),
  ]);
  const handles: PoolHandles = {
    symbol,
    token: LeveragedToken__factory.connect(tokenAddress, signer),
    ...(desk === ZeroAddress ? {} : { desk: ForwardDesk__factory.connect(desk, signer) }),
    vault: MockPerpVault__factory.connect(book.perpVault, signer),
    pair: connectPair(pairAddress, signer),
    usdt: MockUSDT__factory.connect(book.usdt, signer),
    router: connectRouter(router, signer),
    reads: desk === ZeroAddress ? reads : { ...reads, desk: ForwardDesk__factory.connect(desk, b) },
    rpc: b.rpc(rawRpcOf(signer)),
    me,
    tokenAddress,
    routerAddress: router,
    market,
    targetLeverage,
    tokenIsToken0: token0.toLowerCase() === tokenAddress.toLowerCase(),
    approved: false,
  };
  cache.pools.set(key, handles);
  return handles;
}
