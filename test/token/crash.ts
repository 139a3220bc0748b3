// Crash-proof (issue 19): a price gap, a liquidator or an exchange admin never strands or robs the
// holders. Each case is an attack that worked before, with its numbers, and what happens now.
import { expect } from "chai";
import { AbiCoder, keccak256, toBeHex, zeroPadValue } from "ethers";
import { USDT } from "../../src/common/params.ts";
import {
  ethers,
  equityOf,
  Reason,
  seededFixture,
  setPrice,
  sizeOf,
  State,
  type Deployed,
  networkHelpers,
  priceOf,
  KEEPER_ROLE,
  DAY,
  time,
  nextTimestamp,
  PENDING,
  instant,
} from "./fixture.ts";

const WAD = 10n ** 18n;
const anyLeverage = () => true;
const coder = AbiCoder.defaultAbiCoder();
const mask = (bits: bigint) => (1n << bits) - 1n;

/** The storage slot of the exchange's `positions[market][account]` (found, not assumed). */
async function positionSlot(d: Deployed, market: string, account: string): Promise<bigint> {
  const vault = await d.sys.vault.getAddress();
  const [size] = await d.sys.vault.positionOf(market, account);
  for (let i = 0n; i < 16n; i++) {
    const inner = keccak256(coder.encode(["bytes32", "uint256"], [market, i]));
    const slot = BigInt(keccak256(coder.encode(["address", "bytes32"], [account, inner])));
    const word = BigInt(await ethers.provider.getStorage(vault, slot));
    if (word !== 0n && BigInt.asIntN(88, word & mask(88n)) === size) return slot;
  }
  throw new Error("the position's slot was not found");
}

/**
 * Empties the token's position as an exchange that closes a whole position would (some venues do):
 * the realized PnL moves between the pool and the margin, the equity stays. Neither our exchange's
 * partial liquidation nor any token call does it, so the state is written directly.
 */
async function closeWholePosition(d: Deployed): Promise<bigint> {
  const vault = await d.sys.vault.getAddress();
  const market = await d.eth3l.market();
  const token = await d.eth3l.getAddress();
  await d.eth3l.connect(d.anyone).accrueManagementFee(); // settles nothing on the exchange
  const equity = await d.sys.vault.equityOf(market, token);
  const [, , margin] = await d.sys.vault.positionOf(market, token);
  const slot = await positionSlot(d, market, token);
  const word = BigInt(await ethers.provider.getStorage(vault, slot));
  const fundingIndex = (word >> 144n) & mask(56n);
  const set = (at: bigint, value: bigint) =>
    ethers.provider.send("hardhat_setStorageAt", [vault, toBeHex(at), zeroPadValue(toBeHex(value), 32)]);
  await set(slot, (fundingIndex << 144n) | (equity << 200n));
  const balances = BigInt(await ethers.provider.getStorage(vault, 1n));
  const pool = balances & mask(64n);
  await set(1n, (balances & ~mask(64n)) | (pool - (equity - margin)));
  expect(await d.sys.vault.poolBalance()).to.equal(pool - (equity - margin)); // slot 1 is the balances
  return equity;
}

/** ETH -32% in one update: 3x ETH3L goes to about 53x (its pool seed included), past maintenance. */
async function gap(d: Deployed): Promise<bigint> {
  const price = ((await priceOf(d.sys, "ETH")) * 68n) / 100n;
  await setPrice(d.sys, "ETH", price);
  return price;
}

describe("Crash-proof: gaps, liquidators and admins", function () {
  it("a -32% gap: the liquidator closes only part for 5 USDT, and holders keep at least 95% of what the ripcord keeps", async function () {
    // the ripcord alone at the gap's price: what an honest exchange leaves holders
    const a = await networkHelpers.loadFixture(seededFixture);
    await gap(a);
    const atGap = await equityOf(a.sys, a.eth3l);
    expect(await a.sys.vault.isLiquidatable(await a.eth3l.market(), await a.eth3l.getAddress())).to.equal(
      true,
    );
    expect(await a.eth3l.leverage()).to.be.greaterThan(50n * WAD);
    await a.eth3l.connect(a.anyone).rebalance(); // the ripcord, for its bounty
    const ripcordKeeps = await equityOf(a.sys, a.eth3l);

    // the same gap, a third party liquidates first (before: the whole position, 1% of the notional
    // to the liquidator: 4,228.19 USDT of equity became 1,867.38, and the token sat Active with no
    // position and no rebalance due for ever)
    const b = await networkHelpers.loadFixture(seededFixture);
    await gap(b);
    const market = await b.eth3l.market();
    const token = await b.eth3l.getAddress();
    const size = await sizeOf(b.sys, b.eth3l);
    await nextTimestamp(); // the view reads the block the liquidation lands in (funding accrues)
    const closed = await b.sys.vault.liquidationSize(market, token, PENDING);
    expect(closed).to.be.greaterThan(0n);
    expect(closed).to.be.lessThan(size); // a part only
    await expect(b.sys.vault.connect(b.attacker).liquidate(market, token))
      .to.emit(b.sys.vault, "Liquidated")
      .withArgs(market, token, b.attacker.address, closed, await priceOf(b.sys, "ETH"), 5n * USDT);
    expect(await sizeOf(b.sys, b.eth3l)).to.equal(size - closed);
    // back at the exchange's 10x: not liquidatable, past the ripcord, so the token trades back to 3x
    const lev = await b.eth3l.leverage();
    expect(lev).to.be.within((99n * WAD) / 10n, (101n * WAD) / 10n);
    expect(await b.eth3l.rebalanceNeeded()).to.deep.equal([true, Reason.Ripcord]);
    await b.eth3l.connect(b.anyone).rebalance();
    const liquidatedKeeps = await equityOf(b.sys, b.eth3l);
    expect(await b.eth3l.rebalanceNeeded()).to.deep.equal([false, Reason.None]);
    expect(liquidatedKeeps * 100n).to.be.gte(ripcordKeeps * 95n);
    console.log(
      `      -32% gap on ETH3L: equity at the gap ${atGap}, after the ripcord ${ripcordKeeps}, ` +
        `after a liquidation and the ripcord ${liquidatedKeeps} (${Number((liquidatedKeeps * 10_000n) / ripcordKeeps) / 100}%)`,
    );
  });

  it("a token with holders and equity but no position reopens: a rebalance is due (reason 5), anyone may run it, a mint runs it first", async function () {
    const d = await networkHelpers.loadFixture(seededFixture);
    const price = ((await priceOf(d.sys, "ETH")) * 80n) / 100n; // -20%: 3x -> 7.5x
    await setPrice(d.sys, "ETH", price);
    const equity = await closeWholePosition(d);
    expect(await sizeOf(d.sys, d.eth3l)).to.equal(0n);
    expect(await equityOf(d.sys, d.eth3l)).to.equal(equity);
    expect(equity).to.be.greaterThan(0n);
    expect(await d.eth3l.state()).to.equal(State.Active);
    // before: (false, 0) for ever, and a mint bought a token without exposure
    expect(await d.eth3l.rebalanceNeeded()).to.deep.equal([true, Reason.Reopen]);
    const [upkeep] = await d.eth3l.checkUpkeep("0x");
    expect(upkeep).to.equal(true);
    expect(await d.eth3l.hasRole(KEEPER_ROLE, d.anyone.address)).to.equal(false);

    // a mint first trades back to target (no bounty), then mints at the NAV it left
    const snap = await networkHelpers.takeSnapshot();
    await expect(
      instant(d.eth3l)
        .connect(d.bob)
        .deposit(1_000n * USDT, d.bob.address),
    )
      .to.emit(d.eth3l, "Rebalanced")
      .withArgs(
        await d.eth3l.desk(),
        Reason.Reopen,
        0,
        (lev: bigint) => lev > (29n * WAD) / 10n,
        (x: bigint) => x > 0n,
        price,
        (c: bigint) => c > 0n,
        0,
        0,
      );
    expect(await d.eth3l.leverage()).to.be.within((29n * WAD) / 10n, (31n * WAD) / 10n);
    await snap.restore();

    // or anyone reopens it for the bounty (at most 1% of the equity)
    const before = await d.sys.usdt.balanceOf(d.anyone.address);
    await expect(d.eth3l.connect(d.anyone).rebalance())
      .to.emit(d.eth3l, "Rebalanced")
      .withArgs(
        d.anyone.address,
        Reason.Reopen,
        0,
        (lev: bigint) => lev > (29n * WAD) / 10n,
        (x: bigint) => x > 0n,
        price,
        (c: bigint) => c > 0n,
        (b: bigint) => b > 0n,
        (m: bigint) => m >= 0n,
      );
    expect(await d.sys.usdt.balanceOf(d.anyone.address)).to.be.greaterThan(before);
    expect(await sizeOf(d.sys, d.eth3l)).to.be.greaterThan(0n); // long again
    expect(await d.eth3l.leverage()).to.be.within((29n * WAD) / 10n, (31n * WAD) / 10n);
    expect(await d.eth3l.rebalanceNeeded()).to.deep.equal([false, Reason.None]);
  });

  it("the exchange can liquidate a token only past the gap the README states: -31.3% for a 3x long, +29.4% for a short", async function () {
    // closed form at leverage L and maintenance ratio m: long r* = (mL - 1) / (L (1 - m)), short
    // r* = (1 - mL) / (L (1 + m)); each token's own leverage (a little above 3 after its trading cost)
    const bound = (lev: number, long: boolean) =>
      long ? (0.03 * lev - 1) / (lev * (1 - 0.03)) : (1 - 0.03 * lev) / (lev * (1 + 0.03));
    for (const long of [true, false]) {
      const d = await networkHelpers.loadFixture(seededFixture);
      const token = long ? d.eth3l : d.eth3s;
      const lev = Number(await token.leverage()) / 1e18;
      const r = bound(lev, long);
      expect(Math.abs(r - (long ? -0.3127 : 0.2945))).to.be.lessThan(0.002);
      const start = await priceOf(d.sys, "ETH");
      const market = await token.market();
      const at = (x: number) => (start * BigInt(Math.round((1 + x) * 1e6))) / 1_000_000n;
      const snap = await networkHelpers.takeSnapshot();
      await setPrice(d.sys, "ETH", at(r * 0.999)); // just short of the bound
      expect(await d.sys.vault.isLiquidatable(market, await token.getAddress()), `${long} inside`).to.equal(
        false,
      );
      await snap.restore();
      await setPrice(d.sys, "ETH", at(r * 1.001)); // just past it
      expect(await d.sys.vault.isLiquidatable(market, await token.getAddress()), `${long} past`).to.equal(
        true,
      );
    }
  });

  it("views never revert on a stale price: they read the last price, and max* say closed", async function () {
    const d = await networkHelpers.loadFixture(seededFixture);
    const t = d.eth3l;
    const [nav, assets, lev] = [await t.nav(), await t.totalAssets(), await t.leverage()];
    // an hour and a minute without a price update (before: every one of these reverted StalePrice)
    await networkHelpers.time.increase(3660);
    await expect(d.sys.vault.markPrice(await t.market())).to.be.revertedWithCustomError(
      d.sys.vault,
      "StalePrice",
    );
    const [, , , fresh] = await d.sys.vault.lastSnapshot(await t.market(), await t.getAddress());
    expect(fresh).to.equal(false);
    // at the last price: only funding and the management fee moved them since
    expect(await t.nav()).to.be.within((nav * 999n) / 1000n, nav);
    expect(await t.totalAssets()).to.be.within((assets * 999n) / 1000n, assets);
    expect(await t.leverage()).to.be.within(lev, (lev * 1001n) / 1000n);
    expect(await t.convertToAssets(10n ** 18n)).to.be.greaterThan(0n);
    expect(await t.convertToShares(USDT)).to.be.greaterThan(0n);
    // closed while the price is stale: a mint or a redeem would revert
    expect(await t.maxDeposit(d.bob.address)).to.equal(0n);
    expect(await t.maxMint(d.bob.address)).to.equal(0n);
    expect(await t.maxRedeem(d.alice.address)).to.equal(0n);
    expect(await t.maxWithdraw(d.alice.address)).to.equal(0n);
    await expect(
      instant(t).connect(d.alice).redeem(1n, d.alice.address, d.alice.address),
    ).to.be.revertedWithCustomError(d.sys.vault, "StalePrice");
    // a fresh price opens them again
    await setPrice(d.sys, "ETH", await priceOf(d.sys, "ETH"));
    expect(await t.maxRedeem(d.alice.address)).to.equal(await t.balanceOf(d.alice.address));
    expect(await t.maxDeposit(d.bob.address)).to.be.greaterThan(0n);
  });

  it("maxDeposit is what the exchange's packed fields can take: that deposit fits, twice it reverts", async function () {
    const d = await networkHelpers.loadFixture(seededFixture);
    const t = d.eth3l;
    // before: unlimited, yet 100 billion USDT reverted SafeCastOverflowedUintDowncast(56); now the
    // limit is the side's open interest (9.2 trillion USDT of open cost, about 3 trillion at 3x)
    await d.sys.usdt.connect(d.admin).mint(d.bob.address, 6_200_000_000_000n * USDT);
    const most = await t.maxDeposit(d.bob.address);
    expect(most).to.be.within(3_000_000_000_000n * USDT, 3_200_000_000_000n * USDT);
    await expect(
      instant(t)
        .connect(d.bob)
        .deposit(2n * most, d.bob.address),
    ).to.be.revertedWithCustomError(d.sys.vault, "SafeCastOverflowedIntDowncast");
    await expect(instant(t).connect(d.bob).deposit(most, d.bob.address)).to.emit(t, "Deposit");
    // full: only what the read-to-send slack keeps back is left
    expect(await t.maxDeposit(d.bob.address)).to.be.lessThan(most / 1_000n); // the 0.01% kept back
  });

  it("a token pays margin only inside its own mint, only to the exchange", async function () {
    const d = await networkHelpers.loadFixture(seededFixture);
    await expect(d.eth3l.connect(d.attacker).payMargin(1n))
      .to.be.revertedWithCustomError(d.eth3l, "UnexpectedMarginCall")
      .withArgs(d.attacker.address);
    // the exchange itself, outside a mint: nobody's USDT to move
    const vault = await d.sys.vault.getAddress();
    await networkHelpers.impersonateAccount(vault);
    await networkHelpers.setBalance(vault, 10n ** 18n);
    const asVault = await ethers.getSigner(vault);
    await expect(d.eth3l.connect(asVault).payMargin(1n))
      .to.be.revertedWithCustomError(d.eth3l, "UnexpectedMarginCall")
      .withArgs(vault);
    // a mint pays exactly its deposit, from the desk (which took it from the minter), inside the trade
    await expect(
      instant(d.eth3l)
        .connect(d.bob)
        .deposit(1_000n * USDT, d.bob.address),
    )
      .to.emit(d.sys.usdt, "Transfer")
      .withArgs(await d.eth3l.desk(), vault, 1_000n * USDT);
  });

  it("a ripcord whose trade costs leave the token past 10x pays no bounty instead of reverting", async function () {
    // found by the Solidity invariant campaign: the bounty is margin paid out, which the exchange
    // allows only above its initial margin, so a costly trade back to target made the ripcord revert
    const d = await networkHelpers.loadFixture(seededFixture);
    await instant(d.eth3l)
      .connect(d.bob)
      .deposit(1_000_000n * USDT, d.bob.address);
    const market = await d.eth3l.market();
    await d.sys.vault.connect(d.admin).setPriceImpact(market, 2n * 10n ** 17n); // 20% per 1M of notional
    await setPrice(d.sys, "ETH", ((await priceOf(d.sys, "ETH")) * 80n) / 100n); // 3x -> 6x: the ripcord
    expect(await d.eth3l.rebalanceNeeded()).to.deep.equal([true, Reason.Ripcord]);
    const before = await d.sys.usdt.balanceOf(d.anyone.address);
    await expect(d.eth3l.connect(d.anyone).rebalance())
      .to.emit(d.eth3l, "Rebalanced")
      .withArgs(
        d.anyone.address,
        Reason.Ripcord,
        anyLeverage,
        (lev: bigint) => lev >= 10n * WAD,
        anyLeverage,
        anyLeverage,
        anyLeverage,
        0,
        anyLeverage,
      );
    expect(await d.sys.usdt.balanceOf(d.anyone.address)).to.equal(before);
  });

  it("the exchange admin cannot freeze redeems with a stricter initial margin", async function () {
    const d = await networkHelpers.loadFixture(seededFixture);
    // before: setMarginRatios(0.5e18, ...) made every redeem of a 3x token revert BelowInitialMargin
    await expect(d.sys.vault.connect(d.admin).setMarginRatios(5n * 10n ** 17n, 3n * 10n ** 16n))
      .to.be.revertedWithCustomError(d.sys.vault, "InvalidParameter")
      .withArgs("initialMarginRatio", 5n * 10n ** 17n);
    // the strictest it may set (10%, 10x) leaves a redeem at the top of the band (and past it) open
    await d.sys.vault.connect(d.admin).setMarginRatios(10n ** 17n, 3n * 10n ** 16n);
    await setPrice(d.sys, "ETH", ((await priceOf(d.sys, "ETH")) * 90n) / 100n); // 3x -> about 3.9x
    const shares = await d.eth3l.balanceOf(d.alice.address);
    await expect(
      instant(d.eth3l)
        .connect(d.alice)
        .redeem(shares / 2n, d.alice.address, d.alice.address),
    ).to.emit(d.eth3l, "Withdraw");
  });

  it("an LP leaving cannot block a holder's exit: the cash winners are owed stays in the pool", async function () {
    const d = await networkHelpers.loadFixture(seededFixture);
    const vault = d.sys.vault;
    await instant(d.btc3l)
      .connect(d.bob)
      .deposit(5_000_000n * USDT, d.bob.address);
    await setPrice(d.sys, "BTC", ((await priceOf(d.sys, "BTC")) * 110n) / 100n); // BTC +10%: BTC3L is owed ~1.5M
    // before: the LP removed everything, and bob's redeem reverted InsufficientLiquidity(149,025.86 USDT
    // requested, 0 available) (the measure, on a smaller holder); a reducing rebalance and settle()
    // took the same path
    const lp = d.admin;
    const all = await vault.liquiditySharesOf(lp.address);
    await expect(vault.connect(lp).removeLiquidity(all, lp.address)).to.be.revertedWithCustomError(
      vault,
      "LiquidityReserved",
    );
    // the most it may take: its part of the pool's value, out of the cash not reserved
    const l = await vault.liquidity();
    const supply = await vault.totalLiquidityShares();
    const most = ((l.cash - l.reserved) * supply) / l.value;
    await expect(vault.connect(lp).removeLiquidity(most, lp.address)).to.emit(vault, "LiquidityRemoved");
    const left = await vault.liquidity();
    expect(left.cash).to.be.greaterThanOrEqual(left.reserved);
    expect(left.reserved).to.be.greaterThan(1_400_000n * USDT); // BTC3L's profit, held back
    // every exit stays open: bob redeems all, then a delisting settles the rest (alice's seed)
    const shares = await d.btc3l.balanceOf(d.bob.address);
    const before = await d.sys.usdt.balanceOf(d.bob.address);
    await expect(instant(d.btc3l).connect(d.bob).redeem(shares, d.bob.address, d.bob.address)).to.emit(
      d.btc3l,
      "Withdraw",
    );
    expect((await d.sys.usdt.balanceOf(d.bob.address)) - before).to.be.greaterThan(6_400_000n * USDT);
    const delistingTime = (await time.latest()) + 3 * DAY + 1;
    await d.btc3l.connect(d.admin).scheduleDelisting(delistingTime);
    await time.increaseTo(delistingTime);
    await setPrice(d.sys, "BTC", await priceOf(d.sys, "BTC")); // a fresh answer at the same price
    await expect(d.btc3l.connect(d.anyone).settle()).to.emit(d.btc3l, "Settled");
  });

  it("a late LP cannot take a loss that happened before it joined", async function () {
    const d = await networkHelpers.loadFixture(seededFixture);
    const vault = d.sys.vault;
    await instant(d.btc3l)
      .connect(d.bob)
      .deposit(9_900_000n * USDT, d.bob.address);
    await setPrice(d.sys, "BTC", ((await priceOf(d.sys, "BTC")) * 90n) / 100n); // BTC3L loses ~3M, unrealized
    const late = 100_000_000n * USDT;
    await d.sys.usdt.connect(d.admin).mint(d.carol.address, late);
    await d.sys.usdt.connect(d.carol).approve(await vault.getAddress(), late);
    await vault.connect(d.carol).addLiquidity(late);
    const shares = await vault.liquiditySharesOf(d.carol.address);
    const supply = await vault.totalLiquidityShares();
    const share = (x: bigint) => (x * shares) / supply;
    // bob leaves: the token's loss comes into the pool, with the trading cost of closing
    const redeem = await (
      await instant(d.btc3l)
        .connect(d.bob)
        .redeem(await d.btc3l.balanceOf(d.bob.address), d.bob.address, d.bob.address)
    ).wait();
    let costs = 0n;
    for (const log of redeem!.logs) {
      const parsed = vault.interface.parseLog(log);
      // the trading cost and the funding the token settled go to the pool, so partly to the late LP
      if (parsed?.name === "Traded")
        costs += (parsed.args.cost as bigint) + (parsed.args.fundingPaid as bigint);
    }
    const before = await d.sys.usdt.balanceOf(d.carol.address);
    await vault.connect(d.carol).removeLiquidity(shares, d.carol.address);
    const out = (await d.sys.usdt.balanceOf(d.carol.address)) - before;
    // before: it took out 101,505,130.74 USDT, a 1.5M share of a loss that happened before it joined; now
    // 100,006,587.42: what it paid in plus its part of the trading cost and funding paid since, to a unit
    expect(out).to.be.greaterThanOrEqual(late - 2n);
    expect(out).to.be.lessThanOrEqual(late + share(costs) + 2n);
  });

  it("after the LP left, a later move can owe a winner more than the pool's cash: anyone settles the loser's loss into the pool, and the winner gets out", async function () {
    const d = await networkHelpers.loadFixture(seededFixture);
    const vault = d.sys.vault;
    await instant(d.btc3l)
      .connect(d.bob)
      .deposit(5_000_000n * USDT, d.bob.address);
    await instant(d.btc3s)
      .connect(d.carol)
      .deposit(5_000_000n * USDT, d.carol.address);
    await setPrice(d.sys, "BTC", ((await priceOf(d.sys, "BTC")) * 104n) / 100n);
    const l = await vault.liquidity();
    const most = ((l.cash - l.reserved) * (await vault.totalLiquidityShares())) / l.value;
    await vault.connect(d.admin).removeLiquidity(most, d.admin.address); // the LP leaves all it may
    await setPrice(d.sys, "BTC", ((await priceOf(d.sys, "BTC")) * 104n) / 100n); // the long is owed more
    const shares = await d.btc3l.balanceOf(d.bob.address);
    const redeem = () => instant(d.btc3l).connect(d.bob).redeem(shares, d.bob.address, d.bob.address);
    await expect(redeem()).to.be.revertedWithCustomError(vault, "InsufficientLiquidity");
    // the short's loss is in its own margin: anyone moves it into the pool, the short's equity unchanged
    const market = await d.btc3s.market();
    const short = await d.btc3s.getAddress();
    await nextTimestamp(); // the views below read the block settlePnl lands in
    const [equity, nav] = [await vault.equityOf(market, short, PENDING), await d.btc3s.nav(PENDING)];
    await expect(vault.connect(d.anyone).settlePnl(market, short)).to.emit(vault, "PnlSettled");
    expect(await vault.equityOf(market, short)).to.equal(equity);
    expect(await d.btc3s.nav()).to.equal(nav);
    await expect(redeem()).to.emit(d.btc3l, "Withdraw");
  });
});
