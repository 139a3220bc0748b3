// The NAV arbitrage on tokens with a ForwardDesk (in-process network): a pool off the band is
// traded in two passes around the keeper's fill at the next price round (request; then claim and
// the pool leg), a waiting request is never doubled, a refused one is taken back, a restarted bot
// finishes what an earlier process opened, and the report carries the engine's expected price at the
// request, the fill's price and the inventory held while waiting.
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { AddressBook } from "../../src/chain/addressBook.ts";
import { deploySystem, type System } from "../../src/chain/deploy.ts";
import { MARKETS, USDT } from "../../src/common/params.ts";
import type { LogFields } from "../../src/common/log.ts";
import { readTrueNav } from "../../src/cli/trueNav.ts";
import { SWAP_DEADLINE_SECONDS } from "../../src/spot/arbShared.ts";
import { rawRpcOf } from "../../src/chain/tokenBook.ts";
import {
  arbitrageOnce,
  reservesOf,
  type ArbContext,
  type ArbResult,
  type OpenTrades,
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

/** A new price round on both markets, `move` on BTC's (the exchange's updatedAt moves on). */
async function newRound(s: System, btcMove = 0): Promise<void> {
  await networkHelpers.time.increase(60);
  for (const m of Object.keys(MARKETS) as ("BTC" | "ETH")[]) {
    const [, answer] = await s.feeds[m].latestRoundData();
    const factor = m === "BTC" ? 1 + btcMove : 1;
    await s.feeds[m].updateAnswer((answer * BigInt(Math.round(factor * 1e6))) / 1_000_000n);
  }
}

/** The keeper (the admin holds KEEPER_ROLE) fills every desk that has work. */
async function fillAll(s: System): Promise<number> {
  let fills = 0;
  for (const desk of Object.values(s.desks)) {
    if ((await desk.fillNeeded())[0]) {
      await desk.fill();
      fills++;
    }
  }
  return fills;
}

async function setup() {
  const [admin, arb, trader] = (await ethers.getSigners()) as [HardhatEthersSigner, ...HardhatEthersSigner[]];
  const s = await deploySystem(ethers, { desks: true });
  const u = await deployUniswap(admin);
  for (const who of [admin, arb!, trader!]) await s.usdt.mint(who.address, 10_000_000n * USDT);
  // the pools' seed and the trader's tokens come through the desks: request, a new round, fill, claim
  for (const who of [admin, trader!]) {
    for (const desk of Object.values(s.desks)) {
      await s.usdt.connect(who).approve(await desk.getAddress(), 2n ** 256n - 1n);
      await desk.connect(who).requestDeposit(200_000n * USDT, who.address, who.address);
    }
  }
  await newRound(s);
  await fillAll(s);
  for (const who of [admin, trader!]) {
    for (const desk of Object.values(s.desks)) {
      await desk
        .connect(who)
        ["deposit(uint256,address,address)"](await desk.maxDeposit(who.address), who.address, who.address);
    }
  }
  const pools: Record<string, UniswapV2Pair> = {};
  for (const [symbol, token] of Object.entries(s.tokens))
    pools[symbol] = await createPoolAtNav(u, s.usdt, token, admin, undefined, false);
  const book: AddressBook = {
    chainId: Number((await ethers.provider.getNetwork()).chainId),
    usdt: await s.usdt.getAddress(),
    perpVault: await s.vault.getAddress(),
    factory: await s.factory.getAddress(),
    feeds: { BTC: await s.feeds.BTC.getAddress(), ETH: await s.feeds.ETH.getAddress() },
    tokens: {},
    desks: {},
    pools: {},
    uniswap: await addressesOf(u),
  };
  for (const [symbol, token] of Object.entries(s.tokens)) {
    book.tokens[symbol] = await token.getAddress();
    book.desks![symbol] = await s.desks[symbol]!.getAddress();
    book.pools![symbol] = await pools[symbol]!.getAddress();
  }
  return { s, u, book, pools, admin, arb: arb!, trader: trader! };
}

type Fixture = Awaited<ReturnType<typeof setup>>;

/** The band in floats around NAV as total assets over supply, as the arbitrage prices it. */
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

/** The trader swaps through the router (USDT in, or its own tokens in) until the pool is `factor` x NAV. */
async function pushPool(f: Fixture, symbol: string, factor: number): Promise<void> {
  const { s, u, pools, trader } = f;
  const token = s.tokens[symbol]!;
  const r = await reservesOf(pools[symbol]!, await s.usdt.getAddress());
  const k = Number(r.token) * Number(r.usdt);
  const tokenAfter = Math.sqrt(k / ((Number(await token.nav()) / 1e18) * factor));
  const router = u.router.connect(trader) as Uniswap["router"];
  const path = [await s.usdt.getAddress(), await token.getAddress()];
  if (tokenAfter < Number(r.token)) {
    const usdtIn = BigInt(Math.round((k / tokenAfter - Number(r.usdt)) / 0.997));
    await s.usdt.connect(trader).approve(await router.getAddress(), usdtIn);
    await router.swapExactTokensForTokens(usdtIn, 0n, path, trader.address, NO_DEADLINE);
  } else {
    const tokensIn = BigInt(Math.round((tokenAfter - Number(r.token)) / 0.997));
    await token.connect(trader).approve(await router.getAddress(), tokensIn);
    await router.swapExactTokensForTokens(tokensIn, 0n, path.reverse(), trader.address, NO_DEADLINE);
  }
}

function arbContext(f: Fixture, symbols: string[], open: OpenTrades = new Map()) {
  const lines: Line[] = [];
  const ctx: ArbContext = {
    signer: f.arb,
    book: f.book,
    symbols,
    open,
    log: (event: string, fields?: LogFields) => lines.push({ event, ...fields }),
  };
  return { ctx, lines, open };
}

const once = async (ctx: ArbContext): Promise<ArbResult> => {
  const [r] = (await arbitrageOnce(ctx)) as [ArbResult];
  return r;
};

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

  it("carries the inventory risk: a price move before the fill shows in the fill's price; tokens the pool now pays too little for are redeemed", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const { s, arb } = f;
    const desk = s.desks.BTC3L!;
    await pushPool(f, "BTC3L", 1.05);
    const usdtStart = await s.usdt.balanceOf(arb.address);
    const { ctx, lines } = arbContext(f, ["BTC3L"]);
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
