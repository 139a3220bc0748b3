import { expect } from "chai";
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import { MARKETS, USDT, WAD, tokenParams } from "../../src/common/params.ts";
import {
  DEFAULT_ADMIN_ROLE,
  KEEPER_ROLE,
  PAUSER_ROLE,
  PENDING,
  State,
  advance,
  deployFixture,
  ethers,
  movePrice,
  networkHelpers,
  nextTimestamp,
  readBook,
  seededFixture,
  sendAt,
  time,
  supplyNow,
  instant,
} from "./fixture.ts";
import { feeUp, navOf, quoteDeposit, toAssetsDown } from "./model.ts";
import { signPermit } from "./permit.ts";

const { loadFixture } = networkHelpers;
const BTC = MARKETS.BTC.id;
const ZERO = "0x0000000000000000000000000000000000000000";

describe("LeveragedToken: safety", function () {
  it("roles: admin administers, pauser pauses, keeper rebalances; nobody else", async function () {
    const { btc3l, admin, keeper, treasury, bob, carol, sys } = await loadFixture(seededFixture);
    expect(await btc3l.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(true);
    expect(await btc3l.hasRole(PAUSER_ROLE, admin.address)).to.equal(true);
    expect(await btc3l.hasRole(KEEPER_ROLE, keeper.address)).to.equal(true);
    expect(await btc3l.hasRole(KEEPER_ROLE, admin.address)).to.equal(false);
    expect(await btc3l.hasRole(DEFAULT_ADMIN_ROLE, treasury.address)).to.equal(false);
    expect(await btc3l.getRoleAdmin(KEEPER_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
    expect(await btc3l.getRoleAdmin(PAUSER_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);

    await expect(btc3l.connect(bob).setMintPaused(true))
      .to.be.revertedWithCustomError(btc3l, "AccessControlUnauthorizedAccount")
      .withArgs(bob.address, PAUSER_ROLE);
    await expect(btc3l.connect(bob).grantRole(KEEPER_ROLE, bob.address))
      .to.be.revertedWithCustomError(btc3l, "AccessControlUnauthorizedAccount")
      .withArgs(bob.address, DEFAULT_ADMIN_ROLE);

    // the admin hands out and takes back roles
    await btc3l.connect(admin).grantRole(PAUSER_ROLE, carol.address);
    await expect(btc3l.connect(carol).setMintPaused(true)).to.emit(btc3l, "MintingPaused").withArgs(true);
    expect((await btc3l.status()).mintPaused).to.equal(true);
    await btc3l.connect(carol).setMintPaused(false);
    await movePrice(sys, "BTC", -1200n);
    await btc3l.connect(admin).revokeRole(KEEPER_ROLE, keeper.address);
    await expect(btc3l.connect(keeper).rebalance())
      .to.be.revertedWithCustomError(btc3l, "AccessControlUnauthorizedAccount")
      .withArgs(keeper.address, KEEPER_ROLE);
    await btc3l.connect(admin).grantRole(KEEPER_ROLE, bob.address);
    await expect(btc3l.connect(bob).rebalance()).to.emit(btc3l, "Rebalanced");
    // the admin role can be renounced, after which nobody can change the parameters
    await btc3l.connect(admin).renounceRole(DEFAULT_ADMIN_ROLE, admin.address);
    await expect(btc3l.connect(admin).setSupplyCap(0))
      .to.be.revertedWithCustomError(btc3l, "AccessControlUnauthorizedAccount")
      .withArgs(admin.address, DEFAULT_ADMIN_ROLE);
  });

  it("zero amounts and zero receivers revert with ZeroAmount and ZeroAddress", async function () {
    const { btc3l, alice } = await loadFixture(seededFixture);
    const a = alice.address;
    const t = btc3l.connect(alice);
    for (const call of [() => t.deposit(0n, a), () => t.redeem(0n, a, a), () => t.withdraw(0n, a, a)]) {
      await expect(call()).to.be.revertedWithCustomError(btc3l, "ZeroAmount");
    }
    for (const call of [
      () => t.deposit(USDT, ZERO),
      () => t.redeem(WAD, ZERO, a),
      () => t.withdraw(USDT, ZERO, a),
    ]) {
      await expect(call()).to.be.revertedWithCustomError(btc3l, "ZeroAddress");
    }
  });

  it("more than the supply or the balance reverts ExceedsBalance(shares, available)", async function () {
    const { btc3l, alice, bob, sys } = await loadFixture(seededFixture);
    await instant(btc3l)
      .connect(bob)
      .deposit(100n * USDT, bob.address);
    const balance = await btc3l.balanceOf(bob.address);
    await expect(
      instant(btc3l)
        .connect(bob)
        .redeem(balance + 1n, bob.address, bob.address),
    )
      .to.be.revertedWithCustomError(btc3l, "ExceedsBalance")
      .withArgs(balance + 1n, balance);
    // more than the whole supply (management fee accrued to the second) is caught before any trade
    const t = await nextTimestamp();
    const supply = (await readBook(btc3l, sys.vault, t)).supply;
    const redeem = instant(btc3l)
      .connect(alice)
      .redeem(supply + 1n, alice.address, alice.address);
    await expect(sendAt(t, redeem))
      .to.be.revertedWithCustomError(btc3l, "ExceedsBalance")
      .withArgs(supply + 1n, supply);
  });

  it("a deposit too small to mint one share reverts DepositTooSmall(assets)", async function () {
    const { btc3l, bob, sys } = await loadFixture(seededFixture);
    // 1 unit of USDT buys a slice whose taker fee (rounded up to 1 unit) eats it
    const t = await nextTimestamp();
    expect(quoteDeposit(await readBook(btc3l, sys.vault, t), 1n).shares).to.equal(0n);
    await expect(sendAt(t, instant(btc3l).connect(bob).deposit(1n, bob.address)))
      .to.be.revertedWithCustomError(btc3l, "DepositTooSmall")
      .withArgs(1n);
  });

  it("a stale price stops mint, redeem and rebalance with the exchange's StalePrice", async function () {
    const { btc3l, alice, keeper, sys } = await loadFixture(seededFixture);
    await movePrice(sys, "BTC", -1200n);
    const updatedAt = BigInt(await time.latest());
    await time.increase(MARKETS.BTC.heartbeat + 1);
    const calls = [
      () =>
        instant(btc3l)
          .connect(alice)
          .deposit(USDT * 100n, alice.address),
      () => instant(btc3l).connect(alice).redeem(WAD, alice.address, alice.address),
      () => btc3l.connect(keeper).rebalance(),
    ];
    for (const call of calls) {
      await expect(call())
        .to.be.revertedWithCustomError(sys.vault, "StalePrice")
        .withArgs(BTC, updatedAt, MARKETS.BTC.heartbeat);
    }
    // a fresh answer opens everything again
    await advance(sys, 0);
    await expect(btc3l.connect(keeper).rebalance()).to.emit(btc3l, "Rebalanced");
  });

  it("USDT sent straight to the token is not counted: NAV and the next mint do not change", async function () {
    const { btc3l, attacker, bob, sys } = await loadFixture(seededFixture);
    const token = await btc3l.getAddress();
    await sys.usdt.connect(attacker).transfer(token, 50_000n * USDT);
    expect(await sys.usdt.balanceOf(token)).to.equal(50_000n * USDT);
    const t = await nextTimestamp();
    const b = await readBook(btc3l, sys.vault, t);
    expect(await btc3l.totalAssets(PENDING)).to.equal(b.equity);
    expect(await btc3l.nav(PENDING)).to.equal(navOf(b.equity, b.supply));
    const q = quoteDeposit(b, 1_000n * USDT);
    await expect(
      sendAt(
        t,
        instant(btc3l)
          .connect(bob)
          .deposit(1_000n * USDT, bob.address),
      ),
    ).to.changeTokenBalance(ethers, btc3l, bob, q.shares);
    expect(await sys.usdt.balanceOf(token)).to.equal(50_000n * USDT);
  });

  it("inflation attack: first-mint tiny, donate to the token's exchange account; the victim loses at most rounding", async function () {
    const { btc3l, attacker, bob, treasury, keeper, sys } = await loadFixture(deployFixture);
    const token = await btc3l.getAddress();
    const start = await sys.usdt.balanceOf(attacker.address);
    // 1. the attacker mints the first shares with 1 USDT and redeems all but one wei of them
    await instant(btc3l).connect(attacker).deposit(USDT, attacker.address);
    const mine = await btc3l.balanceOf(attacker.address);
    await instant(btc3l)
      .connect(attacker)
      .redeem(mine - 1n, attacker.address, attacker.address);
    expect(await btc3l.balanceOf(attacker.address)).to.equal(1n);
    // the supply cannot go below the locked minimum and the treasury's fee shares
    const supply = await btc3l.totalSupply();
    expect(supply).to.equal(10n ** 10n + (await btc3l.balanceOf(treasury.address)) + 1n);
    // 2. the attacker donates 100,000 USDT into the token's exchange account
    const donation = 100_000n * USDT;
    await sys.vault.connect(attacker).deposit(BTC, token, donation);
    expect(await btc3l.totalAssets()).to.be.greaterThan(donation);
    // the donation left the token far under its band: the keeper trades it back to target (else the
    // victim's deposit would run that rebalance first, a cost of the holders, not the victim's)
    await btc3l.connect(keeper).rebalance();

    // 3. the victim deposits 10,000 USDT: shares are priced at the inflated NAV, still at fine grain
    const deposit = 10_000n * USDT;
    const t = await nextTimestamp();
    const b = await readBook(btc3l, sys.vault, t);
    const q = quoteDeposit(b, deposit);
    await sendAt(t, instant(btc3l).connect(bob).deposit(deposit, bob.address));
    const shares = await btc3l.balanceOf(bob.address);
    expect(shares).to.equal(q.shares);
    expect(shares).to.be.greaterThan(10n ** 13n); // millions of share units: rounding is negligible
    // the victim's shares are worth what it added, less the mint fee, to within 2 units of rounding
    const added = q.equityAfter - b.equity;
    const supplyAfter = b.supply + q.shares + q.feeShares;
    const worth = toAssetsDown(shares, q.equityAfter, supplyAfter);
    const fair = added - feeUp(added, 5n * 10n ** 14n);
    expect(worth).to.be.within(fair - 2n, fair + 1n);
    expect(added).to.be.within(deposit - q.cost - 2n, deposit - q.cost);

    // 4. the victim takes it straight back out: the round trip costs the two 0.05% fees (in shares)
    // and the 0.05% taker fee on its slice of the 3x position each way (3 x 2 x 0.05% = 0.3%), as any
    // round trip does: nothing of it goes to the attacker
    const before = await sys.usdt.balanceOf(bob.address);
    await instant(btc3l).connect(bob).redeem(shares, bob.address, bob.address);
    const back = (await sys.usdt.balanceOf(bob.address)) - before;
    expect(back).to.be.within((deposit * 9_959n) / 10_000n, (deposit * 9_961n) / 10_000n);

    // 5. the attacker's wei of a share is worth nothing like the donation: it cannot even be redeemed
    // (the redeem fee takes it), and the attacker lost ~all of the donation
    await expect(instant(btc3l).connect(attacker).redeem(1n, attacker.address, attacker.address))
      .to.be.revertedWithCustomError(btc3l, "RedeemTooSmall")
      .withArgs(1n);
    const end = await sys.usdt.balanceOf(attacker.address);
    expect(start - end).to.be.greaterThan(donation);
  });

  it("a donation before the first mint is a gift to the first minter", async function () {
    const { btc3l, attacker, bob, sys } = await loadFixture(deployFixture);
    const gift = 1_000n * USDT;
    await sys.vault.connect(attacker).deposit(BTC, await btc3l.getAddress(), gift);
    const t = await nextTimestamp();
    const q = quoteDeposit(await readBook(btc3l, sys.vault, t), 1_000n * USDT);
    await sendAt(
      t,
      instant(btc3l)
        .connect(bob)
        .deposit(1_000n * USDT, bob.address),
    );
    // bob's shares are priced at 1 USDT for what he added, and the gift raises the NAV under them
    expect(await btc3l.balanceOf(bob.address)).to.equal(q.shares);
    expect(await btc3l.convertToAssets(q.shares)).to.be.greaterThan(1_990n * USDT);
    expect(await btc3l.state()).to.equal(State.Active);
  });

  it("ReentrancyGuard: a hostile exchange calling back from trade() is stopped on every entry point", async function () {
    const { admin, alice, keeper, treasury, sys } = await loadFixture(deployFixture);
    // the token deployed straight onto a hostile venue (the factory would refuse it: WrongVault)
    const hostile = await ethers.deployContract("ReentrantVault", [await sys.usdt.getAddress()]);
    const tokenFactory = await ethers.getContractFactory("LeveragedToken");
    const p = tokenParams("BTC", 3n, true);
    // the token names its (instant, pass-through) desk, deployed right after it
    const nonce = await admin.getNonce();
    const deskAddress = ethers.getCreateAddress({ from: admin.address, nonce: nonce + 1 });
    const token = (await tokenFactory.connect(admin).deploy({
      ...p,
      vault: await hostile.getAddress(),
      market: BTC,
      treasury: treasury.address,
      admin: admin.address,
      keeper: keeper.address,
      desk: deskAddress,
    })) as unknown as LeveragedToken;
    const address = await token.getAddress();
    const desk = await ethers.deployContract("InstantDesk", [address, 0n, 0n], admin);
    expect(await desk.getAddress()).to.equal(deskAddress);
    await sys.usdt.connect(alice).approve(deskAddress, ethers.MaxUint256);
    await token.connect(alice).approve(deskAddress, ethers.MaxUint256);
    const setReentry = hostile.getFunction("setReentry");
    // without a callback the venue behaves: a fee-free first mint at NAV 1 USDT
    await desk.connect(alice).deposit(1_000n * USDT, alice.address);
    expect(await token.nav()).to.equal(USDT);
    expect(await token.totalAssets()).to.equal(1_000n * USDT);
    // each guarded entry point, called back from inside a deposit's and a redeem's trade
    const entries = [
      "Deposit",
      "Redeem",
      "Withdraw",
      "Rebalance",
      "PerformUpkeep",
      "Accrue",
      "Settle",
      "SettleHolders",
    ];
    for (const [i, entry] of entries.entries()) {
      await setReentry(address, i + 1);
      await expect(
        desk.connect(alice).deposit(100n * USDT, alice.address),
        `${entry} inside deposit`,
      ).to.be.revertedWithCustomError(token, "ReentrancyGuardReentrantCall");
      await expect(
        desk.connect(alice).redeem(WAD, alice.address, alice.address),
        `${entry} inside redeem`,
      ).to.be.revertedWithCustomError(token, "ReentrancyGuardReentrantCall");
    }
    await setReentry(address, 0);
    await expect(desk.connect(alice).deposit(100n * USDT, alice.address)).to.emit(token, "Deposit");
  });

  it("shares are plain ERC-20 with ERC-2612 permit", async function () {
    const { btc3l, alice, bob } = await loadFixture(seededFixture);
    const value = 123n * WAD;
    const deadline = (await time.latest()) + 3600;
    const sig = await signPermit(alice, {
      name: "BTC 3x Long",
      token: await btc3l.getAddress(),
      spender: bob.address,
      value,
      deadline,
    });
    await btc3l.permit(alice.address, bob.address, value, deadline, sig.v, sig.r, sig.s);
    expect(await btc3l.allowance(alice.address, bob.address)).to.equal(value);
    await expect(btc3l.connect(bob).transferFrom(alice.address, bob.address, value)).to.changeTokenBalances(
      ethers,
      btc3l,
      [alice, bob],
      [-value, value],
    );
  });
});
