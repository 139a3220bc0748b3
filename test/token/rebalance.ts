import { expect } from "chai";
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import type { System } from "../../src/chain/deploy.ts";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { USDT, WAD } from "../../src/common/params.ts";
import {
  KEEPER_ROLE,
  PENDING,
  Reason,
  advanceToNextDay,
  deployFixture,
  ethers,
  movePrice,
  networkHelpers,
  nextTimestamp,
  readBook,
  seededFixture,
  sendAt,
  instant,
} from "./fixture.ts";
import { leverageOf, quoteTrade, targetSizeDown, type Book } from "./model.ts";

const { loadFixture } = networkHelpers;

interface Expected {
  bounty: bigint;
  book: Book;
  target: bigint;
  sizeDelta: bigint;
  cost: bigint;
  equityAfter: bigint;
  before: bigint;
  after: bigint;
}

/** What rebalance() must do at timestamp t: trade to exactly target x equity / price. */
async function expectedRebalance(
  token: LeveragedToken,
  sys: System,
  t: number,
  bounty = 0n,
): Promise<Expected> {
  const book = await readBook(token, sys.vault, t);
  const abs = targetSizeDown(book.equity, book.targetLeverage, book.price);
  const target = book.isLong ? abs : -abs;
  const q = quoteTrade(book, target - book.size);
  // the contract pays min(configured bounty, 1% of the equity after the trade), rounded down
  bounty = bounty < q.equityAfter / 100n ? bounty : q.equityAfter / 100n;
  return {
    bounty,
    book,
    target,
    sizeDelta: q.sizeDelta,
    cost: q.cost,
    equityAfter: q.equityAfter - bounty,
    before: leverageOf(book.size, book.equity, book.price),
    after: leverageOf(target, q.equityAfter - bounty, book.price),
  };
}

/** Rebalances at a fixed timestamp and checks the event and the resulting position exactly. */
async function rebalanceExactly(
  token: LeveragedToken,
  sys: System,
  caller: HardhatEthersSigner,
  reason: bigint,
  bounty = 0n,
): Promise<Expected> {
  const t = await nextTimestamp();
  const e = await expectedRebalance(token, sys, t, bounty);
  expect(await token.rebalanceNeeded(PENDING)).to.deep.equal([true, reason]);
  const tx = await sendAt(t, token.connect(caller).rebalance());
  await expect(tx)
    .to.emit(token, "Rebalanced")
    .withArgs(
      caller.address,
      reason,
      e.before,
      e.after,
      e.sizeDelta,
      e.book.price,
      e.cost,
      e.bounty,
      e.book.managementFeeShares,
    );
  const [size, equity] = await sys.vault.snapshot(await token.market(), await token.getAddress());
  expect(size).to.equal(e.target);
  expect(equity).to.equal(e.equityAfter);
  expect(await token.leverage()).to.equal(e.after);
  // back at target but for what the trade costs and the bounty (the size is target x the equity
  // before them): never below target, above it by no more than they take out of equity
  const ceiling = (e.book.targetLeverage * e.book.equity) / e.equityAfter + WAD / 10n ** 6n;
  expect(e.after).to.be.within(e.book.targetLeverage, ceiling);
  expect(e.cost).to.be.lessThan(e.book.equity / 1000n);
  expect(await token.lastRebalance()).to.equal(BigInt(t));
  return e;
}

describe("LeveragedToken: rebalance", function () {
  it("is not needed right after minting: RebalanceNotNeeded(leverage)", async function () {
    const { btc3l, keeper, sys } = await loadFixture(seededFixture);
    expect(await btc3l.rebalanceNeeded()).to.deep.equal([false, Reason.None]);
    expect(await btc3l.checkUpkeep("0x")).to.deep.equal([false, "0x"]);
    const t = await nextTimestamp();
    const { before } = await expectedRebalance(btc3l, sys, t);
    await expect(sendAt(t, btc3l.connect(keeper).rebalance()))
      .to.be.revertedWithCustomError(btc3l, "RebalanceNotNeeded")
      .withArgs(before);
  });

  it("an empty token never needs one", async function () {
    const { btc3l, keeper } = await loadFixture(deployFixture);
    expect(await btc3l.rebalanceNeeded()).to.deep.equal([false, Reason.None]);
    await expect(btc3l.connect(keeper).rebalance())
      .to.be.revertedWithCustomError(btc3l, "RebalanceNotNeeded")
      .withArgs(0n);
  });

  it("long: -12% takes it above the 4x band; only the keeper may rebalance, back to exactly 3x", async function () {
    const { btc3l, keeper, anyone, sys } = await loadFixture(seededFixture);
    await movePrice(sys, "BTC", -1200n);
    // 0.3 BTC at 88,000 = 26,400 on 9,985 - 0.3 x 12,000 = 6,385 of equity (less funding): 4.135x
    const lev = await btc3l.leverage();
    expect(lev).to.be.within((4134n * WAD) / 1000n, (4136n * WAD) / 1000n);
    expect(await btc3l.rebalanceNeeded()).to.deep.equal([true, Reason.Band]);
    expect(await btc3l.checkUpkeep("0x")).to.deep.equal([true, "0x"]);
    await expect(btc3l.connect(anyone).rebalance())
      .to.be.revertedWithCustomError(btc3l, "AccessControlUnauthorizedAccount")
      .withArgs(anyone.address, KEEPER_ROLE);
    const e = await rebalanceExactly(btc3l, sys, keeper, Reason.Band);
    expect(e.sizeDelta).to.be.lessThan(0n); // it sold
    expect(await btc3l.rebalanceNeeded()).to.deep.equal([false, Reason.None]);
  });

  it("long: +40% takes it below the 2x band; the keeper buys back up to 3x", async function () {
    const { btc3l, keeper, sys } = await loadFixture(seededFixture);
    await movePrice(sys, "BTC", 4000n);
    expect(await btc3l.leverage()).to.be.lessThan(2n * WAD);
    const e = await rebalanceExactly(btc3l, sys, keeper, Reason.Band);
    expect(e.sizeDelta).to.be.greaterThan(0n);
  });

  it("short: +8% takes it above 4x; the keeper buys back to exactly 3x short", async function () {
    const { btc3s, keeper, sys } = await loadFixture(seededFixture);
    await movePrice(sys, "BTC", 800n);
    expect(await btc3s.rebalanceNeeded()).to.deep.equal([true, Reason.Band]);
    const e = await rebalanceExactly(btc3s, sys, keeper, Reason.Band);
    expect(e.sizeDelta).to.be.greaterThan(0n); // a short reduces by buying
    expect(e.target).to.be.lessThan(0n);
  });

  it("daily: at 00:00 UTC when off target by more than the epsilon, once a day", async function () {
    const { eth3l, keeper, sys } = await loadFixture(seededFixture);
    // +2%: about 2.89x, inside the band but 0.11x off target; no rebalance has run today
    await movePrice(sys, "ETH", 200n);
    expect(await eth3l.rebalanceNeeded()).to.deep.equal([true, Reason.Daily]);
    await rebalanceExactly(eth3l, sys, keeper, Reason.Daily);
    // the same day, another 2% does not trigger it again
    await movePrice(sys, "ETH", 200n);
    expect(await eth3l.rebalanceNeeded()).to.deep.equal([false, Reason.None]);
    await expect(eth3l.connect(keeper).rebalance()).to.be.revertedWithCustomError(
      eth3l,
      "RebalanceNotNeeded",
    );
    // from 00:00 UTC the next day it is due
    const midnight = await advanceToNextDay(sys, 0);
    expect(midnight % 86_400).to.equal(0);
    expect(await eth3l.rebalanceNeeded()).to.deep.equal([true, Reason.Daily]);
    await rebalanceExactly(eth3l, sys, keeper, Reason.Daily);
    // the next day, a move that stays within the epsilon (0.05x) does not trigger it
    await advanceToNextDay(sys);
    await movePrice(sys, "ETH", 50n); // about 2.96x
    const lev = await eth3l.leverage();
    expect(3n * WAD - lev).to.be.within(1n, WAD / 20n);
    expect(await eth3l.rebalanceNeeded()).to.deep.equal([false, Reason.None]);
  });

  it("ripcord: past 4.5x anyone may rebalance and gets the bounty; the keeper gets none", async function () {
    const { btc3l, eth3l, keeper, anyone, sys } = await loadFixture(seededFixture);
    await movePrice(sys, "BTC", -1500n); // about 4.7x
    expect(await btc3l.leverage()).to.be.greaterThanOrEqual((9n * WAD) / 2n);
    expect(await btc3l.rebalanceNeeded()).to.deep.equal([true, Reason.Ripcord]);
    const bounty = 5n * USDT;
    const before = await ethers.provider.getBlockNumber();
    await rebalanceExactly(btc3l, sys, anyone, Reason.Ripcord, bounty);
    const paid = await sys.usdt.balanceOf(anyone.address, { blockTag: before });
    expect((await sys.usdt.balanceOf(anyone.address)) - paid).to.equal(bounty);

    await movePrice(sys, "ETH", -1500n);
    await rebalanceExactly(eth3l, sys, keeper, Reason.Ripcord, 0n);
  });

  it("past the ripcord a redeem or a mint rebalances first (no bounty): a gap past the exchange's 10x never blocks them", async function () {
    const { btc3l, alice, bob, sys } = await loadFixture(seededFixture);
    for (const who of [alice, bob]) {
      await movePrice(sys, "BTC", -2700n); // a one-block gap to about 11.5x, past the exchange's 10x initial margin
      expect(await btc3l.leverage()).to.be.greaterThan(10n * WAD);
      // the max* views and the previews describe the call as it will run: rebalance, then redeem or mint
      const t = await nextTimestamp();
      const e = await expectedRebalance(btc3l, sys, t);
      const balance = await btc3l.balanceOf(alice.address);
      expect(await btc3l.maxRedeem(alice.address, PENDING)).to.equal(balance);
      expect(await btc3l.maxDeposit(bob.address, PENDING)).to.be.greaterThan(0n);
      const shares = balance / 3n;
      const assets = 1_000n * USDT;
      const call =
        who === alice
          ? instant(btc3l).connect(alice).redeem(shares, alice.address, alice.address)
          : instant(btc3l).connect(bob).deposit(assets, bob.address);
      const preview =
        who === alice
          ? await btc3l.previewRedeem(shares, PENDING)
          : await btc3l.previewDeposit(assets, PENDING);
      const tx = await sendAt(t, call);
      await expect(tx)
        .to.emit(btc3l, "Rebalanced")
        // inside a mint or a redeem the management fee is reported by its PositionResized
        .withArgs(
          await btc3l.desk(),
          Reason.Ripcord,
          e.before,
          e.after,
          e.sizeDelta,
          e.book.price,
          e.cost,
          0n,
          0n,
        );
      if (who === alice) {
        await expect(tx)
          .to.emit(btc3l, "Withdraw")
          .withArgs(await btc3l.desk(), alice.address, alice.address, preview, shares);
      } else {
        await expect(tx)
          .to.emit(btc3l, "Deposit")
          .withArgs(await btc3l.desk(), bob.address, assets, preview);
      }
      // back at target but for the rebalance's cost (as a keeper's rebalance leaves it, e.after); the
      // slice's own pro-rata trade keeps it there; and the schedule knows
      expect(e.after).to.be.within(3n * WAD, 3n * WAD + WAD / 50n);
      expect(await btc3l.leverage()).to.be.within(e.after - WAD / 100n, e.after + WAD / 100n);
      expect(await btc3l.lastRebalance()).to.equal(BigInt(t));
      expect((await btc3l.rebalanceNeeded())[0]).to.equal(false);
    }
  });

  it("the bounty is capped at 100 USDT and at 1% of the equity left after the trade", async function () {
    const { btc3l, admin, anyone, alice, sys } = await loadFixture(deployFixture);
    await expect(btc3l.connect(admin).setFees(0, 0, 0, 100n * USDT + 1n))
      .to.be.revertedWithCustomError(btc3l, "InvalidParameter")
      .withArgs("rebalanceBounty", 100n * USDT + 1n);
    await btc3l.connect(admin).setFees(0, 0, 0, 100n * USDT);
    // a token worth 90 USDT: at the ripcord it pays 1% of what is left, under a USDT
    await instant(btc3l)
      .connect(alice)
      .deposit(90n * USDT, alice.address);
    await movePrice(sys, "BTC", -1500n);
    const small = await rebalanceExactly(btc3l, sys, anyone, Reason.Ripcord, 100n * USDT);
    expect(small.bounty).to.be.within(1n, USDT - 1n);
    // a larger one pays the full 100 USDT
    await instant(btc3l)
      .connect(alice)
      .deposit(20_000n * USDT, alice.address);
    await movePrice(sys, "BTC", -1500n);
    const large = await rebalanceExactly(btc3l, sys, anyone, Reason.Ripcord, 100n * USDT);
    expect(large.bounty).to.equal(100n * USDT);
  });

  it("Chainlink Automation: checkUpkeep says when, performUpkeep rebalances like rebalance()", async function () {
    const { btc3l, keeper, anyone, sys } = await loadFixture(seededFixture);
    await movePrice(sys, "BTC", -1200n);
    expect(await btc3l.checkUpkeep("0x")).to.deep.equal([true, "0x"]);
    await expect(btc3l.connect(anyone).performUpkeep("0x"))
      .to.be.revertedWithCustomError(btc3l, "AccessControlUnauthorizedAccount")
      .withArgs(anyone.address, KEEPER_ROLE);
    const t = await nextTimestamp();
    const e = await expectedRebalance(btc3l, sys, t);
    await expect(sendAt(t, btc3l.connect(keeper).performUpkeep("0x")))
      .to.emit(btc3l, "Rebalanced")
      .withArgs(
        keeper.address,
        Reason.Band,
        e.before,
        e.after,
        e.sizeDelta,
        e.book.price,
        e.cost,
        0n,
        e.book.managementFeeShares,
      );
    expect(await btc3l.checkUpkeep("0x")).to.deep.equal([false, "0x"]);
    await expect(btc3l.connect(keeper).performUpkeep("0x")).to.be.revertedWithCustomError(
      btc3l,
      "RebalanceNotNeeded",
    );
  });

  it("rebalances the size the exchange reports, for every standard token", async function () {
    const { btc3l, btc3s, eth3l, eth3s, keeper, sys } = await loadFixture(seededFixture);
    await movePrice(sys, "BTC", 800n); // short 4.27x (band), long 2.62x (daily)
    await movePrice(sys, "ETH", -1150n); // long 4.06x, short 1.98x (both band)
    await rebalanceExactly(btc3s, sys, keeper, Reason.Band);
    await rebalanceExactly(btc3l, sys, keeper, Reason.Daily);
    await rebalanceExactly(eth3l, sys, keeper, Reason.Band);
    await rebalanceExactly(eth3s, sys, keeper, Reason.Band);
    for (const t of [btc3l, btc3s, eth3l, eth3s]) {
      expect(await sys.vault.isLiquidatable(await t.market(), await t.getAddress())).to.equal(false);
    }
  });
});
