// ERC-4626 previews against execution in the same block (see fixture.ts for the method: fix the next
// block's timestamp, read the preview from the pending block, send the call into that block), and
// the max* functions: 0 wherever the call would revert.
import { expect } from "chai";
import { anyUint } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { USDT, WAD } from "../../src/common/params.ts";
import {
  DAY,
  MAX_UINT,
  PENDING,
  advance,
  ethers,
  movePrice,
  networkHelpers,
  nextTimestamp,
  readBook,
  seededFixture,
  sendAt,
  instant,
} from "./fixture.ts";
import { quoteDeposit, quoteRedeem } from "./model.ts";

const { loadFixture } = networkHelpers;

/**
 * seededFixture, two days later (management fee and funding accrued) and BTC 3% up, after the keeper's
 * daily rebalance (a mint or a redeem would otherwise run it first: test/solidity covers that path,
 * with the engine's differential; this file's model prices one trade).
 */
async function agedFixture() {
  const d = await seededFixture();
  await advance(d.sys, 2 * DAY);
  await movePrice(d.sys, "BTC", 300n);
  for (const token of [d.btc3l, d.btc3s, d.eth3l, d.eth3s]) {
    if ((await token.rebalanceNeeded())[0]) await token.connect(d.keeper).rebalance();
  }
  return d;
}

describe("LeveragedToken: previews and limits", function () {
  it("previewDeposit, previewMint, previewRedeem, previewWithdraw equal the calls in the same block", async function () {
    const { btc3l, alice, bob, sys } = await loadFixture(agedFixture);
    // the pending block really is later than the latest: the management fee and the funding of the
    // elapsed second are part of every preview
    let t = await nextTimestamp();
    expect(t).to.equal((await ethers.provider.getBlock("latest"))!.timestamp + 1);

    const assets = 3_210n * USDT;
    const shares = await btc3l.previewDeposit(assets, PENDING);
    expect(shares).to.equal(quoteDeposit(await readBook(btc3l, sys.vault, t), assets).shares);
    await expect(sendAt(t, instant(btc3l).connect(bob).deposit(assets, bob.address))).to.changeTokenBalance(
      ethers,
      btc3l,
      bob,
      shares,
    );

    t = await nextTimestamp();
    const burn = 1_111n * WAD;
    const out = await btc3l.previewRedeem(burn, PENDING);
    expect(out).to.equal(quoteRedeem(await readBook(btc3l, sys.vault, t), burn).assets);
    await expect(
      sendAt(t, instant(btc3l).connect(alice).redeem(burn, alice.address, alice.address)),
    ).to.changeTokenBalance(ethers, sys.usdt, alice, out);
  });

  it("max*: a deposit up to what the exchange's packed fields hold, the holder's balance to redeem; no mint or withdraw by amount before settlement", async function () {
    const { btc3l, alice, bob } = await loadFixture(agedFixture);
    // no cap: the exchange's capacity (a side's open interest holds 9.2 trillion USDT of open cost:
    // about 3 trillion at 3x; a position past one slot's fields moves to two)
    const capacity = await btc3l.maxDeposit(bob.address);
    expect(capacity).to.be.within(3_000_000_000_000n * USDT, 3_400_000_000_000n * USDT);
    expect(await btc3l.maxMint(bob.address)).to.equal(0n);
    const balance = await btc3l.balanceOf(alice.address);
    expect(await btc3l.maxRedeem(alice.address)).to.equal(balance);
    expect(await btc3l.maxRedeem(bob.address)).to.equal(0n);
    expect(await btc3l.maxWithdraw(alice.address)).to.equal(0n);
    const t = await nextTimestamp();
    await expect(
      sendAt(t, instant(btc3l).connect(alice).redeem(balance, alice.address, alice.address)),
    ).to.emit(btc3l, "Withdraw");
    expect(await btc3l.balanceOf(alice.address)).to.equal(0n);
  });

  it("maxDeposit under a supply cap: deposit(maxDeposit) fits, one USDT unit more does not", async function () {
    const { btc3l, admin, bob, sys } = await loadFixture(agedFixture);
    const t = await nextTimestamp();
    const cap = (await readBook(btc3l, sys.vault, t)).supply + 500n * WAD;
    await sendAt(t, btc3l.connect(admin).setSupplyCap(cap));
    const id = await networkHelpers.takeSnapshot();
    const t2 = await nextTimestamp();
    const max = await btc3l.maxDeposit(bob.address, PENDING);
    const send = (amount: bigint) => instant(btc3l).connect(bob).deposit(amount, bob.address);
    await expect(sendAt(t2, send(max + 1n))).to.be.revertedWithCustomError(btc3l, "SupplyCapExceeded");
    await id.restore();
    // ...and the max itself mints, leaving the supply at most at the cap (fee shares included)
    await nextTimestamp(t2);
    await sendAt(t2, send(max));
    expect(await btc3l.totalSupply()).to.be.lessThanOrEqual(cap);
    expect(cap - (await btc3l.totalSupply())).to.be.lessThan(2n * 10n ** 12n); // within a unit of USDT
  });

  it("max* under a supply cap: no more than the room left, 0 when the cap is reached", async function () {
    const { btc3l, admin, bob, sys } = await loadFixture(agedFixture);
    const t = await nextTimestamp();
    const supplyNow = (await readBook(btc3l, sys.vault, t)).supply;
    const cap = supplyNow + 500n * WAD;
    await sendAt(t, btc3l.connect(admin).setSupplyCap(cap));
    const t2 = await nextTimestamp();
    const supply2 = (await readBook(btc3l, sys.vault, t2)).supply;
    const room = cap - supply2;
    const most = await btc3l.maxDeposit(bob.address, PENDING);
    expect(most).to.be.within(500n * USDT, 600n * USDT); // NAV ~1.09
    expect(await btc3l.previewDeposit(most, PENDING)).to.be.lessThanOrEqual(room);
    await expect(
      sendAt(
        t2,
        instant(btc3l)
          .connect(bob)
          .deposit(most * 2n, bob.address),
      ),
    )
      .to.be.revertedWithCustomError(btc3l, "SupplyCapExceeded")
      .withArgs(anyUint, cap);
    // a full cap: nothing more may be minted
    await btc3l.connect(admin).setSupplyCap(await btc3l.totalSupply());
    expect(await btc3l.maxMint(bob.address)).to.equal(0n);
    expect(await btc3l.maxDeposit(bob.address)).to.equal(0n);
    await expect(instant(btc3l).connect(bob).deposit(USDT, bob.address)).to.be.revertedWithCustomError(
      btc3l,
      "SupplyCapExceeded",
    );
  });

  it("max* during delisting: no mint, full redeem", async function () {
    const { btc3l, admin, alice, bob } = await loadFixture(seededFixture);
    await btc3l.connect(admin).scheduleDelisting((await networkHelpers.time.latest()) + 4 * DAY);
    expect(await btc3l.maxDeposit(bob.address)).to.equal(0n);
    expect(await btc3l.maxMint(bob.address)).to.equal(0n);
    expect(await btc3l.maxRedeem(alice.address)).to.equal(await btc3l.balanceOf(alice.address));
    expect(await btc3l.maxWithdraw(alice.address)).to.equal(0n); // by USDT only once settled
  });
});
