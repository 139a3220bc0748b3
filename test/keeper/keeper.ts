// The Keeper class on the in-process network: decisions become the right transactions, a second
// keeper is a no-op, dry runs send nothing, fees accrue on schedule, a delisting pays every holder.
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deploySystem, type System } from "../../src/chain/deploy.ts";
import { MARKETS, USDT, WAD } from "../../src/common/params.ts";
import { bookOf, keepersOn } from "./support.ts";

const { ethers, networkHelpers } = await network.create();

async function setup() {
  const signers = await ethers.getSigners();
  const [admin, second, alice, bob, carol] = signers as [HardhatEthersSigner, ...HardhatEthersSigner[]];
  // instant desks: the users' mints and redeems pass straight to the tokens (this file tests rebalancing)
  const s = await deploySystem(ethers, { desk: "instant" });
  for (const t of Object.values(s.tokens)) await t.grantRole(await t.KEEPER_ROLE(), second!.address);
  for (const u of [alice!, bob!, carol!]) {
    await s.usdt.mint(u.address, 1_000_000n * USDT);
    for (const d of Object.values(s.instantDesks))
      await s.usdt.connect(u).approve(await d.getAddress(), 2n ** 255n);
  }
  for (const d of Object.values(s.instantDesks)) {
    await d.connect(alice!).deposit(10_000n * USDT, alice!.address);
    await d.connect(bob!).deposit(5_000n * USDT, bob!.address);
  }
  return {
    s,
    book: await bookOf(ethers, s),
    admin: admin!,
    second: second!,
    alice: alice!,
    bob: bob!,
    carol: carol!,
  };
}

const keeperWith = keepersOn(ethers.provider);

/** Moves the price by `move` (e.g. -0.12) in a new block. */
async function movePrice(s: System, market: "BTC" | "ETH", move: number) {
  const [, answer] = await s.feeds[market].latestRoundData();
  await s.feeds[market].updateAnswer((answer * BigInt(Math.round((1 + move) * 1e6))) / 1_000_000n);
}

/** Moves time forward and refreshes every feed right at the jump (the first in the jump's block). */
async function advance(s: System, seconds: number) {
  await networkHelpers.time.setNextBlockTimestamp((await networkHelpers.time.latest()) + seconds);
  for (const m of Object.keys(MARKETS) as ("BTC" | "ETH")[]) {
    const [, answer] = await s.feeds[m].latestRoundData();
    await s.feeds[m].updateAnswer(answer);
  }
}

const near3 = (wad: bigint) => wad > 3n * WAD - WAD / 20n && wad < 3n * WAD + WAD / 20n;

describe("Keeper (in-process network)", function () {
  it("rebalances BTC3L and BTC3S back to 3x after a 12% drop, and then does nothing", async function () {
    const { s, book, admin } = await networkHelpers.loadFixture(setup);
    await movePrice(s, "BTC", -0.12);
    expect((await s.tokens.BTC3L!.rebalanceNeeded())[0]).to.equal(true);
    const { keeper, lines } = keeperWith(admin, book);
    const summary = await keeper.tick();
    const rebalanced = lines.filter((l) => l.event === "rebalanced");
    expect(rebalanced.map((l) => l.token)).to.deep.equal(["BTC3L", "BTC3S"]);
    const l = rebalanced[0]!;
    expect(Number(l.leverageBefore)).to.be.greaterThan(4);
    expect(Math.abs(Number(l.leverageAfter) - 3)).to.be.lessThan(0.01);
    expect(l.reason).to.equal("band");
    expect(BigInt(l.gasUsed as string)).to.be.greaterThan(50_000n);
    expect(summary.sent).to.equal(2);
    expect(near3(await s.tokens.BTC3L!.leverage())).to.equal(true);
    expect(near3(await s.tokens.BTC3S!.leverage())).to.equal(true);
    await networkHelpers.mine();
    const again = await keeper.tick();
    expect(again.sent).to.equal(0);
  });

  it("settles the losing token's loss into the pool when the pool holds less than the winners are owed", async function () {
    const { s, book, admin, alice, bob } = await networkHelpers.loadFixture(setup);
    await s.instantDesks.BTC3L!.connect(alice).deposit(900_000n * USDT, alice.address);
    await s.instantDesks.BTC3S!.connect(bob).deposit(900_000n * USDT, bob.address);
    await movePrice(s, "BTC", 0.04);
    const l = await s.vault.liquidity();
    const most = ((l.cash - l.reserved) * (await s.vault.totalLiquidityShares())) / l.value;
    await s.vault.connect(admin).removeLiquidity(most, admin.address); // the LP leaves all it may
    await movePrice(s, "BTC", 0.04); // BTC3L is owed more than the pool's cash; BTC3S's loss is margin
    const short = await s.vault.liquidity();
    expect(short.cash).to.be.lessThan(short.reserved);
    const { keeper, lines } = keeperWith(admin, book, { symbols: ["BTC3L", "BTC3S"] });
    await keeper.tick();
    const settled = lines.filter((x) => x.event === "pnl-settled");
    expect(settled.map((x) => x.token)).to.deep.equal(["BTC3S"]);
    expect(Number(settled[0]!.amount)).to.be.greaterThan(70_000);
    const after = await s.vault.liquidity();
    expect(after.cash).to.be.greaterThanOrEqual(after.reserved);
  });

  it("makes exactly one rebalance when two keepers act on the same trigger at once", async function () {
    const { s, book, admin, second } = await networkHelpers.loadFixture(setup);
    await movePrice(s, "BTC", -0.12);
    const a = keeperWith(admin, book, { symbols: ["BTC3L"] });
    const b = keeperWith(second, book, { symbols: ["BTC3L"] });
    const from = await ethers.provider.getBlockNumber();
    const [ra, rb] = await Promise.all([a.keeper.tick(), b.keeper.tick()]);
    const events = await s.tokens.BTC3L!.queryFilter(s.tokens.BTC3L!.filters.Rebalanced(), from + 1);
    expect(events).to.have.length(1);
    expect(ra.sent + rb.sent).to.equal(1);
    expect(ra.errors + rb.errors).to.equal(0);
    const skipped = [...a.lines, ...b.lines].filter((l) => l.event === "skipped");
    expect(skipped).to.have.length(1);
    // one keeper of two acted first; the sentence names what can have done it, not only another keeper
    expect(String(skipped[0]!.why)).to.match(
      /^(no longer needed when re-checked|RebalanceNotNeeded: already done), something since this pass read the token did it \(a fill, a mint or a redeem that rebalanced first, or another keeper\)$/,
    );
  });

  it("sends nothing on a dry run but says what it would do", async function () {
    const { s, book, admin } = await networkHelpers.loadFixture(setup);
    await movePrice(s, "BTC", -0.12);
    const before = await s.tokens.BTC3L!.leverage();
    const { keeper, lines } = keeperWith(admin, book, { dryRun: true });
    expect((await keeper.tick()).sent).to.equal(0);
    expect(lines.filter((l) => l.event === "would-rebalance").map((l) => l.token)).to.deep.equal([
      "BTC3L",
      "BTC3S",
    ]);
    expect(await s.tokens.BTC3L!.leverage()).to.equal(before);
  });

  it("accrues the management fee once a day of chain time has passed", async function () {
    const { s, book, admin } = await networkHelpers.loadFixture(setup);
    const { keeper, lines } = keeperWith(admin, book, { feeIntervalSeconds: 86_400, symbols: ["ETH3L"] });
    await advance(s, 3600);
    await keeper.tick();
    expect(lines.filter((l) => l.event === "fee-accrued")).to.have.length(0);
    await advance(s, 86_400);
    const supply = await s.tokens.ETH3L!.totalSupply();
    await keeper.tick();
    const accrued = lines.filter((l) => l.event === "fee-accrued");
    expect(accrued).to.have.length(1);
    expect(BigInt(accrued[0]!.shares as string)).to.be.greaterThan(0n);
    expect(await s.tokens.ETH3L!.totalSupply()).to.equal(supply + BigInt(accrued[0]!.shares as string));
  });

  it("still accrues the fee while a stale feed blocks rebalancing, and reports the stale price once", async function () {
    const { s, book, admin } = await networkHelpers.loadFixture(setup);
    await networkHelpers.time.increase(2 * 86_400);
    const { keeper, lines } = keeperWith(admin, book, { feeIntervalSeconds: 86_400, symbols: ["ETH3L"] });
    await keeper.tick();
    expect(lines.filter((l) => l.event === "fee-accrued")).to.have.length(1);
    const errors = lines.filter((l) => l.event === "error");
    expect(errors).to.have.length(1);
    expect(String(errors[0]!.message)).to.match(/StalePrice/);
    // the pass went on past it (the fee), but it counts: `keeper --once` exits 1 after such a pass
    expect(keeper.errorCount).to.equal(1);
    expect(keeper.errorsMet).to.deep.equal([{ token: "ETH3L", message: String(errors[0]!.message) }]);
  });

  it("reports a stale price once a minute per token, not once a tick, while the prices stay stale", async function () {
    const { admin, book } = await networkHelpers.loadFixture(setup);
    await networkHelpers.time.increase(2 * 3600); // past the 3,600 s heartbeat: every feed is stale
    const { keeper, lines } = keeperWith(admin, book, { feeIntervalSeconds: 0 });
    for (let i = 0; i < 5; i++) {
      await networkHelpers.mine();
      await keeper.tick();
    }
    const errors = lines.filter((l) => l.event === "error");
    expect(errors.map((l) => l.token)).to.deep.equal(Object.keys(book.tokens));
    for (const l of errors) expect(String(l.message)).to.match(/StalePrice/);
  });

  it("settles a delisted token at its time and pays every holder found from Transfer events", async function () {
    const { s, book, admin, alice, bob, carol } = await networkHelpers.loadFixture(setup);
    const token = s.tokens.ETH3S!;
    await token.connect(alice).transfer(carol.address, (await token.balanceOf(alice.address)) / 3n);
    const when = (await networkHelpers.time.latest()) + 3 * 86_400 + 60;
    await token.scheduleDelisting(when);
    const { keeper, lines } = keeperWith(admin, book, { symbols: ["ETH3S"], holderBatch: 2 });
    await keeper.tick();
    expect(lines.filter((l) => l.event === "settled")).to.have.length(0);
    await advance(s, 3 * 86_400 + 120);
    const usdtBefore = await Promise.all([alice, bob, carol].map((u) => s.usdt.balanceOf(u.address)));
    await keeper.tick();
    expect(lines.filter((l) => l.event === "settled")).to.have.length(1);
    const paid = lines.filter((l) => l.event === "holders-paid");
    // alice, bob, carol and the treasury (admin, holding fee shares): two batches of two
    expect(paid.map((l) => l.paid)).to.deep.equal([2, 2]);
    expect(await token.state()).to.equal(2n);
    for (const [i, u] of [alice, bob, carol].entries()) {
      expect(await token.balanceOf(u.address)).to.equal(0n);
      expect(await s.usdt.balanceOf(u.address)).to.be.greaterThan(usdtBefore[i]!);
    }
    expect(await token.totalSupply()).to.equal(await token.MINIMUM_SHARES());
    await networkHelpers.mine();
    await keeper.tick();
    expect(lines.filter((l) => l.event === "holders-done")).to.have.length(1);
    expect(lines.filter((l) => l.event === "holders-paid")).to.have.length(2);
  });

  it("notices when the chain it watched is gone and scans holders afresh", async function () {
    const { book, admin } = await networkHelpers.loadFixture(setup);
    const snapshot = await networkHelpers.takeSnapshot();
    await networkHelpers.mine(3);
    const { keeper, lines } = keeperWith(admin, book);
    await keeper.tick();
    await snapshot.restore();
    await keeper.tick();
    expect(lines.filter((l) => l.event === "chain-reset")).to.have.length(1);
    await networkHelpers.mine();
    await keeper.tick();
    expect(lines.filter((l) => l.event === "chain-reset")).to.have.length(1);
  });

  it("without KEEPER_ROLE leaves band rebalances alone but pulls the ripcord for the bounty", async function () {
    const { s, book, carol } = await networkHelpers.loadFixture(setup);
    const { keeper, lines } = keeperWith(carol, book, { symbols: ["BTC3L"] });
    await movePrice(s, "BTC", -0.12);
    expect((await keeper.tick()).sent).to.equal(0);
    expect(lines.filter((l) => l.event === "not-keeper")).to.have.length(1);
    expect((await s.tokens.BTC3L!.rebalanceNeeded())[1]).to.equal(1n);
    await movePrice(s, "BTC", -0.05); // past the 4.5x ripcord
    expect((await s.tokens.BTC3L!.rebalanceNeeded())[1]).to.equal(3n);
    const before = await s.usdt.balanceOf(carol.address);
    expect((await keeper.tick()).sent).to.equal(1);
    expect(lines.filter((l) => l.event === "rebalanced")[0]!.reason).to.equal("ripcord");
    expect(await s.usdt.balanceOf(carol.address)).to.equal(before + 5n * USDT);
    expect(near3(await s.tokens.BTC3L!.leverage())).to.equal(true);
  });
});
