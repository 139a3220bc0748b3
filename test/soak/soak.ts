// The soak for two minutes (npm run soak -- --minutes 2, in this process): its own anvil, the feeder,
// two keepers, the arbitrage bot and three wallets under the faults (a keeper killed and restarted,
// the other's RPC cut, the feeder stopped across a 70-minute clock jump). Nothing may crash or fail
// unexplained, USDT must be conserved to the unit, and the engine replaying every transaction must
// end at the chain's NAV. Timing-dependent figures are bounded loosely (a loaded 2-core machine).
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSoak } from "../../src/soak/run.ts";
import { isCleanRefusal } from "../../src/soak/wallets.ts";
import type { SoakSummary } from "../../src/soak/summary.ts";

describe("soak: what counts as a clean refusal", function () {
  it("takes lt's plain refusals, a pool too far from NAV among them, and nothing else", function () {
    expect(
      isCleanRefusal(
        "buying BTC3S in the pool pays 1.107033 USDT a token, 98.5223% above its NAV of 0.557636 (more than --max-premium 1%): minting is cheaper (lt mint BTC3S); pass a larger --max-premium to buy anyway",
      ),
    ).to.equal(true);
    expect(
      isCleanRefusal(
        "selling BTC3S in the pool pays 0.558011 USDT a token, 1.1122% below its NAV of 0.564287 (more than --max-premium 1%): redeeming pays more (lt redeem BTC3S); pass a larger --max-premium to sell anyway",
      ),
    ).to.equal(true);
    expect(isCleanRefusal("slippage exceeded: got 1 BTC3L, at least 2 wanted")).to.equal(true);
    expect(
      isCleanRefusal(
        "the swap's deadline passed before it was mined; nothing was swapped (try a longer --deadline)",
      ),
    ).to.equal(true);
    expect(isCleanRefusal("could not decode result data")).to.equal(false);
    expect(isCleanRefusal("Division by zero")).to.equal(false);
  });
});

describe("soak: two minutes of load and faults on anvil", function () {
  this.timeout(900_000);
  const out = mkdtempSync(join(tmpdir(), "lt-soak-"));
  let s: SoakSummary;

  before(async function () {
    s = await runSoak({ minutes: 2, wallets: 3, seed: 7, volatility: 30, outDir: out, say: () => undefined });
  });

  after(() => rmSync(out, { recursive: true, force: true }));

  it("ends with no problem: no crash, no unexplained error, USDT conserved, chain NAV = engine NAV", function () {
    expect(s.problems).to.deep.equal([]);
    expect(s.ok).to.equal(true);
    expect(s.crashes).to.deep.equal([]);
    expect(s.actions.unexplained).to.equal(0);
    expect(s.conservation.exact).to.equal(true);
    expect(s.conservation.holders).to.be.greaterThan(10);
    expect(s.engine.mismatches).to.deep.equal([]);
    expect(s.engine.tokens).to.have.length(4);
    for (const t of s.engine.tokens) expect(t.chainNav, t.symbol).to.equal(t.engineNav);
    expect(s.engine.replayed).to.be.greaterThan(50);
  });

  it("ran the load and injected every fault", function () {
    expect(s.actions.total).to.be.greaterThan(10);
    expect(s.actions.done).to.be.greaterThan(0);
    expect(s.faults.map((f) => f.what.split(/[;(]/)[0]!.trim())).to.deep.equal([
      "keeper A killed",
      "keeper A restarted",
      "keeper B's RPC cut for 12 s",
      "keeper B's RPC restored",
      "feeder stopped",
      "feeder restarted at step " + s.faults.at(-1)!.what.split(" ").at(-1),
    ]);
    expect(s.arbitrage["arb-trade"] ?? 0).to.be.greaterThan(0);
    expect(readdirSync(join(out, "logs")).filter((f) => f.startsWith("keeper"))).to.deep.equal([
      "keeper_A.log",
      "keeper_B.log",
    ]);
    const starts = readFileSync(join(out, "logs", "keeper_A.log"), "utf8").match(/"event":"started"/g);
    expect(starts).to.have.length(2); // killed and restarted
  });

  it("rebalanced every token that needed it, once, and logged each one the chain shows", function () {
    expect(s.rebalances.events).to.be.greaterThan(0);
    expect(s.rebalances.matched).to.equal(true);
    expect(s.rebalances.doubles).to.equal(0);
    expect(s.longestNeedWhileLive.seconds).to.be.lessThan(60);
  });

  it("kept its logs quiet while prices were stale: one line per token per keeper process", function () {
    // three keeper processes (A, A restarted, B) and four tokens, each stale price said once
    expect(s.keeperErrors["reverted StalePrice"] ?? 0).to.be.at.most(12);
    expect(s.arbitrage["arb-stale"] ?? 0).to.be.at.most(2);
    expect(s.arbitrage["arb-failed"] ?? 0).to.be.lessThan(10);
  });
});
