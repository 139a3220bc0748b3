// Differential property test: random sequences of mint, redeem, transfer, price moves (with gaps
// past the ripcord and to depletion), time jumps, funding changes, rebalances, delisting and
// settlement, run on the in-process chain and on the exact engine; after every transaction both
// agree on every number and on which calls revert. ENGINE_SEQUENCES / ENGINE_STEPS / ENGINE_SEED
// for longer runs; ENGINE_REPLAY=<file or JSON> replays a printed failing sequence.
import { expect } from "chai";
import fc from "fast-check";
import { readFileSync, existsSync } from "node:fs";
import { network } from "hardhat";
import { DifferentialRunner, Mismatch, deployFixture, type Fixture } from "./lib/runner.ts";
import { stepArb, stepsFromJson, stepsToJson, type Step } from "./lib/steps.ts";

const { ethers, networkHelpers } = await network.create();

const SEQUENCES = Number(process.env.ENGINE_SEQUENCES ?? 200);
const STEPS = Number(process.env.ENGINE_STEPS ?? 50);
const SEED = process.env.ENGINE_SEED === undefined ? undefined : Number(process.env.ENGINE_SEED);

async function fixture(): Promise<Fixture> {
  return deployFixture(ethers);
}

async function runOnce(runner: DifferentialRunner, steps: readonly Step[]): Promise<Mismatch | undefined> {
  await networkHelpers.loadFixture(fixture);
  try {
    await runner.run(steps);
    return undefined;
  } catch (e) {
    if (e instanceof Mismatch) return e;
    throw e;
  }
}

/** Cuts the sequence after the failing step, then drops steps one by one while it still fails. */
async function shrink(
  runner: DifferentialRunner,
  steps: Step[],
  first: Mismatch,
): Promise<[Step[], Mismatch]> {
  let best = steps.slice(0, first.stepIndex + 1);
  let failure = first;
  let budget = 400;
  for (let i = best.length - 1; i >= 0 && budget > 0; i--) {
    const candidate = best.filter((_, k) => k !== i);
    budget--;
    const m = await runOnce(runner, candidate);
    if (m !== undefined) {
      best = candidate.slice(0, m.stepIndex + 1);
      failure = m;
      i = Math.min(i, best.length);
    }
  }
  return [best, failure];
}

describe("Engine vs chain (differential)", function () {
  this.timeout(0);

  const replay = process.env.ENGINE_REPLAY;
  const title =
    replay === undefined
      ? `agrees after every step of ${SEQUENCES} random sequences of ${STEPS} steps`
      : "agrees after every step of the sequence in ENGINE_REPLAY";

  it(title, async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const runner = new DifferentialRunner(f, networkHelpers, ethers);
    if (replay !== undefined) {
      const steps = stepsFromJson(existsSync(replay) ? readFileSync(replay, "utf8") : replay);
      runner.trace = true;
      const m = await runOnce(runner, steps);
      expect(m?.message).to.equal(undefined);
      return;
    }
    let failed: { steps: Step[]; mismatch: Mismatch } | undefined;
    const started = Date.now();
    const result = await fc.check(
      fc.asyncProperty(fc.array(stepArb, { minLength: STEPS, maxLength: STEPS }), async (steps) => {
        const m = await runOnce(runner, steps);
        if (m !== undefined) failed = { steps, mismatch: m };
        const find = process.env.ENGINE_FIND;
        if (find !== undefined && [...runner.seen].some((o) => o.includes(find))) {
          console.log(`      a sequence with "${find}": ${stepsToJson(steps)}`);
        }
        return m === undefined;
      }),
      { numRuns: SEQUENCES, seed: SEED, endOnFailure: true },
    );
    const seconds = (Date.now() - started) / 1000;
    const { txs, reverts } = runner.stats;
    console.log(
      `      ${result.numRuns} sequences, ${txs} transactions (${reverts} reverted on both sides) in ${seconds.toFixed(1)} s` +
        ` (seed ${result.seed})`,
    );
    if (process.env.ENGINE_VERBOSE !== undefined) {
      for (const [k, n] of [...runner.outcomes].sort()) console.log(`        ${k}: ${n}`);
    }
    if (failed !== undefined) {
      const [steps, mismatch] = await shrink(runner, failed.steps, failed.mismatch);
      console.log(`      shrunk to ${steps.length} steps; replay with ENGINE_REPLAY='${stepsToJson(steps)}'`);
      expect.fail(mismatch.message);
    }
    expect(result.failed, String(result.errorInstance)).to.equal(false);
    // the token never disagrees with the exchange and never panics: a trade it cannot pay for depletes
    // it, a payout that would be nothing is refused with a named error
    const broken = [...runner.outcomes.keys()].filter((k) => /ExchangeMismatch|Panic/.test(k));
    expect(broken, `calls that reverted ExchangeMismatch or panicked: ${broken.join(", ")}`).to.deep.equal(
      [],
    );
    // a mint or a redeem that found a rebalance due sent it in its own trade (TradesJoined)
    if (replay === undefined) {
      const joined = [...runner.outcomes.keys()].filter((k) => k.endsWith("a due rebalance first, joined"));
      expect(joined, "no mint or redeem joined a due rebalance to its trade").to.not.deep.equal([]);
    }
  });
});
