// The Feeder on the in-process network: fast mode moves block time with the path and refreshes
// every feed in the block of each jump; real time pushes only what changed.
import { expect } from "chai";
import { network } from "hardhat";
import { deploySystem } from "../../src/chain/deploy.ts";
import { MARKETS } from "../../src/common/params.ts";
import { Feeder } from "../../src/feeder/feeder.ts";
import { gbmPlan, jumpPlan, parseJump } from "../../src/feeder/plan.ts";
import type { LogFields } from "../../src/common/log.ts";

const { ethers, networkHelpers } = await network.create();
const P = 10n ** 8n;

async function setup() {
  const s = await deploySystem(ethers, { tokens: [] });
  const [admin] = await ethers.getSigners();
  const feeds = { BTC: await s.feeds.BTC.getAddress(), ETH: await s.feeds.ETH.getAddress() };
  return { s, admin: admin!, feeds };
}

function feederWith(setupResult: Awaited<ReturnType<typeof setup>>, fast: boolean, speed = 1) {
  const lines: (LogFields & { event: string })[] = [];
  const feeder = new Feeder(
    ethers.provider,
    setupResult.admin,
    setupResult.feeds,
    (event, f) => lines.push({ event, ...f }),
    {
      fast,
      speed,
    },
  );
  return { feeder, lines };
}

describe("Feeder (in-process network)", function () {
  it("fast: a day of hourly GBM steps moves block time by a day, every feed updated in each step's block", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    const { feeder, lines } = feederWith(ctx, true);
    const start = await networkHelpers.time.latest();
    const plan = gbmPlan({
      markets: ["BTC"],
      starts: await feeder.currentPrices(),
      seed: 5,
      drift: 0,
      volatility: 0.7,
      stepSeconds: 3600,
      steps: 24,
    });
    expect(await feeder.run(plan)).to.equal(24);
    const now = await networkHelpers.time.latest();
    expect(now - start).to.equal(24 * 3600);
    for (const m of ["BTC", "ETH"] as const) {
      const [, , , updatedAt] = await ctx.s.feeds[m].latestRoundData();
      expect(Number(updatedAt), m).to.equal(now); // ETH is not in the plan but was refreshed too
    }
    expect((await ctx.s.feeds.BTC.latestRoundData())[1]).to.equal(plan.at(-1)!.prices.BTC);
    expect(await ctx.s.vault.markPrice(MARKETS.ETH.id)).to.equal(4000n * P); // not stale
    const steps = lines.filter((l) => l.event === "prices");
    expect(steps).to.have.length(24);
    expect(new Set(steps.map((l) => l.block)).size).to.equal(24); // one block per step
    expect(await ethers.provider.send("hardhat_getAutomine", [])).to.equal(true);
  });

  it("fast: a transaction another process sends while automine is off is mined, never left pending", async function () {
    // A keeper's transaction that reaches the node between the feeder's evm_mine and automine coming
    // back on sits in the mempool; its sender then waits for a receipt that never comes (the e2e hang).
    const ctx = await networkHelpers.loadFixture(setup);
    const [, other] = await ethers.getSigners();
    const sentInWindow: string[] = [];
    const provider = new Proxy(ethers.provider, {
      get(target, key) {
        if (key !== "send") {
          const value = Reflect.get(target, key, target) as unknown;
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        }
        return async (method: string, params: unknown[]) => {
          const result = (await target.send(method, params)) as unknown;
          if (method === "evm_mine" && (await target.send("hardhat_getAutomine", [])) === false) {
            const tx = await other!.sendTransaction({ to: other!.address, value: 1n });
            sentInWindow.push(tx.hash);
          }
          return result;
        };
      },
    });
    const lines: string[] = [];
    const feeder = new Feeder(provider, ctx.admin, ctx.feeds, (event) => lines.push(event), {
      fast: true,
      speed: 1,
    });
    const plan = jumpPlan([parseJump("BTC:-5%"), parseJump("BTC:+5%")], await feeder.currentPrices(), 60);
    expect(await feeder.run(plan)).to.equal(2);
    expect(sentInWindow).to.have.length(2);
    for (const hash of sentInWindow) {
      expect(await ethers.provider.getTransactionReceipt(hash), hash).to.not.equal(null);
    }
    const pending = (await ethers.provider.send("eth_getBlockByNumber", ["pending", false])) as {
      transactions: unknown[];
    };
    expect(pending.transactions).to.deep.equal([]);
    expect(lines.filter((e) => e === "prices")).to.have.length(2);
  });

  it("real time: pushes only the jumping market, at the path's pace scaled by speed", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    const { feeder, lines } = feederWith(ctx, false, 3600 * 20); // an hour of path every 50 ms
    const [, , , ethBefore] = await ctx.s.feeds.ETH.latestRoundData();
    const plan = jumpPlan([parseJump("BTC:-12%"), parseJump("BTC:+10%")], await feeder.currentPrices(), 3600);
    const t0 = Date.now();
    expect(await feeder.run(plan)).to.equal(2);
    expect(Date.now() - t0).to.be.greaterThanOrEqual(45);
    expect((await ctx.s.feeds.BTC.latestRoundData())[1]).to.equal(96_800n * P);
    expect((await ctx.s.feeds.ETH.latestRoundData())[3]).to.equal(ethBefore);
    expect(lines.filter((l) => l.event === "prices").map((l) => l.prices)).to.deep.equal([
      { BTC: "88000.0" },
      { BTC: "96800.0" },
    ]);
  });

  it("stops after the current step when asked", async function () {
    const ctx = await networkHelpers.loadFixture(setup);
    const { feeder, lines } = feederWith(ctx, false, 3600 * 10); // 100 ms between steps
    const plan = gbmPlan({
      markets: ["BTC", "ETH"],
      starts: await feeder.currentPrices(),
      seed: 1,
      drift: 0,
      volatility: 0.5,
      stepSeconds: 3600,
      steps: 50,
    });
    setTimeout(() => feeder.stop(), 150);
    const done = await feeder.run(plan);
    expect(done).to.be.within(1, 5);
    expect(lines.at(-1)).to.deep.include({ event: "done", steps: done, of: 50 });
  });
});
