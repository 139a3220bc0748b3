// The NAV arbitrage on a token with a ForwardDesk (forward pricing): a mint or a redeem is a request
// filled at the next price round, so each trade spans passes and carries inventory risk between the
// request and its fill. Above the band: request a deposit of the USDT the engine prices the tokens at
// now; once filled, claim the tokens and sell them into the pool. Below: buy from the pool and
// request the tokens' redemption; once filled, claim the USDT. The chain holds the state (pending,
// claimable and refused requests, the tokens held), so a pass finishes whatever an earlier one (or
// an earlier process) left open before it opens anything new, and never places a second request
// while one waits. A request the fill refused is taken back with the desk's cancel call.
import type { ForwardDesk } from "../../types/ethers-contracts/ForwardDesk.sol/ForwardDesk.ts";
import type { MockUSDT } from "../../types/ethers-contracts/index.js";
import { deskRequestGasLimit, mintRedeemGasLimit } from "../chain/gas.ts";
import { rawRpcOf, readTokenBook } from "../chain/tokenBook.ts";
import {
  ACTIVE,
  DELISTING,
  ENGINE_LEGS,
  perToken,
  sendLeg,
  SETTLED,
  swapLeg,
  trySwap,
  type ArbContext,
  type ArbResult,
  type Inventory,
  type OpenTrade,
  type PoolView,
} from "./arbShared.ts";
import { getAmountOut, ratioToNumber, sellToUpper, spotPrice, type Reserves } from "./poolMath.ts";
import type { UniswapV2Router02 } from "./uniswap.ts";

/** The arbitrageur's side of one desk, as the chain holds it. */
interface DeskState extends Inventory {
  /** Filled and not yet claimed: the deposit's USDT and tokens, the redemption's tokens and USDT. */
  claimableDepositUsdt: bigint;
  claimableTokens: bigint;
  claimableRedeemTokens: bigint;
  claimableUsdt: bigint;
  /** Refused by a fill, for the cancel calls to return. */
  refusedUsdt: bigint;
  refusedTokens: bigint;
}

async function readDesk(desk: ForwardDesk, v: PoolView, usdt: MockUSDT, me: string): Promise<DeskState> {
  const [
    usdtHeld,
    tokens,
    pendingUsdt,
    pendingTokens,
    claimableDepositUsdt,
    claimableTokens,
    claimableRedeemTokens,
    claimableUsdt,
    [refusedUsdt, refusedTokens],
  ] = await Promise.all([
    usdt.balanceOf(me),
    v.token.balanceOf(me),
    desk.pendingDepositRequest(0n, me),
    desk.pendingRedeemRequest(0n, me),
    desk.maxDeposit(me),
    desk.maxMint(me),
    desk.maxRedeem(me),
    desk.maxWithdraw(me),
    desk.refundable(me),
  ]);
  return {
    usdt: usdtHeld,
    tokens,
    pendingUsdt,
    pendingTokens,
    claimableDepositUsdt,
    claimableTokens,
    claimableRedeemTokens,
    claimableUsdt,
    refusedUsdt,
    refusedTokens,
  };
}

const inventoryOf = (d: DeskState): Inventory => ({
  usdt: d.usdt,
  tokens: d.tokens,
  pendingUsdt: d.pendingUsdt,
  pendingTokens: d.pendingTokens,
});

/**
 * Finishes what the arbitrageur has open at `v`'s desk: takes back refused requests, claims filled
 * ones, sells the claimed tokens into the pool (down to the band's lower edge at most, never for less
 * than redeeming them would pay; the rest is requested for redemption). Returns the pass's result
 * when anything was open (the trade `traded` once nothing is left of it, else `waiting`), or
 * undefined when the desk holds nothing of the arbitrageur's and it holds no tokens: free to trade.
 */
export async function finishDeskTrade(
  ctx: ArbContext,
  v: PoolView,
  desk: ForwardDesk,
  base: ArbResult,
  usdt: MockUSDT,
  router: UniswapV2Router02,
): Promise<ArbResult | undefined> {
  const me = await ctx.signer.getAddress();
  let d = await readDesk(desk, v, usdt, me);
  const busy = (x: DeskState) =>
    x.pendingUsdt +
      x.pendingTokens +
      x.claimableTokens +
      x.claimableRedeemTokens +
      x.refusedUsdt +
      x.refusedTokens >
    0n;
  if (!busy(d) && d.tokens === 0n) {
    // nothing open: a trade this process remembers but the chain no longer holds was finished elsewhere
    ctx.open?.delete(v.symbol);
    return undefined;
  }
  const open = ctx.open?.get(v.symbol);
  const trade: OpenTrade = open ?? {
    // opened before this process started: what it cost and expected is not known here
    action: d.pendingUsdt + d.claimableTokens + d.refusedUsdt > 0n ? "mint-sell" : "buy-redeem",
    requestedAt: 0,
    tokens: 0n,
    expectedNav: Number.NaN,
    expectedProfit: 0n,
    usdtIn: 0n,
    usdtOut: 0n,
    txs: [],
  };
  const said = {
    symbol: v.symbol,
    action: trade.action,
    expectedNav: trade.expectedNav,
  };
  if (ctx.dryRun) {
    return {
      ...base,
      outcome: "waiting",
      action: trade.action,
      why: "a desk trade is open; a dry run does not finish it",
      inventory: inventoryOf(d),
    };
  }
  if (d.refusedUsdt > 0n) {
    const hash = await sendLeg(
      ctx,
      "deposit request's cancel",
      () => desk.cancelDepositRequest.estimateGas(me),
      (o) => desk.cancelDepositRequest(me, o),
    );
    trade.usdtOut += d.refusedUsdt;
    trade.txs.push(hash);
    ctx.log?.("arb-refunded", { ...said, side: "deposit", usdt: d.refusedUsdt, tx: hash });
  }
  if (d.refusedTokens > 0n) {
    const hash = await sendLeg(
      ctx,
      "redeem request's cancel",
      () => desk.cancelRedeemRequest.estimateGas(me),
      (o) => desk.cancelRedeemRequest(me, o),
    );
    trade.txs.push(hash);
    ctx.log?.("arb-refunded", { ...said, side: "redeem", tokens: d.refusedTokens, tx: hash });
  }
  if (d.claimableTokens > 0n) {
    const claim = desk["deposit(uint256,address,address)"];
    const assets = d.claimableDepositUsdt;
    const hash = await sendLeg(
      ctx,
      "deposit's claim",
      () => claim.estimateGas(assets, me, me),
      (o) => claim(assets, me, me, o),
    );
    trade.filledNav = perToken(assets, d.claimableTokens);
    trade.txs.push(hash);
    ctx.log?.("arb-claimed", {
      ...said,
      side: "deposit",
      usdt: assets,
      tokens: d.claimableTokens,
      expectedTokens: trade.tokens,
      filledNav: trade.filledNav,
      tx: hash,
    });
  }
  if (d.claimableRedeemTokens > 0n) {
    const shares = d.claimableRedeemTokens;
    const got = d.claimableUsdt;
    const hash = await sendLeg(
      ctx,
      "redemption's claim",
      () => desk.redeem.estimateGas(shares, me, me),
      (o) => desk.redeem(shares, me, me, o),
    );
    trade.usdtOut += got;
    // a mint-sell's price is its deposit's fill; a redemption of its unsold rest is said on its own line
    if (trade.action === "buy-redeem") trade.filledNav = perToken(got, shares);
    trade.txs.push(hash);
    ctx.log?.("arb-claimed", {
      ...said,
      side: "redeem",
      tokens: shares,
      usdt: got,
      filledNav: perToken(got, shares),
      tx: hash,
    });
  }
  d = await readDesk(desk, v, usdt, me);
  if (d.tokens > 0n && d.pendingTokens === 0n) await unwind(ctx, v, desk, d.tokens, trade, usdt, router, me);
  d = await readDesk(desk, v, usdt, me);
  const inventory = inventoryOf(d);
  const filled = trade.filledNav === undefined ? {} : { filledNav: trade.filledNav };
  if (busy(d) || d.tokens > 0n) {
    ctx.open?.set(v.symbol, trade);
    return {
      ...base,
      outcome: "waiting",
      action: trade.action,
      why:
        d.pendingUsdt + d.pendingTokens > 0n
          ? "a desk request waits for its fill at the next price round"
          : "the arbitrageur holds tokens it could neither sell nor request to redeem",
      expectedNav: trade.expectedNav,
      ...filled,
      inventory,
    };
  }
  ctx.open?.delete(v.symbol);
  const known = open !== undefined;
  const reserves = await readReserves(v);
  if (trade.filledNav === undefined)
    return {
      ...base,
      outcome: "skipped",
      action: trade.action,
      why: "the desk's fill refused the request; what it held came back",
      expectedNav: trade.expectedNav,
      inventory,
      spotAfter: ratioToNumber(spotPrice(reserves)),
      txs: trade.txs,
    };
  return {
    ...base,
    outcome: "traded",
    action: trade.action,
    ...(known
      ? {
          tokens: trade.tokens,
          usdtIn: trade.usdtIn,
          usdtOut: trade.usdtOut,
          expectedProfit: trade.expectedProfit,
          profit: trade.usdtOut - trade.usdtIn,
          pricedAt: trade.requestedAt,
        }
      : { why: "finished a desk trade opened before this process: its cost is not known here" }),
    expectedNav: trade.expectedNav,
    ...filled,
    inventory,
    spotAfter: ratioToNumber(spotPrice(reserves)),
    txs: trade.txs,
  };
}

async function readReserves(v: PoolView): Promise<Reserves> {
  const [[r0, r1], token0] = await Promise.all([v.pair.getReserves(), v.pair.token0()]);
  return token0.toLowerCase() === (await v.token.getAddress()).toLowerCase()
    ? { token: r0, usdt: r1 }
    : { token: r1, usdt: r0 };
}

/**
 * Turns `held` tokens back into USDT: sells into the pool as many as take its price down to the
 * band's lower edge (below it redeeming pays more), for at least what redeeming them would pay at
 * the current price; requests the rest's redemption at the desk. A settled token redeems instantly.
 */
async function unwind(
  ctx: ArbContext,
  v: PoolView,
  desk: ForwardDesk,
  held: bigint,
  trade: OpenTrade,
  usdt: MockUSDT,
  router: UniswapV2Router02,
  me: string,
): Promise<void> {
  const said = { symbol: v.symbol, action: trade.action };
  if (v.state === SETTLED) {
    const redeem = v.token.redeem;
    const usdtBefore = await usdt.balanceOf(me);
    const hash = await sendLeg(
      ctx,
      "settled token's redeem",
      () => redeem.estimateGas(held, me, me),
      (o) => redeem(held, me, me, o),
      mintRedeemGasLimit,
    );
    const got = (await usdt.balanceOf(me)) - usdtBefore;
    trade.usdtOut += got;
    trade.txs.push(hash);
    ctx.log?.("arb-redeemed", { ...said, tokens: held, usdt: got, tx: hash });
    return;
  }
  if (v.state !== ACTIVE && v.state !== DELISTING) return;
  const reserves = await readReserves(v);
  let sold = 0n;
  const toEdge = sellToUpper(reserves, v.band.lower);
  const size = toEdge < held ? toEdge : held;
  if (size > 0n) {
    const engine = ctx.engine ?? ENGINE_LEGS;
    const t = await readTokenBook(rawRpcOf(ctx.signer), v.token, v.vault, "pending");
    const floor = engine.redeemPayout(t, size);
    const out = getAmountOut(size, reserves.token, reserves.usdt);
    if (out > floor) {
      const path = [await v.token.getAddress(), ctx.book.usdt];
      const usdtBefore = await usdt.balanceOf(me);
      const hash = await swapLeg(ctx, "sale", { router, amountIn: size, minOut: floor, path });
      const got = (await usdt.balanceOf(me)) - usdtBefore;
      trade.usdtOut += got;
      trade.txs.push(hash);
      sold = size;
      ctx.log?.("arb-sold", {
        ...said,
        tokens: size,
        usdt: got,
        price: perToken(got, size),
        redeemWorth: floor,
        tx: hash,
      });
    }
  }
  const rest = held - sold;
  if (rest === 0n) return;
  const hash = await sendLeg(
    ctx,
    "redeem request",
    () => desk.requestRedeem.estimateGas(rest, me, me),
    (o) => desk.requestRedeem(rest, me, me, o),
    deskRequestGasLimit,
  );
  trade.txs.push(hash);
  ctx.log?.("arb-requested", {
    ...said,
    side: "redeem",
    tokens: rest,
    why: "the pool pays less than redeeming",
    tx: hash,
  });
}

/**
 * Opens a desk trade decided at the pending block (`plan`: its size and the engine's quote at the
 * current price). mint-sell: requests a deposit of the quoted USDT. buy-redeem: buys the tokens from
 * the pool and requests their redemption. Either way the other leg waits for the fill.
 */
export async function openDeskTrade(
  ctx: ArbContext,
  v: PoolView,
  desk: ForwardDesk,
  plan: ArbResult,
  usdt: MockUSDT,
  router: UniswapV2Router02,
): Promise<ArbResult> {
  const me = await ctx.signer.getAddress();
  const tokens = plan.tokens!;
  const cost = plan.usdtIn!;
  const expectedNav = perToken(plan.engineQuote!, tokens);
  const trade: OpenTrade = {
    action: plan.action!,
    requestedAt: plan.pricedAt!,
    tokens,
    expectedNav,
    expectedProfit: plan.expectedProfit!,
    usdtIn: 0n,
    usdtOut: 0n,
    txs: [],
  };
  if (plan.action === "mint-sell") {
    // a dry run sends no approvals, so it stops before the calls that need them
    if (ctx.dryRun) return { ...plan, outcome: "would-trade", expectedNav };
    await desk.requestDeposit.staticCall(cost, me, me);
    const hash = await sendLeg(
      ctx,
      "deposit request",
      () => desk.requestDeposit.estimateGas(cost, me, me),
      (o) => desk.requestDeposit(cost, me, me, o),
      deskRequestGasLimit,
    );
    trade.usdtIn = cost;
    trade.txs.push(hash);
  } else {
    const path = [ctx.book.usdt, await v.token.getAddress()];
    const purchase = { router, amountIn: cost, minOut: tokens, path };
    if (ctx.dryRun) return { ...plan, outcome: "would-trade", expectedNav };
    const amounts = await trySwap(ctx, purchase);
    if ((amounts[1] ?? 0n) < tokens)
      return { ...plan, outcome: "skipped", why: "eth_call: the pool pays fewer tokens" };
    const before = await v.token.balanceOf(me);
    const bought = await swapLeg(ctx, "purchase", purchase);
    const got = (await v.token.balanceOf(me)) - before;
    trade.usdtIn = cost;
    trade.tokens = got;
    trade.txs.push(bought);
    const hash = await sendLeg(
      ctx,
      "redeem request",
      () => desk.requestRedeem.estimateGas(got, me, me),
      (o) => desk.requestRedeem(got, me, me, o),
      deskRequestGasLimit,
    );
    trade.txs.push(hash);
  }
  ctx.open?.set(v.symbol, trade);
  const d = await readDesk(desk, v, usdt, me);
  const reserves = await readReserves(v);
  return {
    ...plan,
    outcome: "requested",
    tokens: trade.tokens,
    usdtIn: trade.usdtIn,
    expectedNav,
    inventory: inventoryOf(d),
    spotAfter: ratioToNumber(spotPrice(reserves)),
    txs: trade.txs,
  };
}
