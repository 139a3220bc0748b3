// NAV arbitrage between each token's Uniswap V2 pool and its mint/redeem at NAV. Above the band:
// mint at NAV and sell into the pool; below it: buy from the pool and redeem. Each trade is sized
// to bring the pool back to the band's edge (poolMath.ts), its profit simulated with the token's
// previews and the pair's reserves and then with eth_call, and it is sent only when that profit is
// positive; each leg carries a limit (maxAssets / amountOutMin / minAssets) so it never loses.
import { MaxUint256, type Signer } from "ethers";
import type { LeveragedToken, MockUSDT } from "../../types/ethers-contracts/index.js";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { MockUSDT__factory } from "../../types/ethers-contracts/factories/mocks/MockUSDT__factory.ts";
import type { AddressBook } from "../chain/addressBook.ts";
import { WAD } from "../chain/params.ts";
import type { Logger } from "../keeper/log.ts";
import { backoffMs, sleep } from "../keeper/retry.ts";
import {
  buyToLower,
  getAmountIn,
  getAmountOut,
  noArbitrageBand,
  position,
  ratioToNumber,
  sellToUpper,
  spotPrice,
  type Band,
  type BandFees,
  type Reserves,
} from "./poolMath.ts";
import { connectPair, connectRouter, NO_DEADLINE, type UniswapV2Pair } from "./uniswap.ts";

/** LeveragedToken.State */
const ACTIVE = 0n;
const DELISTING = 1n;

export interface ArbContext {
  /** The arbitrageur: holds the USDT inventory and signs (its provider reads the chain). */
  signer: Signer;
  book: AddressBook;
  log?: Logger;
  /** Decide and log, never send. */
  dryRun?: boolean;
  /** Only these symbols (default: every pool in the address book). */
  symbols?: string[];
}

export type ArbAction = "mint-sell" | "buy-redeem";

export interface ArbResult {
  symbol: string;
  /** traded, would-trade (dry run), inside (nothing to do), skipped (why says why), failed. */
  outcome: "traded" | "would-trade" | "inside" | "skipped" | "failed";
  action?: ArbAction;
  why?: string;
  /** USDT per token, for logs and charts. */
  navBefore: number;
  spotBefore: number;
  spotAfter?: number;
  band: { lower: number; upper: number };
  /** Tokens minted and sold, or bought and redeemed. */
  tokens?: bigint;
  usdtIn?: bigint;
  usdtOut?: bigint;
  /** Simulated profit (USDT base units) before sending; realized profit after. */
  expectedProfit?: bigint;
  profit?: bigint;
  txs?: string[];
}

export interface PoolView {
  symbol: string;
  token: LeveragedToken;
  pair: UniswapV2Pair;
  reserves: Reserves;
  nav: bigint;
  fees: BandFees;
  band: Band;
  state: bigint;
  mintOpen: boolean;
}

/** A pool's reserves ordered token/USDT. */
export async function reservesOf(pair: UniswapV2Pair, usdt: string): Promise<Reserves> {
  const [[r0, r1], token0] = await Promise.all([pair.getReserves(), pair.token0()]);
  return token0.toLowerCase() === usdt.toLowerCase() ? { token: r1, usdt: r0 } : { token: r0, usdt: r1 };
}

/** Reads what the decision needs: reserves, NAV, fees, the exchange's trading cost, the state. */
export async function viewPool(signer: Signer, book: AddressBook, symbol: string): Promise<PoolView> {
  const tokenAddress = book.tokens[symbol];
  const pairAddress = book.pools?.[symbol];
  if (tokenAddress === undefined || pairAddress === undefined) {
    throw new Error(
      `no pool for ${symbol} in the address book (pools: ${Object.keys(book.pools ?? {}).join(", ") || "none"})`,
    );
  }
  const token = LeveragedToken__factory.connect(tokenAddress, signer);
  const pair = connectPair(pairAddress, signer);
  const vault = MockPerpVault__factory.connect(book.perpVault, signer);
  const [reserves, nav, [mintFee, redeemFee], market, leverage, state, maxMint] = await Promise.all([
    reservesOf(pair, book.usdt),
    token.nav(),
    token.fees(),
    token.market(),
    token.targetLeverage(),
    token.state(),
    token.maxMint(await signer.getAddress()),
  ]);
  const [takerFee] = await vault.tradeCosts(market);
  const fees: BandFees = { mintFee, redeemFee, tradingCost: (leverage * takerFee) / WAD };
  return {
    symbol,
    token,
    pair,
    reserves,
    nav,
    fees,
    band: noArbitrageBand(nav, fees),
    state,
    mintOpen: state === ACTIVE && maxMint > 0n,
  };
}

/** One pass over every pool: trades those outside the band, returns what happened to each. */
export async function arbitrageOnce(ctx: ArbContext): Promise<ArbResult[]> {
  const symbols = ctx.symbols ?? Object.keys(ctx.book.pools ?? {});
  const results: ArbResult[] = [];
  for (const symbol of symbols) {
    let result: ArbResult;
    try {
      result = await arbitragePool(ctx, symbol);
    } catch (e) {
      result = {
        symbol,
        outcome: "failed",
        why: (e as Error).message,
        navBefore: 0,
        spotBefore: 0,
        band: { lower: 0, upper: 0 },
      };
    }
    ctx.log?.(result.outcome === "traded" ? "arb-trade" : `arb-${result.outcome}`, { ...result });
    results.push(result);
  }
  return results;
}

async function arbitragePool(ctx: ArbContext, symbol: string): Promise<ArbResult> {
  const { signer, book } = ctx;
  const v = await viewPool(signer, book, symbol);
  const base: ArbResult = {
    symbol,
    outcome: "inside",
    navBefore: Number(v.nav) / 1e6,
    spotBefore: ratioToNumber(spotPrice(v.reserves)),
    band: { lower: ratioToNumber(v.band.lower), upper: ratioToNumber(v.band.upper) },
  };
  if (v.state !== ACTIVE && v.state !== DELISTING) {
    return { ...base, outcome: "skipped", why: `the token is ${v.state === 2n ? "settled" : "depleted"}` };
  }
  const where = position(v.reserves, v.band);
  if (where === "inside") return base;
  const me = await signer.getAddress();
  const usdt = MockUSDT__factory.connect(book.usdt, signer);
  const router = connectRouter(requireUniswap(book).router, signer);
  const inventory = await usdt.balanceOf(me);

  if (where === "above") {
    if (!v.mintOpen) return { ...base, outcome: "skipped", action: "mint-sell", why: "minting is closed" };
    let tokens = sellToUpper(v.reserves, v.band.upper);
    let cost = await v.token.previewMint(tokens);
    if (cost > inventory) {
      // a partial trade: as many tokens as the USDT inventory mints (the pool moves part of the way)
      tokens = (tokens * inventory * 99n) / (cost * 100n);
      if (tokens === 0n)
        return { ...base, outcome: "skipped", action: "mint-sell", why: "no USDT inventory" };
      cost = await v.token.previewMint(tokens);
    }
    const out = getAmountOut(tokens, v.reserves.token, v.reserves.usdt);
    const plan = {
      ...base,
      action: "mint-sell" as const,
      tokens,
      usdtIn: cost,
      usdtOut: out,
      expectedProfit: out - cost,
    };
    if (out <= cost) return { ...plan, outcome: "skipped", why: "not profitable after fees" };
    if (cost > inventory)
      return { ...plan, outcome: "skipped", why: `needs ${cost} USDT, holds ${inventory}` };
    // eth_call the mint as the arbitrageur (the sell needs the minted tokens, so it is limited instead)
    const maxAssets = cost + cost / 100_000n + 1n;
    await approveIfNeeded(usdt, me, await v.token.getAddress(), maxAssets, ctx.dryRun);
    if (!ctx.dryRun) {
      const simulated = await v.token["mint(uint256,address,uint256)"].staticCall(tokens, me, maxAssets);
      if (simulated >= out)
        return { ...plan, outcome: "skipped", why: "eth_call: the mint costs more than the sale pays" };
    }
    if (ctx.dryRun) return { ...plan, outcome: "would-trade" };
    const before = await usdt.balanceOf(me);
    const mintTx = await v.token["mint(uint256,address,uint256)"](tokens, me, maxAssets);
    await mintTx.wait();
    const paid = before - (await usdt.balanceOf(me));
    await approveTokenIfNeeded(v.token, me, await router.getAddress(), tokens);
    const path = [await v.token.getAddress(), book.usdt];
    // never at a loss: the sale must pay more than the mint cost
    await router.swapExactTokensForTokens.staticCall(tokens, paid + 1n, path, me, NO_DEADLINE);
    const swapTx = await router.swapExactTokensForTokens(tokens, paid + 1n, path, me, NO_DEADLINE);
    await swapTx.wait();
    const after = await usdt.balanceOf(me);
    return finish(plan, v, book, after - before, paid, after - before + paid, [mintTx.hash, swapTx.hash]);
  }

  let tokens = buyToLower(v.reserves, v.band.lower);
  let cost = getAmountIn(tokens, v.reserves.usdt, v.reserves.token);
  if (cost > inventory) {
    // a partial trade: as many tokens as 99% of the USDT inventory buys
    if (inventory < 100n)
      return { ...base, outcome: "skipped", action: "buy-redeem", why: "no USDT inventory" };
    tokens = getAmountOut((inventory * 99n) / 100n, v.reserves.usdt, v.reserves.token);
    cost = getAmountIn(tokens, v.reserves.usdt, v.reserves.token);
  }
  const got = await v.token.previewRedeem(tokens);
  const plan = {
    ...base,
    action: "buy-redeem" as const,
    tokens,
    usdtIn: cost,
    usdtOut: got,
    expectedProfit: got - cost,
  };
  if (got <= cost) return { ...plan, outcome: "skipped", why: "not profitable after fees" };
  if (cost > inventory) return { ...plan, outcome: "skipped", why: `needs ${cost} USDT, holds ${inventory}` };
  const path = [book.usdt, await v.token.getAddress()];
  await approveIfNeeded(usdt, me, await router.getAddress(), cost, ctx.dryRun);
  if (!ctx.dryRun) {
    const amounts = await router.swapExactTokensForTokens.staticCall(cost, tokens, path, me, NO_DEADLINE);
    if ((amounts[1] ?? 0n) < tokens)
      return { ...plan, outcome: "skipped", why: "eth_call: the pool pays fewer tokens" };
  }
  if (ctx.dryRun) return { ...plan, outcome: "would-trade" };
  const before = await usdt.balanceOf(me);
  const tokensBefore = await v.token.balanceOf(me);
  const swapTx = await router.swapExactTokensForTokens(cost, tokens, path, me, NO_DEADLINE);
  await swapTx.wait();
  const bought = (await v.token.balanceOf(me)) - tokensBefore;
  // never at a loss: the redeem must pay more than the purchase cost
  const redeem = v.token["redeem(uint256,address,address,uint256)"];
  await redeem.staticCall(bought, me, me, cost + 1n);
  const redeemTx = await redeem(bought, me, me, cost + 1n);
  await redeemTx.wait();
  const after = await usdt.balanceOf(me);
  return finish(plan, v, book, after - before, cost, after - before + cost, [swapTx.hash, redeemTx.hash]);
}

async function finish(
  plan: ArbResult,
  v: PoolView,
  book: AddressBook,
  profit: bigint,
  usdtIn: bigint,
  usdtOut: bigint,
  txs: string[],
): Promise<ArbResult> {
  const reserves = await reservesOf(v.pair, book.usdt);
  return {
    ...plan,
    outcome: "traded",
    usdtIn,
    usdtOut,
    profit,
    spotAfter: ratioToNumber(spotPrice(reserves)),
    txs,
  };
}

function requireUniswap(book: AddressBook): NonNullable<AddressBook["uniswap"]> {
  if (book.uniswap === undefined) throw new Error("the address book has no uniswap addresses; redeploy");
  return book.uniswap;
}

async function approveIfNeeded(
  usdt: MockUSDT,
  owner: string,
  spender: string,
  amount: bigint,
  dryRun = false,
) {
  if (dryRun || (await usdt.allowance(owner, spender)) >= amount) return;
  await (await usdt.approve(spender, MaxUint256)).wait();
}

async function approveTokenIfNeeded(token: LeveragedToken, owner: string, spender: string, amount: bigint) {
  if ((await token.allowance(owner, spender)) >= amount) return;
  await (await token.approve(spender, MaxUint256)).wait();
}

export interface RunOptions {
  once: boolean;
  intervalMs: number;
  signal?: AbortSignal;
}

/** Runs arbitrageOnce on every new block (polling every intervalMs) until the signal aborts. */
export async function runArbitrage(ctx: ArbContext, options: RunOptions): Promise<number> {
  const provider = ctx.signer.provider;
  if (provider === null) throw new Error("the arbitrageur's signer has no provider");
  let failures = 0;
  let lastBlock = -1;
  for (let outages = 0; ;) {
    let block: number;
    try {
      block = await provider.getBlockNumber();
      outages = 0;
    } catch (e) {
      // the node is away: say so once, back off, and keep going (a --once run gives up)
      if (options.once) throw e;
      if (outages++ === 0) ctx.log?.("rpc-unavailable", { message: (e as Error).message });
      await sleep(backoffMs(outages, options.intervalMs, 30_000), options.signal);
      if (options.signal?.aborted) return failures;
      continue;
    }
    if (block !== lastBlock) {
      lastBlock = block;
      const results = await arbitrageOnce(ctx);
      failures += results.filter((r) => r.outcome === "failed").length;
    }
    if (options.once || options.signal?.aborted) return failures;
    await sleep(options.intervalMs, options.signal);
    if (options.signal?.aborted) return failures;
  }
}
