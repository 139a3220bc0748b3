// Seed behaviour: what a holder of a 3x token should see over a few market paths, with the keeper
// rebalancing as it would in production (whenever rebalanceNeeded() says so).
import { expect } from "chai";
import { anyUint } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { MARKETS, USDT, WAD } from "../../src/common/params.ts";
import {
  MAX_UINT,
  PENDING,
  Reason,
  State,
  advanceToNextDay,
  holdersOf,
  networkHelpers,
  nextTimestamp,
  priceOf,
  readBook,
  seededFixture,
  sendAt,
  setPrice,
  sizeOf,
  time,
  type Deployed,
  instant,
} from "./fixture.ts";
import { quoteDeposit, quoteRedeem } from "./model.ts";

const { loadFixture } = networkHelpers;
const BTC = MARKETS.BTC.id;

/** Rebalances if the token says it is due; returns the reason (0: none). */
async function keep(token: LeveragedToken, keeper: HardhatEthersSigner): Promise<bigint> {
  const [needed, reason] = await token.rebalanceNeeded();
  if (needed) await (await token.connect(keeper).rebalance()).wait();
  return needed ? reason : Reason.None;
}

/** One day per step: at 00:00 UTC the price moves by `factors[k]` (float) and the keeper acts. */
async function dailyPath(d: Deployed, token: LeveragedToken, factors: number[]): Promise<bigint[]> {
  const reasons: bigint[] = [];
  let price = Number(await priceOf(d.sys, "BTC"));
  for (const f of factors) {
    await advanceToNextDay(d.sys, 0);
    price *= f;
    await setPrice(d.sys, "BTC", BigInt(Math.round(price)));
    reasons.push(await keep(token, d.keeper));
  }
  return reasons;
}

describe("LeveragedToken: seed behaviour", function () {
  it("steady uptrend: the rebalanced 3x long gains more than 3x the underlying's simple return", async function () {
    const d = await loadFixture(seededFixture);
    const p0 = await priceOf(d.sys, "BTC");
    const nav0 = await d.btc3l.nav();
    const reasons = await dailyPath(d, d.btc3l, Array<number>(30).fill(1.01));
    // every day the +1% takes it about 0.06x off target, past the 0.05x epsilon: the daily rebalance
    expect(reasons.every((r) => r === Reason.Daily)).to.equal(true);
    const p1 = await priceOf(d.sys, "BTC");
    const nav1 = await d.btc3l.nav();
    const underlying = Number(p1 - p0) / Number(p0); // 1.01^30 - 1 = 34.8%
    const token = Number(nav1 - nav0) / Number(nav0); // about 1.03^30 - 1 less costs
    expect(Math.abs(underlying - (1.01 ** 30 - 1))).to.be.lessThan(1e-6);
    expect(token).to.be.greaterThan(3 * underlying);
    expect(token).to.be.lessThan(1.03 ** 30 - 1);
  });

  it("choppy flat market: back at the starting price, the 3x long ends lower (volatility decay)", async function () {
    const d = await loadFixture(seededFixture);
    const p0 = await priceOf(d.sys, "BTC");
    const nav0 = await d.btc3l.nav();
    const chop = Array.from({ length: 20 }, (_, k) => (k % 2 === 0 ? 1.05 : 1 / 1.05));
    await dailyPath(d, d.btc3l, chop);
    expect(await priceOf(d.sys, "BTC")).to.be.closeTo(p0, 2n);
    const nav1 = await d.btc3l.nav();
    // each up-down pair at 3x is 1.15 x (1 - 0.142857) = 0.9857: ten pairs about 0.866
    expect(nav1).to.be.lessThan((nav0 * 90n) / 100n);
    expect(nav1).to.be.greaterThan((nav0 * 84n) / 100n);
  });

  it("-30% over three days with the keeper: never liquidatable, never at the ripcord", async function () {
    const d = await loadFixture(seededFixture);
    const token = await d.btc3l.getAddress();
    const p0 = Number(await priceOf(d.sys, "BTC"));
    const nav0 = await d.btc3l.nav();
    const hours = 72;
    let rebalances = 0;
    for (let h = 1; h <= hours; h++) {
      await time.increase(3600);
      await setPrice(d.sys, "BTC", BigInt(Math.round(p0 * 0.7 ** (h / hours))));
      expect(await d.sys.vault.isLiquidatable(BTC, token)).to.equal(false);
      if ((await keep(d.btc3l, d.keeper)) !== Reason.None) rebalances++;
      expect(await d.sys.vault.isLiquidatable(BTC, token)).to.equal(false);
      expect(await d.btc3l.leverage()).to.be.lessThan(await d.btc3l.ripcordLeverage());
    }
    expect(Math.abs(Number(await priceOf(d.sys, "BTC")) / p0 - 0.7)).to.be.lessThan(1e-6);
    expect(rebalances).to.be.greaterThanOrEqual(3);
    expect(await d.btc3l.state()).to.equal(State.Active);
    // without rebalancing 3x of -30% would have left 10%; rebalancing on the way down keeps about
    // 0.7^3 = 34% (less costs)
    const nav1 = await d.btc3l.nav();
    expect(nav1).to.be.within((nav0 * 28n) / 100n, (nav0 * 36n) / 100n);
  });

  for (const side of ["long", "short"] as const) {
    it(`a one-block 40% gap against a 3x ${side} depletes it cleanly and it settles at zero`, async function () {
      const d = await loadFixture(seededFixture);
      const token = side === "long" ? d.btc3l : d.btc3s;
      const address = await token.getAddress();
      const { alice, bob, anyone, sys } = d;
      await setPrice(sys, "BTC", (MARKETS.BTC.initialPrice * (side === "long" ? 60n : 140n)) / 100n);
      const [, equity, price] = await sys.vault.snapshot(BTC, address);
      expect(equity).to.be.lessThan(0n);
      // before anyone acts, every view answers without a panic
      expect(await token.rebalanceNeeded()).to.deep.equal([true, Reason.Depleted]);
      expect(await token.nav()).to.equal(0n);
      expect(await token.totalAssets()).to.equal(0n);
      expect(await token.leverage()).to.equal(MAX_UINT);
      expect(await token.convertToAssets(WAD)).to.equal(0n);
      expect(await token.maxDeposit(bob.address)).to.equal(0n);
      expect(await token.maxMint(bob.address)).to.equal(0n);
      expect(await token.maxRedeem(alice.address)).to.equal(0n);
      expect(await token.maxWithdraw(alice.address)).to.equal(0n);
      await expect(token.previewMint(WAD)).to.be.revertedWithCustomError(token, "UseTheDesk");
      await expect(token.previewWithdraw(USDT)).to.be.revertedWithCustomError(token, "UseTheDesk");
      for (const preview of [() => token.previewDeposit(USDT), () => token.previewRedeem(WAD)]) {
        await expect(preview()).to.be.revertedWithCustomError(token, "TokenDepleted");
      }
      await expect(instant(token).connect(bob).deposit(USDT, bob.address)).to.be.revertedWithCustomError(
        token,
        "TokenDepleted",
      );
      await expect(
        instant(token).connect(alice).redeem(WAD, alice.address, alice.address),
      ).to.be.revertedWithCustomError(token, "TokenDepleted");

      // anyone may mark it: Depleted, the position closed, the exchange's pool takes the bad debt
      const t = await nextTimestamp();
      const [, eq] = await sys.vault.snapshot(BTC, address, PENDING);
      const tx = await sendAt(t, token.connect(anyone).rebalance());
      await expect(tx).to.emit(token, "Depleted").withArgs(eq, price);
      await expect(tx).to.emit(sys.vault, "BadDebt");
      await expect(tx).to.not.emit(token, "Rebalanced");
      expect(await token.state()).to.equal(State.Depleted);
      expect(await sizeOf(sys, token)).to.equal(0n);
      expect(await token.nav()).to.equal(0n);
      expect(await token.leverage()).to.equal(0n);
      expect(await token.rebalanceNeeded()).to.deep.equal([false, Reason.None]);
      expect(await token.maxRedeem(alice.address)).to.equal(0n);
      expect(await token.maxWithdraw(alice.address)).to.equal(0n);
      expect(await token.maxDeposit(bob.address)).to.equal(0n);
      for (const call of [
        () => instant(token).connect(bob).deposit(USDT, bob.address),
        () => instant(token).connect(alice).redeem(WAD, alice.address, alice.address),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(token, "TokenDepleted");
      }
      await expect(token.connect(d.keeper).rebalance())
        .to.be.revertedWithCustomError(token, "InvalidState")
        .withArgs(State.Depleted);
      await expect(token.connect(d.admin).scheduleDelisting((await time.latest()) + 4 * 86_400))
        .to.be.revertedWithCustomError(token, "InvalidState")
        .withArgs(State.Depleted);
      // the exchange stays solvent
      expect(await sys.usdt.balanceOf(await sys.vault.getAddress())).to.be.greaterThanOrEqual(
        await sys.vault.accountedBalance(),
      );

      // the only way on: settle at zero, holders' shares are burnt for nothing
      const supply = await token.totalSupply();
      await expect(token.connect(anyone).settle()).to.emit(token, "Settled").withArgs(0n, supply);
      expect(await token.state()).to.equal(State.Settled);
      expect(await token.previewRedeem(WAD)).to.equal(0n);
      await expect(token.connect(anyone).settleHolders(await holdersOf(token)))
        .to.emit(token, "HolderSettled")
        .withArgs(alice.address, anyUint, 0n);
      expect(await token.balanceOf(alice.address)).to.equal(0n);
    });
  }

  it("third-party mints and redeems never lower other holders' NAV, with price impact on", async function () {
    const d = await loadFixture(seededFixture);
    const { btc3l, alice, bob, carol, keeper, sys } = d;
    await sys.vault.connect(d.admin).setPriceImpact(BTC, 10n ** 17n); // 10% per 1,000,000 USDT
    const aliceShares = await btc3l.balanceOf(alice.address);
    const steps: [HardhatEthersSigner, "mint" | "redeem", bigint, bigint][] = [
      [bob, "mint", 50_000n * USDT, 300n],
      [carol, "mint", 1_234_567n, -500n],
      [bob, "redeem", 20_000n * WAD, 700n],
      [carol, "mint", 250_000n * USDT, -1_000n],
      [carol, "redeem", 100_000n * WAD, 0n],
      [bob, "redeem", 1n, 200n],
      [bob, "mint", 7n, 100n],
    ];
    for (const [who, action, amount, bps] of steps) {
      await time.increase(3 * 3600);
      await setPrice(sys, "BTC", ((await priceOf(sys, "BTC")) * (10_000n + bps)) / 10_000n);
      await keep(btc3l, keeper);
      const t = await nextTimestamp();
      const b = await readBook(btc3l, sys.vault, t);
      const navBefore = await btc3l.nav(PENDING);
      const aliceBefore = await btc3l.convertToAssets(aliceShares, PENDING);
      if (action === "mint") {
        const q = quoteDeposit(b, amount);
        if (q.shares === 0n) {
          await expect(sendAt(t, instant(btc3l).connect(who).deposit(amount, who.address)))
            .to.be.revertedWithCustomError(btc3l, "DepositTooSmall")
            .withArgs(amount);
          continue;
        }
        await sendAt(t, instant(btc3l).connect(who).deposit(amount, who.address));
      } else {
        const shares =
          amount > (await btc3l.balanceOf(who.address)) ? await btc3l.balanceOf(who.address) : amount;
        expect(quoteRedeem(b, shares).assets).to.equal(await btc3l.previewRedeem(shares, PENDING));
        if (quoteRedeem(b, shares).assets === 0n) {
          // a dust redeem would pay nothing and leave its trading cost to the others: refused
          await expect(sendAt(t, instant(btc3l).connect(who).redeem(shares, who.address, who.address)))
            .to.be.revertedWithCustomError(btc3l, "RedeemTooSmall")
            .withArgs(shares);
          continue;
        }
        await sendAt(t, instant(btc3l).connect(who).redeem(shares, who.address, who.address));
      }
      // at the same second, NAV and alice's holding only ever move up, by rounding
      const navAfter = await btc3l.nav();
      expect(navAfter).to.be.within(navBefore, navBefore + 1n);
      expect(await btc3l.convertToAssets(aliceShares)).to.be.greaterThanOrEqual(aliceBefore);
    }
    expect(await btc3l.balanceOf(bob.address)).to.be.greaterThan(0n);
  });
});
