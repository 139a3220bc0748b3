// Capacity is a rule, not a revert (issue 17): a position past the one-slot layout (open cost past
// 36 billion USDT, size past 150 million units, margin past 72 billion USDT) is stored in two slots
// and trades on; the limits left are the exchange's own sums, which `capacity` reports; and the
// engine's twin agrees with the chain on every number and on the one revert that remains.
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, keccak256, type ContractTransactionResponse } from "ethers";
import { Exchange } from "../../src/engine/exchange.ts";
import { EngineRevert } from "../../src/engine/errors.ts";
import { PriceFeed } from "../../src/engine/feed.ts";
import { World } from "../../src/engine/world.ts";
import { BTC, BTC_START_PRICE, btcExchange } from "./fixture.ts";

const { ethers, networkHelpers } = await network.create();
const USDT = 10n ** 6n;
const BILLION = 10n ** 9n * USDT;
const PRICE = 10n ** 8n;
const ONE = 10n ** 18n;
const WIDE = 1n << 55n; // the open-cost bits of a position stored in two slots
const mask = (bits: bigint) => (1n << bits) - 1n;
const coder = AbiCoder.defaultAbiCoder();

/** The chain and the engine's twin side by side, driven by the same calls at the same block times. */
async function twins() {
  const [admin, alice, bob] = await ethers.getSigners();
  const fundingRate = 10n ** 14n; // 0.01% per 8 h: funding moves on every step
  const { usdt, feed, vault, added } = await btcExchange(ethers, admin!, {
    heartbeat: 7 * 86_400,
    fundingRate,
  });
  const [, , , feedTime] = await feed.latestRoundData();

  const world = new World(await usdt.getAddress());
  const engine = new Exchange(world, await vault.getAddress());
  const engineFeed = new PriceFeed(await feed.getAddress(), BTC_START_PRICE, feedTime);
  world.register(engineFeed);
  engine.addMarket(
    { from: admin!.address, time: await timeOf(added) },
    BTC,
    engineFeed,
    7n * 86_400n,
    fundingRate,
    0n,
  );

  for (const s of [admin!, alice!, bob!]) {
    const amount = 1_000n * BILLION;
    await usdt.mint(s.address, amount);
    await usdt.connect(s).approve(await vault.getAddress(), 2n ** 255n);
    world.usdt.mint(s.address, amount);
    world.usdt.approve(s.address, await vault.getAddress(), 2n ** 255n);
  }
  return { usdt, feed, vault, world, engine, engineFeed, admin: admin!, alice: alice!, bob: bob! };
}

async function timeOf(tx: ContractTransactionResponse): Promise<bigint> {
  const receipt = await tx.wait();
  return BigInt((await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp);
}

type Twins = Awaited<ReturnType<typeof twins>>;

/** Runs one call on the chain, then on the engine at the block's time; returns that time. */
async function both(
  t: Twins,
  chain: () => Promise<ContractTransactionResponse>,
  engine: (time: bigint) => void,
): Promise<bigint> {
  await networkHelpers.time.increase(3_600);
  const time = await timeOf(await chain());
  t.world.atomic(() => engine(time));
  return time;
}

/** The admin adds `amount` USDT to the exchange's pool, on the chain and on the engine. */
function addLiquidity(t: Twins, amount: bigint): Promise<bigint> {
  return both(
    t,
    () => t.vault.connect(t.admin).addLiquidity(amount),
    (time) => t.engine.addLiquidity({ from: t.admin.address, time }, amount),
  );
}

/** The chain and the engine hold the same position, capacity, pool and open interest. */
async function expectSame(t: Twins, account: string, time: bigint) {
  const [size, openCost, margin] = await t.vault.positionOf(BTC, account);
  const p = t.engine.positionOf(BTC, account);
  expect([size, openCost, margin]).to.deep.equal([p.size, p.openCost, p.margin]);
  const [cm, cc, cs] = await t.vault.capacity(BTC, account);
  const c = t.engine.capacity(BTC, account);
  expect([cm, cc, cs]).to.deep.equal([c.margin, c.openCost, c.size]);
  expect(await t.vault.poolBalance()).to.equal(t.engine.poolBalance());
  expect(await t.vault.accountedBalance()).to.equal(t.engine.accountedBalance());
  const [longs, shorts] = await t.vault.openInterest(BTC);
  const oi = t.engine.openInterest(BTC);
  expect([longs, shorts]).to.deep.equal([oi.longSize, oi.shortSize]);
  const [, equity] = await t.vault.snapshot(BTC, account);
  expect(equity).to.equal(t.engine.snapshot(BTC, account, time).equity);
}

/** The exchange's storage word for `positions[BTC][account]` (its slot found, not assumed). */
async function storedWords(t: Twins, account: string): Promise<[bigint, bigint]> {
  const vault = await t.vault.getAddress();
  for (let i = 0n; i < 16n; i++) {
    const inner = keccak256(coder.encode(["bytes32", "uint256"], [BTC, i]));
    const slot = BigInt(keccak256(coder.encode(["address", "bytes32"], [account, inner])));
    const word = BigInt(await ethers.provider.getStorage(vault, slot));
    if (word !== 0n) {
      return [word, BigInt(await ethers.provider.getStorage(vault, slot + 1n))];
    }
  }
  throw new Error("the position's slot was not found");
}

async function isWide(t: Twins, account: string): Promise<boolean> {
  const [word, wide] = await storedWords(t, account);
  const [size, openCost, margin] = await t.vault.positionOf(BTC, account);
  if (((word >> 88n) & mask(56n)) === WIDE) {
    expect(BigInt.asIntN(128, wide & mask(128n))).to.equal(size);
    expect(BigInt.asIntN(128, wide >> 128n)).to.equal(openCost);
    expect(word & mask(64n)).to.equal(margin);
    return true;
  }
  expect(BigInt.asIntN(88, word & mask(88n))).to.equal(size);
  expect(BigInt.asIntN(56, (word >> 88n) & mask(56n))).to.equal(openCost);
  expect(word >> 200n).to.equal(margin);
  return false;
}

describe("Exchange capacity: positions past one slot", function () {
  this.timeout(120_000);

  it("a 60 billion USDT long (open cost past 56 bits) and a 90 billion margin trade, realize and shrink back to one slot, as the engine says", async function () {
    const t = await twins(); // fresh: the engine twin is a plain object, which a fixture snapshot would not restore
    const { vault, engine, admin, alice } = t;
    const a = alice.address;
    await addLiquidity(t, 200n * BILLION);
    let time = await both(
      t,
      () => vault.connect(alice).deposit(BTC, a, 10n * BILLION),
      (time) => engine.deposit({ from: a, time }, BTC, a, 10n * BILLION),
    );
    await expectSame(t, a, time);
    expect(await isWide(t, a)).to.equal(false);

    // 600,000 BTC at 100,000 USD: an open cost of 60 billion USDT, past the old int56 (36 billion)
    time = await both(
      t,
      () => vault.connect(alice).trade(BTC, 600_000n * ONE, 0, a),
      (time) => engine.trade({ from: a, time }, BTC, 600_000n * ONE, 0n, a),
    );
    await expectSame(t, a, time);
    expect(await isWide(t, a)).to.equal(true);
    expect((await vault.positionOf(BTC, a))[1]).to.equal(60n * BILLION);

    // +10%, then half closed: 3 billion USDT of profit paid by the pool, in cash
    time = await both(
      t,
      () => t.feed.updateAnswer(110_000n * PRICE),
      (time) => t.engineFeed.updateAnswer({ from: admin.address, time }, 110_000n * PRICE),
    );
    const pool = await vault.poolBalance();
    time = await both(
      t,
      () => vault.connect(alice).trade(BTC, -300_000n * ONE, 0, a),
      (time) => engine.trade({ from: a, time }, BTC, -300_000n * ONE, 0n, a),
    );
    await expectSame(t, a, time);
    expect(pool - (await vault.poolBalance())).to.be.greaterThan(2n * BILLION);
    expect(await isWide(t, a)).to.equal(false); // 30 billion of open cost fits one slot again

    // a margin past 56 bits (72 billion USDT): two slots, and it still trades and withdraws
    time = await both(
      t,
      () => vault.connect(alice).deposit(BTC, a, 80n * BILLION),
      (time) => engine.deposit({ from: a, time }, BTC, a, 80n * BILLION),
    );
    await expectSame(t, a, time);
    expect(await isWide(t, a)).to.equal(true);
    expect((await vault.positionOf(BTC, a))[2]).to.be.greaterThan(1n << 56n);
    time = await both(
      t,
      () => vault.connect(alice).trade(BTC, 500_000n * ONE, 0, a),
      (time) => engine.trade({ from: a, time }, BTC, 500_000n * ONE, 0n, a),
    );
    await expectSame(t, a, time);
    time = await both(
      t,
      () => vault.connect(alice).withdraw(BTC, 60n * BILLION, a),
      (time) => engine.withdraw({ from: a, time }, BTC, 60n * BILLION, a),
    );
    await expectSame(t, a, time);
    expect(await isWide(t, a)).to.equal(true); // 85 billion USDT of open cost
    time = await both(
      t,
      () => vault.connect(alice).trade(BTC, -800_000n * ONE, 0, a),
      (time) => engine.trade({ from: a, time }, BTC, -800_000n * ONE, 0n, a),
    );
    await expectSame(t, a, time);
    expect((await vault.positionOf(BTC, a))[0]).to.equal(0n);
    expect(await isWide(t, a)).to.equal(false);
    // the USDT held covers what is owed, to the unit
    expect(await t.usdt.balanceOf(await vault.getAddress())).to.equal(await vault.accountedBalance());
  });

  it("a size past 88 bits (200 million units at 0.01 USD) trades; past its side's open interest a trade reverts by name on both", async function () {
    const t = await twins(); // fresh: the engine twin is a plain object, which a fixture snapshot would not restore
    const { vault, engine, admin, bob } = t;
    const b = bob.address;
    await addLiquidity(t, 10n * BILLION);
    await both(
      t,
      () => t.feed.updateAnswer(PRICE / 100n),
      (time) => t.engineFeed.updateAnswer({ from: admin.address, time }, PRICE / 100n),
    );
    await both(
      t,
      () => vault.connect(bob).deposit(BTC, b, 1n * BILLION),
      (time) => engine.deposit({ from: b, time }, BTC, b, 1n * BILLION),
    );
    const big = 200_000_000n * ONE; // past int88's 154,742,504 units
    let time = await both(
      t,
      () => vault.connect(bob).trade(BTC, -big, 0, b),
      (time) => engine.trade({ from: b, time }, BTC, -big, 0n, b),
    );
    await expectSame(t, b, time);
    expect(await isWide(t, b)).to.equal(true);
    expect((await vault.positionOf(BTC, b))[0]).to.equal(-big);

    // what is left is the short side's open interest (64 bits of 1e-8 units): capacity says so,
    // a trade of that room fits and one past it reverts by name, on the chain and in the engine
    const [, , room] = await vault.capacity(BTC, b);
    const units = 2n ** 64n - 1n - big / 10n ** 10n;
    expect(room).to.equal((units - 1n) * 10n ** 10n);
    const past = room + 2n * 10n ** 10n;
    await networkHelpers.time.increase(3_600);
    const next = BigInt(await networkHelpers.time.latest()) + 1n;
    await networkHelpers.time.setNextBlockTimestamp(next);
    await expect(vault.connect(bob).trade(BTC, -past, 0, b))
      .to.be.revertedWithCustomError(vault, "SafeCastOverflowedUintDowncast")
      .withArgs(64, units + 1n + big / 10n ** 10n);
    let engineError: unknown;
    try {
      t.world.atomic(() => engine.trade({ from: b, time: next }, BTC, -past, 0n, b));
    } catch (e) {
      engineError = e;
    }
    expect(engineError).to.be.instanceOf(EngineRevert);
    expect((engineError as EngineRevert).errorName).to.equal("SafeCastOverflowedUintDowncast");
    expect((engineError as EngineRevert).args).to.deep.equal([64n, units + 1n + big / 10n ** 10n]);

    time = await both(
      t,
      () => vault.connect(bob).trade(BTC, -room, 0, b),
      (time) => engine.trade({ from: b, time }, BTC, -room, 0n, b),
    );
    await expectSame(t, b, time);
    const [, shorts] = await vault.openInterest(BTC);
    expect(shorts).to.equal((2n ** 64n - 2n) * 10n ** 10n);
    time = await both(
      t,
      () => vault.connect(bob).trade(BTC, big + room, 0, b),
      (time) => engine.trade({ from: b, time }, BTC, big + room, 0n, b),
    );
    await expectSame(t, b, time);
    expect(await isWide(t, b)).to.equal(false);
    expect(await t.usdt.balanceOf(await vault.getAddress())).to.equal(await vault.accountedBalance());
  });
});
