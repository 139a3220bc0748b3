// The NAV arbitrage on a token with a ForwardDesk (forward pricing): a mint or a redeem is a request
// filled at the next price round, so each trade spans passes and carries inventory risk between the
// request and its fill. Above the band: request a deposit of the USDT the engine prices the tokens at
// now; once filled, claim the tokens and sell them into the pool. Below: buy from the pool and
// request the tokens' redemption; once filled, claim the USDT. The chain holds the state (pending,
// claimable and refused requests, the tokens held), so a pass finishes whatever an earlier one (or
// an earlier process) left open before it opens anything new, and never places a second request
// while one waits. A request the fill refused is taken back with the desk's cancel call.
import type { ForwardDesk } from "../../types/ethers-contracts/ForwardDesk.sol/ForwardDesk.ts";
import { deskRequestGasLimit, mintRedeemGasLimit } from "../chain/gas.ts";
import { readTokenBook } from "../chain/tokenBook.ts";
import {
  ACTIVE,
  DELISTING,
  ENGINE_LEGS,
  PENDING,
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
import type { PoolHandles } from "./poolHandles.ts";

/** The arbitrageur's side of one desk, as the chain holds it. */
export interface DeskState extends Inventory {
  /** Filled and not yet claimed: the deposit's USDT and tokens, the redemption's tokens and USDT. */
  claimableDepositUsdt: bigint;
  claimableTokens: bigint;
  claimableRedeemTokens: bigint;
  claimableUsdt: bigint;
  /** Refused by a fill, for the cancel calls to return. */
  refusedUsdt: bigint;
  refusedTokens: bigint;
}

/** The arbitrageur's side of the pool's desk, at the pending block as the pool (the desk's views do
 * not depend on the block's time), so a pass reads both in one request. */
export async function readDesk(h: PoolHandles): Promise<DeskState> {
  const desk = h.reads.desk;
  if (desk === undefined) throw new Error(`${h.symbol} has no desk`);
  const me = h.me;
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
    h.reads.usdt.balanceOf(me, PENDING),
    h.reads.token.balanceOf(me, PENDING),
    desk.pendingDepositRequest(0n, me, PENDING),
    desk.pendingRedeemRequest(0n, me, PENDING),
    desk.maxDeposit(me, PENDING),
    desk.maxMint(me, PENDING),
    desk.maxRedeem(me, PENDING),
    desk.maxWithdraw(me, PENDING),
    desk.refundable(me, PENDING),
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
 * `read`: the desk as readDesk read it for this pass.
 */
export async function finishDeskTrade(
  ctx: ArbContext,
  v: PoolView,
  desk: ForwardDesk,
  base: ArbResult,
  read: DeskState,
): Promise<ArbResult | undefined> {
  const h = v.handles;
  const me = h.me;
  let d = read;
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
  // the desk, the tokens and USDT held and the pool, read together (the unwind's start, the trade's end)
  let reserves: Reserves;
  [d, reserves] = await Promise.all([readDesk(h), readReserves(v)]);
  if (d.tokens > 0n && d.pendingTokens === 0n) {
    await unwind(ctx, v, desk, d.tokens, trade, d.usdt, reserves);
    [d, reserves] = await Promise.all([readDesk(h), readReserves(v)]);
  }
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
  const h = v.handles;
  const [r0, r1] = await h.reads.pair.getReserves(PENDING);
  return h.tokenIsToken0 ? { token: r0, usdt: r1 } : { token: r1, usdt: r0 };
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
  usdtHeld: bigint,
  reserves: Reserves,
): Promise<void> {
  const { me, router } = v.handles;
  const usdt = v.handles.reads.usdt;
  const said = { symbol: v.symbol, action: trade.action };
  if (v.state === SETTLED) {
    const redeem = v.token.redeem;
    const usdtBefore = usdtHeld;
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
  let sold = 0n;
  const toEdge = sellToUpper(reserves, v.band.lower);
  const size = toEdge < held ? toEdge : held;
  if (size > 0n) {
    const engine = ctx.engine ?? ENGINE_LEGS;
    const t = await readTokenBook(v.handles.rpc, v.handles.reads.token, v.handles.reads.vault, "pending");
    const floor = engine.redeemPayout(t, size);
    const out = getAmountOut(size, reserves.token, reserves.usdt);
    if (out > floor) {
      const path = [v.handles.tokenAddress, ctx.book.usdt];
      const usdtBefore = usdtHeld;
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
): Promise<ArbResult> {
  const { me, router } = v.handles;
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
    const path = [ctx.book.usdt, v.handles.tokenAddress];
    const purchase = { router, amountIn: cost, minOut: tokens, path };
    if (ctx.dryRun) return { ...plan, outcome: "would-trade", expectedNav };
    const amounts = await trySwap(ctx, purchase);
    if ((amounts[1] ?? 0n) < tokens)
      return { ...plan, outcome: "skipped", why: "eth_call: the pool pays fewer tokens" };
    const before = await v.handles.reads.token.balanceOf(me);
    const bought = await swapLeg(ctx, "purchase", purchase);
    const got = (await v.handles.reads.token.balanceOf(me)) - before;
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
  const [d, reserves] = await Promise.all([readDesk(v.handles), readReserves(v)]);
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
