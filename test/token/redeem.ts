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

    const tx = await sendAt(
      t,
      btc3l.connect(alice)["redeem(uint256,address,address)"](shares, alice.address, alice.address),
    );
    await expect(tx)
      .to.emit(btc3l, "Withdraw")
      .withArgs(alice.address, alice.address, alice.address, q.assets, shares);
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

  it("withdraw(assets) burns the fewest shares that pay exactly those assets, as previewWithdraw says", async function () {
    const { btc3l, alice, carol, sys } = await loadFixture(seededFixture);
    const assets = 1_234_567_891n;
    const t = await nextTimestamp();
    const b = await readBook(btc3l, sys.vault, t);
    const shares = await btc3l.previewWithdraw(assets, PENDING);
    expect(quoteRedeem(b, shares).assets).to.be.greaterThanOrEqual(assets);
    expect(quoteRedeem(b, shares - 1n).assets).to.be.lessThan(assets);
    const tx = await sendAt(
      t,
      btc3l.connect(alice)["withdraw(uint256,address,address)"](assets, carol.address, alice.address),
    );
    await expect(tx).to.changeTokenBalances(ethers, sys.usdt, [alice, carol], [0n, assets]);
    await expect(tx).to.changeTokenBalances(ethers, btc3l, [alice], [-shares]);
    await expect(tx)
      .to.emit(btc3l, "Withdraw")
      .withArgs(alice.address, carol.address, alice.address, assets, shares);
  });

  it("slippage limits: redeem(minAssets) and withdraw(maxShares) revert with SlippageExceeded", async function () {
    const { btc3l, alice, sys } = await loadFixture(seededFixture);
    const shares = 1_000n * WAD;
    let t = await nextTimestamp();
    let paid = quoteRedeem(await readBook(btc3l, sys.vault, t), shares).assets;
    const redeemMin = btc3l.connect(alice)["redeem(uint256,address,address,uint256)"];
    await expect(sendAt(t, redeemMin(shares, alice.address, alice.address, paid + 1n)))
      .to.be.revertedWithCustomError(btc3l, "SlippageExceeded")
      .withArgs(paid, paid + 1n);
    t = await nextTimestamp();
    paid = quoteRedeem(await readBook(btc3l, sys.vault, t), shares).assets;
    await expect(sendAt(t, redeemMin(shares, alice.address, alice.address, paid))).to.changeTokenBalance(
      ethers,
      sys.usdt,
      alice,
      paid,
    );

    const assets = 500n * USDT;
    const withdrawMax = btc3l.connect(alice)["withdraw(uint256,address,address,uint256)"];
    t = await nextTimestamp();
    let burnt = await btc3l.previewWithdraw(assets, PENDING);
    await expect(sendAt(t, withdrawMax(assets, alice.address, alice.address, burnt - 1n)))
      .to.be.revertedWithCustomError(btc3l, "SlippageExceeded")
      .withArgs(burnt, burnt - 1n);
    t = await nextTimestamp();
    burnt = await btc3l.previewWithdraw(assets, PENDING);
    await expect(sendAt(t, withdrawMax(assets, alice.address, alice.address, burnt))).to.changeTokenBalance(
      ethers,
      btc3l,
      alice,
      -burnt,
    );
  });

  it("a caller other than the owner spends the owner's allowance (redeem and withdraw)", async function () {
    const { btc3l, alice, bob, sys } = await loadFixture(seededFixture);
    const shares = 100n * WAD;
    await expect(btc3l.connect(bob)["redeem(uint256,address,address)"](shares, bob.address, alice.address))
      .to.be.revertedWithCustomError(btc3l, "ERC20InsufficientAllowance")
      .withArgs(bob.address, 0n, shares);
    await btc3l.connect(alice).approve(bob.address, 3n * shares);
    const tx = btc3l.connect(bob)["redeem(uint256,address,address)"](shares, bob.address, alice.address);
    await expect(tx).to.changeTokenBalances(ethers, btc3l, [alice, bob], [-shares, 0n]);
    expect(await btc3l.allowance(alice.address, bob.address)).to.equal(2n * shares);

    const t = await nextTimestamp();
    const burnt = await btc3l.previewWithdraw(10n * USDT, PENDING);
    await sendAt(
      t,
      btc3l.connect(bob)["withdraw(uint256,address,address)"](10n * USDT, bob.address, alice.address),
    );
    expect(await btc3l.allowance(alice.address, bob.address)).to.equal(2n * shares - burnt);
    // an infinite allowance is not spent
    await btc3l.connect(alice).approve(bob.address, ethers.MaxUint256);
    await btc3l.connect(bob)["redeem(uint256,address,address)"](shares, bob.address, alice.address);
    expect(await btc3l.allowance(alice.address, bob.address)).to.equal(ethers.MaxUint256);
    expect(await sys.usdt.balanceOf(bob.address)).to.be.greaterThan(10_000_000n * USDT);
  });

  it("redeem stays open while minting is paused", async function () {
    const { btc3l, admin, alice, bob } = await loadFixture(seededFixture);
    await expect(btc3l.connect(admin).setMintPaused(true)).to.emit(btc3l, "MintingPaused").withArgs(true);
    await expect(
      btc3l.connect(bob)["deposit(uint256,address)"](USDT, bob.address),
    ).to.be.revertedWithCustomError(btc3l, "MintPaused");
    await expect(btc3l.connect(bob)["mint(uint256,address)"](WAD, bob.address)).to.be.revertedWithCustomError(
      btc3l,
      "MintPaused",
    );
    expect(await btc3l.maxDeposit(bob.address)).to.equal(0n);
    expect(await btc3l.maxMint(bob.address)).to.equal(0n);
    const balance = await btc3l.balanceOf(alice.address);
    expect(await btc3l.maxRedeem(alice.address)).to.equal(balance);
    await expect(
      btc3l.connect(alice)["redeem(uint256,address,address)"](balance, alice.address, alice.address),
    ).to.changeTokenBalance(ethers, btc3l, alice, -balance);
    await btc3l.connect(admin).setMintPaused(false);
    await expect(btc3l.connect(bob)["deposit(uint256,address)"](USDT, bob.address)).to.emit(btc3l, "Deposit");
  });

  it("the last holder can redeem everything; the locked minimum and the fees keep NAV defined", async function () {
    const { btc3l, alice, treasury, sys } = await loadFixture(seededFixture);
    const balance = await btc3l.balanceOf(alice.address);
    const t = await nextTimestamp();
    const b = await readBook(btc3l, sys.vault, t);
    const q = quoteRedeem(b, balance);
    await sendAt(
      t,
      btc3l.connect(alice)["redeem(uint256,address,address)"](balance, alice.address, alice.address),
    );
    expect(await btc3l.balanceOf(alice.address)).to.equal(0n);
    const supply = await btc3l.totalSupply();
    expect(supply).to.equal(b.supply - q.burnt);
    expect(supply).to.equal((await btc3l.balanceOf(treasury.address)) + 10n ** 10n);
    const equity = await btc3l.totalAssets();
    expect(await btc3l.nav()).to.equal(navOf(equity, supply));
    expect(await btc3l.nav()).to.be.within(USDT - USDT / 100n, USDT + USDT / 100n);
  });
});
