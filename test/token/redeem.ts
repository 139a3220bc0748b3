import { expect } from "chai";
import { USDT, WAD } from "../../src/common/params.ts";
import {
  PENDING,
  ethers,
  networkHelpers,
  nextTimestamp,
  readBook,
  seededFixture,
  sendAt,
  instant,
} from "./fixture.ts";
import { feeUp, leverageOf, navOf, notionalUp, quoteRedeem, toAssetsDown } from "./model.ts";

const { loadFixture } = networkHelpers;

describe("LeveragedToken: redeem at NAV", function () {
  it("redeem closes the pro-rata slice; the redeemer pays its trading fee and the fee shares", async function () {
    const { btc3l, alice, treasury, sys } = await loadFixture(seededFixture);
    const shares = (await btc3l.balanceOf(alice.address)) / 3n;
    const t = await nextTimestamp();
    const b = await readBook(btc3l, sys.vault, t);
    const q = quoteRedeem(b, shares);
    const supplyBefore = await btc3l.totalSupply();
    const treasuryBefore = await btc3l.balanceOf(treasury.address);
    const navBefore = await btc3l.nav(PENDING);
    expect(await btc3l.previewRedeem(shares, PENDING)).to.equal(q.assets);
    // worked out: fee shares = ceil(shares x 0.05%), the rest closes size x burnt / supply
    expect(q.feeShares).to.equal(feeUp(shares, 5n * 10n ** 14n));
    expect(q.sizeDelta).to.equal(-((b.size * (shares - q.feeShares)) / b.supply));
    expect(q.cost).to.equal(feeUp(notionalUp(q.sizeDelta, b.price), 5n * 10n ** 14n));

    const tx = await sendAt(t, instant(btc3l).connect(alice).redeem(shares, alice.address, alice.address));
    await expect(tx)
      .to.emit(btc3l, "Withdraw")
      .withArgs(await btc3l.desk(), alice.address, alice.address, q.assets, shares);
    await expect(tx)
      .to.emit(btc3l, "PositionResized")
      .withArgs(q.sizeDelta, b.price, q.cost, q.feeShares, b.managementFeeShares);
    await expect(tx).to.changeTokenBalances(ethers, sys.usdt, [alice], [q.assets]);
    await expect(tx).to.changeTokenBalances(ethers, btc3l, [alice], [-shares]);
    const managementShares = b.supply - supplyBefore;
    expect((await btc3l.balanceOf(treasury.address)) - treasuryBefore).to.equal(
      q.feeShares + managementShares,
    );
    expect(await btc3l.totalSupply()).to.equal(b.supply - q.burnt);
    expect(await btc3l.totalAssets()).to.equal(q.equityAfter - q.assets);

    // the redeemer got its burnt shares' worth less its slice's trading fee (and the exchange's
    // rounding, at most 2 units), and the redeem fee stayed as shares with the treasury
    const worth = toAssetsDown(q.burnt, b.equity, b.supply);
    expect(q.assets).to.be.within(worth - q.cost - 3n, worth - q.cost);
    // the holders who stay lost nothing: NAV only moves up, by rounding
    const navAfter = await btc3l.nav();
    expect(navAfter).to.be.within(navBefore, navBefore + 1n);
    // their leverage is unchanged but for the redeemer's rounding
    const [size, equity, price] = await sys.vault.snapshot(await btc3l.market(), await btc3l.getAddress());
    expect(leverageOf(size, equity, price)).to.be.closeTo(leverageOf(b.size, b.equity, b.price), WAD / 1000n);
  });

  it("nobody redeems at a live price but the desk: withdraw(assets) and previewWithdraw revert UseTheDesk before settlement, maxWithdraw is 0, a redeem from anyone else reverts OnlyDesk", async function () {
    const { btc3l, alice } = await loadFixture(seededFixture);
    const desk = await btc3l.desk();
    await expect(btc3l.connect(alice).withdraw(10n * USDT, alice.address, alice.address))
      .to.be.revertedWithCustomError(btc3l, "UseTheDesk")
      .withArgs(desk);
    await expect(btc3l.previewWithdraw(10n * USDT))
      .to.be.revertedWithCustomError(btc3l, "UseTheDesk")
      .withArgs(desk);
    expect(await btc3l.maxWithdraw(alice.address)).to.equal(0n);
    await expect(btc3l.connect(alice).redeem(WAD, alice.address, alice.address))
      .to.be.revertedWithCustomError(btc3l, "OnlyDesk")
      .withArgs(alice.address, desk);
  });

  it("the desk redeems an owner's shares only within the owner's allowance to it", async function () {
    const { btc3l, alice } = await loadFixture(seededFixture);
    const desk = await btc3l.desk();
    const shares = 100n * WAD;
    await btc3l.connect(alice).approve(desk, 0n);
    await expect(instant(btc3l).connect(alice).redeem(shares, alice.address, alice.address))
      .to.be.revertedWithCustomError(btc3l, "ERC20InsufficientAllowance")
      .withArgs(desk, 0n, shares);
    await btc3l.connect(alice).approve(desk, 3n * shares);
    const tx = instant(btc3l).connect(alice).redeem(shares, alice.address, alice.address);
    await expect(tx).to.changeTokenBalance(ethers, btc3l, alice, -shares);
    expect(await btc3l.allowance(alice.address, desk)).to.equal(2n * shares);
    // an infinite allowance is not spent
    await btc3l.connect(alice).approve(desk, ethers.MaxUint256);
    await instant(btc3l).connect(alice).redeem(shares, alice.address, alice.address);
    expect(await btc3l.allowance(alice.address, desk)).to.equal(ethers.MaxUint256);
  });

  it("redeem stays open while minting is paused", async function () {
    const { btc3l, admin, alice, bob } = await loadFixture(seededFixture);
    await expect(btc3l.connect(admin).setMintPaused(true)).to.emit(btc3l, "MintingPaused").withArgs(true);
    await expect(instant(btc3l).connect(bob).deposit(USDT, bob.address)).to.be.revertedWithCustomError(
      btc3l,
      "MintPaused",
    );
    expect(await btc3l.maxDeposit(bob.address)).to.equal(0n);
    expect(await btc3l.maxMint(bob.address)).to.equal(0n);
    const balance = await btc3l.balanceOf(alice.address);
    expect(await btc3l.maxRedeem(alice.address)).to.equal(balance);
    await expect(
      instant(btc3l).connect(alice).redeem(balance, alice.address, alice.address),
    ).to.changeTokenBalance(ethers, btc3l, alice, -balance);
    await btc3l.connect(admin).setMintPaused(false);
    await expect(instant(btc3l).connect(bob).deposit(USDT, bob.address)).to.emit(btc3l, "Deposit");
  });

  it("the last holder can redeem everything; the locked minimum and the fees keep NAV defined", async function () {
    const { btc3l, alice, treasury, sys } = await loadFixture(seededFixture);
    const balance = await btc3l.balanceOf(alice.address);
    const t = await nextTimestamp();
    const b = await readBook(btc3l, sys.vault, t);
    const q = quoteRedeem(b, balance);
    await sendAt(t, instant(btc3l).connect(alice).redeem(balance, alice.address, alice.address));
    expect(await btc3l.balanceOf(alice.address)).to.equal(0n);
    const supply = await btc3l.totalSupply();
    expect(supply).to.equal(b.supply - q.burnt);
    expect(supply).to.equal((await btc3l.balanceOf(treasury.address)) + 10n ** 10n);
    const equity = await btc3l.totalAssets();
    expect(await btc3l.nav()).to.equal(navOf(equity, supply));
    expect(await btc3l.nav()).to.be.within(USDT - USDT / 100n, USDT + USDT / 100n);
  });
});
