// The arbitrage bot on desk tokens (in-process network), what it does whichever way a trade goes:
// the pools seeded at NAV from desk-minted tokens; a partial trade when the USDT inventory is short;
// a dry run that sends nothing; along a price path with rebalances every pool back inside the band
// once the desk trades are filled and finished, and a settled token left alone; a disagreement
// between the engine and the token's previews stops the trade; both directions' approvals on the
// first pass; a failed pass that says what it read; a stale price that is skipped and backed off
// from; the factory's tokens re-read while it runs. The desk legs themselves (request, fill, claim,
// sale, refunds, a restarted bot) are in deskArbitrage.ts.
import { expect } from "chai";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { MARKETS, SPOT, USDT } from "../../src/common/params.ts";
import {
  arbitrageOnce,
  ENGINE_LEGS,
  refreshTokens,
  reservesOf,
  runArbitrage,
  type ArbContext,
  type ArbResult,
} from "../../src/spot/arbitrage.ts";
import {
  approveAll,
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
  type Fixture,
  type Line,
} from "./fixture.ts";

/** Pins the pending block's time (the next block's), so every read and the first leg share it. */
async function pinNextBlock(): Promise<number> {
  const t = (await networkHelpers.time.latest()) + 5;
  await networkHelpers.time.setNextBlockTimestamp(t);
  return t;
}

/** Mines a block every 20 ms until the signal aborts (the loop passes once per new block). */
async function mineUntil(signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await networkHelpers.mine();
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Passes that only finish open desk trades (`finishOnly`, as the demo's between two steps), with a
 * new price round (at the same price) and the keeper's fills before each, until no desk trade is
 * open: every request placed has been filled, claimed and its pool leg done. Returns every result;
 * fails the test when trades are still open after `rounds` rounds. (Passes that may open trades
 * would chase the NAV's drift with dust trades round after round: see the report.)
 */
async function finishTrades(
  f: Fixture,
  ctx: ArbContext,
  first: ArbResult[],
  rounds = 6,
): Promise<ArbResult[]> {
  const all = [...first];
  let last = first;
  for (let i = 0; last.some((r) => r.outcome === "requested" || r.outcome === "waiting"); i++) {
    expect(
      i,
      `desk trades still open: ${JSON.stringify(last.map((r) => [r.symbol, r.outcome]))}`,
    ).to.be.lessThan(rounds);
    await newRound(f.s);
    await fillAll(f.s);
    last = await arbitrageOnce({ ...ctx, finishOnly: true });
    all.push(...last);
  }
  return all;
}

describe("Spot market: the arbitrage bot on desk tokens (in-process network)", function () {
  it("seeds every pool at NAV, from the admin's own desk-minted tokens", async function () {
    const { s, pools, admin, seed } = await networkHelpers.loadFixture(setup);
    for (const [symbol, token] of Object.entries(s.tokens)) {
      const b = await bandOf(s, symbol);
      expect(Math.abs((await spot(pools[symbol]!, s)) / b.nav - 1), symbol).to.be.lessThan(1e-5);
      const r = await reservesOf(pools[symbol]!, await s.usdt.getAddress());
      expect(r.token).to.equal(SPOT.seedTokens);
      // the seed came out of the admin's desk-minted tokens: nothing was minted for it
      expect(await token.balanceOf(admin.address)).to.equal(seed[symbol]!.held - SPOT.seedTokens);
      expect(await token.totalSupply()).to.equal(seed[symbol]!.supply);
      expect(await token.balanceOf(await pools[symbol]!.getAddress())).to.equal(SPOT.seedTokens);
    }
  });

  it("with too little USDT requests what its inventory allows, and closes the trade at a profit", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, pools } = f;
    const [, , , small] = (await ethers.getSigners()) as HardhatEthersSigner[];
    await s.usdt.mint(small!.address, 1_000n * USDT);
    await pushPool(f, "BTC3L", 1.05);
    const { ctx } = arbContext(f, ["BTC3L"], new Map(), small!);
    const requested = await once(ctx);
    expect(requested.outcome, requested.why).to.equal("requested");
    expect(requested.action).to.equal("mint-sell");
    // the whole trade would need far more: it asks for what 1,000 USDT buys, not more
    expect(requested.usdtIn! <= 1_000n * USDT).to.equal(true);
    expect(requested.usdtIn! > 900n * USDT).to.equal(true);
    expect(await s.desks.BTC3L!.pendingDepositRequest(0n, small!.address)).to.equal(requested.usdtIn);
    await newRound(s);
    expect(await fillAll(s)).to.equal(1);
    // the trade closes; the pool, still above the band, takes a new request of what is left
    const [traded, next] = (await arbitrageOnce(ctx)) as [ArbResult, ArbResult | undefined];
    expect(traded.outcome, traded.why).to.equal("traded");
    expect(traded.profit! > 0n).to.equal(true);
    expect(traded.usdtIn).to.equal(requested.usdtIn);
    expect(next?.outcome).to.equal("requested");
    expect(await s.usdt.balanceOf(small!.address)).to.equal(1_000n * USDT + traded.profit! - next!.usdtIn!);
    const b = await bandOf(s, "BTC3L");
    const price = await spot(pools.BTC3L!, s);
    expect(price).to.be.greaterThan(b.upper);
    expect(price).to.be.lessThan(requested.spotBefore);
    expect(await s.tokens.BTC3L!.balanceOf(small!.address)).to.equal(0n);
  });

  it("sends nothing on a dry run and leaves a pool inside the band alone", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, pools, arb } = f;
    // no approvals first: a dry run sends none, and needs none
    await pushPool(f, "ETH3S", 1.05);
    const priceBefore = await spot(pools.ETH3S!, s);
    const usdtBefore = await s.usdt.balanceOf(arb.address);
    const nonce = await ethers.provider.getTransactionCount(arb.address);
    const { ctx, lines } = arbContext(f);
    const t = await pinNextBlock();
    const results = await arbitrageOnce({ ...ctx, dryRun: true });
    expect(results.map((r) => [r.symbol, r.outcome])).to.deep.equal([
      ["BTC3L", "inside"],
      ["BTC3S", "inside"],
      ["ETH3L", "inside"],
      ["ETH3S", "would-trade"],
    ]);
    const r = results[3]!;
    expect(r.action).to.equal("mint-sell");
    expect(r.expectedProfit! > 0n).to.equal(true);
    expect(r.expectedProfit).to.equal(r.usdtOut! - r.engineQuote!);
    // the engine priced the deposit at the pending block: the least USDT that the token's
    // previewDeposit says mints the tokens there (one unit less does not)
    expect(r.pricedAt).to.equal(t);
    const token = s.tokens.ETH3S!;
    expect(await token.previewDeposit(r.engineQuote!, { blockTag: "pending" })).to.be.at.least(r.tokens!);
    expect(await token.previewDeposit(r.engineQuote! - 1n, { blockTag: "pending" })).to.be.lessThan(
      r.tokens!,
    );
    expect(lines.map((l) => l.event)).to.deep.equal([
      "arb-inside",
      "arb-inside",
      "arb-inside",
      "arb-would-trade",
    ]);
    expect(await spot(pools.ETH3S!, s)).to.equal(priceBefore);
    expect(await s.usdt.balanceOf(arb.address)).to.equal(usdtBefore);
    expect(await s.desks.ETH3S!.pendingDepositRequest(0n, arb.address)).to.equal(0n);
    expect(await ethers.provider.getTransactionCount(arb.address)).to.equal(nonce);
  });

  it("keeps every pool inside the band along a price path with rebalances once its desk trades are done, and leaves a settled token alone", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, pools, admin } = f;
    const { ctx, lines } = arbContext(f);
    const moves = [0.04, -0.06, 0.08, -0.1, 0.05, 0.12, -0.03, -0.09];
    let rebalances = 0;
    const all: ArbResult[] = [];
    for (const [i, move] of moves.entries()) {
      const market = i % 2 === 0 ? "BTC" : "ETH";
      await networkHelpers.time.increase(60);
      for (const m of Object.keys(MARKETS) as ("BTC" | "ETH")[]) {
        const [, answer] = await s.feeds[m].latestRoundData();
        const factor = m === market ? 1 + move : 1;
        await s.feeds[m].updateAnswer((answer * BigInt(Math.round(factor * 1e6))) / 1_000_000n);
      }
      for (const token of Object.values(s.tokens)) {
        if ((await token.rebalanceNeeded())[0]) {
          await token.connect(admin).rebalance();
          rebalances++;
        }
      }
      const results = await finishTrades(f, ctx, await arbitrageOnce(ctx));
      expect(results.filter((r) => r.outcome === "failed")).to.deep.equal([]);
      all.push(...results);
      for (const symbol of Object.keys(s.tokens)) {
        const b = await bandOf(s, symbol);
        const price = await spot(pools[symbol]!, s);
        // NAV drifts with funding and the management fee over the pass's blocks (~1e-8 a second)
        expect(price, `${symbol} at step ${i}`).to.be.within(b.lower * (1 - 1e-5), b.upper * (1 + 1e-5));
        expect(await s.tokens[symbol]!.balanceOf(f.arb.address), `${symbol} held at step ${i}`).to.equal(0n);
      }
    }
    expect(rebalances).to.be.greaterThan(0);
    const traded = all.filter((r) => r.outcome === "traded");
    expect(traded.length).to.be.greaterThan(moves.length);
    expect(new Set(traded.map((r) => r.action))).to.deep.equal(new Set(["mint-sell", "buy-redeem"]));
    // every request was filled at the price it was placed at (no move in between): each trade was
    // expected to pay, and paid what the engine expected but for the fee and funding of the wait
    for (const r of traded) {
      const said = `${r.symbol} ${r.action}: expected ${r.expectedProfit}, made ${r.profit}`;
      expect(r.expectedProfit! > 0n, said).to.equal(true);
      const off = r.profit! - r.expectedProfit!;
      expect((off < 0n ? -off : off) <= r.expectedProfit! / 1000n + 100n, said).to.equal(true);
    }
    // the engine agreed with the token's previews on every trade, after rebalances, fees and funding
    expect(lines.filter((l) => l.event === "arb-engine-mismatch")).to.deep.equal([]);

    // delist ETH3L and settle it: its pool is no longer arbitraged, whatever its price
    const token = s.tokens.ETH3L!;
    await token.scheduleDelisting((await networkHelpers.time.latest()) + 3 * 86_400 + 60);
    await networkHelpers.time.increase(3 * 86_400 + 120);
    await newRound(s);
    await token.settle();
    expect(await token.state()).to.equal(2n);
    await pushPool(f, "ETH3L", 1.1); // a buy (minting is closed)
    const priceBefore = await spot(pools.ETH3L!, s);
    const results = await arbitrageOnce(ctx);
    const eth3l = results.filter((r) => r.symbol === "ETH3L");
    expect(eth3l).to.have.length(1);
    expect(eth3l[0]!.outcome).to.equal("skipped");
    expect(eth3l[0]!.why).to.match(/settled/);
    expect(await spot(pools.ETH3L!, s)).to.equal(priceBefore);
    expect(await s.desks.ETH3L!.pendingRedeemRequest(0n, f.arb.address)).to.equal(0n);
    expect(results.filter((r) => r.symbol !== "ETH3L").every((r) => r.outcome !== "failed")).to.equal(true);
  });

  for (const [factor, action, preview] of [
    [1.05, "mint-sell", "previewDeposit"],
    [0.95, "buy-redeem", "previewRedeem"],
  ] as const) {
    it(`does not ${action} when the engine disagrees with ${preview} by one unit`, async function () {
      const f = await networkHelpers.loadFixture(setup);
      const { s, pools, arb } = f;
      const token = s.tokens.ETH3L!;
      const desk = s.desks.ETH3L!;
      await pushPool(f, "ETH3L", factor);
      const { ctx, lines } = arbContext(f, ["ETH3L"]);
      const reservesBefore = await reservesOf(pools.ETH3L!, await s.usdt.getAddress());
      const usdtBefore = await s.usdt.balanceOf(arb.address);
      await approveAll(f); // so the pass below sends nothing at all, approvals included
      const nonce = await ethers.provider.getTransactionCount(arb.address);
      await pinNextBlock();
      const r = await once({
        ...ctx,
        engine: {
          mintCost: (t, shares) => ENGINE_LEGS.mintCost(t, shares) + 1n,
          redeemPayout: (t, shares) => ENGINE_LEGS.redeemPayout(t, shares) - 1n,
        },
      });
      expect(r.outcome).to.equal("skipped");
      expect(r.action).to.equal(action);
      expect(r.why).to.match(new RegExp(`the engine and ${preview} disagree`));
      const mismatch = lines.filter((l) => l.event === "arb-engine-mismatch");
      expect(mismatch).to.have.length(1);
      const m = mismatch[0]!;
      expect(m.engine).to.equal(r.engineQuote);
      const pending = { blockTag: "pending" } as const;
      if (action === "mint-sell") {
        // one unit more than the least deposit: one unit less still mints the tokens on chain
        expect(await token.previewDeposit(r.engineQuote! - 1n, pending)).to.be.at.least(r.tokens!);
      } else {
        expect(BigInt(m.engine as bigint) - BigInt(m.preview as bigint)).to.equal(-1n);
        expect(m.preview).to.equal(await token.previewRedeem(r.tokens!, pending));
      }
      expect(await reservesOf(pools.ETH3L!, await s.usdt.getAddress())).to.deep.equal(reservesBefore);
      expect(await s.usdt.balanceOf(arb.address)).to.equal(usdtBefore);
      expect(await token.balanceOf(arb.address)).to.equal(0n);
      expect(await desk.pendingDepositRequest(0n, arb.address)).to.equal(0n);
      expect(await desk.pendingRedeemRequest(0n, arb.address)).to.equal(0n);
      expect(await ethers.provider.getTransactionCount(arb.address)).to.equal(nonce);
      // the true engine opens the trade on the same pool
      const ok = await once(ctx);
      expect(ok.outcome, ok.why).to.equal("requested");
      expect(ok.action).to.equal(action);
    });
  }

  it("approves the legs of both directions on its first pass, whichever way the pool is off", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, u, arb } = f;
    await pushPool(f, "BTC3L", 0.95);
    const { ctx } = arbContext(f, ["BTC3L"]);
    const r = await once(ctx);
    expect(r.outcome, r.why).to.equal("requested");
    expect(r.action).to.equal("buy-redeem");
    const router = await u.router.getAddress();
    const desk = await s.desks.BTC3L!.getAddress();
    const token = s.tokens.BTC3L!;
    const unlimited = 2n ** 255n;
    // buy and request the redemption: the router takes USDT, the desk the tokens
    expect(await s.usdt.allowance(arb.address, router)).to.be.greaterThan(unlimited);
    expect(await token.allowance(arb.address, desk)).to.be.greaterThan(unlimited);
    // the other direction's too (a pool that crosses NAV while they are mined needs them): the desk
    // takes the deposit's USDT, the router the claimed tokens
    expect(await s.usdt.allowance(arb.address, desk)).to.be.greaterThan(unlimited);
    expect(await token.allowance(arb.address, router)).to.be.greaterThan(unlimited);
    // and none to the token itself, which takes mints from its desk only
    expect(await s.usdt.allowance(arb.address, await token.getAddress())).to.equal(0n);
  });

  it("says a failed pass's NAV, spot and band as they were read, not zeros", async function () {
    const f = await networkHelpers.loadFixture(setup);
    await pushPool(f, "BTC3L", 1.05);
    await approveAll(f);
    const { ctx, lines } = arbContext(f, ["BTC3L"]);
    const band = await bandOf(f.s, "BTC3L");
    const r = await once({
      ...ctx,
      engine: {
        ...ENGINE_LEGS,
        mintCost: () => {
          throw new Error("the engine broke");
        },
      },
    });
    expect(r.outcome).to.equal("failed");
    expect(r.why).to.equal("the engine broke");
    expect(Math.abs(r.navBefore - band.nav)).to.be.lessThan(1e-6);
    expect(Math.abs(r.spotBefore / band.nav - 1.05)).to.be.lessThan(0.001);
    expect(Math.abs(r.band.upper - band.upper)).to.be.lessThan(1e-6);
    expect(Math.abs(r.band.lower - band.lower)).to.be.lessThan(1e-6);
    const failed = lines.filter((l) => l.event === "arb-failed");
    expect(failed).to.have.length(1);
    expect(failed[0]!.navBefore).to.equal(r.navBefore);
    expect(await f.s.desks.BTC3L!.pendingDepositRequest(0n, f.arb.address)).to.equal(0n);
  });

  it("while a price is stale: a decoded StalePrice, the pool's spot, and backs off instead of retrying every block", async function () {
    const f = await networkHelpers.loadFixture(setup);
    await approveAll(f);
    await networkHelpers.time.increase(2 * 3600); // past every feed's 3,600 s heartbeat
    const { ctx, lines } = arbContext(f);
    const results = await arbitrageOnce(ctx);
    expect(results).to.have.length(4);
    for (const r of results) {
      expect(r.outcome).to.equal("skipped");
      expect(r.stale).to.equal(true);
      expect(r.why).to.match(/^reverted StalePrice\(0x[0-9a-f]+, \d+, 3600\)$/);
      expect(Math.abs(r.spotBefore - 1)).to.be.lessThan(0.01);
      expect(JSON.parse(JSON.stringify(r)).navBefore).to.equal(null); // unknown, not 0
    }
    // the loop: a block every 20 ms for 1.5 s; without the back-off it would pass on every block
    lines.length = 0;
    const controller = new AbortController();
    const miner = mineUntil(controller.signal);
    const loop = runArbitrage(ctx, { once: false, intervalMs: 20, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 1500));
    controller.abort();
    await Promise.all([loop, miner]);
    const passes = lines.filter((l) => l.event === "arb-skipped").length / results.length;
    expect(lines.filter((l) => l.event === "arb-stale")).to.have.length(1);
    expect(passes).to.be.at.least(2);
    expect(passes).to.be.at.most(8); // 20, 40, 80, 160, 320, 640 ms apart (+-20%): about 6 in 1.5 s
    expect(lines.filter((l) => l.event === "arb-failed")).to.deep.equal([]);
  });

  it("re-reads the factory's tokens and their pools while it runs: a pool it did not know at start is arbitraged", async function () {
    const f = await networkHelpers.loadFixture(setup);
    await approveAll(f);
    await pushPool(f, "BTC3L", 1.05);
    // the bot started before BTC3L was listed: its book has the other three
    const { BTC3L: _token, ...tokens } = f.book.tokens;
    const { BTC3L: _desk, ...desks } = f.book.desks!;
    const { BTC3L: _pool, ...pools } = f.book.pools!;
    const without = { ...f, book: { ...f.book, tokens, desks, pools } };
    const { ctx, lines } = arbContext(without);
    const first = await arbitrageOnce(ctx);
    expect(first.map((r) => r.symbol)).to.deep.equal(["BTC3S", "ETH3L", "ETH3S"]);
    expect(await refreshTokens(ctx)).to.deep.equal(["BTC3L"]);
    expect(lines.filter((l) => l.event === "arb-tokens-added")).to.deep.equal([
      { event: "arb-tokens-added", tokens: ["BTC3L"] },
    ]);
    expect(ctx.book.desks?.BTC3L).to.equal(f.book.desks!.BTC3L);
    const [requested] = (await arbitrageOnce(ctx)).filter((r) => r.symbol === "BTC3L");
    expect(requested?.outcome, requested?.why).to.equal("requested");
    expect(await f.s.desks.BTC3L!.pendingDepositRequest(0n, f.arb.address)).to.equal(requested!.usdtIn);
    expect(await refreshTokens(ctx)).to.deep.equal([]); // nothing new the second time
    // the loop re-reads every `tokenRefreshPasses` passes
    const loop = arbContext(without);
    const controller = new AbortController();
    const miner = mineUntil(controller.signal);
    const running = runArbitrage(loop.ctx, {
      once: false,
      intervalMs: 20,
      signal: controller.signal,
      tokenRefreshPasses: 2,
    });
    const added = (l: Line[]) => l.some((x) => x.event === "arb-tokens-added");
    for (let waited = 0; !added(loop.lines) && waited < 10_000; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
    }
    controller.abort();
    await Promise.all([running, miner]);
    expect(added(loop.lines), "the loop re-read the token list").to.equal(true);
    expect(Object.keys(loop.ctx.book.pools!)).to.include("BTC3L");
  });
});
