// The NAV arbitrage on the in-process network: a pool pushed 5% above or below NAV comes back inside
// the no-arbitrage band in one pass with a profit; along a price path with rebalances every pool
// stays inside the band; a settled token's pool is left alone. The profit the engine prices before
// sending is the realized profit to the unit (mint and sell) or within the fee and funding accrued
// between the two legs' blocks (buy and redeem); a disagreement between the engine and the token's
// preview stops the trade.
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { AddressBook } from "../../src/chain/addressBook.ts";
import { deploySystem, type System } from "../../src/chain/deploy.ts";
import { MARKETS, USDT, WAD } from "../../src/common/params.ts";
import type { LogFields } from "../../src/common/log.ts";
import { readTrueNav } from "../../src/cli/trueNav.ts";
import { rawRpcOf } from "../../src/chain/tokenBook.ts";
import {
  arbitrageOnce,
  ENGINE_LEGS,
  refreshTokens,
  runArbitrage,
  reservesOf,
  type ArbContext,
  type ArbResult,
} from "../../src/spot/arbitrage.ts";
import {
  addressesOf,
  createPoolAtNav,
  deployUniswap,
  NO_DEADLINE,
  type Uniswap,
  type UniswapV2Pair,
} from "../../src/spot/uniswap.ts";

const { ethers, networkHelpers } = await network.create();

interface Line extends LogFields {
  event: string;
}

async function setup() {
  const [admin, arb, trader] = (await ethers.getSigners()) as [HardhatEthersSigner, ...HardhatEthersSigner[]];
  const s = await deploySystem(ethers);
  const u = await deployUniswap(admin);
  const pools: Record<string, UniswapV2Pair> = {};
  for (const [symbol, token] of Object.entries(s.tokens))
    pools[symbol] = await createPoolAtNav(u, s.usdt, token, admin);
  const book: AddressBook = {
    chainId: Number((await ethers.provider.getNetwork()).chainId),
    usdt: await s.usdt.getAddress(),
    perpVault: await s.vault.getAddress(),
    factory: await s.factory.getAddress(),
    feeds: { BTC: await s.feeds.BTC.getAddress(), ETH: await s.feeds.ETH.getAddress() },
    tokens: {},
    pools: {},
    uniswap: await addressesOf(u),
  };
  for (const [symbol, token] of Object.entries(s.tokens)) {
    book.tokens[symbol] = await token.getAddress();
    book.pools![symbol] = await pools[symbol]!.getAddress();
  }
  for (const who of [arb!, trader!]) await s.usdt.mint(who.address, 10_000_000n * USDT);
  return { s, u, book, pools, admin, arb: arb!, trader: trader! };
}

/**
 * The band, computed here from the fees, the exchange's taker fee and the pool's 0.3%, in floats,
 * around NAV as total assets over supply (what the arbitrage prices at; nav() rounds it down to 6
 * decimals).
 */
async function bandOf(s: System, symbol: string): Promise<{ lower: number; upper: number; nav: number }> {
  const token = s.tokens[symbol]!;
  const nav = Number((await readTrueNav(token, rawRpcOf(token.runner))).perToken) / 1e18;
  const [mintFee, redeemFee] = (await token.fees()).map((f) => Number(f) / 1e18);
  const [takerFee] = await s.vault.tradeCosts(await token.market());
  const cost = (Number(await token.targetLeverage()) / 1e18) * (Number(takerFee) / 1e18);
  return {
    nav,
    upper: nav / ((1 - mintFee!) * (1 - cost) * 0.997),
    lower: nav * (1 - redeemFee!) * (1 - cost) * 0.997,
  };
}

async function spot(pool: UniswapV2Pair, s: System): Promise<number> {
  const r = await reservesOf(pool, await s.usdt.getAddress());
  return Number(r.usdt) / 1e6 / (Number(r.token) / 1e18);
}

/** The trader swaps through the router until the pool's price is `factor` x NAV. */
async function pushPool(ctx: Awaited<ReturnType<typeof setup>>, symbol: string, factor: number) {
  const { s, u, pools, trader } = ctx;
  const token = s.tokens[symbol]!;
  const r = await reservesOf(pools[symbol]!, await s.usdt.getAddress());
  const k = Number(r.token) * Number(r.usdt);
  const targetPrice = (Number(await token.nav()) / 1e18) * factor; // USDT units per token unit
  const tokenAfter = Math.sqrt(k / targetPrice);
  const router = u.router.connect(trader) as Uniswap["router"];
  const usdtAddress = await s.usdt.getAddress();
  const tokenAddress = await token.getAddress();
  if (tokenAfter < Number(r.token)) {
    // buy tokens with USDT: the price rises
    const usdtIn = BigInt(Math.round((k / tokenAfter - Number(r.usdt)) / 0.997));
    await s.usdt.connect(trader).approve(await router.getAddress(), usdtIn);
    await router.swapExactTokensForTokens(
      usdtIn,
      0n,
      [usdtAddress, tokenAddress],
      trader.address,
      NO_DEADLINE,
    );
  } else {
    const tokensIn = BigInt(Math.round((tokenAfter - Number(r.token)) / 0.997));
    await s.usdt.connect(trader).approve(tokenAddress, 2n ** 255n);
    await token.connect(trader)["mint(uint256,address)"](tokensIn, trader.address);
    await token.connect(trader).approve(await router.getAddress(), tokensIn);
    await router.swapExactTokensForTokens(
      tokensIn,
      0n,
      [tokenAddress, usdtAddress],
      trader.address,
      NO_DEADLINE,
    );
  }
}

/** The arbitrageur's unlimited approvals, given beforehand so its first leg is its next transaction. */
async function approveAll(ctx: Awaited<ReturnType<typeof setup>>) {
  const { s, u, arb } = ctx;
  const router = await u.router.getAddress();
  await s.usdt.connect(arb).approve(router, 2n ** 256n - 1n);
  for (const token of Object.values(s.tokens)) {
    await s.usdt.connect(arb).approve(await token.getAddress(), 2n ** 256n - 1n);
    await token.connect(arb).approve(router, 2n ** 256n - 1n);
  }
}

/** Pins the pending block's time (the next block's), so every read and the first leg share it. */
async function pinNextBlock(): Promise<number> {
  const t = (await networkHelpers.time.latest()) + 5;
  await networkHelpers.time.setNextBlockTimestamp(t);
  return t;
}

async function blockTime(hash: string): Promise<number> {
  const receipt = await ethers.provider.getTransactionReceipt(hash);
  return (await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp;
}

function ctxFor(ctx: Awaited<ReturnType<typeof setup>>, symbols?: string[]) {
  const lines: Line[] = [];
  return {
    lines,
    arbCtx: {
      signer: ctx.arb,
      book: ctx.book,
      symbols,
      log: (event: string, f?: LogFields) => lines.push({ event, ...f }),
    } satisfies ArbContext,
  };
}

describe("Spot market: NAV arbitrage (in-process network)", function () {
  it("seeds every pool at NAV", async function () {
    const { s, pools } = await networkHelpers.loadFixture(setup);
    for (const symbol of Object.keys(s.tokens)) {
      const b = await bandOf(s, symbol);
      expect(Math.abs((await spot(pools[symbol]!, s)) / b.nav - 1)).to.be.lessThan(1e-5);
    }
  });

  it("brings a pool 5% above NAV back inside the band in one pass (mint and sell), at a profit", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    const { s, pools, arb } = ctx;
    await pushPool(ctx, "BTC3L", 1.05);
    const before = await bandOf(s, "BTC3L");
    expect(Math.abs((await spot(pools.BTC3L!, s)) / before.nav - 1.05)).to.be.lessThan(0.001);
    const usdtBefore = await s.usdt.balanceOf(arb.address);
    const { arbCtx, lines } = ctxFor(ctx, ["BTC3L"]);
    const [r] = (await arbitrageOnce(arbCtx)) as [ArbResult];
    expect(r.outcome).to.equal("traded");
    expect(r.action).to.equal("mint-sell");
    const after = await bandOf(s, "BTC3L");
    const price = await spot(pools.BTC3L!, s);
    expect(price).to.be.at.most(after.upper * (1 + 1e-9));
    expect(price).to.be.at.least(after.lower);
    // sized to the edge, not past it: within 0.01% of the upper edge
    expect(price / after.upper).to.be.greaterThan(0.9999);
    const usdtAfter = await s.usdt.balanceOf(arb.address);
    expect(usdtAfter).to.be.greaterThan(usdtBefore);
    expect(usdtAfter - usdtBefore).to.equal(r.profit);
    expect(await s.tokens.BTC3L!.balanceOf(arb.address)).to.equal(0n);
    expect(lines.filter((l) => l.event === "arb-trade")).to.have.length(1);
    // a second pass finds nothing to do
    const [again] = (await arbitrageOnce(arbCtx)) as [ArbResult];
    expect(again.outcome).to.equal("inside");
  });

  it("brings a pool 5% below NAV back inside the band in one pass (buy and redeem), at a profit", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    const { s, pools, arb } = ctx;
    await pushPool(ctx, "BTC3L", 0.95);
    const before = await bandOf(s, "BTC3L");
    expect(Math.abs((await spot(pools.BTC3L!, s)) / before.nav - 0.95)).to.be.lessThan(0.001);
    const usdtBefore = await s.usdt.balanceOf(arb.address);
    const { arbCtx } = ctxFor(ctx, ["BTC3L"]);
    const [r] = (await arbitrageOnce(arbCtx)) as [ArbResult];
    expect(r.outcome).to.equal("traded");
    expect(r.action).to.equal("buy-redeem");
    const after = await bandOf(s, "BTC3L");
    const price = await spot(pools.BTC3L!, s);
    expect(price).to.be.at.least(after.lower * (1 - 1e-9));
    expect(price).to.be.at.most(after.upper);
    expect(price / after.lower).to.be.lessThan(1.0001);
    const usdtAfter = await s.usdt.balanceOf(arb.address);
    expect(usdtAfter).to.be.greaterThan(usdtBefore);
    expect(usdtAfter - usdtBefore).to.equal(r.profit);
  });

  it("with too little USDT trades what its inventory allows, still at a profit", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    const { s, pools } = await Promise.resolve(ctx);
    const [, , , small] = await ethers.getSigners();
    await s.usdt.mint(small!.address, 1_000n * USDT);
    await pushPool(ctx, "BTC3L", 1.05);
    const [r] = (await arbitrageOnce({ signer: small!, book: ctx.book, symbols: ["BTC3L"] })) as [ArbResult];
    expect(r.outcome).to.equal("traded");
    expect(r.usdtIn! <= 1_000n * USDT).to.equal(true);
    expect(await s.usdt.balanceOf(small!.address)).to.equal(1_000n * USDT + r.profit!);
    expect(r.profit! > 0n).to.equal(true);
    const b = await bandOf(s, "BTC3L");
    const price = await spot(pools.BTC3L!, s);
    expect(price).to.be.greaterThan(b.upper);
    expect(price).to.be.lessThan(r.spotBefore);
  });

  it("sends nothing on a dry run and leaves a pool inside the band alone", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    const { s, pools, arb } = ctx;
    await pushPool(ctx, "ETH3S", 1.05);
    const priceBefore = await spot(pools.ETH3S!, s);
    const usdtBefore = await s.usdt.balanceOf(arb.address);
    const { arbCtx } = ctxFor(ctx);
    const t = await pinNextBlock();
    const results = await arbitrageOnce({ ...arbCtx, dryRun: true });
    expect(results.map((r) => [r.symbol, r.outcome])).to.deep.equal([
      ["BTC3L", "inside"],
      ["BTC3S", "inside"],
      ["ETH3L", "inside"],
      ["ETH3S", "would-trade"],
    ]);
    expect(results[3]!.expectedProfit! > 0n).to.equal(true);
    // the engine priced the mint at the pending block, exactly as the token's preview does there
    expect(results[3]!.pricedAt).to.equal(t);
    expect(results[3]!.engineQuote).to.equal(
      await s.tokens.ETH3S!.previewMint(results[3]!.tokens!, { blockTag: "pending" }),
    );
    expect(results[3]!.expectedProfit).to.equal(results[3]!.usdtOut! - results[3]!.engineQuote!);
    expect(await spot(pools.ETH3S!, s)).to.equal(priceBefore);
    expect(await s.usdt.balanceOf(arb.address)).to.equal(usdtBefore);
  });

  it("keeps every pool inside the band along a price path with rebalances, and leaves a settled token alone", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    const { s, pools, admin } = ctx;
    const { arbCtx, lines } = ctxFor(ctx);
    const moves = [0.04, -0.06, 0.08, -0.1, 0.05, 0.12, -0.03, -0.09];
    let rebalances = 0;
    let trades = 0;
    for (const [i, move] of moves.entries()) {
      const market = i % 2 === 0 ? "BTC" : "ETH";
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
      const results = await arbitrageOnce(arbCtx);
      expect(results.filter((r) => r.outcome === "failed")).to.deep.equal([]);
      trades += results.filter((r) => r.outcome === "traded").length;
      for (const symbol of Object.keys(s.tokens)) {
        const b = await bandOf(s, symbol);
        const price = await spot(pools[symbol]!, s);
        // NAV drifts with funding and the management fee over the pass's blocks (~1e-8 a block)
        expect(price, `${symbol} at step ${i}`).to.be.within(b.lower * (1 - 1e-5), b.upper * (1 + 1e-5));
      }
    }
    expect(rebalances).to.be.greaterThan(0);
    expect(trades).to.be.greaterThan(moves.length);
    // the engine agreed with the token's previews on every trade, after rebalances, fees and funding
    expect(lines.filter((l) => l.event === "arb-engine-mismatch")).to.deep.equal([]);
    for (const l of lines.filter((x) => x.event === "arb-trade"))
      expect(BigInt(l.profit as bigint) > 0n && BigInt(l.expectedProfit as bigint) > 0n).to.equal(true);

    // delist ETH3L and settle it: its pool is no longer arbitraged, whatever its price
    const token = s.tokens.ETH3L!;
    await token.scheduleDelisting((await networkHelpers.time.latest()) + 3 * 86_400 + 60);
    await networkHelpers.time.increase(3 * 86_400 + 120);
    for (const m of Object.keys(MARKETS) as ("BTC" | "ETH")[]) {
      const [, answer] = await s.feeds[m].latestRoundData();
      await s.feeds[m].updateAnswer(answer);
    }
    await token.settle();
    expect(await token.state()).to.equal(2n);
    await pushPool(ctx, "ETH3L", 1.1); // a buy (minting is closed)
    const priceBefore = await spot(pools.ETH3L!, s);
    const results = await arbitrageOnce(arbCtx);
    const eth3l = results.find((r) => r.symbol === "ETH3L")!;
    expect(eth3l.outcome).to.equal("skipped");
    expect(eth3l.why).to.match(/settled/);
    expect(await spot(pools.ETH3L!, s)).to.equal(priceBefore);
    expect(results.filter((r) => r.symbol !== "ETH3L").every((r) => r.outcome !== "failed")).to.equal(true);
  });

  it("mint and sell: the engine's expected profit is the realized profit to the unit", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    const { s, arb } = ctx;
    await approveAll(ctx);
    await pushPool(ctx, "BTC3S", 1.05);
    const usdtBefore = await s.usdt.balanceOf(arb.address);
    const { arbCtx, lines } = ctxFor(ctx, ["BTC3S"]);
    const t = await pinNextBlock();
    const [r] = (await arbitrageOnce(arbCtx)) as [ArbResult];
    expect(r.outcome, r.why).to.equal("traded");
    expect(r.action).to.equal("mint-sell");
    expect(r.pricedAt).to.equal(t);
    // the mint landed in the block the engine priced: it cost what the engine said, to the unit
    expect(await blockTime(r.txs![0]!)).to.equal(t);
    expect(r.usdtIn).to.equal(r.engineQuote);
    expect(r.profit).to.equal(r.expectedProfit);
    expect((await s.usdt.balanceOf(arb.address)) - usdtBefore).to.equal(r.expectedProfit);
    const trade = lines.find((l) => l.event === "arb-trade")!;
    expect(trade.expectedProfit).to.equal(r.expectedProfit);
    expect(trade.profit).to.equal(r.profit);
  });

  it("buy and redeem: the realized profit is the engine's less the fee and funding accrued until the redeem's block", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    const { s, arb } = ctx;
    await approveAll(ctx);
    await pushPool(ctx, "BTC3L", 0.95);
    const token = s.tokens.BTC3L!;
    const { arbCtx } = ctxFor(ctx, ["BTC3L"]);
    const t = await pinNextBlock();
    const [r] = (await arbitrageOnce(arbCtx)) as [ArbResult];
    expect(r.outcome, r.why).to.equal("traded");
    expect(r.action).to.equal("buy-redeem");
    expect(r.pricedAt).to.equal(t);
    // the purchase landed in the priced block and cost what the pool's math said; the redeem lands
    // in a later block, so the token's NAV has paid that many more seconds of management fee and
    // (a long, with a positive funding rate) funding: the payout is that much lower, never higher
    expect(await blockTime(r.txs![0]!)).to.equal(t);
    const elapsed = BigInt((await blockTime(r.txs![1]!)) - t);
    expect(elapsed > 0n).to.equal(true);
    const drift = r.engineQuote! - r.usdtOut!;
    expect(r.expectedProfit! - r.profit!).to.equal(drift);
    const [status, leverage] = await Promise.all([token.status(), token.leverage()]);
    const fundingRate = MARKETS.BTC.fundingRate;
    expect(fundingRate > 0n).to.equal(true);
    const perSecond = (leverage * fundingRate) / WAD / 28_800n + status.managementFee / (365n * 86_400n);
    const bound = (r.engineQuote! * perSecond * elapsed * 3n) / 2n / WAD + 2n;
    expect(drift >= 0n, `drift ${drift}`).to.equal(true);
    expect(drift <= bound, `drift ${drift} > bound ${bound}`).to.equal(true);
    expect(r.profit! > 0n).to.equal(true);
  });

  for (const [factor, action, preview] of [
    [1.05, "mint-sell", "previewMint"],
    [0.95, "buy-redeem", "previewRedeem"],
  ] as const) {
    it(`does not ${action} when the engine disagrees with ${preview} by one unit`, async function () {
      const ctx = await networkHelpers.loadFixture(setup);
      const { s, pools, arb } = ctx;
      await pushPool(ctx, "ETH3L", factor);
      const { arbCtx, lines } = ctxFor(ctx, ["ETH3L"]);
      const reservesBefore = await reservesOf(pools.ETH3L!, await s.usdt.getAddress());
      const usdtBefore = await s.usdt.balanceOf(arb.address);
      const [r] = (await arbitrageOnce({
        ...arbCtx,
        engine: {
          mintCost: (t, shares) => ENGINE_LEGS.mintCost(t, shares) + 1n,
          redeemPayout: (t, shares) => ENGINE_LEGS.redeemPayout(t, shares) - 1n,
        },
      })) as [ArbResult];
      expect(r.outcome).to.equal("skipped");
      expect(r.action).to.equal(action);
      expect(r.why).to.match(new RegExp(`the engine and ${preview} disagree`));
      const mismatch = lines.filter((l) => l.event === "arb-engine-mismatch");
      expect(mismatch).to.have.length(1);
      const m = mismatch[0]!;
      expect(m.engine).to.equal(r.engineQuote);
      expect(BigInt(m.engine as bigint) - BigInt(m.preview as bigint)).to.equal(
        action === "mint-sell" ? 1n : -1n,
      );
      expect(await reservesOf(pools.ETH3L!, await s.usdt.getAddress())).to.deep.equal(reservesBefore);
      expect(await s.usdt.balanceOf(arb.address)).to.equal(usdtBefore);
      expect(await s.tokens.ETH3L!.balanceOf(arb.address)).to.equal(0n);
      // the true engine trades the same pool
      const [ok] = (await arbitrageOnce(arbCtx)) as [ArbResult];
      expect(ok.outcome).to.equal("traded");
    });
  }

  it("approves the legs of both directions on its first pass, whichever way the pool is off", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    const { s, u, arb } = ctx;
    await pushPool(ctx, "BTC3L", 0.95);
    const { arbCtx } = ctxFor(ctx, ["BTC3L"]);
    const [r] = (await arbitrageOnce(arbCtx)) as [ArbResult];
    expect(r.action).to.equal("buy-redeem");
    const router = await u.router.getAddress();
    const token = s.tokens.BTC3L!;
    const unlimited = 2n ** 255n;
    expect(await s.usdt.allowance(arb.address, router)).to.be.greaterThan(unlimited);
    // the mint-and-sell legs too: a pool that crosses NAV while the approvals are mined needs them
    expect(await s.usdt.allowance(arb.address, await token.getAddress())).to.be.greaterThan(unlimited);
    expect(await token.allowance(arb.address, router)).to.be.greaterThan(unlimited);
  });

  it("says a failed pass's NAV, spot and band as they were read, not zeros", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    await pushPool(ctx, "BTC3L", 1.05);
    await approveAll(ctx);
    const { arbCtx, lines } = ctxFor(ctx, ["BTC3L"]);
    const band = await bandOf(ctx.s, "BTC3L");
    const [r] = (await arbitrageOnce({
      ...arbCtx,
      engine: {
        ...ENGINE_LEGS,
        mintCost: () => {
          throw new Error("the engine broke");
        },
      },
    })) as [ArbResult];
    expect(r.outcome).to.equal("failed");
    expect(r.why).to.equal("the engine broke");
    expect(Math.abs(r.navBefore - band.nav)).to.be.lessThan(1e-6);
    expect(Math.abs(r.spotBefore / band.nav - 1.05)).to.be.lessThan(0.001);
    expect(Math.abs(r.band.upper - band.upper)).to.be.lessThan(1e-6);
    expect(Math.abs(r.band.lower - band.lower)).to.be.lessThan(1e-6);
    const failed = lines.filter((l) => l.event === "arb-failed");
    expect(failed).to.have.length(1);
    expect(failed[0]!.navBefore).to.equal(r.navBefore);
  });

  it("while a price is stale: a decoded StalePrice, the pool's spot, and backs off instead of retrying every block", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    await approveAll(ctx);
    await networkHelpers.time.increase(2 * 3600); // past every feed's 3,600 s heartbeat
    const { arbCtx, lines } = ctxFor(ctx);
    const results = await arbitrageOnce(arbCtx);
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
    const miner = (async () => {
      while (!controller.signal.aborted) {
        await networkHelpers.mine();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const loop = runArbitrage(arbCtx, { once: false, intervalMs: 20, signal: controller.signal });
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
    const ctx = await networkHelpers.loadFixture(setup);
    await approveAll(ctx);
    await pushPool(ctx, "BTC3L", 1.05);
    // the bot started before BTC3L was listed: its book has the other three
    const { BTC3L: _token, ...tokens } = ctx.book.tokens;
    const { BTC3L: _pool, ...pools } = ctx.book.pools!;
    const { arbCtx, lines } = ctxFor({ ...ctx, book: { ...ctx.book, tokens, pools } });
    const first = await arbitrageOnce(arbCtx);
    expect(first.map((r) => r.symbol)).to.not.include("BTC3L");
    expect(await refreshTokens(arbCtx)).to.deep.equal(["BTC3L"]);
    expect(lines.filter((l) => l.event === "arb-tokens-added")).to.deep.equal([
      { event: "arb-tokens-added", tokens: ["BTC3L"] },
    ]);
    const [traded] = (await arbitrageOnce(arbCtx)).filter((r) => r.symbol === "BTC3L");
    expect(traded?.outcome).to.equal("traded");
    expect(await refreshTokens(arbCtx)).to.deep.equal([]); // nothing new the second time
    // the loop re-reads every `tokenRefreshPasses` passes
    const loopCtx = ctxFor({ ...ctx, book: { ...ctx.book, tokens, pools } });
    const controller = new AbortController();
    const miner = (async () => {
      while (!controller.signal.aborted) {
        await networkHelpers.mine();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const loop = runArbitrage(loopCtx.arbCtx, {
      once: false,
      intervalMs: 20,
      signal: controller.signal,
      tokenRefreshPasses: 2,
    });
    const added = () => loopCtx.lines.some((l) => l.event === "arb-tokens-added");
    for (let waited = 0; !added() && waited < 10_000; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
    }
    controller.abort();
    await Promise.all([loop, miner]);
    expect(added(), "the loop re-read the token list").to.equal(true);
    expect(Object.keys(loopCtx.arbCtx.book.pools!)).to.include("BTC3L");
  });
});
