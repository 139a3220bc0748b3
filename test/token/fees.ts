import { expect } from "chai";
import { DEFAULT_FEES, MARKETS, USDT, WAD } from "../../src/common/params.ts";
import {
  DAY,
  DEFAULT_ADMIN_ROLE,
  advance,
  ethers,
  movePrice,
  networkHelpers,
  nextTimestamp,
  readBook,
  seededFixture,
  sendAt,
  supplyNow,
  time,
  instant,
} from "./fixture.ts";
import {
  YEAR,
  feeUp,
  managementFeeFractionDown,
  managementFeeSharesDown,
  mulDivDown,
  navOf,
  quoteDeposit,
  quoteRedeem,
} from "./model.ts";

const { loadFixture } = networkHelpers;
const BTC = MARKETS.BTC.id;

describe("LeveragedToken: fees", function () {
  it("management fee: after one year the treasury owns 1.825% more of the supply, supply x f / (1 - f)", async function () {
    const { btc3l, admin, bob, treasury, sys } = await loadFixture(seededFixture);
    await sys.vault.connect(admin).setFundingRate(BTC, 0); // only the management fee moves NAV here
    const supply = await btc3l.totalSupply();
    const treasuryBefore = await btc3l.balanceOf(treasury.address);
    const last = (await btc3l.status()).lastFeeAccrual;
    const navBefore = await btc3l.nav();
    const equity = await btc3l.totalAssets();
    // 0.005% a day is 1.825% a year: f = 0.01825 exactly after 365 days
    expect(DEFAULT_FEES.managementFee).to.equal((5n * 10n ** 13n * 365n * WAD) / WAD);
    const f = managementFeeFractionDown(DEFAULT_FEES.managementFee, YEAR);
    expect(f).to.equal(1825n * 10n ** 13n);
    const feeShares = mulDivDown(supply, f, WAD - f);
    expect(feeShares).to.equal(managementFeeSharesDown(supply, DEFAULT_FEES.managementFee, YEAR));

    const t = await nextTimestamp(Number(last + YEAR));
    await expect(sendAt(t, btc3l.connect(bob).accrueManagementFee()))
      .to.emit(btc3l, "ManagementFeeAccrued")
      .withArgs(feeShares, YEAR);
    expect((await btc3l.balanceOf(treasury.address)) - treasuryBefore).to.equal(feeShares);
    const supplyAfter = await btc3l.totalSupply();
    expect(supplyAfter).to.equal(supply + feeShares);
    // the treasury's new shares are f of the new supply (to the rounding of one share unit)
    expect((feeShares * WAD) / supplyAfter).to.be.within(f - 1n, f);
    // NAV fell by the fraction f; nobody's token count changed
    await advance(sys, 1); // fresh price for nav()
    expect(await btc3l.totalAssets()).to.equal(equity);
    expect(await btc3l.nav()).to.equal(navOf(equity, supplyAfter));
    expect(await btc3l.nav()).to.be.closeTo((navBefore * (WAD - f)) / WAD, 1n);
    // a second accrual in the same second mints nothing more
    const again = await nextTimestamp();
    await sendAt(again, btc3l.accrueManagementFee());
    expect(await btc3l.totalSupply()).to.equal(
      supplyAfter + managementFeeSharesDown(supplyAfter, DEFAULT_FEES.managementFee, BigInt(again - t)),
    );
    await expect(btc3l.accrueManagementFee()).to.emit(btc3l, "ManagementFeeAccrued");
  });

  it("is accrued before every mint, redeem and rebalance (reported in their own event), and by anyone", async function () {
    const { btc3l, alice, bob, keeper, sys } = await loadFixture(seededFixture);
    for (const action of ["mint", "redeem", "rebalance", "accrue"] as const) {
      await advance(sys, DAY);
      if (action === "rebalance") await movePrice(sys, "BTC", -1200n);
      const last = (await btc3l.status()).lastFeeAccrual;
      const t = await nextTimestamp();
      const supply = await btc3l.totalSupply();
      const elapsed = BigInt(t) - last;
      expect(elapsed).to.be.greaterThanOrEqual(BigInt(DAY));
      const fee = managementFeeSharesDown(supply, DEFAULT_FEES.managementFee, elapsed);
      const tx =
        action === "mint"
          ? instant(btc3l)
              .connect(bob)
              .deposit(1_000n * USDT, bob.address)
          : action === "redeem"
            ? instant(btc3l).connect(alice).redeem(WAD, alice.address, alice.address)
            : action === "rebalance"
              ? btc3l.connect(keeper).rebalance()
              : btc3l.connect(bob).accrueManagementFee();
      const receipt = await (await sendAt(t, tx)).wait();
      const events = receipt!.logs.flatMap((log) => {
        const parsed = btc3l.interface.parseLog(log);
        return parsed === null ? [] : [parsed];
      });
      const reported = events.filter((e) =>
        ["ManagementFeeAccrued", "PositionResized", "Rebalanced"].includes(e.name),
      );
      // exactly one event tells the fee: the entry point's own, or ManagementFeeAccrued when it has none
      expect(reported.map((e) => e.name)).to.deep.equal([
        {
          mint: "PositionResized",
          redeem: "PositionResized",
          rebalance: "Rebalanced",
          accrue: "ManagementFeeAccrued",
        }[action],
      ]);
      const ev = reported[0]!;
      if (action === "accrue") expect([ev.args.shares, ev.args.elapsed]).to.deep.equal([fee, elapsed]);
      else expect(ev.args.managementFeeShares).to.equal(fee);
      expect((await btc3l.status()).lastFeeAccrual).to.equal(BigInt(t));
    }
  });

  it("two accruals in one block mint the fee once", async function () {
    const { btc3l, bob, carol, sys } = await loadFixture(seededFixture);
    await advance(sys, DAY);
    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      const first = await btc3l.connect(bob).accrueManagementFee();
      const second = await btc3l.connect(carol).accrueManagementFee();
      await ethers.provider.send("evm_mine", []);
      const [r1, r2] = await Promise.all([first.wait(), second.wait()]);
      expect(r1!.blockNumber).to.equal(r2!.blockNumber);
      const accrued = (r: NonNullable<typeof r1>) =>
        r.logs.filter((l) => l.topics[0] === btc3l.interface.getEvent("ManagementFeeAccrued").topicHash)
          .length;
      expect(accrued(r1!)).to.equal(1);
      expect(accrued(r2!)).to.equal(0);
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
    }
  });

  it("funding moves equity and NAV: 8 h at 0.1% on 30,000 USDT of notional is 30 USDT", async function () {
    const { btc3l, btc3s, admin, sys } = await loadFixture(seededFixture);
    await sys.vault.connect(admin).setFundingRate(BTC, 10n ** 15n); // 0.1% per 8 h, longs pay
    const tokens = [btc3l, btc3s];
    const equity0 = await Promise.all(tokens.map((t) => t.totalAssets()));
    const owed0 = await Promise.all(
      tokens.map(async (t) => sys.vault.fundingOwed(BTC, await t.getAddress())),
    );
    const nav0 = await Promise.all(tokens.map((t) => t.nav()));
    const t0 = await time.latest();
    await advance(sys, 8 * 3600);
    const elapsed = BigInt((await time.latest()) - t0); // 8 h and the seconds of the feed updates
    // 0.3 BTC x 100,000 x 0.1% = 30 USDT per 8 h, pro rata per second
    const paid = (30n * USDT * elapsed) / (8n * 3600n);
    for (const [i, token] of tokens.entries()) {
      const owed = await sys.vault.fundingOwed(BTC, await token.getAddress());
      const moved = owed - owed0[i]!;
      // index growth truncates once, each owed amount rounds once: a few units at most
      expect(i === 0 ? moved : -moved).to.be.closeTo(paid, 3n);
      const equity = await token.totalAssets();
      expect(equity).to.equal(equity0[i]! - moved);
      // nav() prices the supply with the management fee accrued to this second
      expect(await token.nav()).to.equal(navOf(equity, await supplyNow(token)));
    }
    expect(await btc3l.nav()).to.be.lessThan(nav0[0]!);
    expect(await btc3s.nav()).to.be.greaterThan(nav0[1]!);
  });

  it("mint and redeem fees follow setFees: none at 0, exactly ceil(shares x fee) at the 1% cap", async function () {
    const { btc3l, admin, alice, bob, sys } = await loadFixture(seededFixture);
    for (const fee of [0n, 10n ** 16n]) {
      await btc3l.connect(admin).setFees(fee, fee, DEFAULT_FEES.managementFee, DEFAULT_FEES.rebalanceBounty);
      let t = await nextTimestamp();
      const bookIn = await readBook(btc3l, sys.vault, t);
      const d = quoteDeposit(bookIn, 1_000n * USDT);
      expect(d.feeShares).to.equal(feeUp(d.shares + d.feeShares, fee));
      await expect(
        sendAt(
          t,
          instant(btc3l)
            .connect(bob)
            .deposit(1_000n * USDT, bob.address),
        ),
      )
        .to.emit(btc3l, "PositionResized")
        .withArgs(d.sizeDelta, MARKETS.BTC.initialPrice, d.cost, d.feeShares, bookIn.managementFeeShares);
      t = await nextTimestamp();
      const bookOut = await readBook(btc3l, sys.vault, t);
      const r = quoteRedeem(bookOut, 100n * WAD);
      expect(r.feeShares).to.equal(fee === 0n ? 0n : WAD);
      await expect(
        sendAt(
          t,
          instant(btc3l)
            .connect(alice)
            .redeem(100n * WAD, alice.address, alice.address),
        ),
      )
        .to.emit(btc3l, "PositionResized")
        .withArgs(r.sizeDelta, MARKETS.BTC.initialPrice, r.cost, r.feeShares, bookOut.managementFeeShares);
    }
  });

  it("setFees: each fee within its hard cap (InvalidParameter), only admin, accrues first", async function () {
    const { btc3l, admin, bob, sys } = await loadFixture(seededFixture);
    const caps = [10n ** 16n, 10n ** 16n, 5n * 10n ** 16n, 100n * USDT];
    const names = ["mintFee", "redeemFee", "managementFee", "rebalanceBounty"];
    for (let i = 0; i < 4; i++) {
      const args = [...caps];
      args[i] = caps[i]! + 1n;
      await expect(btc3l.connect(admin).setFees(args[0]!, args[1]!, args[2]!, args[3]!))
        .to.be.revertedWithCustomError(btc3l, "InvalidParameter")
        .withArgs(names[i]!, caps[i]! + 1n);
    }
    // mint and redeem fees live in the status slot in pips (1e-6): a finer fee is refused, a pip is fine
    for (const [i, name] of ["mintFee", "redeemFee"].entries()) {
      const args = [...caps];
      args[i] = 10n ** 12n + 1n;
      await expect(btc3l.connect(admin).setFees(args[0]!, args[1]!, args[2]!, args[3]!))
        .to.be.revertedWithCustomError(btc3l, "InvalidParameter")
        .withArgs(name, 10n ** 12n + 1n);
    }
    await btc3l.connect(admin).setFees(10n ** 12n, 2n * 10n ** 12n, caps[2]!, caps[3]!);
    expect(await btc3l.fees()).to.deep.equal([10n ** 12n, 2n * 10n ** 12n, caps[2]!, caps[3]!]);
    await advance(sys, DAY);
    await expect(btc3l.connect(admin).setFees(caps[0]!, caps[1]!, caps[2]!, caps[3]!))
      .to.emit(btc3l, "FeesSet")
      .withArgs(caps[0]!, caps[1]!, caps[2]!, caps[3]!)
      .and.to.emit(btc3l, "ManagementFeeAccrued");
    expect(await btc3l.fees()).to.deep.equal(caps);
    await expect(btc3l.connect(bob).setFees(0, 0, 0, 0))
      .to.be.revertedWithCustomError(btc3l, "AccessControlUnauthorizedAccount")
      .withArgs(bob.address, DEFAULT_ADMIN_ROLE);
  });

  it("setTreasury: accrues to the old treasury first, then fees go to the new one", async function () {
    const { btc3l, admin, bob, carol, treasury, sys } = await loadFixture(seededFixture);
    await expect(btc3l.connect(admin).setTreasury(ethers.ZeroAddress)).to.be.revertedWithCustomError(
      btc3l,
      "ZeroAddress",
    );
    await expect(btc3l.connect(bob).setTreasury(bob.address))
      .to.be.revertedWithCustomError(btc3l, "AccessControlUnauthorizedAccount")
      .withArgs(bob.address, DEFAULT_ADMIN_ROLE);
    await advance(sys, 10 * DAY);
    const before = await btc3l.balanceOf(treasury.address);
    const last = (await btc3l.status()).lastFeeAccrual;
    const t = await nextTimestamp();
    const fee = managementFeeSharesDown(
      await btc3l.totalSupply(),
      DEFAULT_FEES.managementFee,
      BigInt(t) - last,
    );
    await expect(sendAt(t, btc3l.connect(admin).setTreasury(carol.address)))
      .to.emit(btc3l, "TreasurySet")
      .withArgs(carol.address);
    expect((await btc3l.balanceOf(treasury.address)) - before).to.equal(fee);
    expect(await btc3l.treasury()).to.equal(carol.address);
    const t2 = await nextTimestamp();
    const b = await readBook(btc3l, sys.vault, t2);
    const d = quoteDeposit(b, 1_000n * USDT);
    const supplyBefore = await btc3l.totalSupply();
    await sendAt(
      t2,
      instant(btc3l)
        .connect(bob)
        .deposit(1_000n * USDT, bob.address),
    );
    expect(await btc3l.balanceOf(treasury.address)).to.equal(before + fee);
    // the new treasury gets the mint fee and the management fee of the second since
    expect(await btc3l.balanceOf(carol.address)).to.equal(d.feeShares + b.supply - supplyBefore);
  });

  it("fee shares pend in the status slot: in the supply and the treasury's balance, minted to it on claim or spend", async function () {
    const { btc3l, bob, treasury, sys } = await loadFixture(seededFixture);
    await advance(sys, 30 * DAY);
    await instant(btc3l)
      .connect(bob)
      .deposit(1_000n * USDT, bob.address);
    const pending = (await btc3l.status()).pendingFeeShares;
    expect(pending).to.be.greaterThan(0n);
    const minted = await btc3l.balanceOf(treasury.address);
    // what the treasury was minted plus what pends is its balance; a mint touched no treasury slot
    expect(minted).to.be.greaterThanOrEqual(pending);
    // the treasury spends more than it was minted: the pending shares are minted to it first; a
    // transfer is not an entry point, so no fee accrues and the supply does not move
    const supplyBefore = await btc3l.totalSupply();
    await expect(btc3l.connect(treasury).transfer(bob.address, minted))
      .to.emit(btc3l, "Transfer")
      .withArgs(ethers.ZeroAddress, treasury.address, pending);
    expect(await btc3l.totalSupply()).to.equal(supplyBefore);
    expect(await btc3l.balanceOf(treasury.address)).to.equal(0n);
    expect((await btc3l.status()).pendingFeeShares).to.equal(0n);
    // accrueManagementFee accrues and mints in one go: nothing pends afterwards
    await advance(sys, DAY);
    const supply = await btc3l.totalSupply();
    await btc3l.accrueManagementFee();
    expect((await btc3l.status()).pendingFeeShares).to.equal(0n);
    expect(await btc3l.balanceOf(treasury.address)).to.equal((await btc3l.totalSupply()) - supply);
  });

  it("fee shares past 80 bits are all minted to the treasury at once, none lost to the packing", async function () {
    const { btc3l, admin, bob, treasury, sys } = await loadFixture(seededFixture);
    await btc3l
      .connect(admin)
      .setFees(10n ** 16n, 10n ** 16n, DEFAULT_FEES.managementFee, DEFAULT_FEES.rebalanceBounty);
    await advance(sys, DAY);
    await instant(btc3l)
      .connect(bob)
      .deposit(1_000n * USDT, bob.address);
    const pendingBefore = (await btc3l.status()).pendingFeeShares;
    expect(pendingBefore).to.be.greaterThan(0n);
    // a 1% fee on a 200-million-USDT mint is about 2e24 shares: more than 80 bits hold by itself
    const assets = 200_000_000n * USDT;
    await sys.usdt.mint(bob.address, assets);
    const t = await nextTimestamp();
    const b = await readBook(btc3l, sys.vault, t);
    const d = quoteDeposit(b, assets);
    expect(d.feeShares).to.be.greaterThan(2n ** 80n);
    const minted = await btc3l.balanceOf(treasury.address);
    const supplyBefore = b.supply;
    await expect(sendAt(t, instant(btc3l).connect(bob).deposit(assets, bob.address)))
      .to.emit(btc3l, "Transfer")
      .withArgs(ethers.ZeroAddress, treasury.address, pendingBefore + b.managementFeeShares + d.feeShares);
    expect((await btc3l.status()).pendingFeeShares).to.equal(0n);
    expect(await btc3l.balanceOf(treasury.address)).to.equal(minted + b.managementFeeShares + d.feeShares);
    expect(await btc3l.balanceOf(bob.address)).to.be.greaterThanOrEqual(d.shares);
    expect(await btc3l.totalSupply()).to.equal(supplyBefore + d.shares + d.feeShares);
  });

  it("shares have 18 decimals over USDT's 6", async function () {
    const { btc3l, sys } = await loadFixture(seededFixture);
    expect(await btc3l.decimals()).to.equal(18n);
    expect(await sys.usdt.decimals()).to.equal(6n);
  });

  it("setSupplyCap: minting past the cap reverts SupplyCapExceeded(supplyAfter, cap)", async function () {
    const { btc3l, admin, bob, sys } = await loadFixture(seededFixture);
    const supply = await btc3l.totalSupply();
    const cap = supply + 1_000n * WAD;
    await expect(btc3l.connect(admin).setSupplyCap(cap)).to.emit(btc3l, "SupplyCapSet").withArgs(cap);
    expect(await btc3l.supplyCap()).to.equal(cap);
    await expect(btc3l.connect(bob).setSupplyCap(0))
      .to.be.revertedWithCustomError(btc3l, "AccessControlUnauthorizedAccount")
      .withArgs(bob.address, DEFAULT_ADMIN_ROLE);
    const t = await nextTimestamp();
    const b = await readBook(btc3l, sys.vault, t);
    const d = quoteDeposit(b, 2_000n * USDT);
    const after = b.supply + d.shares + d.feeShares;
    await expect(
      sendAt(
        t,
        instant(btc3l)
          .connect(bob)
          .deposit(2_000n * USDT, bob.address),
      ),
    )
      .to.be.revertedWithCustomError(btc3l, "SupplyCapExceeded")
      .withArgs(after, cap);
    // 500 USDT fits
    await expect(
      instant(btc3l)
        .connect(bob)
        .deposit(500n * USDT, bob.address),
    ).to.emit(btc3l, "Deposit");
  });

  it("setSupplyCap: an uncapped token's mint does not read the cap (the status slot says so); setting one and lifting it works", async function () {
    const { btc3l, admin, bob } = await loadFixture(seededFixture);
    const NO_CAP = 2n ** 128n - 1n;
    expect(await btc3l.supplyCap()).to.equal(NO_CAP);
    expect((await btc3l.status()).supplyCapped).to.equal(false);
    await instant(btc3l)
      .connect(bob)
      .deposit(100n * USDT, bob.address); // bob holds shares now
    const uncapped = await (
      await instant(btc3l)
        .connect(bob)
        .deposit(100n * USDT, bob.address)
    ).wait();
    await btc3l.connect(admin).setSupplyCap(await btc3l.totalSupply());
    expect((await btc3l.status()).supplyCapped).to.equal(true);
    await expect(
      instant(btc3l)
        .connect(bob)
        .deposit(100n * USDT, bob.address),
    ).to.be.revertedWithCustomError(btc3l, "SupplyCapExceeded");
    await btc3l.connect(admin).setSupplyCap(NO_CAP - 1n);
    expect((await btc3l.status()).supplyCapped).to.equal(true);
    const capped = await (
      await instant(btc3l)
        .connect(bob)
        .deposit(100n * USDT, bob.address)
    ).wait();
    // the capped mint reads one more (cold) storage slot: 2,100 gas
    expect(capped!.gasUsed - uncapped!.gasUsed).to.be.within(2_000n, 2_300n);
    await btc3l.connect(admin).setSupplyCap(NO_CAP);
    expect((await btc3l.status()).supplyCapped).to.equal(false);
    await expect(
      instant(btc3l)
        .connect(bob)
        .deposit(100n * USDT, bob.address),
    ).to.emit(btc3l, "Deposit");
  });
});
