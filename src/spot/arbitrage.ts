// NAV arbitrage between each token's Uniswap V2 pool and its mint/redeem at NAV. Above the band:
// mint at NAV (a desk request) and sell into the pool; below it: buy from the pool and redeem (a desk
// request). Each trade is sized to bring the pool back to the band's edge (poolMath.ts). Its profit is
// priced before sending by the reference engine (src/engine, the token's exact BigInt twin) over the
// token's book read at the pending block (src/chain/tokenBook.ts), against the pool's leg from the
// pair's reserves; the engine's price must equal the token's previews at that block to the unit (else
// `arb-engine-mismatch` and no trade). The desk legs (deskArbitrage.ts) then request, and finish the
// trade on later passes once the keeper filled it.
import { MaxUint256, type Signer } from "ethers";
import type { AddressBook } from "../chain/addressBook.ts";
import { withChainTokens } from "../chain/factoryTokens.ts";
import { WAD } from "../common/params.ts";
import { blockTimestamp, readTokenBook, type TokenBook } from "../chain/tokenBook.ts";
import { managementFeeSharesDown } from "../engine/math.ts";
import { describe, revertName } from "../common/revert.ts";
import { backoffMs, sleep } from "../common/retry.ts";
import {
  buyToLower,
  getAmountIn,
  getAmountOut,
  isDeadNav,
  navRatio,
  noArbitrageBandAt,
  position,
  ratioToNumber,
  sellToUpper,
  spotPrice,
  type BandFees,
  type Ratio,
  type Reserves,
} from "./poolMath.ts";
import { connectPair, type UniswapV2Pair } from "./uniswap.ts";
import {
  ACTIVE,
  DEFAULT_MIN_PROFIT,
  DELISTING,
  ENGINE_LEGS,
  PENDING,
  usdtText,
  type ArbContext,
  type ArbResult,
  type PoolView,
} from "./arbShared.ts";
import { finishDeskTrade, openDeskTrade, readDesk } from "./deskArbitrage.ts";
import { newArbCache, poolHandles, type ArbCache, type PoolHandles } from "./poolHandles.ts";

/** Reads retried when the pending block's time moves under them (a wall-clock second passes). */
const READ_ATTEMPTS = 3;

export {
  DEFAULT_MIN_PROFIT,
  ENGINE_LEGS,
  type ArbAction,
  type ArbContext,
  type ArbResult,
  type EngineLegs,
  type Inventory,
  type OpenTrade,
  type OpenTrades,
  type PoolView,
} from "./arbShared.ts";

/** A pool's reserves ordered token/USDT (at the latest block, or at `blockTag`). */
export async function reservesOf(
  pair: UniswapV2Pair,
  usdt: string,
  blockTag: "latest" | "pending" = "latest",
): Promise<Reserves> {
  const [[r0, r1], token0] = await Promise.all([pair.getReserves({ blockTag }), pair.token0()]);
  return token0.toLowerCase() === usdt.toLowerCase() ? { token: r1, usdt: r0 } : { token: r0, usdt: r1 };
}

/** Reads what the decision needs at the pending block: reserves, NAV, fees, the exchange's trading
 * cost, the state (`cache`: the handles and immutables kept from earlier visits). */
export async function viewPool(
  signer: Signer,
  book: AddressBook,
  symbol: string,
  cache: ArbCache = newArbCache(signer),
): Promise<PoolView> {
  const h = await poolHandles(cache, signer, book, symbol);
  const [now, v] = await Promise.all([blockTimestamp(h.rpc), readPool(h)]);
  return v(now);
}

/**
 * Reads the pool's views at the pending block (in one request with whatever else the caller reads at
 * it meanwhile, such as the block's time); returns the view once that time, `now`, is known. Throws
 * as the first failed read in this order would: the token's views, then the exchange's price.
 */
async function readPool(h: PoolHandles): Promise<(now: bigint) => PoolView> {
  const r = h.reads;
  const [[r0, r1], nav, [mintFee, redeemFee], state, maxDeposit, assets, supply, status, , [takerFee]] =
    await Promise.all([
      r.pair.getReserves(PENDING),
      r.token.nav(PENDING),
      r.token.fees(PENDING),
      r.token.state(PENDING),
      r.token.maxDeposit(h.me, PENDING),
      r.token.totalAssets(PENDING),
      r.token.totalSupply(PENDING),
      r.token.status(PENDING),
      // the token's views answer at the last price even when it is stale; the exchange's checked
      // price does not (StalePrice), and nothing can be minted or redeemed then: the pass reports it skipped
      r.vault.markPrice(h.market, PENDING),
      r.vault.tradeCosts(h.market, PENDING),
    ]);
  const reserves: Reserves = h.tokenIsToken0 ? { token: r0, usdt: r1 } : { token: r1, usdt: r0 };
  const fees: BandFees = { mintFee, redeemFee, tradingCost: (h.targetLeverage * takerFee) / WAD };
  return (now) => {
    // nav() has 6 decimals and rounds a decayed token's value to 0 while it is alive: the band is
    // priced at total assets over supply instead (the supply as nav() takes it, fee accrued)
    const accrued =
      supply === 0n || now <= status.lastFeeAccrual
        ? 0n
        : managementFeeSharesDown(supply, status.managementFee, now - status.lastFeeAccrual);
    const navExact: Ratio = supply === 0n ? navRatio(nav) : { num: assets, den: supply + accrued };
    return {
      symbol: h.symbol,
      token: h.token,
      ...(h.desk === undefined ? {} : { desk: h.desk }),
      vault: h.vault,
      pair: h.pair,
      handles: h,
      reserves,
      nav,
      navExact,
      fees,
      band: noArbitrageBandAt(navExact, fees),
      state,
      mintOpen: state === ACTIVE && maxDeposit > 0n,
    };
  };
}

/** One pass over every pool: trades those outside the band, returns what happened to each. */
export async function arbitrageOnce(ctx: ArbContext): Promise<ArbResult[]> {
  const symbols = ctx.symbols ?? Object.keys(ctx.book.pools ?? {});
  const cache = ctx.cache ?? newArbCache(ctx.signer);
  const results: ArbResult[] = [];
  for (const symbol of symbols) {
    let result: ArbResult;
    const seen: Seen = {};
    // a desk trade finished in this pass comes first; what the pass then did with the pool after it
    const done: ArbResult[] = [];
    try {
      result = await arbitragePool(ctx, cache, symbol, seen, done);
    } catch (e) {
      // a stale price is the feed's pause, not the bot's failure: skipped, and the loop backs off;
      // an exchange whose pool cannot pay a redeem's profit is the exchange's limit: skipped, said so
      const name = revertName(e);
      const stale = name === "StalePrice";
      const unpaid = name === "InsufficientLiquidity";
      result = {
        ...(seen.base ?? (await unpricedBase(ctx, symbol))),
        outcome: stale || unpaid ? "skipped" : "failed",
        why: unpaid
          ? `the exchange's liquidity pool cannot pay the token's profit: ${describe(e)}`
          : describe(e),
        ...(stale ? { stale } : {}),
      };
    }
    // after a finished desk trade, a pool left inside the band (or not worth a trade) is not news
    const quiet = result.outcome === "inside" || result.outcome === "skipped";
    if (done.length === 0 || !quiet) done.push(result);
    for (const r of done) {
      ctx.log?.(r.outcome === "traded" ? "arb-trade" : `arb-${r.outcome}`, { ...r });
      results.push(r);
    }
  }
  return results;
}

/** What a pass over one pool had read when it failed: the NAV, spot and band the failure happened at. */
interface Seen {
  base?: ArbResult;
}

/** The pool's spot price alone (it needs no price feed), for a failure before NAV could be read. */
async function unpricedBase(ctx: ArbContext, symbol: string): Promise<ArbResult> {
  let spotBefore = Number.NaN;
  try {
    const pair = connectPair(ctx.book.pools?.[symbol] ?? "", ctx.signer);
    spotBefore = ratioToNumber(spotPrice(await reservesOf(pair, ctx.book.usdt, "pending")));
  } catch {
    // no pool or no node: unknown too
  }
  return {
    symbol,
    outcome: "failed",
    navBefore: Number.NaN,
    spotBefore,
    band: { lower: Number.NaN, upper: Number.NaN },
  };
}

/** A trade decided at one pending block: its size, both legs and the token's preview of its leg. */
interface Decision {
  plan: ArbResult;
  /** The chain's answer at the same block, in the engine quote's unit: the USDT a redeem pays
   * (previewRedeem), or the mint's cost when previewDeposit agrees it is the least that mints the
   * tokens. */
  preview?: bigint;
  /** Why the chain disagrees, when it does, in words. */
  disagreement?: string;
}

async function arbitragePool(
  ctx: ArbContext,
  cache: ArbCache,
  symbol: string,
  seen: Seen,
  done: ArbResult[],
): Promise<ArbResult> {
  const h = await poolHandles(cache, ctx.signer, ctx.book, symbol);
  const { rpc, me } = h;
  for (let moved = 0; ;) {
    // everything below is read at the pending block; its time must not move while reading, so the
    // engine, the previews, the band and the reserves all describe the block the first leg lands in
    // (the pool's views, the time and the USDT held go out as one request; the desk's as another)
    const deskFirst = h.desk !== undefined && done.length === 0;
    const desk0 = deskFirst ? readDesk(h) : undefined;
    desk0?.catch(() => undefined); // read only when the pool's own reads succeed
    const [t0, view, inventory] = await Promise.all([
      blockTimestamp(rpc),
      readPool(h),
      h.reads.usdt.balanceOf(me, PENDING),
    ]);
    const v = view(t0);
    const base: ArbResult = {
      symbol,
      outcome: "inside",
      navBefore: ratioToNumber(v.navExact),
      spotBefore: ratioToNumber(spotPrice(v.reserves)),
      band: { lower: ratioToNumber(v.band.lower), upper: ratioToNumber(v.band.upper) },
    };
    seen.base = base;
    if (v.desk !== undefined && desk0 !== undefined) {
      // a desk trade left open by an earlier pass is finished before anything new is opened; once
      // finished, the pool is read again and may take a new trade in the same pass
      const open = await finishDeskTrade(ctx, v, v.desk, base, await desk0);
      if (open !== undefined) {
        if (open.outcome === "waiting" || ctx.finishOnly === true) return open;
        done.push(open);
        continue;
      }
    }
    if (ctx.finishOnly === true)
      return { ...base, outcome: "skipped", why: "only finishing open desk trades: nothing is open" };
    if (v.state !== ACTIVE && v.state !== DELISTING) {
      const settled = v.state === 2n;
      // a settled token with a payout is redeemed at it, not traded; one settled at 0 is dead too
      const dead = !settled || isDeadNav(v.navExact);
      return {
        ...base,
        outcome: "skipped",
        why: `the token is ${settled ? "settled" : "depleted"}${dead ? ": its pool is dead, nothing backs the tokens in it" : ""}`,
        ...(dead ? { dead } : {}),
      };
    }
    if (isDeadNav(v.navExact))
      return {
        ...base,
        outcome: "skipped",
        why: "the token is worth nothing (no equity left): its pool is dead",
        dead: true,
      };
    const where = position(v.reserves, v.band);
    if (where === "inside") return base;
    if (where === "above" && !v.mintOpen)
      return { ...base, outcome: "skipped", action: "mint-sell", why: "minting is closed" };
    if (!h.approved && ctx.dryRun !== true) {
      // approvals first (each once, unlimited), for both directions: the pool may cross NAV while
      // they are mined, and the first leg must be the next transaction
      h.approved = true;
      if (await approveLegs(h)) continue;
    }
    const t = await readTokenBook(rpc, h.reads.token, h.reads.vault, "pending");
    if (t.book.supply !== 0n && t.book.equity <= 0n)
      return {
        ...base,
        outcome: "skipped",
        why: "the token has no equity left: its pool is dead",
        dead: true,
      };
    // the token's previews of the leg, and the time again, in one request
    const [d, t1] = await Promise.all([
      where === "above"
        ? decideMintSell(ctx, v, t, base, inventory)
        : decideBuyRedeem(ctx, v, t, base, inventory),
      blockTimestamp(rpc),
    ]);
    if (t0 !== t.timestamp || t1 !== t0) {
      if (++moved < READ_ATTEMPTS) continue;
      return { ...d.plan, outcome: "skipped", why: "the pending block's time kept moving while reading" };
    }
    if (d.plan.outcome === "skipped") return d.plan;
    const plan = d.plan;
    if (d.preview !== plan.engineQuote) {
      // the engine is the token's exact twin: a disagreement means one of them is wrong; never trade on it
      ctx.log?.("arb-engine-mismatch", {
        symbol,
        action: plan.action,
        tokens: plan.tokens,
        engine: plan.engineQuote,
        preview: d.preview,
        blockTime: plan.pricedAt,
      });
      return {
        ...plan,
        outcome: "skipped",
        why:
          d.disagreement ??
          `the engine and previewRedeem disagree (${plan.engineQuote} vs ${d.preview} USDT units)`,
      };
    }
    if (plan.expectedProfit! <= 0n) return { ...plan, outcome: "skipped", why: "not profitable after fees" };
    const minProfit = ctx.minProfit ?? DEFAULT_MIN_PROFIT;
    if (plan.expectedProfit! < minProfit)
      return {
        ...plan,
        outcome: "skipped",
        belowMinProfit: true,
        why: `the expected profit of ${usdtText(plan.expectedProfit!)} USDT is below the minimum of ${usdtText(minProfit)} USDT`,
      };
    if (plan.usdtIn! > inventory)
      return { ...plan, outcome: "skipped", why: `needs ${plan.usdtIn} USDT, holds ${inventory}` };
    if (v.desk === undefined)
      return { ...plan, outcome: "skipped", why: "the token has no desk (deployed before forward pricing)" };
    return openDeskTrade(ctx, v, v.desk, plan);
  }
}

/** Above the band: the tokens to mint and sell, the mint's cost by the engine, the sale's proceeds. */
async function decideMintSell(
  ctx: ArbContext,
  v: PoolView,
  t: TokenBook,
  base: ArbResult,
  inventory: bigint,
): Promise<Decision> {
  const engine = ctx.engine ?? ENGINE_LEGS;
  let tokens = sellToUpper(v.reserves, v.band.upper);
  let cost = engine.mintCost(t, tokens);
  if (cost > inventory) {
    // a partial trade: as many tokens as the USDT inventory mints (the pool moves part of the way)
    tokens = (tokens * inventory * 99n) / (cost * 100n);
    if (tokens === 0n)
      return { plan: { ...base, outcome: "skipped", action: "mint-sell", why: "no USDT inventory" } };
    cost = engine.mintCost(t, tokens);
  }
  const out = getAmountOut(tokens, v.reserves.token, v.reserves.usdt);
  return {
    plan: {
      ...base,
      action: "mint-sell",
      tokens,
      usdtIn: cost,
      usdtOut: out,
      expectedProfit: out - cost,
      engineQuote: cost,
      pricedAt: Number(t.timestamp),
    },
    ...(await leastDepositOnChain(v, tokens, cost)),
  };
}

/**
 * The chain's check of the engine's mint cost: agreed (preview = cost) when the token's previewDeposit
 * says it is the least USDT that mints `tokens` (cost mints them, one unit less does not).
 */
async function leastDepositOnChain(
  v: PoolView,
  tokens: bigint,
  cost: bigint,
): Promise<Pick<Decision, "preview" | "disagreement">> {
  const [got, below] = await Promise.all([
    v.handles.reads.token.previewDeposit(cost, PENDING),
    cost === 0n ? Promise.resolve(0n) : v.handles.reads.token.previewDeposit(cost - 1n, PENDING),
  ]);
  if (got >= tokens && below < tokens) return { preview: cost };
  return {
    disagreement: `the engine and previewDeposit disagree: the engine's least deposit for ${tokens} token units is ${cost} USDT units, but previewDeposit gives ${got} token units for it and ${below} for one unit less`,
  };
}

/** Below the band: the tokens to buy and redeem, the purchase's cost, the redeem's payout by the engine. */
async function decideBuyRedeem(
  ctx: ArbContext,
  v: PoolView,
  t: TokenBook,
  base: ArbResult,
  inventory: bigint,
): Promise<Decision> {
  const engine = ctx.engine ?? ENGINE_LEGS;
  let tokens = buyToLower(v.reserves, v.band.lower);
  let cost = getAmountIn(tokens, v.reserves.usdt, v.reserves.token);
  if (cost > inventory) {
    // a partial trade: as many tokens as 99% of the USDT inventory buys
    if (inventory < 100n)
      return { plan: { ...base, outcome: "skipped", action: "buy-redeem", why: "no USDT inventory" } };
    tokens = getAmountOut((inventory * 99n) / 100n, v.reserves.usdt, v.reserves.token);
    cost = getAmountIn(tokens, v.reserves.usdt, v.reserves.token);
  }
  const got = engine.redeemPayout(t, tokens);
  return {
    plan: {
      ...base,
      action: "buy-redeem",
      tokens,
      usdtIn: cost,
      usdtOut: got,
      expectedProfit: got - cost,
      engineQuote: got,
      pricedAt: Number(t.timestamp),
    },
    preview: await v.handles.reads.token.previewRedeem(tokens, PENDING),
  };
}

/** Unlimited approvals for every leg of both directions, each sent once; true when any was sent. */
async function approveLegs(h: PoolHandles): Promise<boolean> {
  const { usdt, token, desk, me, routerAddress: router } = h;
  // a token with a desk takes mints and redeems from its desk only: the desk takes USDT and tokens
  const minter = desk === undefined ? h.tokenAddress : await desk.getAddress();
  const r = h.reads;
  const [usdtToMinter, tokenToRouter, usdtToRouter, tokenToMinter] = await Promise.all([
    r.usdt.allowance(me, minter),
    r.token.allowance(me, router),
    r.usdt.allowance(me, router),
    desk === undefined ? MaxUint256 : r.token.allowance(me, minter),
  ]);
  const needs: { has: bigint; send: () => Promise<{ wait(): Promise<unknown> }> }[] = [
    // mint and sell: the token (or its desk) takes USDT, the router takes the tokens
    { has: usdtToMinter, send: () => usdt.approve(minter, MaxUint256) },
    { has: tokenToRouter, send: () => token.approve(router, MaxUint256) },
    // buy and redeem: the router takes USDT (and a desk the tokens to redeem)
    { has: usdtToRouter, send: () => usdt.approve(router, MaxUint256) },
    { has: tokenToMinter, send: () => token.approve(minter, MaxUint256) },
  ];
  let sent = false;
  for (const n of needs) {
    if (n.has >= MaxUint256 / 2n) continue;
    await (await n.send()).wait();
    sent = true;
  }
  return sent;
}

export interface RunOptions {
  once: boolean;
  intervalMs: number;
  signal?: AbortSignal;
  /** Re-read the factory's token list and their pools every this many passes (0 or absent: never),
   * so a token created while the bot runs, and its pool, are arbitraged like the first ones. */
  tokenRefreshPasses?: number;
}

/** Reads the factory's tokens and the pools the Uniswap factory has for them into `ctx.book`; logs
 * `arb-tokens-added` for pools it did not have. A failed read is logged and changes nothing. */
export async function refreshTokens(ctx: ArbContext): Promise<string[]> {
  const before = new Set(Object.keys(ctx.book.pools ?? {}));
  try {
    ctx.book = await withChainTokens(ctx.book, ctx.signer);
  } catch (e) {
    ctx.log?.("arb-tokens-unread", { message: (e as Error).message });
    return [];
  }
  const added = Object.keys(ctx.book.pools ?? {}).filter((symbol) => !before.has(symbol));
  if (added.length > 0) ctx.log?.("arb-tokens-added", { tokens: added });
  return added;
}

/** Runs arbitrageOnce on every new block (polling every intervalMs) until the signal aborts. While a
 * price is stale it backs off (intervalMs doubling up to 30 s, one `arb-stale` line, then
 * `arb-resumed`) instead of failing every pool on every block. */
export async function runArbitrage(ctx: ArbContext, options: RunOptions): Promise<number> {
  const provider = ctx.signer.provider;
  if (provider === null) throw new Error("the arbitrageur's signer has no provider");
  ctx.cache ??= newArbCache(ctx.signer);
  let failures = 0;
  let lastBlock = -1;
  let stalePasses = 0;
  let passes = 0;
  const refreshEvery = options.tokenRefreshPasses ?? 0;
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
    let delay = options.intervalMs;
    if (block !== lastBlock || stalePasses > 0) {
      lastBlock = block;
      if (refreshEvery > 0 && passes > 0 && passes % refreshEvery === 0) await refreshTokens(ctx);
      passes++;
      const results = await arbitrageOnce(ctx);
      failures += results.filter((r) => r.outcome === "failed").length;
      const stale = results.filter((r) => r.stale === true);
      if (stale.length > 0) {
        if (stalePasses === 0)
          ctx.log?.("arb-stale", { tokens: stale.map((r) => r.symbol), why: stale[0]!.why });
        delay = backoffMs(stalePasses++, options.intervalMs, 30_000);
      } else if (stalePasses > 0) {
        ctx.log?.("arb-resumed", { stalePasses });
        stalePasses = 0;
      }
    }
    if (options.once || options.signal?.aborted) return failures;
    await sleep(delay, options.signal);
    if (options.signal?.aborted) return failures;
  }
}
