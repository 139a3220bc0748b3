// Pinned block times (src/chain/clock.ts): every block one second after the last, whatever the wall
// clock does in between, pending calls at that time, reverted transactions counted, and the start
// alignment and date parsing the demo builds on.
import { expect } from "chai";
import { network } from "hardhat";
import { nextTimeOfDay, pinBlockTimes } from "../../src/chain/clock.ts";
import { dateTime } from "../../src/common/options.ts";
import { alignStart, SETUP_SECONDS } from "../../src/demo/run.ts";
import { PATH_START } from "../../src/feeds/paths.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The message `f` rejects with (fails the test when it resolves). */
async function rejection(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected a rejection");
}

describe("pinned block times", function () {
  this.timeout(60_000);

  it("mines every block one second after the last, even when the wall clock moves more in between", async function () {
    const c = await network.create();
    const p = c.ethers.provider;
    const [a] = await c.ethers.getSigners();
    const first = PATH_START + 1_000n;
    const clock = await pinBlockTimes(c.provider, first);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      await (await a!.sendTransaction({ to: a!.address, value: 1n })).wait();
      times.push((await p.getBlock("latest"))!.timestamp);
      await sleep(1_100); // an unpinned chain would stamp the next block 2 s later
    }
    expect(times).to.deep.equal([Number(first), Number(first) + 1, Number(first) + 2]);
    expect(clock.next).to.equal(first + 3n);
    // a call at the pending block already sees the next block's time
    const pending = (await p.send("eth_getBlockByNumber", ["pending", false])) as { timestamp: string };
    expect(BigInt(pending.timestamp)).to.equal(first + 3n);
    // the caller may set a time itself (later only); blocks go on one second apart from there
    await clock.setNext(first + 100n);
    await p.send("evm_mine", []);
    await (await a!.sendTransaction({ to: a!.address, value: 1n })).wait();
    expect((await p.getBlock("latest"))!.timestamp).to.equal(Number(first) + 101);
    expect(await rejection(() => clock.setNext(first))).to.match(/cannot move the next block back/);
    // unpinned, the wall clock is back (after the block already stamped): 2 s later, 2 s more
    clock.unpin();
    await (await a!.sendTransaction({ to: a!.address, value: 1n })).wait();
    expect((await p.getBlock("latest"))!.timestamp).to.equal(Number(first) + 102);
    await sleep(2_100);
    await (await a!.sendTransaction({ to: a!.address, value: 1n })).wait();
    expect((await p.getBlock("latest"))!.timestamp).to.be.at.least(Number(first) + 104);
    await c.close();
  });

  it("counts a block mined by a reverted transaction, and none while automine is off", async function () {
    const c = await network.create();
    const p = c.ethers.provider;
    const [a] = await c.ethers.getSigners();
    const usdt = await c.ethers.deployContract("MockUSDT", [a!.address]);
    const first = PATH_START + 5_000n;
    const clock = await pinBlockTimes(c.provider, first);
    // a transfer beyond the balance reverts; hardhat mines it and throws
    const other = c.ethers.Wallet.createRandom().address;
    expect(await rejection(() => usdt.getFunction("transfer")(other, 1n, { gasLimit: 100_000 }))).to.match(
      /ERC20InsufficientBalance|reverted/,
    );
    const afterRevert = (await p.getBlock("latest"))!.timestamp;
    expect(afterRevert).to.equal(Number(first));
    expect(clock.next).to.equal(first + 1n);
    await p.send("evm_setAutomine", [false]);
    await a!.sendTransaction({ to: a!.address, value: 1n });
    expect(clock.next).to.equal(first + 1n);
    await p.send("evm_mine", []);
    await p.send("evm_setAutomine", [true]);
    expect((await p.getBlock("latest"))!.timestamp).to.equal(Number(first) + 1);
    expect(clock.next).to.equal(first + 2n);
    clock.unpin();
    await c.close();
  });

  it("aligns a start to the next instant at the same time of day when the chain is past it", function () {
    const day = 86_400n;
    expect(nextTimeOfDay(PATH_START, 0n)).to.equal(PATH_START);
    expect(nextTimeOfDay(PATH_START + 1n, 0n)).to.equal(PATH_START + day);
    expect(nextTimeOfDay(PATH_START + 7n * 3600n, 6n * 3600n)).to.equal(PATH_START + day + 6n * 3600n);
    // room for the setup before the start: the chain's clock may be up to SETUP_SECONDS before it
    expect(alignStart(PATH_START, PATH_START - SETUP_SECONDS - 1n)).to.equal(PATH_START);
    expect(alignStart(PATH_START, PATH_START - SETUP_SECONDS)).to.equal(PATH_START + day);
    expect(alignStart(PATH_START + 3600n, PATH_START + 5n * day)).to.equal(PATH_START + 5n * day + 3600n);
    expect(alignStart(PATH_START + 3600n, PATH_START + 5n * day + 3000n)).to.equal(
      PATH_START + 6n * day + 3600n,
    );
  });

  it("reads --start as a UTC date, a date and time, or unix seconds, and refuses anything else", function () {
    const parse = dateTime("--start");
    expect(parse("2026-01-01")).to.equal(PATH_START);
    expect(parse("2026-01-01T06:00")).to.equal(PATH_START + 6n * 3600n);
    expect(parse("2026-01-01 06:00:30Z")).to.equal(PATH_START + 6n * 3600n + 30n);
    expect(parse("2026-01-01T06:00+02:00")).to.equal(PATH_START + 4n * 3600n);
    expect(parse("1767225600")).to.equal(PATH_START);
    for (const bad of ["2026-02-30", "2026-13-01", "yesterday", "2026-01-01T25:00", ""])
      expect(() => parse(bad), bad).to.throw(/--start must be a date \(2026-01-01\)/);
  });
});
