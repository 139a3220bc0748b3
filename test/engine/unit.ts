// The exact twin on its own, against numbers worked out by hand (no chain involved): the math's
// rounding, the exchange's PnL, fees and funding, the token's first mint, atomic reverts, and the
// typed API (quotes equal execution; rebalance triggers sit exactly where the contract flips).
import { expect } from "chai";
import { MARKETS, tokenParams } from "../../src/common/params.ts";
import { EngineRevert } from "../../src/engine/errors.ts";
import {
  costUp,
  fundingIndexDelta,
  fundingOwedUp,
  managementFeeSharesDown,
  mulDivDownSigned,
  mulDivUpSigned,
  targetSizeDown,
  tradeRoundingDown,
  valueDown,
  WAD,
} from "../../src/engine/math.ts";
import {
  nextRebalanceTriggers,
  quoteMint,
  quoteRedeem,
  MINIMUM_SHARES,
  REASON_BAND,
  REASON_NONE,
  REASON_DAILY,
} from "../../src/engine/index.ts";
import { localSystem, syntheticAddress, type EngineSystem } from "../../src/engine/system.ts";
import { InstantDesk } from "../../src/engine/instantDesk.ts";
import { World } from "../../src/engine/world.ts";
import type { LeveragedToken as EngineToken } from "../../src/engine/token.ts";
import { RebalanceScreen } from "../../src/engine/screen.ts";
import { replayPrices } from "../../src/engine/replay.ts";
import { gbmPrices, toPrice8 } from "../../src/feeds/paths.ts";

const USDT = 10n ** 6n;
const PRICE = 10n ** 8n;
const ONE = 10n ** 18n;
const T0 = 1_800_000_000n;
const alice = syntheticAddress(0xa1);
const bob = syntheticAddress(0xb0);
const admin = syntheticAddress(1);
const BTC = MARKETS.BTC.id;

function system(fundingRate = 0n): EngineSystem {
  const e = localSystem({
    markets: [{ ...MARKETS.BTC, fundingRate }],
    tokens: [tokenParams("BTC", 3n, true), tokenParams("BTC", 3n, false)],
    time: T0,
    poolLiquidity: 1_000_000n * USDT,
  });
  for (const a of [alice, bob]) {
    e.world.usdt.mint(a, 10_000_000n * USDT);
    e.world.usdt.approve(a, e.vault.address, 2n ** 255n);
    for (const t of e.tokens.values()) {
      e.world.usdt.approve(a, t.desk, 2n ** 255n);
      t.shares.approve(a, t.desk, 2n ** 255n);
    }
  }
  for (const t of e.tokens.values()) desks.set(t, new InstantDesk(e.world, t));
  e.world.log.events.length = 0;
  return e;
}

const desks = new Map<EngineToken, InstantDesk>();

/** The token's InstantDesk twin: only a token's desk deposits and redeems before settlement. */
function desk(t: EngineToken): InstantDesk {
  const d = desks.get(t);
  if (d === undefined) throw new Error("no InstantDesk for this token");
  return d;
}

function reverts(f: () => unknown, name: string): void {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(EngineRevert);
    expect((e as EngineRevert).errorName).to.equal(name);
    return;
  }
  expect.fail(`expected a revert with ${name}`);
}

describe("Engine math (twins of PerpMath and TokenMath)", function () {
  it("rounds signed values toward minus and plus infinity", function () {
    expect(mulDivDownSigned(-7n, 1n, 2n)).to.equal(-4n);
    expect(mulDivUpSigned(-7n, 1n, 2n)).to.equal(-3n);
    expect(mulDivDownSigned(7n, 1n, 2n)).to.equal(3n);
    expect(mulDivUpSigned(7n, 1n, 2n)).to.equal(4n);
    expect(valueDown(-1n, 1n)).to.equal(-1n); // -1e-20 USDT rounds down to -1
    expect(costUp(1n, 1n)).to.equal(1n);
  });

  it("truncates the funding index toward zero and rounds funding against the trader", function () {
    expect(fundingIndexDelta(1n, -1n, 1n)).to.equal(0n); // -1 / 2.88e20 truncates to 0, not -1
    // 0.01% of 100,000 USDT over 8 h: 10 USDT per whole unit, kept to 1e-4 of a USDT unit
    expect(fundingIndexDelta(100_000n * PRICE, 10n ** 14n, 28_800n)).to.equal(10n ** 11n);
    expect(fundingOwedUp(1n, 1n)).to.equal(1n); // pays: rounded up
    expect(fundingOwedUp(-1n, 1n)).to.equal(0n); // receives: rounded down in magnitude
    expect(fundingOwedUp(ONE, 10n ** 11n)).to.equal(10n * USDT);
  });

  it("caps the management fee fraction at one half and sizes positions down", function () {
    const year = 365n * 86400n;
    expect(managementFeeSharesDown(1000n, WAD, year)).to.equal(1000n); // f capped at 1/2: x f/(1-f) = x
    expect(managementFeeSharesDown(10n ** 18n, 10n ** 16n, year)).to.equal(
      10n ** 34n / (10n ** 18n - 10n ** 16n),
    );
    expect(targetSizeDown(1000n * USDT, 3n * WAD, 100_000n * PRICE)).to.equal(3n * 10n ** 16n);
    // reducing a long by half at a price that does not divide evenly loses nothing beyond the rounding
    expect(tradeRoundingDown(3n, -1n, 1n)).to.equal(
      valueDown(1n, 1n) + valueDown(2n, 1n) - valueDown(3n, 1n),
    );
  });
});

describe("Engine exchange (twin of MockPerpVault)", function () {
  it("books a long worked out by hand: 1 BTC at 100,000, up 10%, close half, close, withdraw", function () {
    const e = system();
    const tx = (t: bigint) => ({ from: alice, time: T0 + t });
    e.vault.deposit(tx(1n), BTC, alice, 20_000n * USDT);
    const r = e.vault.trade(tx(2n), BTC, ONE, 0n, alice);
    expect(r.cost).to.equal(50n * USDT);
    expect(e.vault.positionOf(BTC, alice)).to.deep.equal({
      size: ONE,
      openCost: 100_000n * USDT,
      fundingIndex: 0n,
      margin: 19_950n * USDT,
    });
    e.feed("BTC").updateAnswer(tx(3n), 110_000n * PRICE);
    expect(e.vault.snapshot(BTC, alice, T0 + 3n).equity).to.equal(29_950n * USDT);
    const half = e.vault.trade(tx(4n), BTC, -ONE / 2n, 0n, alice);
    expect(half.realizedPnl).to.equal(5_000n * USDT);
    expect(half.cost).to.equal(27_500_000n);
    e.vault.trade(tx(5n), BTC, -ONE / 2n, 0n, alice);
    const before = e.usdtBalance(alice);
    e.vault.withdraw(tx(6n), BTC, 29_895n * USDT, alice);
    expect(e.usdtBalance(alice) - before).to.equal(29_895n * USDT);
    expect(e.vault.positionOf(BTC, alice).margin).to.equal(0n);
  });

  it("pays funding by hand: 0.01% per 8 h on 1 BTC is 10 USDT", function () {
    const e = system(10n ** 14n);
    e.vault.deposit({ from: alice, time: T0 }, BTC, alice, 20_000n * USDT);
    e.vault.trade({ from: alice, time: T0 }, BTC, ONE, 0n, alice);
    e.feed("BTC").updateAnswer({ from: admin, time: T0 + 28_800n }, 100_000n * PRICE);
    expect(e.vault.fundingOwed(BTC, alice, T0 + 28_800n)).to.equal(10n * USDT);
  });

  it("reverts with the contract's errors and leaves no trace of a reverted call", function () {
    const e = system();
    e.vault.deposit({ from: alice, time: T0 + 1n }, BTC, alice, 10_000n * USDT);
    const pool = e.vault.poolBalance();
    reverts(
      () => e.world.atomic(() => e.vault.trade({ from: alice, time: T0 + 2n }, BTC, ONE, 0n, alice)),
      "BelowInitialMargin",
    );
    expect(e.vault.poolBalance()).to.equal(pool);
    expect(e.vault.positionOf(BTC, alice).size).to.equal(0n);
    reverts(() => e.vault.markPrice(BTC, T0 + 3601n), "StalePrice");
    reverts(
      () => e.vault.withdraw({ from: alice, time: T0 + 3n }, BTC, 10_001n * USDT, alice),
      "InsufficientMargin",
    );
  });
});

describe("Engine world (atomic transactions)", function () {
  it("rolls a frozen log back with the state, and refuses a second write or a write into an entry", function () {
    const world = new World(syntheticAddress(1));
    const log = world.frozenLog<bigint, { filledBy: bigint }>();
    log.add(1n, { filledBy: 1n });
    expect(() =>
      world.atomic(() => {
        log.add(2n, { filledBy: 2n });
        world.atomic(() => log.add(3n, { filledBy: 3n })); // a nested call that succeeded
        throw new EngineRevert("Rollback");
      }),
    ).to.throw(EngineRevert);
    expect([log.size, log.get(1n)?.filledBy, log.get(2n), log.get(3n)]).to.deep.equal([
      1,
      1n,
      undefined,
      undefined,
    ]);
    log.add(2n, { filledBy: 2n }); // written again after the rollback: no "written twice"
    expect(() => log.add(2n, { filledBy: 9n })).to.throw(/written twice/);
    const entry = log.get(1n) as { filledBy: bigint };
    expect(() => {
      entry.filledBy = 5n;
    }).to.throw(TypeError);
  });
});

describe("Engine token (twin of LeveragedToken)", function () {
  it("opens at 3x and 1 USDT a share on the first mint, fee in shares to the treasury", function () {
    const e = system();
    const t = e.token("BTC3L");
    const shares = desk(t).deposit({ from: alice, time: T0 + 1n }, 1000n * USDT, alice);
    // 0.03 BTC at 100,000 = 3,000 USDT notional, fee 1.5 USDT: 998.5 USDT of equity
    expect(e.vault.positionOf(BTC, t.address).size).to.equal(3n * 10n ** 16n);
    const total = 998_500_000n * 10n ** 12n - MINIMUM_SHARES;
    const fee = (total * 5n * 10n ** 14n + WAD - 1n) / WAD;
    expect(shares).to.equal(total - fee);
    // the fee pends in the status slot: in the treasury's balance and the supply, not yet minted
    expect(t.balanceOf(syntheticAddress(2))).to.equal(fee);
    expect(t.st.status.pendingFeeShares).to.equal(fee);
    expect(t.shares.balanceOf(syntheticAddress(2))).to.equal(0n);
    expect(t.totalSupply()).to.equal(total + MINIMUM_SHARES);
    expect(t.leverage(T0 + 1n)).to.equal((3000n * USDT * WAD) / 998_500_000n);
    const events = e.world.log.events.filter((ev) => ev.address === t.address).map((ev) => ev.name);
    // DEAD's locked shares, the receiver's shares; no Transfer to the treasury
    expect(events).to.deep.equal(["Transfer", "Transfer", "Deposit", "PositionResized"]);
    // claiming mints exactly the pending shares to the treasury
    t.accrueManagementFee({ from: bob, time: T0 + 1n });
    expect(t.shares.balanceOf(syntheticAddress(2))).to.equal(fee);
    expect(t.st.status.pendingFeeShares).to.equal(0n);
  });

  it("mints fee shares past 80 bits to the treasury at once; refuses a fee finer than a pip", function () {
    const e = system();
    const t = e.token("BTC3L");
    const fees = { ...t.fees(), mintFee: ONE / 100n };
    t.setFees({ from: admin, time: T0 + 1n }, fees);
    reverts(
      () => t.setFees({ from: admin, time: T0 + 1n }, { ...fees, redeemFee: 10n ** 12n + 1n }),
      "InvalidParameter",
    );
    desk(t).deposit({ from: alice, time: T0 + 2n }, 1000n * USDT, alice);
    const pending = t.st.status.pendingFeeShares;
    expect(pending).to.be.greaterThan(0n);
    // a 1% fee on a 200-million-USDT mint is more than 80 bits hold
    e.world.usdt.mint(bob, 200_000_000n * USDT);
    const supply = t.totalSupply();
    const shares = desk(t).deposit({ from: bob, time: T0 + 2n }, 200_000_000n * USDT, bob);
    const fee = t.totalSupply() - supply - shares;
    expect(fee).to.be.greaterThan(2n ** 80n);
    expect(t.st.status.pendingFeeShares).to.equal(0n);
    expect(t.shares.balanceOf(syntheticAddress(2))).to.equal(pending + fee);
  });

  it("quotes exactly what deposit, redeem and withdraw then do", function () {
    const e = system();
    const t = e.token("BTC3S");
    desk(t).deposit({ from: alice, time: T0 + 1n }, 5000n * USDT, alice);
    e.feed("BTC").updateAnswer({ from: admin, time: T0 + 100n }, 97_000n * PRICE);
    const q = quoteMint(e.token("BTC3S"), 777n * USDT, T0 + 200n);
    expect(desk(t).deposit({ from: bob, time: T0 + 200n }, 777n * USDT, bob)).to.equal(q.shares);
    const r = quoteRedeem(t, 10n ** 20n, T0 + 300n);
    const before = e.usdtBalance(bob);
    expect(desk(t).redeem({ from: bob, time: T0 + 300n }, 10n ** 20n, bob, bob)).to.equal(r.assets);
    expect(e.usdtBalance(bob) - before).to.equal(r.assets);
    // withdraw by USDT is not priced live: UseTheDesk, as the contract
    reverts(() => t.withdraw({ from: bob, time: T0 + 400n }, 100n * USDT, bob, bob), "UseTheDesk");
  });

  it("predicts the exact prices where a 3x long rebalances: about -11.1% and +33.3%", function () {
    const e = system();
    const t = e.token("BTC3L");
    desk(t).deposit({ from: alice, time: T0 + 1n }, 10_000n * USDT, alice);
    const time = T0 + 2n;
    const trig = nextRebalanceTriggers(t, e.vault, time);
    const start = 100_000n * PRICE;
    // (Hardhat's chai plugin redefines closeTo for integers, so the tolerance is checked by hand)
    expect(Math.abs(Number(trig.below!) / Number(start) - (1 - 1 / 9))).to.be.lessThan(0.002);
    expect(Math.abs(Number(trig.above!) / Number(start) - 4 / 3)).to.be.lessThan(0.002);
    const reasonAt = (p: bigint) => {
      e.feed("BTC").updateAnswer({ from: admin, time }, p);
      return t.rebalanceNeeded(time).reason;
    };
    expect(reasonAt(trig.below!)).to.equal(REASON_BAND);
    // one unit inside, only the time-based daily rebalance may be due (never rebalanced yet)
    expect([REASON_NONE, REASON_DAILY]).to.include(reasonAt(trig.below! + 1n));
    expect(reasonAt(trig.above!)).to.equal(REASON_BAND);
    expect([REASON_NONE, REASON_DAILY]).to.include(reasonAt(trig.above! - 1n));
    expect(trig.ripcordBelow! < trig.below!).to.equal(true);
  });

  it("settles at the delisting time and pays every holder the frozen NAV", function () {
    const e = system();
    const t = e.token("BTC3L");
    desk(t).deposit({ from: alice, time: T0 + 1n }, 1000n * USDT, alice);
    desk(t).deposit({ from: bob, time: T0 + 2n }, 3000n * USDT, bob);
    t.scheduleDelisting({ from: admin, time: T0 + 3n }, T0 + 3n + 3n * 86400n);
    reverts(() => desk(t).deposit({ from: bob, time: T0 + 4n }, 1n * USDT, bob), "InvalidState");
    reverts(() => t.settle({ from: bob, time: T0 + 5n }), "DelistingNotReached");
    const at = T0 + 3n + 3n * 86400n;
    e.feed("BTC").updateAnswer({ from: admin, time: at }, 100_000n * PRICE);
    t.settle({ from: bob, time: at });
    const nav = t.nav(at);
    const aliceShares = t.balanceOf(alice);
    const before = e.usdtBalance(alice);
    t.settleHolders({ from: bob, time: at + 1n }, [alice, bob]);
    expect(e.usdtBalance(alice) - before).to.equal((aliceShares * t.st.settledAssets) / t.st.settledSupply);
    expect(t.balanceOf(alice)).to.equal(0n);
    expect(nav).to.be.greaterThan(990_000n);
  });
});

describe("Engine rebalance screen and replay", function () {
  it("answers exactly what rebalanceNeeded() answers on every step of a wild path", function () {
    const e = system(10n ** 15n); // 0.1% per 8 h of funding: the index moves every second
    const long = e.token("BTC3L");
    const short = e.token("BTC3S");
    desk(long).deposit({ from: alice, time: T0 }, 50_000n * USDT, alice);
    desk(short).deposit({ from: bob, time: T0 }, 20_000n * USDT, bob);
    const screens = [new RebalanceScreen(long, e.vault), new RebalanceScreen(short, e.vault)];
    const path = gbmPrices({
      seed: 3,
      start: 100_000,
      steps: 20_000,
      stepSeconds: 600,
      drift: 0,
      volatility: 1.5,
    });
    let time = T0;
    let agreed = 0;
    for (let k = 1; k < path.length; k++) {
      time += 600n;
      // a gap now and then, past the ripcord in either direction
      const jump = k % 2_500 === 0 ? (k % 5_000 === 0 ? 0.8 : 1.15) : 1;
      e.feed("BTC").updateAnswer({ from: admin, time }, toPrice8(path[k]! * jump));
      [long, short].forEach((t, i) => {
        const exact = t.rebalanceNeeded(time).reason;
        expect(screens[i]!.reason(time)).to.equal(exact);
        agreed++;
        if (exact !== REASON_NONE && exact !== 4) t.rebalance({ from: admin, time });
      });
      if (k % 997 === 0) desk(long).deposit({ from: alice, time }, 1_000n * USDT, alice);
    }
    expect(agreed).to.equal(40_000);
    expect(screens[0]!.screened).to.be.greaterThan(screens[0]!.exact);
  });

  it("replays a path with a keeper and ends where step-by-step execution ends", function () {
    const prices = Array.from(
      gbmPrices({ seed: 9, start: 100_000, steps: 5_000, stepSeconds: 3600, drift: 0, volatility: 0.8 }),
      toPrice8,
    );
    const run = (fast: boolean) => {
      const e = localSystem({
        markets: [{ ...MARKETS.BTC, initialPrice: prices[0]! }],
        tokens: [tokenParams("BTC", 3n, false)],
        time: T0,
        poolLiquidity: 1_000_000n * USDT,
      });
      const t = e.token("BTC3S");
      e.world.usdt.mint(alice, 10_000n * USDT);
      e.world.usdt.approve(alice, t.desk, 10_000n * USDT);
      new InstantDesk(e.world, t).deposit({ from: alice, time: T0 }, 10_000n * USDT, alice);
      let time = T0;
      let rebalances = 0;
      if (fast) {
        const r = replayPrices(e, t, e.feed("BTC"), prices, {
          startTime: T0,
          stepSeconds: 3600n,
          keeper: admin,
          feeder: admin,
        });
        time = r.endTime;
        rebalances = r.rebalances;
      } else {
        for (let k = 1; k < prices.length; k++) {
          time += 3600n;
          e.feed("BTC").updateAnswer({ from: admin, time }, prices[k]!);
          if (t.rebalanceNeeded(time).needed) {
            t.rebalance({ from: admin, time });
            rebalances++;
          }
        }
      }
      return { nav: t.nav(time), rebalances, position: e.vault.positionOf(BTC, t.address) };
    };
    const slow = run(false);
    expect(run(true)).to.deep.equal(slow);
    expect(slow.rebalances).to.be.greaterThan(10);
  });
});
