// The keeper on tokens with a ForwardDesk (in-process network): it fills waiting requests at the next
// price round with KEEPER_ROLE, before the token's rebalance, logs the batch's numbers, does nothing
// in the request's own round, waits for the late-fill time without the role, and sends nothing on a
// dry run.
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deploySystem, type System } from "../../src/chain/deploy.ts";
import { DESK, USDT } from "../../src/common/params.ts";
import { bookOf, keepersOn } from "./support.ts";

const { ethers, networkHelpers } = await network.create();

async function setup() {
  const [admin, , alice, bob, carol] = (await ethers.getSigners()) as HardhatEthersSigner[];
  const s = await deploySystem(ethers);
  const book = await bookOf(ethers, s);
  for (const u of [alice!, bob!, carol!]) {
    await s.usdt.mint(u.address, 1_000_000n * USDT);
    for (const symbol of Object.keys(s.tokens)) {
      const desk = await s.desks[symbol]!.getAddress();
      await s.usdt.connect(u).approve(desk, ethers.MaxUint256);
      await s.tokens[symbol]!.connect(u).approve(desk, ethers.MaxUint256);
    }
  }
  // alice holds BTC3L already: requested, a new round, filled by the keeper (admin), claimed
  const desk = s.desks.BTC3L!;
  await desk.connect(alice!).requestDeposit(10_000n * USDT, alice!.address, alice!.address);
  await nextRound(s, 0);
  await desk.connect(admin!).fill();
  await desk.connect(alice!)["deposit(uint256,address)"](10_000n * USDT, alice!.address);
  return { s, book, admin: admin!, alice: alice!, bob: bob!, carol: carol! };
}

/** The feeder's next BTC update, `move` from the last price (e.g. -0.12), a minute later. */
async function nextRound(s: System, move: number): Promise<void> {
  await networkHelpers.time.increase(60);
  const [, answer] = await s.feeds.BTC.latestRoundData();
  await s.feeds.BTC.updateAnswer((answer * BigInt(Math.round((1 + move) * 1e6))) / 1_000_000n);
}

const keeperWith = keepersOn(ethers.provider, { feeIntervalSeconds: 0, symbols: ["BTC3L"] });

describe("Keeper on tokens with a desk (in-process network)", function () {
  it("fills the waiting requests at the next price round, logging the batch, and not in their own round", async function () {
    const { s, book, admin, alice, bob } = await networkHelpers.loadFixture(setup);
    const desk = s.desks.BTC3L!;
    const shares = (await s.tokens.BTC3L!.balanceOf(alice.address)) / 2n;
    await desk.connect(bob).requestDeposit(2_500n * USDT, bob.address, bob.address);
    await desk.connect(alice).requestRedeem(shares, alice.address, alice.address);
    const { keeper, lines } = keeperWith(admin, book);
    expect((await keeper.tick()).sent).to.equal(0); // the requests' own round: nothing to fill yet
    expect(lines.filter((l) => l.event === "filled")).to.have.length(0);

    await nextRound(s, 0.01);
    expect((await keeper.tick()).sent).to.be.greaterThanOrEqual(1);
    const filled = lines.filter((l) => l.event === "filled");
    expect(filled).to.have.length(1);
    const f = filled[0]!;
    expect(f.token).to.equal("BTC3L");
    expect(f.usdtIn).to.equal("2500.0");
    expect(f.sharesIn).to.equal(ethers.formatUnits(shares, 18));
    expect(Number(f.sharesOut)).to.be.within(2_400, 2_500);
    expect(Number(f.usdtOut)).to.be.greaterThan(0);
    expect(f.depositRefused).to.equal(false);
    expect(f.redeemRefused).to.equal(false);
    expect(f.bounty).to.equal("0.0"); // the keeper takes none
    expect(BigInt(f.gasUsed as string)).to.be.greaterThan(100_000n);
    // what the log says is what the desk holds for them
    expect(ethers.formatUnits(await desk.maxMint(bob.address), 18)).to.equal(f.sharesOut);
    expect(ethers.formatUnits(await desk.maxWithdraw(alice.address), 6)).to.equal(f.usdtOut);

    await networkHelpers.mine();
    await keeper.tick();
    expect(lines.filter((l) => l.event === "filled")).to.have.length(1); // filled once
  });

  it("fills and rebalances in one transaction when the new round also takes the token out of its band", async function () {
    const { s, book, admin, bob } = await networkHelpers.loadFixture(setup);
    await s.desks.BTC3L!.connect(bob).requestDeposit(1_000n * USDT, bob.address, bob.address);
    await nextRound(s, -0.12);
    expect((await s.tokens.BTC3L!.rebalanceNeeded())[0]).to.equal(true);
    const { keeper, lines } = keeperWith(admin, book);
    expect((await keeper.tick()).sent).to.equal(1);
    const done = lines.filter((l) => l.event === "filled" || l.event === "rebalanced");
    expect(done.map((l) => l.event)).to.deep.equal(["filled"]);
    // the fill's deposit ran the band rebalance first, and sent it with its own trade: the rebalance
    // sells what the deposit buys, so the one trade saves the holders a part of its cost
    expect(done[0]!.rebalanced).to.equal("band");
    expect(Number(done[0]!.leverageAfter)).to.be.within(2.99, 3.01);
    expect(Number(done[0]!.joinedSaving)).to.be.greaterThan(0);
    expect((await s.tokens.BTC3L!.rebalanceNeeded())[0]).to.equal(false);
    expect(await s.desks.BTC3L!.maxDeposit(bob.address)).to.equal(1_000n * USDT);
  });

  it("without KEEPER_ROLE waits for the late-fill time, then fills for the bounty", async function () {
    const { s, book, bob, carol } = await networkHelpers.loadFixture(setup);
    await s.desks.BTC3L!.connect(bob).requestDeposit(1_000n * USDT, bob.address, bob.address);
    await nextRound(s, 0);
    const { keeper, lines } = keeperWith(carol, book);
    expect((await keeper.tick()).sent).to.equal(0);
    expect(lines.filter((l) => l.event === "not-keeper")).to.have.length(1);
    await networkHelpers.time.increase(Number(DESK.fillDelay));
    await nextRound(s, 0); // a fresh price to trade at
    const before = await s.usdt.balanceOf(carol.address);
    expect((await keeper.tick()).sent).to.equal(1);
    const f = lines.find((l) => l.event === "filled")!;
    expect(f.bounty).to.equal("5.0"); // min(5 USDT, 1% of the deposits)
    expect(await s.usdt.balanceOf(carol.address)).to.equal(before + 5n * USDT);
  });

  it("says what it would fill on a dry run and sends nothing", async function () {
    const { s, book, admin, bob } = await networkHelpers.loadFixture(setup);
    await s.desks.BTC3L!.connect(bob).requestDeposit(1_000n * USDT, bob.address, bob.address);
    await nextRound(s, 0);
    const { keeper, lines } = keeperWith(admin, book, { dryRun: true });
    expect((await keeper.tick()).sent).to.equal(0);
    expect(lines.filter((l) => l.event === "would-fill").map((l) => l.token)).to.deep.equal(["BTC3L"]);
    expect((await s.desks.BTC3L!.fillNeeded())[0]).to.equal(true);
  });

  it("reports a stale price once and still accrues the fee when the fill cannot trade", async function () {
    const { s, book, admin, bob } = await networkHelpers.loadFixture(setup);
    await s.desks.BTC3L!.connect(bob).requestDeposit(1_000n * USDT, bob.address, bob.address);
    await nextRound(s, 0);
    await networkHelpers.time.increase(2 * 86_400); // past the heartbeat: the fill reverts StalePrice
    const { keeper, lines } = keeperWith(admin, book, { feeIntervalSeconds: 86_400 });
    await keeper.tick();
    expect(lines.filter((l) => l.event === "fee-accrued")).to.have.length(1);
    const errors = lines.filter((l) => l.event === "error");
    expect(errors.length).to.be.greaterThan(0);
    expect(String(errors[0]!.message)).to.match(/StalePrice/);
    expect((await s.desks.BTC3L!.fillNeeded())[0]).to.equal(true); // still waiting, nothing lost
  });
});
