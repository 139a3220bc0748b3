// The NAV arbitrage on tokens with a ForwardDesk (in-process network): a pool off the band is
// traded in two passes around the keeper's fill at the next price round (request; then claim and
// the pool leg), a waiting request is never doubled, a refused one is taken back, a restarted bot
// finishes what an earlier process opened, and the report carries the engine's expected price at the
// request, the fill's price and the inventory held while waiting.
import { expect } from "chai";
import { MARKETS, WAD } from "../../src/common/params.ts";
import { rawRpcOf, readTokenBook } from "../../src/chain/tokenBook.ts";
import { quoteDepositBook } from "../../src/engine/index.ts";
import { arbitrageOnce, type ArbResult } from "../../src/spot/arbitrage.ts";
import { perToken, SWAP_DEADLINE_SECONDS } from "../../src/spot/arbShared.ts";
import {
  arbContext,
  bandOf,
  ethers,
  fillAll,
  networkHelpers,
  newRound,
  once,
  pushPool,
  setup,
  spot,
} from "./fixture.ts";

describe("Spot market: NAV arbitrage through the ForwardDesk (in-process network)", function () {
  it("above the band: requests a deposit, waits without a second request, then claims and sells back to the band's edge", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, pools, arb } = f;
    const desk = s.desks.BTC3L!;
    await pushPool(f, "BTC3L", 1.05);
    const usdtStart = await s.usdt.balanceOf(arb.address);
    const { ctx, lines } = arbContext(f, ["BTC3L"]);

    const requested = await once(ctx);
    expect(requested.outcome, requested.why).to.equal("requested");
    expect(requested.action).to.equal("mint-sell");
    // the request holds the engine's quote at the current price: USDT per token, fees included
    expect(await desk.pendingDepositRequest(0n, arb.address)).to.equal(requested.usdtIn);
    const quoted = (Number(requested.engineQuote) / Number(requested.tokens)) * 1e12;
    expect(Math.abs(requested.expectedNav! - quoted)).to.be.lessThan(1e-12);
    expect(requested.expectedNav! / (await bandOf(s, "BTC3L")).nav).to.be.within(1.0, 1.01);
    expect(requested.inventory!.pendingUsdt).to.equal(requested.usdtIn);
    expect(requested.inventory!.usdt).to.equal(usdtStart - requested.usdtIn!);
    // the pool has not moved yet: the tokens come with the fill
    expect(await spot(pools.BTC3L!, s)).to.be.greaterThan((await bandOf(s, "BTC3L")).upper);

    // the same round: nothing new is requested
    const waiting = await once(ctx);
    expect(waiting.outcome).to.equal("waiting");
    expect(await desk.pendingDepositRequest(0n, arb.address)).to.equal(requested.usdtIn);
    expect(await s.usdt.balanceOf(arb.address)).to.equal(usdtStart - requested.usdtIn!);
    expect((await desk.queryFilter(desk.filters.DepositRequest(arb.address))).length).to.equal(1);

    await newRound(s);
    expect(await fillAll(s)).to.equal(1);
    const traded = await once(ctx);
    expect(traded.outcome, traded.why).to.equal("traded");
    expect(traded.action).to.equal("mint-sell");
    const usdtEnd = await s.usdt.balanceOf(arb.address);
    expect(usdtEnd - usdtStart).to.equal(traded.profit);
    expect(traded.profit! > 0n).to.equal(true);
    expect(traded.usdtIn).to.equal(requested.usdtIn);
    expect(traded.filledNav).to.be.a("number");
    expect(await s.tokens.BTC3L!.balanceOf(arb.address)).to.equal(0n);
    expect(traded.inventory).to.deep.equal({ usdt: usdtEnd, tokens: 0n, pendingUsdt: 0n, pendingTokens: 0n });
    const b = await bandOf(s, "BTC3L");
    const price = await spot(pools.BTC3L!, s);
    expect(price).to.be.within(b.lower, b.upper * (1 + 1e-4));
    // every step logged: the request, the wait, the claim, the sale, the closed trade
    expect(lines.map((l) => l.event)).to.deep.equal([
      "arb-requested",
      "arb-waiting",
      "arb-claimed",
      "arb-sold",
      "arb-trade",
    ]);
    const claimed = lines.find((l) => l.event === "arb-claimed")!;
    expect(claimed.expectedNav).to.equal(requested.expectedNav);
    expect(claimed.filledNav).to.equal(traded.filledNav);
  });

  it("below the band: buys from the pool and requests the redemption; the fill's USDT is claimed", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, pools, arb } = f;
    const desk = s.desks.ETH3S!;
    await pushPool(f, "ETH3S", 0.95);
    const usdtStart = await s.usdt.balanceOf(arb.address);
    const { ctx, lines } = arbContext(f, ["ETH3S"]);
    const requested = await once(ctx);
    expect(requested.outcome, requested.why).to.equal("requested");
    expect(requested.action).to.equal("buy-redeem");
    expect(await desk.pendingRedeemRequest(0n, arb.address)).to.equal(requested.tokens);
    expect(requested.inventory!.pendingTokens).to.equal(requested.tokens);
    // the purchase swap carries a real deadline: the pending block's time + SWAP_DEADLINE_SECONDS
    const purchase = (await ethers.provider.getTransaction(requested.txs![0]!))!;
    const swap = f.u.router.interface.parseTransaction(purchase)!;
    expect(swap.name).to.equal("swapExactTokensForTokens");
    const mined = (await ethers.provider.getBlock(purchase.blockNumber!))!;
    const deadline = swap.args[4] as bigint;
    expect(deadline - BigInt(mined.timestamp)).to.be.within(1n, BigInt(SWAP_DEADLINE_SECONDS));
    // the purchase is done: the pool is back at the band's lower edge already
    const b = await bandOf(s, "ETH3S");
    expect((await spot(pools.ETH3S!, s)) / b.lower).to.be.within(1 - 1e-4, 1.0001);

    await newRound(s);
    await fillAll(s);
    const traded = await once(ctx);
    expect(traded.outcome, traded.why).to.equal("traded");
    expect((await s.usdt.balanceOf(arb.address)) - usdtStart).to.equal(traded.profit);
    expect(traded.profit! > 0n).to.equal(true);
    expect(await desk.maxWithdraw(arb.address)).to.equal(0n);
    expect(lines.map((l) => l.event)).to.deep.equal(["arb-requested", "arb-claimed", "arb-trade"]);
  });

  it("a fill at the request's price: the tokens are the engine's deposit at the fill's block to the unit, the fill's price the expected NAV less the fee and funding of the wait", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, arb } = f;
    const token = s.tokens.BTC3L!;
    const desk = s.desks.BTC3L!;
    await pushPool(f, "BTC3L", 1.05);
    const { ctx, lines } = arbContext(f, ["BTC3L"]);
    const requested = await once(ctx);
    expect(requested.outcome, requested.why).to.equal("requested");
    await newRound(s); // the same price: only time separates the request's quote from the fill
    // the keeper's fill lands at a pinned time; the engine prices the desk's deposit at that block
    const t = (await networkHelpers.time.latest()) + 5;
    await networkHelpers.time.setNextBlockTimestamp(t);
    const book = await readTokenBook(rawRpcOf(arb), token, s.vault, "pending");
    expect(book.timestamp).to.equal(BigInt(t));
    const shares = quoteDepositBook(book.book, requested.usdtIn!, book.targetLeverage, book.isLong).shares;
    await desk.fill(); // the keeper's: no bounty taken from the deposit
    expect(await desk.maxMint(arb.address)).to.equal(shares);
    const traded = await once(ctx);
    expect(traded.outcome, traded.why).to.equal("traded");
    const claimed = lines.find((l) => l.event === "arb-claimed")!;
    expect(claimed.tokens).to.equal(shares);
    expect(traded.filledNav).to.equal(perToken(requested.usdtIn!, shares));
    // the request bought `tokens` at the engine's price at its block; by the fill's, a long has paid
    // that many more seconds of management fee and funding, so the same USDT mints a little more (a
    // lower price per token), and no more than that accrual
    const elapsed = BigInt(t - requested.pricedAt!);
    expect(elapsed > 0n).to.equal(true);
    const extra = shares - requested.tokens!;
    const [status, leverage] = await Promise.all([token.status(), token.leverage()]);
    expect(MARKETS.BTC.fundingRate > 0n).to.equal(true);
    const perSecond =
      (leverage * MARKETS.BTC.fundingRate) / WAD / 28_800n + status.managementFee / (365n * 86_400n);
    const bound = (requested.tokens! * perSecond * elapsed * 3n) / 2n / WAD + 2n;
    expect(extra > 0n, `extra ${extra}`).to.equal(true);
    expect(extra <= bound, `extra ${extra} > bound ${bound}`).to.equal(true);
    expect(traded.filledNav!).to.be.at.most(traded.expectedNav!);
    expect(1 - traded.filledNav! / traded.expectedNav!).to.be.lessThan(1e-6);
    // more tokens sold into the same pool: the trade made at least what the engine expected
    expect(traded.profit! >= traded.expectedProfit!).to.equal(true);
  });

  it("carries the inventory risk: a price move before the fill shows in the fill's price; tokens the pool now pays too little for are redeemed", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, arb } = f;
    const desk = s.desks.BTC3L!;
    await pushPool(f, "BTC3L", 1.05);
    const usdtStart = await s.usdt.balanceOf(arb.address);
    const { ctx, lines } = arbContext(f, ["BTC3L"]);
    // the trade after this one's close expects less than the default minimum profit: taken here
    ctx.minProfit = 0n;
    const requested = await once(ctx);
    expect(requested.outcome).to.equal("requested");
    // BTC up 2% at the next round: a 3x long's tokens cost about 6% more than quoted, and the pool
    // (5% over the old NAV) is now under the band: selling them would pay less than redeeming
    await newRound(s, 0.02);
    await fillAll(s);
    const waiting = await once(ctx);
    expect(waiting.outcome, waiting.why).to.equal("waiting");
    expect(waiting.filledNav! / requested.expectedNav!).to.be.within(1.05, 1.07);
    expect(waiting.inventory!.tokens).to.equal(0n);
    const claimed = lines.find((l) => l.event === "arb-claimed")!;
    expect(waiting.inventory!.pendingTokens).to.equal(claimed.tokens);
    expect(await desk.pendingRedeemRequest(0n, arb.address)).to.equal(claimed.tokens);
    await newRound(s);
    await fillAll(s);
    // the trade closes; in the same pass the pool, now under the band, takes a new trade (a purchase
    // and a redeem request)
    const [traded, next] = (await arbitrageOnce(ctx)) as [ArbResult, ArbResult];
    expect(traded.outcome, traded.why).to.equal("traded");
    expect(traded.filledNav).to.equal(waiting.filledNav);
    expect(traded.expectedNav).to.equal(requested.expectedNav);
    expect(next.outcome, next.why).to.equal("requested");
    expect(next.action).to.equal("buy-redeem");
    expect((await s.usdt.balanceOf(arb.address)) - usdtStart).to.equal(traded.profit! - next.usdtIn!);
    // the move went against the trade: a loss, less than the request's expected profit
    expect(traded.profit! < traded.expectedProfit!).to.equal(true);
    expect(traded.profit! < 0n).to.equal(true);
    expect(lines.map((l) => l.event)).to.deep.equal([
      "arb-requested",
      "arb-claimed",
      "arb-requested",
      "arb-waiting",
      "arb-claimed",
      "arb-trade",
      "arb-requested",
    ]);
  });

  it("takes back a request the fill refused (minting paused), and a restarted bot finishes an open trade", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, arb } = f;
    const desk = s.desks.ETH3L!;
    await pushPool(f, "ETH3L", 1.05);
    const usdtStart = await s.usdt.balanceOf(arb.address);
    const { ctx } = arbContext(f, ["ETH3L"]);
    const requested = await once(ctx);
    expect(requested.outcome).to.equal("requested");
    await s.tokens.ETH3L!.setMintPaused(true);
    await newRound(s);
    await fillAll(s);
    const [refusedUsdt] = await desk.refundable(arb.address);
    expect(refusedUsdt).to.equal(requested.usdtIn);
    // a new process: no memory of the request; the chain says what to finish
    const fresh = arbContext(f, ["ETH3L"]);
    const r = await once(fresh.ctx);
    expect(r.outcome, r.why).to.equal("skipped");
    expect(r.why).to.match(/refused/);
    expect(await s.usdt.balanceOf(arb.address)).to.equal(usdtStart);
    expect((await desk.refundable(arb.address))[0]).to.equal(0n);
    expect(fresh.lines.map((l) => l.event)).to.deep.equal(["arb-refunded", "arb-skipped"]);
    // minting still paused: the next pass does not request again
    const next = await once(fresh.ctx);
    expect(next.outcome).to.equal("skipped");
    expect(next.why).to.equal("minting is closed");
    expect(await desk.pendingDepositRequest(0n, arb.address)).to.equal(0n);
  });

  it("finishing only: opens nothing new, and closes an open trade without a new one after it", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, arb } = f;
    const desk = s.desks.ETH3L!;
    await pushPool(f, "ETH3L", 1.08);
    const { ctx } = arbContext(f, ["ETH3L"]);
    const idle = await once({ ...ctx, finishOnly: true });
    expect(idle.outcome).to.equal("skipped");
    expect(idle.why).to.match(/only finishing/);
    expect(await desk.pendingDepositRequest(0n, arb.address)).to.equal(0n);
    expect((await once(ctx)).outcome).to.equal("requested");
    // ETH down 2% at the fill: the claimed tokens are worth less, the pool is further above the band
    await networkHelpers.time.increase(60);
    const [, eth] = await s.feeds.ETH.latestRoundData();
    await s.feeds.ETH.updateAnswer((eth * 98n) / 100n);
    await s.feeds.BTC.updateAnswer((await s.feeds.BTC.latestRoundData())[1]);
    await fillAll(s);
    const results = await arbitrageOnce({ ...ctx, finishOnly: true });
    expect(results.map((r) => r.outcome)).to.deep.equal(["traded"]);
    expect(await desk.pendingDepositRequest(0n, arb.address)).to.equal(0n);
    expect(await desk.pendingRedeemRequest(0n, arb.address)).to.equal(0n);
  });

  it("a restarted bot claims and sells a filled deposit it did not request itself", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, arb } = f;
    await pushPool(f, "BTC3S", 1.05);
    const usdtStart = await s.usdt.balanceOf(arb.address);
    const first = arbContext(f, ["BTC3S"]);
    expect((await once(first.ctx)).outcome).to.equal("requested");
    await newRound(s);
    await fillAll(s);
    const fresh = arbContext(f, ["BTC3S"]);
    const r = await once(fresh.ctx);
    expect(r.outcome, r.why).to.equal("traded");
    expect(r.why).to.match(/opened before this process/);
    expect(r.profit).to.equal(undefined);
    expect(await s.tokens.BTC3S!.balanceOf(arb.address)).to.equal(0n);
    expect(await s.usdt.balanceOf(arb.address)).to.be.greaterThan(usdtStart);
  });
});
