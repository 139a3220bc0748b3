import { expect } from "chai";
import { anyUint } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { MARKETS, USDT, WAD } from "../../src/common/params.ts";
import {
  DAY,
  DEAD,
  DEFAULT_ADMIN_ROLE,
  MAX_UINT,
  Reason,
  State,
  advance,
  ethers,
  holdersOf,
  movePrice,
  networkHelpers,
  nextTimestamp,
  readBook,
  seededFixture,
  sendAt,
  sizeOf,
  time,
  instant,
} from "./fixture.ts";
import { MINIMUM_SHARES, mulDivUp, quoteRedeem, quoteTrade, toAssetsDown } from "./model.ts";

const { loadFixture } = networkHelpers;

/** Seeded, with bob and carol holding too (carol by transfer), and delisting scheduled 3 days out. */
async function delistingFixture() {
  const d = await seededFixture();
  await instant(d.btc3l)
    .connect(d.bob)
    .deposit(2_500n * USDT, d.bob.address);
  await d.btc3l.connect(d.alice).transfer(d.carol.address, 1_000n * WAD);
  const delistingTime = (await time.latest()) + 3 * DAY + 1;
  await nextTimestamp(delistingTime - 3 * DAY);
  await d.btc3l.connect(d.admin).scheduleDelisting(delistingTime);
  return { ...d, delistingTime };
}

/** delistingFixture, settled at the delisting time by a stranger. */
async function settledFixture() {
  const d = await delistingFixture();
  await time.increaseTo(d.delistingTime - 3);
  await advance(d.sys, 0); // fresh prices (two blocks)
  const t = await nextTimestamp(d.delistingTime);
  const b = await readBook(d.btc3l, d.sys.vault, t);
  const closing = quoteTrade(b, -b.size);
  await sendAt(t, d.btc3l.connect(d.anyone).settle());
  return { ...d, settledAssets: closing.equityAfter, settledSupply: b.supply, closingCost: closing.cost };
}

describe("LeveragedToken: delisting and settlement", function () {
  it("scheduleDelisting needs 3 days' notice and the admin; minting stops at once", async function () {
    const { btc3l, admin, bob } = await loadFixture(seededFixture);
    const t = await nextTimestamp();
    const earliest = t + 3 * DAY;
    await expect(sendAt(t, btc3l.connect(admin).scheduleDelisting(earliest - 1)))
      .to.be.revertedWithCustomError(btc3l, "DelistingTooSoon")
      .withArgs(earliest - 1, earliest);
    await expect(btc3l.connect(admin).scheduleDelisting(2n ** 40n))
      .to.be.revertedWithCustomError(btc3l, "DelistingTooSoon")
      .withArgs(2n ** 40n, anyUint);
    await expect(btc3l.connect(bob).scheduleDelisting(earliest + DAY))
      .to.be.revertedWithCustomError(btc3l, "AccessControlUnauthorizedAccount")
      .withArgs(bob.address, DEFAULT_ADMIN_ROLE);
    const t2 = await nextTimestamp();
    await expect(sendAt(t2, btc3l.connect(admin).scheduleDelisting(t2 + 3 * DAY)))
      .to.emit(btc3l, "DelistingScheduled")
      .withArgs(t2 + 3 * DAY);
    expect(await btc3l.state()).to.equal(State.Delisting);
    expect(await btc3l.delistingTime()).to.equal(BigInt(t2 + 3 * DAY));
    await expect(instant(btc3l).connect(bob).deposit(USDT, bob.address))
      .to.be.revertedWithCustomError(btc3l, "InvalidState")
      .withArgs(State.Delisting);
    await expect(btc3l.connect(admin).scheduleDelisting(t2 + 10 * DAY))
      .to.be.revertedWithCustomError(btc3l, "InvalidState")
      .withArgs(State.Delisting);
  });

  it("while delisting: redeem at NAV stays open, the keeper still rebalances, fees still accrue", async function () {
    const { btc3l, alice, keeper, sys } = await loadFixture(delistingFixture);
    const t = await nextTimestamp();
    const q = quoteRedeem(await readBook(btc3l, sys.vault, t), 500n * WAD);
    await expect(
      sendAt(
        t,
        instant(btc3l)
          .connect(alice)
          .redeem(500n * WAD, alice.address, alice.address),
      ),
    ).to.changeTokenBalance(ethers, sys.usdt, alice, q.assets);
    await movePrice(sys, "BTC", -1200n);
    expect(await btc3l.rebalanceNeeded()).to.deep.equal([true, Reason.Band]);
    await expect(btc3l.connect(keeper).rebalance()).to.emit(btc3l, "Rebalanced");
    await advance(sys, DAY);
    await expect(btc3l.accrueManagementFee()).to.emit(btc3l, "ManagementFeeAccrued");
  });

  it("settle() reverts before the delisting time and on an active token", async function () {
    const { btc3l, btc3s, anyone, delistingTime } = await loadFixture(delistingFixture);
    await expect(btc3l.connect(anyone).settle())
      .to.be.revertedWithCustomError(btc3l, "DelistingNotReached")
      .withArgs(delistingTime);
    await expect(btc3s.connect(anyone).settle())
      .to.be.revertedWithCustomError(btc3s, "InvalidState")
      .withArgs(State.Active);
    await expect(btc3l.settleHolders([anyone.address]))
      .to.be.revertedWithCustomError(btc3l, "InvalidState")
      .withArgs(State.Delisting);
  });

  it("anyone settles at the delisting time: the position is closed and NAV frozen", async function () {
    const { btc3l, keeper, bob, sys, delistingTime } = await loadFixture(delistingFixture);
    await time.increaseTo(delistingTime - 3);
    await advance(sys, 0); // fresh prices (two blocks)
    const t = await nextTimestamp(delistingTime);
    const b = await readBook(btc3l, sys.vault, t);
    const closing = quoteTrade(b, -b.size);
    const token = await btc3l.getAddress();
    const tx = await sendAt(t, btc3l.connect(bob).settle());
    await expect(tx).to.emit(btc3l, "Settled").withArgs(closing.equityAfter, b.supply);
    await expect(tx).to.changeTokenBalance(ethers, sys.usdt, token, closing.equityAfter);
    expect(await btc3l.state()).to.equal(State.Settled);
    expect(await btc3l.settledAssets()).to.equal(closing.equityAfter);
    expect(await btc3l.settledSupply()).to.equal(b.supply);
    expect(await sizeOf(sys, btc3l)).to.equal(0n);
    expect((await sys.vault.positionOf(MARKETS.BTC.id, token)).margin).to.equal(0n);
    // NAV is frozen: neither the price nor time moves it
    const nav = await btc3l.nav();
    expect(nav).to.equal((toAssetsDown(b.supply, closing.equityAfter, b.supply) * WAD) / b.supply);
    await movePrice(sys, "BTC", -3000n);
    await advance(sys, 30 * DAY);
    expect(await btc3l.nav()).to.equal(nav);
    expect(await btc3l.totalSupply()).to.equal(b.supply);
    expect(await btc3l.rebalanceNeeded()).to.deep.equal([false, Reason.None]);
    for (const call of [
      () => btc3l.connect(keeper).rebalance(),
      () => btc3l.settle(),
      () => btc3l.connect(keeper).performUpkeep("0x"),
    ]) {
      await expect(call()).to.be.revertedWithCustomError(btc3l, "InvalidState").withArgs(State.Settled);
    }
    await expect(instant(btc3l).connect(bob).deposit(USDT, bob.address))
      .to.be.revertedWithCustomError(btc3l, "InvalidState")
      .withArgs(State.Settled);
    expect(await btc3l.maxDeposit(bob.address)).to.equal(0n);
    // no fee accrues once settled
    await btc3l.accrueManagementFee();
    expect(await btc3l.totalSupply()).to.equal(b.supply);
  });

  it("after settlement, redeem and withdraw pay the frozen NAV in USDT", async function () {
    const { btc3l, alice, bob, carol, settledAssets, settledSupply, sys } = await loadFixture(settledFixture);
    const shares = 1_000n * WAD;
    const paid = toAssetsDown(shares, settledAssets, settledSupply);
    expect(await btc3l.previewRedeem(shares)).to.equal(paid);
    // anyone redeems a settled token directly, not through the desk
    const tx = btc3l.connect(alice).redeem(shares, alice.address, alice.address);
    await expect(tx).to.changeTokenBalances(ethers, sys.usdt, [alice, btc3l], [paid, -paid]);
    await expect(tx)
      .to.emit(btc3l, "Withdraw")
      .withArgs(alice.address, alice.address, alice.address, paid, shares);

    const assets = 100n * USDT;
    const burnt = mulDivUp(assets, settledSupply, settledAssets);
    expect(await btc3l.previewWithdraw(assets)).to.equal(burnt);
    await expect(btc3l.previewWithdraw(0n)).to.be.revertedWithCustomError(btc3l, "ZeroAmount");
    await expect(btc3l.connect(bob).withdraw(assets, bob.address, bob.address)).to.changeTokenBalances(
      ethers,
      btc3l,
      [bob],
      [-burnt],
    );

    // the owner's allowance, the balance and a zero amount are checked as before
    await expect(btc3l.connect(bob).redeem(shares, bob.address, carol.address))
      .to.be.revertedWithCustomError(btc3l, "ERC20InsufficientAllowance")
      .withArgs(bob.address, 0n, shares);
    await btc3l.connect(carol).approve(bob.address, MAX_UINT);
    const carolShares = await btc3l.balanceOf(carol.address);
    await expect(btc3l.connect(bob).redeem(carolShares + 1n, bob.address, carol.address))
      .to.be.revertedWithCustomError(btc3l, "ExceedsBalance")
      .withArgs(carolShares + 1n, carolShares);
    await expect(btc3l.connect(bob).withdraw(50n * USDT, bob.address, carol.address)).to.changeTokenBalance(
      ethers,
      sys.usdt,
      bob,
      50n * USDT,
    );
    await expect(btc3l.connect(bob).withdraw(0n, bob.address, bob.address)).to.be.revertedWithCustomError(
      btc3l,
      "ZeroAmount",
    );
    expect(await btc3l.maxRedeem(alice.address)).to.equal(await btc3l.balanceOf(alice.address));
    expect(await btc3l.maxWithdraw(alice.address)).to.equal(
      toAssetsDown(await btc3l.balanceOf(alice.address), settledAssets, settledSupply),
    );
    // redeeming a few wei of shares pays 0 USDT, and burns them
    await expect(btc3l.connect(alice).redeem(1n, alice.address, alice.address))
      .to.emit(btc3l, "Withdraw")
      .withArgs(alice.address, alice.address, alice.address, 0n, 1n);
  });

  it("settleHolders pays every holder found from Transfer events, in batches, leaving only dust", async function () {
    const { btc3l, alice, bob, carol, treasury, anyone, settledAssets, settledSupply, sys } =
      await loadFixture(settledFixture);
    // alice redeems part herself first
    await instant(btc3l)
      .connect(alice)
      .redeem(2_000n * WAD, alice.address, alice.address);
    const holders = await holdersOf(btc3l);
    expect(new Set(holders)).to.deep.equal(
      new Set([DEAD, alice.address, bob.address, carol.address, treasury.address]),
    );
    const payees = holders.filter((h) => h !== DEAD);
    const owed = new Map<string, bigint>();
    for (const h of payees) owed.set(h, toAssetsDown(await btc3l.balanceOf(h), settledAssets, settledSupply));
    // batches of two; the dead address in a batch is skipped, and so is anyone already paid
    const batches = [holders.slice(0, 2), holders.slice(2, 4), holders.slice(4), holders.slice(0, 2)];
    for (const batch of batches) {
      const before = await Promise.all(batch.map((h) => sys.usdt.balanceOf(h)));
      const shares = await Promise.all(batch.map((h) => btc3l.balanceOf(h)));
      const tx = btc3l.connect(anyone).settleHolders(batch);
      for (const [i, h] of batch.entries()) {
        if (h === DEAD || shares[i] === 0n) continue;
        await expect(tx).to.emit(btc3l, "HolderSettled").withArgs(h, shares[i]!, owed.get(h)!);
      }
      await (await tx).wait();
      for (const [i, h] of batch.entries()) {
        const got = (await sys.usdt.balanceOf(h)) - before[i]!;
        expect(got).to.equal(h === DEAD || shares[i] === 0n ? 0n : owed.get(h)!);
      }
    }
    for (const h of payees) expect(await btc3l.balanceOf(h)).to.equal(0n);
    expect(await btc3l.balanceOf(DEAD)).to.equal(MINIMUM_SHARES);
    expect(await btc3l.totalSupply()).to.equal(MINIMUM_SHARES);
    // what is left is dust: the locked minimum (1e10 shares, 1e-8 of a token) is worth 0.01 of a
    // unit, and each payment rounds down by less than one unit
    const left = await sys.usdt.balanceOf(await btc3l.getAddress());
    expect(toAssetsDown(MINIMUM_SHARES, settledAssets, settledSupply)).to.equal(0n);
    const payments = BigInt(payees.length + 1); // alice's own redeem too
    expect(left).to.be.lessThan(payments + 1n);
    expect(await btc3l.nav()).to.equal(
      (toAssetsDown(MINIMUM_SHARES, settledAssets, settledSupply) * WAD) / MINIMUM_SHARES,
    );
  });

  it("a delisted token whose equity is gone settles at zero", async function () {
    const { btc3l, anyone, sys, delistingTime } = await loadFixture(delistingFixture);
    await time.increaseTo(delistingTime);
    await advance(sys, 0);
    await movePrice(sys, "BTC", -4000n);
    await expect(btc3l.connect(anyone).settle())
      .to.emit(btc3l, "Depleted")
      .and.to.emit(btc3l, "Settled")
      .withArgs(0n, anyUint);
    expect(await btc3l.state()).to.equal(State.Settled);
    expect(await btc3l.nav()).to.equal(0n);
    expect(await sizeOf(sys, btc3l)).to.equal(0n);
  });
});
