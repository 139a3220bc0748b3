import { expect } from "chai";
import { network } from "hardhat";
import { encodeBytes32String } from "ethers";
import { signPermit } from "../token/permit.ts";
import { liquidationSizeUp, notionalUp, tradeRoundingDown } from "../../src/engine/math.ts";
import { DEFAULT_EXCHANGE_PARAMS } from "../../src/engine/exchange.ts";
import { BTC, btcExchange } from "./fixture.ts";

const { ethers, networkHelpers } = await network.create();
const USDT = 10n ** 6n;
const PRICE = 10n ** 8n;
const ONE = 10n ** 18n; // 1 BTC of size
const ETH = encodeBytes32String("ETH");

/** A fresh exchange with one BTC market and funded, approving accounts, but no pool liquidity yet. */
async function unseeded() {
  const [admin, alice, bob, keeper] = await ethers.getSigners();
  const { usdt, feed, vault } = await btcExchange(ethers, admin!, { heartbeat: 3600, fundingRate: 0n });
  for (const s of [admin!, alice!, bob!]) {
    await usdt.mint(s.address, 10_000_000n * USDT);
    await usdt.connect(s).approve(await vault.getAddress(), 2n ** 255n);
  }
  return { usdt, feed, vault, admin: admin!, alice: alice!, bob: bob!, keeper: keeper! };
}

async function deploy() {
  const d = await unseeded();
  await d.vault.addLiquidity(1_000_000n * USDT);
  return d;
}

describe("MockUSDT", function () {
  it("has 6 decimals, mints only for MINTER_ROLE and supports ERC-2612 permit", async function () {
    const { usdt, alice, bob } = await networkHelpers.loadFixture(deploy);
    expect(await usdt.decimals()).to.equal(6n);
    await expect(usdt.connect(alice).mint(alice.address, 1n)).to.be.revertedWithCustomError(
      usdt,
      "AccessControlUnauthorizedAccount",
    );
    const deadline = (await networkHelpers.time.latest()) + 3600;
    const value = 123n * USDT;
    const sig = await signPermit(alice, {
      name: "Mock Tether USD",
      token: await usdt.getAddress(),
      spender: bob.address,
      value,
      deadline,
    });
    await usdt.permit(alice.address, bob.address, value, deadline, sig.v, sig.r, sig.s);
    expect(await usdt.allowance(alice.address, bob.address)).to.equal(value);
  });
});

describe("MockPriceFeed", function () {
  it("publishes rounds with Chainlink proxy ids and keeps past rounds readable", async function () {
    const { feed, alice } = await networkHelpers.loadFixture(deploy);
    const phase = 1n << 64n;
    expect(await feed.decimals()).to.equal(8n);
    expect(await feed.description()).to.equal("BTC / USD");
    expect(await feed.version()).to.equal(4n);
    await expect(feed.updateAnswer(101_000n * PRICE)).to.emit(feed, "AnswerUpdated");
    const ts = await networkHelpers.time.latest();
    const latest = await feed.latestRoundData();
    expect(latest[0]).to.equal(phase | 2n);
    expect(latest[1]).to.equal(101_000n * PRICE);
    expect(latest[3]).to.equal(BigInt(ts));
    const first = await feed.getRoundData(phase | 1n);
    expect(first[1]).to.equal(100_000n * PRICE);
    for (const id of [phase, phase | 3n, (2n << 64n) | 1n]) {
      await expect(feed.getRoundData(id)).to.be.revertedWithCustomError(feed, "RoundNotFound").withArgs(id);
    }
    await expect(feed.updateAnswer(0)).to.be.revertedWithCustomError(feed, "NonPositiveAnswer").withArgs(0);
    await expect(feed.updateAnswer(2n ** 63n)).to.be.revertedWithCustomError(feed, "AnswerTooLarge");
    await feed.updateAnswer(2n ** 63n - 1n); // the largest answer: the exchange holds it
    await expect(feed.connect(alice).updateAnswer(1)).to.be.revertedWithCustomError(
      feed,
      "AccessControlUnauthorizedAccount",
    );
  });
});

describe("MockPriceFeed -> MockPerpVault", function () {
  it("pushes every answer to the exchange, which trades at it without calling the feed", async function () {
    const { feed, vault, alice } = await networkHelpers.loadFixture(deploy);
    expect(await feed.listening()).to.deep.equal([await vault.getAddress(), BTC]);
    await expect(feed.updateAnswer(97_000n * PRICE))
      .to.emit(vault, "PriceUpdated")
      .withArgs(BTC, 97_000n * PRICE, await networkHelpers.time.latest().then((t) => BigInt(t + 1)));
    expect(await vault.markPrice(BTC)).to.equal(97_000n * PRICE);
    expect((await vault.marketInfo(BTC)).updatedAt).to.equal((await feed.latestRoundData())[3]);
    // a feed that stops pushing leaves the exchange's copy to go stale: trades stop, none at an old price
    await expect(feed.connect(alice).setListener(ethers.ZeroAddress, BTC)).to.be.revertedWithCustomError(
      feed,
      "AccessControlUnauthorizedAccount",
    );
    await expect(feed.setListener(ethers.ZeroAddress, BTC)).to.emit(feed, "ListenerSet");
    await feed.updateAnswer(90_000n * PRICE);
    expect(await vault.markPrice(BTC)).to.equal(97_000n * PRICE);
    await networkHelpers.time.increase(3601);
    await expect(vault.markPrice(BTC)).to.be.revertedWithCustomError(vault, "StalePrice");
    await feed.setListener(await vault.getAddress(), BTC);
    await feed.updateAnswer(91_000n * PRICE);
    expect(await vault.markPrice(BTC)).to.equal(91_000n * PRICE);
  });
});

describe("MockPerpVault", function () {
  it("lists markets once, with checked parameters, only by admin", async function () {
    const { vault, feed, alice } = await networkHelpers.loadFixture(deploy);
    const f = await feed.getAddress();
    await expect(vault.addMarket(BTC, f, 3600, 0, 0)).to.be.revertedWithCustomError(vault, "MarketExists");
    await expect(vault.addMarket(ETH, ethers.ZeroAddress, 3600, 0, 0)).to.be.revertedWithCustomError(
      vault,
      "ZeroAddress",
    );
    await expect(vault.addMarket(ETH, f, 59, 0, 0))
      .to.be.revertedWithCustomError(vault, "InvalidParameter")
      .withArgs("heartbeat", 59);
    await expect(vault.addMarket(ETH, f, 3600, 10n ** 16n + 1n, 0))
      .to.be.revertedWithCustomError(vault, "InvalidParameter")
      .withArgs("fundingRate", 10n ** 16n + 1n);
    await expect(vault.addMarket(ETH, f, 3600, 0, 10n ** 18n + 1n))
      .to.be.revertedWithCustomError(vault, "InvalidParameter")
      .withArgs("priceImpact", 10n ** 18n + 1n);
    const usdtAsFeed = await vault.usdt(); // 6 decimals: not a USD feed
    await expect(vault.addMarket(ETH, usdtAsFeed, 3600, 0, 0))
      .to.be.revertedWithCustomError(vault, "InvalidParameter")
      .withArgs("feedDecimals", 6);
    await expect(vault.connect(alice).addMarket(ETH, f, 3600, 0, 0)).to.be.revertedWithCustomError(
      vault,
      "AccessControlUnauthorizedAccount",
    );
    await expect(vault.markPrice(ETH)).to.be.revertedWithCustomError(vault, "UnknownMarket").withArgs(ETH);
  });

  it("bounds every admin setter and emits its event", async function () {
    const { vault, alice } = await networkHelpers.loadFixture(deploy);
    await expect(vault.setFundingRate(BTC, 5n * 10n ** 13n)).to.emit(vault, "FundingRateSet");
    await expect(vault.setFundingRate(BTC, -(10n ** 16n) - 1n)).to.be.revertedWithCustomError(
      vault,
      "InvalidParameter",
    );
    await expect(vault.setPriceImpact(BTC, 10n ** 15n)).to.emit(vault, "PriceImpactSet");
    await expect(vault.setPriceImpact(BTC, 10n ** 18n + 1n)).to.be.revertedWithCustomError(
      vault,
      "InvalidParameter",
    );
    await expect(vault.setHeartbeat(BTC, 7200)).to.emit(vault, "HeartbeatSet");
    await expect(vault.setHeartbeat(BTC, 7 * 86400 + 1)).to.be.revertedWithCustomError(
      vault,
      "InvalidParameter",
    );
    await expect(vault.setFees(10n ** 14n, 10n * USDT)).to.emit(vault, "FeesSet");
    await expect(vault.setFees(10n ** 16n + 1n, 0))
      .to.be.revertedWithCustomError(vault, "InvalidParameter")
      .withArgs("takerFee", 10n ** 16n + 1n);
    await expect(vault.setFees(0, 100n * USDT + 1n))
      .to.be.revertedWithCustomError(vault, "InvalidParameter")
      .withArgs("liquidationReward", 100n * USDT + 1n);
    await expect(vault.setMarginRatios(5n * 10n ** 16n, 2n * 10n ** 16n)).to.emit(vault, "MarginRatiosSet");
    expect(await vault.maxLeverage()).to.equal(20n * 10n ** 18n);
    // the exchange always allows 10x: a stricter initial margin could freeze a token's redeem
    // (at 0.5, every redeem of a 3x token reverted BelowInitialMargin)
    await expect(vault.setMarginRatios(10n ** 17n + 1n, 1n))
      .to.be.revertedWithCustomError(vault, "InvalidParameter")
      .withArgs("initialMarginRatio", 10n ** 17n + 1n);
    await expect(vault.setMarginRatios(5n * 10n ** 17n, 3n * 10n ** 16n)).to.be.revertedWithCustomError(
      vault,
      "InvalidParameter",
    );
    await expect(vault.setMarginRatios(10n ** 17n, 10n ** 17n)).to.be.revertedWithCustomError(
      vault,
      "InvalidParameter",
    );
    await expect(vault.setMarginRatios(10n ** 17n, 0)).to.be.revertedWithCustomError(
      vault,
      "InvalidParameter",
    );
    for (const call of [
      vault.connect(alice).setFundingRate(BTC, 0),
      vault.connect(alice).setPriceImpact(BTC, 0),
      vault.connect(alice).setHeartbeat(BTC, 3600),
      vault.connect(alice).setFees(0, 0),
      vault.connect(alice).setMarginRatios(10n ** 17n, 10n ** 16n),
    ]) {
      await expect(call).to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount");
    }
    expect(await vault.tradeCosts(BTC)).to.deep.equal([10n ** 14n, 10n ** 15n]);
  });

  it("books PnL worked out by hand: long 1 BTC at 100,000, up 10%, close half, then close", async function () {
    const { vault, feed, usdt, alice } = await networkHelpers.loadFixture(deploy);
    await vault.connect(alice).deposit(BTC, alice.address, 20_000n * USDT);
    // fee 5 bps of 100,000 = 50 USDT
    await expect(vault.connect(alice).trade(BTC, ONE, 0, alice.address))
      .to.emit(vault, "Traded")
      .withArgs(BTC, alice.address, ONE, 100_000n * PRICE, 50n * USDT, 0, 0, 0, ONE);
    expect(await vault.positionOf(BTC, alice.address)).to.deep.equal([ONE, 100_000n * USDT, 19_950n * USDT]);
    await feed.updateAnswer(110_000n * PRICE);
    // unrealized +10,000; equity 19,950 + 10,000
    expect(await vault.equityOf(BTC, alice.address)).to.equal(29_950n * USDT);
    expect(await vault.leverageOf(BTC, alice.address)).to.equal((110_000n * 10n ** 18n) / 29_950n);
    // close half: realized +5,000, fee 5 bps of 55,000 = 27.5
    await expect(vault.connect(alice).trade(BTC, -ONE / 2n, 0, alice.address))
      .to.emit(vault, "Traded")
      .withArgs(BTC, alice.address, -ONE / 2n, 110_000n * PRICE, 27_500_000n, 5_000n * USDT, 0, 0, ONE / 2n);
    expect((await vault.positionOf(BTC, alice.address))[2]).to.equal(
      19_950n * USDT + 5_000n * USDT - 27_500_000n,
    );
    // close the rest and withdraw everything: 20,000 - 50 + 10,000 - 27.5 - 27.5 = 29,895
    await vault.connect(alice).trade(BTC, -ONE / 2n, 0, alice.address);
    const before = await usdt.balanceOf(alice.address);
    await vault.connect(alice).withdraw(BTC, 29_895n * USDT, alice.address);
    expect((await usdt.balanceOf(alice.address)) - before).to.equal(29_895n * USDT);
    expect(await vault.positionOf(BTC, alice.address)).to.deep.equal([0n, 0n, 0n]);
  });

  it("books a short and a flip worked out by hand", async function () {
    const { vault, feed, alice, bob } = await networkHelpers.loadFixture(deploy);
    // short 1 BTC at 100,000: fee 50, open cost -100,000 (the proceeds)
    await vault.connect(bob).deposit(BTC, bob.address, 20_000n * USDT);
    await vault.connect(bob).trade(BTC, -ONE, 0, bob.address);
    expect(await vault.positionOf(BTC, bob.address)).to.deep.equal([-ONE, -100_000n * USDT, 19_950n * USDT]);
    // long 1 BTC at 100,000 for the flip below
    await vault.connect(alice).deposit(BTC, alice.address, 20_000n * USDT);
    await vault.connect(alice).trade(BTC, ONE, 0, alice.address);
    await feed.updateAnswer(90_000n * PRICE);
    // the short gains 10,000: equity 19,950 + 10,000
    expect(await vault.equityOf(BTC, bob.address)).to.equal(29_950n * USDT);
    // close: realized +10,000, fee 5 bps of 90,000 = 45
    await expect(vault.connect(bob).trade(BTC, ONE, 0, bob.address))
      .to.emit(vault, "Traded")
      .withArgs(BTC, bob.address, ONE, 90_000n * PRICE, 45n * USDT, 10_000n * USDT, 0, 0, 0);
    expect((await vault.positionOf(BTC, bob.address))[2]).to.equal(29_905n * USDT);
    // flip the long at 110,000 by selling 2 BTC: close +1 (realized +10,000), open -1 at 110,000,
    // fee 5 bps of 220,000 = 110; margin 19,950 + 10,000 - 110 = 29,840
    await feed.updateAnswer(110_000n * PRICE);
    await expect(vault.connect(alice).trade(BTC, -2n * ONE, 0, alice.address))
      .to.emit(vault, "Traded")
      .withArgs(BTC, alice.address, -2n * ONE, 110_000n * PRICE, 110n * USDT, 10_000n * USDT, 0, 0, -ONE);
    expect(await vault.positionOf(BTC, alice.address)).to.deep.equal([
      -ONE,
      -110_000n * USDT,
      29_840n * USDT,
    ]);
  });

  it("pays funding by hand: 0.01% per 8 h on a 1 BTC long is 10 USDT, received by the short", async function () {
    const { vault, alice, bob } = await networkHelpers.loadFixture(deploy);
    await vault.connect(alice).deposit(BTC, alice.address, 20_000n * USDT);
    await vault.connect(bob).deposit(BTC, bob.address, 20_000n * USDT);
    await vault.setFundingRate(BTC, 10n ** 14n);
    await vault.setHeartbeat(BTC, 86400); // no price update for 8 h
    await vault.connect(alice).trade(BTC, ONE, 0, alice.address);
    const t0 = await networkHelpers.time.latest();
    await networkHelpers.time.setNextBlockTimestamp(t0 + 1);
    await vault.connect(bob).trade(BTC, -ONE, 0, bob.address);
    // alice's funding index was taken at t0, bob's at t0 + 1
    await networkHelpers.time.increaseTo(t0 + 8 * 3600);
    expect(await vault.fundingOwed(BTC, alice.address)).to.equal(10n * USDT);
    await networkHelpers.time.setNextBlockTimestamp(t0 + 1 + 8 * 3600);
    // a trade reports the funding it settled in Traded (received: negative)
    await expect(vault.connect(bob).trade(BTC, 0, 0, bob.address))
      .to.emit(vault, "Traded")
      .withArgs(BTC, bob.address, 0, 100_000n * PRICE, 0, 0, -10n * USDT, 0, -ONE);
    // a withdrawal reports it in FundingSettled: alice owes 10 more after another 8 h
    await networkHelpers.time.setNextBlockTimestamp(t0 + 16 * 3600);
    await expect(vault.connect(alice).withdraw(BTC, 1n * USDT, alice.address))
      .to.emit(vault, "FundingSettled")
      .withArgs(BTC, alice.address, 20n * USDT);
    // one accrual of 28,800 s at 100,000 and 0.01%: 1e13 x 1e14 x 28,800 / (28,800 x 1e16) = 1e11
    const index = await vault.fundingIndex(BTC);
    expect(index).to.be.gte(10n ** 11n);
  });

  it("keeps the pool and what it owes in 64 bits: amounts past 18 trillion USDT revert by name", async function () {
    const { vault, usdt, alice } = await networkHelpers.loadFixture(deploy);
    const tooMuch = 2n ** 64n; // 18.4 trillion USDT: one unit past what the packed balances hold
    await usdt.mint(alice.address, tooMuch);
    await usdt.connect(alice).approve(await vault.getAddress(), tooMuch);
    for (const call of [
      vault.connect(alice).deposit(BTC, alice.address, tooMuch),
      vault.connect(alice).addLiquidity(tooMuch),
    ]) {
      await expect(call)
        .to.be.revertedWithCustomError(vault, "SafeCastOverflowedUintDowncast")
        .withArgs(64, tooMuch);
    }
    // liquidity that fits on its own but not on top of what the exchange already owes: Panic, no wrap
    const owed = await vault.accountedBalance();
    await expect(vault.connect(alice).addLiquidity(tooMuch - owed)).to.be.revertedWithPanic(0x11);
    // a position's margin is part of what the exchange owes, and has its 64 bits: a margin past the
    // one-slot layout's 56 (72 billion USDT) is kept, and only the sum owed stops a deposit (Panic)
    const marginRoom = 2n ** 56n;
    await vault.connect(alice).deposit(BTC, alice.address, marginRoom);
    expect((await vault.positionOf(BTC, alice.address))[2]).to.equal(marginRoom);
    const [left] = await vault.capacity(BTC, alice.address);
    expect(left).to.equal(2n ** 64n - 1n - owed - marginRoom);
    await expect(vault.connect(alice).deposit(BTC, alice.address, left + 1n)).to.be.revertedWithPanic(0x11);
    expect(await vault.accountedBalance()).to.equal(owed + marginRoom);
    expect(await vault.params()).to.deep.equal([5n * 10n ** 14n, 10n ** 17n, 3n * 10n ** 16n, 5n * USDT]);
  });

  it("USDT sent to the exchange by mistake is nobody's margin: a trade claiming it gets MarginNotReceived", async function () {
    const { vault, usdt, alice, bob } = await networkHelpers.loadFixture(deploy);
    const stray = 5_000n * USDT;
    await usdt.connect(alice).transfer(await vault.getAddress(), stray); // a mistake
    const owed = await vault.accountedBalance();
    // before: trade(market, 0, +5,000, ...) then withdraw took it (pay-first credited any surplus)
    const taker = await ethers.deployContract("MarginTrader", [await vault.getAddress()]);
    const claim = (payBps: number) => taker.connect(bob).getFunction("trade")(BTC, 0, stray, payBps);
    await expect(claim(0)).to.be.revertedWithCustomError(vault, "MarginNotReceived").withArgs(stray, 0);
    await usdt.connect(bob).transfer(await taker.getAddress(), stray / 2n);
    await expect(claim(5_000))
      .to.be.revertedWithCustomError(vault, "MarginNotReceived")
      .withArgs(stray, stray / 2n);
    await expect(vault.connect(bob).trade(BTC, 0, stray, bob.address)).to.be.revertedWithoutReason(ethers);
    expect(await vault.accountedBalance()).to.equal(owed);
    expect(await usdt.balanceOf(await vault.getAddress())).to.equal(owed + stray);
  });

  it("rejects trades and withdrawals that break the rules, with named errors", async function () {
    const { vault, feed, usdt, alice } = await networkHelpers.loadFixture(deploy);
    await expect(vault.connect(alice).deposit(BTC, alice.address, 0)).to.be.revertedWithCustomError(
      vault,
      "ZeroAmount",
    );
    await expect(vault.connect(alice).deposit(BTC, ethers.ZeroAddress, 1)).to.be.revertedWithCustomError(
      vault,
      "ZeroAddress",
    );
    // margin through trade() is asked for in the caller's payMargin callback: an account without one
    // (an EOA) cannot add margin that way, only with deposit()
    await expect(vault.connect(alice).trade(BTC, 0, 100n * USDT, alice.address)).to.be.revertedWithoutReason(
      ethers,
    );
    await vault.connect(alice).deposit(BTC, alice.address, 10_000n * USDT);
    // 10% initial margin: 10,000 supports 100,000 of notional, minus the fee
    await expect(vault.connect(alice).trade(BTC, ONE, 0, alice.address)).to.be.revertedWithCustomError(
      vault,
      "BelowInitialMargin",
    );
    await vault.connect(alice).trade(BTC, ONE / 2n, 0, alice.address);
    await expect(
      vault.connect(alice).withdraw(BTC, 6_000n * USDT, alice.address),
    ).to.be.revertedWithCustomError(vault, "BelowInitialMargin");
    await expect(vault.connect(alice).withdraw(BTC, 0, alice.address)).to.be.revertedWithCustomError(
      vault,
      "ZeroAmount",
    );
    await expect(vault.connect(alice).withdraw(BTC, 1, ethers.ZeroAddress)).to.be.revertedWithCustomError(
      vault,
      "ZeroAddress",
    );
    await expect(
      vault.connect(alice).withdraw(BTC, 20_000n * USDT, alice.address),
    ).to.be.revertedWithCustomError(vault, "InsufficientMargin");
    await expect(vault.connect(alice).trade(BTC, 0, -1, ethers.ZeroAddress)).to.be.revertedWithCustomError(
      vault,
      "ZeroAddress",
    );
    // margin is credited only as it arrives in the caller's payMargin callback
    const trader = await ethers.deployContract("MarginTrader", [await vault.getAddress()]);
    await usdt.connect(alice).transfer(await trader.getAddress(), 1_000n * USDT);
    await trader.getFunction("trade")(BTC, 0, 1_000n * USDT, 10_000);
    expect((await vault.positionOf(BTC, await trader.getAddress()))[2]).to.equal(1_000n * USDT);
    await vault.connect(alice).deposit(BTC, alice.address, 1_000n * USDT);
    // a negative margin delta pays out
    await expect(vault.connect(alice).trade(BTC, 0, -(500n * USDT), alice.address))
      .to.emit(vault, "Traded")
      .withArgs(
        BTC,
        alice.address,
        0,
        100_000n * PRICE,
        0,
        0,
        0,
        -(500n * USDT),
        (await vault.positionOf(BTC, alice.address))[0],
      )
      .and.to.emit(usdt, "Transfer")
      .withArgs(await vault.getAddress(), alice.address, 500n * USDT);
    await networkHelpers.time.increase(3601);
    await expect(vault.markPrice(BTC)).to.be.revertedWithCustomError(vault, "StalePrice");
    await feed.updateAnswer(100_000n * PRICE);
    await expect(vault.liquidate(BTC, alice.address)).to.be.revertedWithCustomError(vault, "NotLiquidatable");
    expect(await vault.isLiquidatable(BTC, alice.address)).to.equal(false);
  });

  it("liquidates below maintenance only what brings the account back to its initial margin, for a flat reward", async function () {
    const { vault, feed, usdt, alice, bob } = await networkHelpers.loadFixture(deploy);
    await vault.connect(alice).deposit(BTC, alice.address, 11_200n * USDT);
    await vault.connect(alice).trade(BTC, ONE, 0, alice.address); // about 9x
    await feed.updateAnswer(91_000n * PRICE); // -9%: equity 2,150 < 3% of 91,000
    expect(await vault.isLiquidatable(BTC, alice.address)).to.equal(true);
    const equity = await vault.equityOf(BTC, alice.address);
    expect(equity).to.equal(2_150n * USDT);
    // the least part that leaves equity - fee - 5 USDT at 10% of what stays open:
    // (9,100 - 2,145) / (0.1 - 0.0005) = 69,899.50 USDT of notional, 0.768126 BTC
    const p = DEFAULT_EXCHANGE_PARAMS;
    const closed = liquidationSizeUp(
      ONE,
      equity,
      91_000n * PRICE,
      5n * USDT,
      p.initialMarginRatio,
      p.takerFee,
    );
    expect(closed).to.equal(768_126_346_015_793_252n);
    expect(await vault.liquidationSize(BTC, alice.address)).to.equal(closed);
    const before = await usdt.balanceOf(bob.address);
    await expect(vault.connect(bob).liquidate(BTC, alice.address))
      .to.emit(vault, "Liquidated")
      .withArgs(BTC, alice.address, bob.address, closed, 91_000n * PRICE, 5n * USDT);
    // the flat 5 USDT (the old 1% of the whole notional took 910 of the 2,150 left)
    expect((await usdt.balanceOf(bob.address)) - before).to.equal(5n * USDT);
    const [size] = await vault.positionOf(BTC, alice.address);
    expect(size).to.equal(ONE - closed);
    // left: 2,150 - 34.95 of taker fee - 5 of reward, at 10x of the 0.231874 BTC still open
    const after = await vault.equityOf(BTC, alice.address);
    const fee = (notionalUp(closed, 91_000n * PRICE) * p.takerFee + 10n ** 18n - 1n) / 10n ** 18n;
    expect(after).to.equal(equity - fee - 5n * USDT + tradeRoundingDown(ONE, -closed, 91_000n * PRICE));
    const required =
      (notionalUp(ONE - closed, 91_000n * PRICE) * p.initialMarginRatio + 10n ** 18n - 1n) / 10n ** 18n;
    // the least: at the initial margin, to within the few units the fee's and the trade's roundings take
    expect(after - required).to.be.within(-3n, 3n);
    expect(await vault.isLiquidatable(BTC, alice.address)).to.equal(false);
    await expect(vault.liquidate(BTC, alice.address)).to.be.revertedWithCustomError(vault, "NotLiquidatable");
    await vault.connect(alice).trade(BTC, -(ONE - closed), 0, alice.address);
    // a gap past the margin: bad debt borne by the pool
    await vault.connect(alice).deposit(BTC, alice.address, 10_000n * USDT);
    await vault.connect(alice).trade(BTC, ONE, 0, alice.address);
    await feed.updateAnswer(70_000n * PRICE);
    expect(await vault.leverageOf(BTC, alice.address)).to.equal(2n ** 256n - 1n);
    // no equity to pay for a partial close: all of it goes, the pool bears the rest
    expect(await vault.liquidationSize(BTC, alice.address)).to.equal(ONE);
    await expect(vault.connect(bob).liquidate(BTC, alice.address))
      .to.emit(vault, "BadDebt")
      .and.to.emit(vault, "Liquidated")
      .withArgs(BTC, alice.address, bob.address, ONE, 70_000n * PRICE, 0);
    expect((await vault.positionOf(BTC, alice.address))[0]).to.equal(0);
    expect(await vault.liquidationSize(BTC, alice.address)).to.equal(0);
    expect(await usdt.balanceOf(await vault.getAddress())).to.be.gte(await vault.accountedBalance());
  });

  it("pays profit out of the pool, never beyond it, and realizes profit for a withdrawal", async function () {
    const { vault, feed, alice, bob, admin } = await networkHelpers.loadFixture(deploy);
    await vault.connect(alice).deposit(BTC, alice.address, 100_000n * USDT);
    await vault.connect(alice).trade(BTC, 5n * ONE, 0, alice.address);
    await feed.updateAnswer(200_000n * PRICE); // +500,000 of profit, the pool holds about 1,000,250
    await vault.connect(alice).withdraw(BTC, 300_000n * USDT, alice.address); // realized from profit
    await feed.updateAnswer(400_000n * PRICE);
    await expect(vault.connect(alice).trade(BTC, -5n * ONE, 0, alice.address)).to.be.revertedWithCustomError(
      vault,
      "InsufficientLiquidity",
    );
    // LP shares: the admin owns them all; bob cannot remove what he does not own
    await expect(vault.connect(bob).removeLiquidity(1, bob.address)).to.be.revertedWithCustomError(
      vault,
      "InsufficientLiquidity",
    );
    await expect(vault.addLiquidity(0)).to.be.revertedWithCustomError(vault, "ZeroAmount");
    await expect(vault.removeLiquidity(0, admin.address)).to.be.revertedWithCustomError(vault, "ZeroAmount");
    await expect(vault.removeLiquidity(1, ethers.ZeroAddress)).to.be.revertedWithCustomError(
      vault,
      "ZeroAddress",
    );
    // alice is owed more than the pool holds: its shares are worth nothing, and no LP takes its cash
    const shares = await vault.liquiditySharesOf(admin.address);
    const owing = await vault.liquidity();
    expect(owing.value).to.equal(0n);
    expect(owing.reserved).to.be.greaterThan(owing.cash);
    await expect(vault.removeLiquidity(shares / 2n, admin.address)).to.be.revertedWithCustomError(
      vault,
      "ZeroAmount",
    );
    // back at 200,000 the pool is worth its cash less alice's profit, and a leaving LP takes its part
    // of that value, never the cash reserved for her
    await feed.updateAnswer(200_000n * PRICE);
    const l = await vault.liquidity();
    expect(l.value).to.be.lessThan(l.cash - l.reserved + 10n * USDT);
    const supply = await vault.totalLiquidityShares();
    await expect(vault.removeLiquidity(shares / 2n, admin.address))
      .to.emit(vault, "LiquidityRemoved")
      .withArgs(admin.address, admin.address, (l.value * (shares / 2n)) / supply, shares / 2n);
    expect(await vault.poolBalance()).to.be.greaterThanOrEqual((await vault.liquidity()).reserved);
    await expect(vault.connect(alice).trade(BTC, -5n * ONE, 0, alice.address)).to.emit(vault, "Traded");
    await expect(vault.connect(bob).addLiquidity(1_000n * USDT)).to.emit(vault, "LiquidityAdded");
  });

  it("settles a loser's loss into the pool with its equity unchanged, and nothing for a winner", async function () {
    const { vault, feed, alice, bob } = await networkHelpers.loadFixture(deploy);
    await vault.connect(alice).deposit(BTC, alice.address, 20_000n * USDT);
    await vault.connect(alice).trade(BTC, ONE, 0, alice.address); // long 1 BTC at 100,000
    await feed.updateAnswer(99_000n * PRICE); // -1,000 unrealized
    // the views read the block settlePnl lands in
    await networkHelpers.time.setNextBlockTimestamp((await networkHelpers.time.latest()) + 1);
    const pending = { blockTag: "pending" } as const;
    const equity = await vault.equityOf(BTC, alice.address, pending);
    const [, openCost, margin] = await vault.positionOf(BTC, alice.address);
    const pool = await vault.poolBalance();
    const funding = await vault.fundingOwed(BTC, alice.address, pending);
    await expect(vault.connect(bob).settlePnl(BTC, alice.address))
      .to.emit(vault, "PnlSettled")
      .withArgs(BTC, alice.address, funding, 1_000n * USDT);
    expect(await vault.equityOf(BTC, alice.address)).to.equal(equity);
    const [, costAfter, marginAfter] = await vault.positionOf(BTC, alice.address);
    expect(costAfter).to.equal(openCost - 1_000n * USDT);
    expect(marginAfter).to.equal(margin - funding - 1_000n * USDT);
    expect(await vault.poolBalance()).to.equal(pool + funding + 1_000n * USDT);
    await feed.updateAnswer(101_000n * PRICE); // now a winner: nothing to move
    await expect(vault.connect(bob).settlePnl(BTC, alice.address)).to.emit(vault, "PnlSettled");
    expect((await vault.positionOf(BTC, alice.address))[1]).to.equal(costAfter);
  });

  it("locks the first deposit's minimum liquidity, so the first LP cannot inflate pool shares", async function () {
    // a fresh exchange: the deploy's own seed would otherwise come first
    const { vault, usdt, alice: attacker, bob: victim } = await networkHelpers.loadFixture(unseeded);
    const min = await vault.MINIMUM_LIQUIDITY();
    await expect(vault.connect(attacker).addLiquidity(min))
      .to.be.revertedWithCustomError(vault, "InsufficientLiquidity")
      .withArgs(min, min + 1n);
    // the attack: one share of its own, then its own trading fees pumped into the pool (20,000 USDT)
    await vault.connect(attacker).addLiquidity(min + 1n);
    expect(await vault.liquiditySharesOf(attacker.address)).to.equal(1n);
    expect(await vault.liquiditySharesOf("0x000000000000000000000000000000000000dEaD")).to.equal(min);
    await vault.connect(attacker).deposit(BTC, attacker.address, 2_000_000n * USDT);
    for (let i = 0; i < 2; i++) {
      await vault.connect(attacker).trade(BTC, 100n * ONE, 0, attacker.address);
      await vault.connect(attacker).trade(BTC, -100n * ONE, 0, attacker.address);
    }
    expect(await vault.poolBalance()).to.equal(min + 1n + 20_000n * USDT);
    // before the lock the next LP's 19,999 USDT bought one share and got back 14,999.50
    await vault.connect(victim).addLiquidity(19_999n * USDT);
    const shares = await vault.liquiditySharesOf(victim.address);
    const before = await usdt.balanceOf(victim.address);
    await vault.connect(victim).removeLiquidity(shares, victim.address);
    const back = (await usdt.balanceOf(victim.address)) - before;
    expect(back).to.be.lte(19_999n * USDT);
    expect(19_999n * USDT - back).to.be.lessThan(USDT / 10n); // at most a share's worth: 0.02 USDT
    // and the attacker's share is worth no more than it paid for it plus its part of its own fees
    expect(await vault.totalLiquidityShares()).to.equal(min + 1n);
  });
});
