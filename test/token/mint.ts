import { expect } from "chai";
import { MARKETS, USDT, WAD } from "../../src/common/params.ts";
import {
  DEAD,
  PENDING,
  Reason,
  SEED,
  State,
  deployFixture,
  ethers,
  networkHelpers,
  nextTimestamp,
  readBook,
  seededFixture,
  sendAt,
  supplyNow,
  instant,
} from "./fixture.ts";
import {
  MINIMUM_SHARES,
  feeUp,
  leverageOf,
  navOf,
  notionalUp,
  quoteDeposit,
  targetSizeDown,
  toAssetsDown,
  toSharesDown,
} from "./model.ts";

const { loadFixture } = networkHelpers;

describe("LeveragedToken: views", function () {
  it("reports its configuration and an empty token at NAV 1 USDT", async function () {
    const { btc3l, btc3s, eth3l, sys } = await loadFixture(deployFixture);
    expect(await btc3l.nav()).to.equal(USDT);
    expect(await btc3l.leverage()).to.equal(0n);
    expect(await btc3l.targetLeverage()).to.equal(3n * WAD);
    expect(await btc3l.minLeverage()).to.equal(2n * WAD);
    expect(await btc3l.maxLeverage()).to.equal(4n * WAD);
    expect(await btc3l.ripcordLeverage()).to.equal((9n * WAD) / 2n);
    expect(await btc3l.rebalanceEpsilon()).to.equal(WAD / 20n);
    expect(await btc3l.isLong()).to.equal(true);
    expect(await btc3s.isLong()).to.equal(false);
    expect(await btc3l.market()).to.equal(MARKETS.BTC.id);
    expect(await eth3l.market()).to.equal(MARKETS.ETH.id);
    expect(await btc3l.state()).to.equal(State.Active);
    expect(await btc3l.rebalanceNeeded()).to.deep.equal([false, Reason.None]);
    expect(await btc3l.totalAssets()).to.equal(0n);
    expect(await btc3l.totalSupply()).to.equal(0n);
    expect(await btc3l.asset()).to.equal(await sys.usdt.getAddress());
    expect(await btc3l.vault()).to.equal(await sys.vault.getAddress());
    expect(await btc3l.symbol()).to.equal("BTC3L");
    expect(await btc3l.name()).to.equal("BTC 3x Long");
    // the conversions of an empty token are at the initial NAV of 1 USDT
    expect(await btc3l.convertToShares(5n * USDT)).to.equal(5n * WAD);
    expect(await btc3l.convertToAssets(5n * WAD)).to.equal(5n * USDT);
  });

  it("totalAssets() is the exchange equity and nav() is equity per 1e18 shares", async function () {
    const { btc3l, btc3s, sys } = await loadFixture(seededFixture);
    for (const token of [btc3l, btc3s]) {
      const equity = await sys.vault.equityOf(MARKETS.BTC.id, await token.getAddress());
      expect(equity).to.be.greaterThan(9_900n * USDT);
      expect(await token.totalAssets()).to.equal(equity);
      const [size, , price] = await sys.vault.snapshot(MARKETS.BTC.id, await token.getAddress());
      expect(await token.leverage()).to.equal(leverageOf(size, equity, price));
      // conversions at NAV, no fees: shares for 1,000 USDT and back, each rounded down
      const supply = await supplyNow(token);
      expect(supply).to.be.greaterThan(await token.totalSupply()); // fee accrued since the last touch
      expect(await token.nav()).to.equal(navOf(equity, supply));
      expect(await token.convertToShares(1_000n * USDT)).to.equal(
        toSharesDown(1_000n * USDT, supply, equity),
      );
      expect(await token.convertToAssets(1_000n * WAD)).to.equal(toAssetsDown(1_000n * WAD, equity, supply));
    }
  });
});

describe("LeveragedToken: mint at NAV", function () {
  it("first mint opens at target leverage at NAV 1 USDT and locks MINIMUM_SHARES at 0xdEaD", async function () {
    const { btc3l, btc3s, alice, treasury, sys } = await loadFixture(deployFixture);
    const price = MARKETS.BTC.initialPrice; // 100,000 USDT
    const assets = 10_000n * USDT;
    // worked by hand: 3 x 10,000 USDT of BTC at 100,000 = 0.3 BTC; taker fee 5 bps of 30,000 = 15 USDT;
    // the equity the deposit adds is 9,985 USDT, so 9,985e18 shares at 1 USDT, less the locked minimum
    const size = (3n * WAD) / 10n;
    expect(targetSizeDown(assets, 3n * WAD, price)).to.equal(size);
    const cost = 15n * USDT;
    const total = 9_985n * WAD - MINIMUM_SHARES;
    const feeShares = feeUp(total, 5n * 10n ** 14n);
    expect(feeShares).to.equal(4_992_499_999_995_000_000n); // ceil(total x 0.0005)
    const shares = total - feeShares;

    await expect(instant(btc3l).connect(alice).deposit(assets, alice.address))
      .to.emit(btc3l, "Deposit")
      .withArgs(await btc3l.desk(), alice.address, assets, shares)
      .and.to.emit(btc3l, "PositionResized")
      .withArgs(size, price, cost, feeShares, 0n); // the first mint: no supply, no management fee
    expect(await btc3l.balanceOf(alice.address)).to.equal(shares);
    expect(await btc3l.balanceOf(treasury.address)).to.equal(feeShares);
    expect(await btc3l.balanceOf(DEAD)).to.equal(MINIMUM_SHARES);
    expect(await btc3l.totalSupply()).to.equal(9_985n * WAD);
    expect(await btc3l.totalAssets()).to.equal(9_985n * USDT);
    expect(await btc3l.nav()).to.equal(USDT);
    expect((await sys.vault.positionOf(MARKETS.BTC.id, await btc3l.getAddress())).size).to.equal(size);
    // 30,000 of notional on 9,985 of equity: the minter's own fee sits on top of the 3x
    expect(await btc3l.leverage()).to.equal((30_000n * USDT * WAD) / (9_985n * USDT));

    // a short opens the same size, negative
    await instant(btc3s).connect(alice).deposit(assets, alice.address);
    expect((await sys.vault.positionOf(MARKETS.BTC.id, await btc3s.getAddress())).size).to.equal(-size);
    expect(await btc3s.nav()).to.equal(USDT);
  });

  it("a later mint grows the position pro rata: NAV and others' value do not fall", async function () {
    const { btc3l, alice, bob, treasury, sys } = await loadFixture(seededFixture);
    const assets = 5_000n * USDT;
    const t = await nextTimestamp();
    const b = await readBook(btc3l, sys.vault, t);
    const q = quoteDeposit(b, assets);
    const navBefore = await btc3l.nav(PENDING);
    const aliceShares = await btc3l.balanceOf(alice.address);
    const aliceBefore = await btc3l.convertToAssets(aliceShares, PENDING);
    const treasuryBefore = await btc3l.balanceOf(treasury.address);
    const supplyBefore = await btc3l.totalSupply();
    expect(await btc3l.previewDeposit(assets, PENDING)).to.equal(q.shares);
    // the slice is size x assets / equity: the same exposure per USDT as the holders already have
    expect(q.sizeDelta).to.equal((b.size * assets) / b.equity);

    const tx = await sendAt(t, instant(btc3l).connect(bob).deposit(assets, bob.address));
    await expect(tx)
      .to.emit(btc3l, "PositionResized")
      .withArgs(q.sizeDelta, b.price, q.cost, q.feeShares, b.managementFeeShares);
    expect(b.managementFeeShares).to.be.greaterThan(0n);
    await expect(tx).to.changeTokenBalances(ethers, sys.usdt, [bob], [-assets]);
    expect(await btc3l.balanceOf(bob.address)).to.equal(q.shares);
    // the treasury gets the mint fee and the management fee accrued first (supply grew to b.supply)
    const managementShares = b.supply - supplyBefore;
    expect(managementShares).to.be.greaterThan(0n);
    expect((await btc3l.balanceOf(treasury.address)) - treasuryBefore).to.equal(
      q.feeShares + managementShares,
    );
    expect(await btc3l.totalSupply()).to.equal(b.supply + q.shares + q.feeShares);
    expect(await btc3l.totalAssets()).to.equal(q.equityAfter);

    // NAV may only move up, by the rounding of the shares minted
    const navAfter = await btc3l.nav();
    expect(navAfter).to.be.greaterThanOrEqual(navBefore);
    expect(navAfter - navBefore).to.be.lessThanOrEqual(1n);
    expect(await btc3l.convertToAssets(aliceShares)).to.be.greaterThanOrEqual(aliceBefore);

    // the minter paid its own slice's trading fee: its shares (with the treasury's cut) are worth the
    // deposit less that fee, to the unit
    const worth = toAssetsDown(q.shares + q.feeShares, q.equityAfter, b.supply + q.shares + q.feeShares);
    expect(q.cost).to.equal(feeUp(notionalUp(q.sizeDelta, b.price), 5n * 10n ** 14n));
    // (the equity it added is the deposit less that fee, less at most 2 units of the exchange's
    // rounding; the shares round down once and their worth once more)
    const added = q.equityAfter - b.equity;
    expect(added).to.be.within(assets - q.cost - 2n, assets - q.cost);
    expect(worth).to.be.within(added - 2n, added);

    // leverage: the same exposure per share plus the minter's fee, exactly as computed
    const lev = await btc3l.leverage();
    expect(lev).to.equal(leverageOf(b.size + q.sizeDelta, q.equityAfter, b.price));
    const before = leverageOf(b.size, b.equity, b.price);
    expect(lev - before).to.be.lessThan(before / 1000n);
  });

  it("deposit(assets, receiver) takes USDT from the caller and mints to the receiver", async function () {
    const { btc3l, alice, carol, sys } = await loadFixture(seededFixture);
    const assets = 100n * USDT;
    const t = await nextTimestamp();
    const q = quoteDeposit(await readBook(btc3l, sys.vault, t), assets);
    expect(q.shares).to.be.greaterThan(99n * WAD);
    const tx = await sendAt(t, instant(btc3l).connect(alice).deposit(assets, carol.address));
    await expect(tx)
      .to.emit(btc3l, "Deposit")
      .withArgs(await btc3l.desk(), carol.address, assets, q.shares);
    await expect(tx).to.changeTokenBalances(ethers, sys.usdt, [alice, carol], [-assets, 0n]);
    await expect(tx).to.changeTokenBalances(ethers, btc3l, [alice, carol], [0n, q.shares]);
  });

  it("nobody mints at a live price but the desk: mint(shares) and previewMint revert UseTheDesk, maxMint is 0, a deposit from anyone else reverts OnlyDesk", async function () {
    const { btc3l, bob } = await loadFixture(seededFixture);
    const desk = await btc3l.desk();
    await expect(btc3l.connect(bob).mint(100n * WAD, bob.address))
      .to.be.revertedWithCustomError(btc3l, "UseTheDesk")
      .withArgs(desk);
    await expect(btc3l.previewMint(100n * WAD))
      .to.be.revertedWithCustomError(btc3l, "UseTheDesk")
      .withArgs(desk);
    expect(await btc3l.maxMint(bob.address)).to.equal(0n);
    await expect(btc3l.connect(bob).deposit(100n * USDT, bob.address))
      .to.be.revertedWithCustomError(btc3l, "OnlyDesk")
      .withArgs(bob.address, desk);
    // the desk's own deposit goes through
    await expect(
      instant(btc3l)
        .connect(bob)
        .deposit(100n * USDT, bob.address),
    ).to.emit(btc3l, "Deposit");
  });
});
