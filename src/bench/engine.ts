// Engine speed: steps per second of the exact twin (a price update and a rebalance check each step,
// a keeper rebalance when needed) and of the ideal band model (decimal.js) on one seeded GBM path,
// against a plain float64 loop doing the same band model in the same run.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { EXCHANGE, MARKETS, USDT, tokenParams } from "../chain/params.ts";
import { gbmPrices, toPrice8 } from "../feeds/paths.ts";
import { bandValue, bandValueFloat } from "../engine/ideal.ts";
import { replayPrices } from "../engine/replay.ts";
import { localSystem, syntheticAddress } from "../engine/system.ts";

export interface EngineBenchOptions {
  steps: number;
  stepSeconds: number;
  seed: number;
  volatility: number;
  /** Steps of the decimal.js band model to time (it is the slow one); the rate is per step. */
  idealSteps: number;
  out: string;
}

export interface EngineBenchResult {
  steps: number;
  stepSeconds: number;
  seed: number;
  exactTwin: {
    stepsPerSecond: number;
    seconds: number;
    rebalances: number;
    nav: string;
    screenedChecks: number;
    exactChecks: number;
  };
  idealBand: { stepsPerSecond: number; seconds: number; steps: number; rebalances: number };
  float64Band: { stepsPerSecond: number; seconds: number; rebalances: number; value: number };
  exactOverFloat: number;
  idealOverFloat: number;
  node: string;
}

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

export function runEngineBench(o: EngineBenchOptions): EngineBenchResult {
  const floats = gbmPrices({
    seed: o.seed,
    start: 100_000,
    steps: o.steps,
    stepSeconds: o.stepSeconds,
    drift: 0,
    volatility: o.volatility,
  });
  const prices = new BigInt64Array(floats.length);
  for (let k = 0; k < floats.length; k++) prices[k] = toPrice8(floats[k]!);

  // exact twin: a 3x long with 1,000,000 USDT, fed every step, rebalanced by a keeper when needed
  const start = 1_800_000_000n;
  const params = tokenParams("BTC", 3n, true);
  const e = localSystem({
    markets: [{ ...MARKETS.BTC, initialPrice: prices[0]! }],
    tokens: [params],
    time: start,
    poolLiquidity: EXCHANGE.poolLiquidity * 100n,
  });
  const token = e.token(params.symbol);
  const user = syntheticAddress(0xa1);
  e.world.usdt.mint(user, 1_000_000n * USDT);
  e.world.usdt.approve(user, token.address, 1_000_000n * USDT);
  token.deposit({ from: user, time: start }, 1_000_000n * USDT, user);
  e.world.log.enabled = false;
  let t = process.hrtime.bigint();
  const replay = replayPrices(e, token, e.feed("BTC"), prices, {
    startTime: start,
    stepSeconds: BigInt(o.stepSeconds),
    keeper: syntheticAddress(1),
    feeder: syntheticAddress(1),
  });
  const exactSeconds = seconds(t);
  const nav = token.nav(replay.endTime);

  // float64 band model, same path, same band; repeated so the timer sees enough work
  const band = { target: 3, min: 2, max: 4, takerFee: 0.0005 };
  let floatResult = bandValueFloat(floats, band.target, band.min, band.max, true, band.takerFee);
  const repeats = 20;
  t = process.hrtime.bigint();
  for (let r = 0; r < repeats; r++) {
    floatResult = bandValueFloat(floats, band.target, band.min, band.max, true, band.takerFee);
  }
  const floatSeconds = seconds(t) / repeats;

  // ideal band model in decimal.js (40 digits)
  const idealSteps = Math.min(o.idealSteps, o.steps);
  const idealPath = Array.from(floats.subarray(0, idealSteps + 1));
  t = process.hrtime.bigint();
  const ideal = bandValue(idealPath, {
    target: band.target,
    isLong: true,
    min: band.min,
    max: band.max,
    takerFee: band.takerFee,
    stepSeconds: o.stepSeconds,
  });
  const idealSeconds = seconds(t);

  const floatRate = o.steps / floatSeconds;
  const exactRate = o.steps / exactSeconds;
  const idealRate = idealSteps / idealSeconds;
  const result: EngineBenchResult = {
    steps: o.steps,
    stepSeconds: o.stepSeconds,
    seed: o.seed,
    exactTwin: {
      stepsPerSecond: exactRate,
      seconds: exactSeconds,
      rebalances: replay.rebalances,
      nav: nav.toString(),
      screenedChecks: replay.screened,
      exactChecks: replay.exactChecks,
    },
    idealBand: {
      stepsPerSecond: idealRate,
      seconds: idealSeconds,
      steps: idealSteps,
      rebalances: ideal.rebalances,
    },
    float64Band: {
      stepsPerSecond: floatRate,
      seconds: floatSeconds,
      rebalances: floatResult.rebalances,
      value: floatResult.value,
    },
    exactOverFloat: exactRate / floatRate,
    idealOverFloat: idealRate / floatRate,
    node: process.version,
  };
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, JSON.stringify(result, null, 2) + "\n");
  return result;
}

export function formatEngineBench(r: EngineBenchResult): string {
  const rate = (x: number) => `${Math.round(x).toLocaleString("en-US")} steps/s`;
  return [
    `Engine benchmark: ${r.steps.toLocaleString("en-US")}-step GBM path (seed ${r.seed}, ${r.stepSeconds} s steps)`,
    `  exact twin (BigInt)     ${rate(r.exactTwin.stepsPerSecond)}  (${r.exactTwin.seconds.toFixed(2)} s, ${r.exactTwin.rebalances} rebalances; ${r.exactTwin.exactChecks} of ${r.steps} checks needed BigInt)`,
    `  ideal band (decimal.js) ${rate(r.idealBand.stepsPerSecond)}  (${r.idealBand.steps.toLocaleString("en-US")} steps in ${r.idealBand.seconds.toFixed(2)} s)`,
    `  float64 band loop       ${rate(r.float64Band.stepsPerSecond)}  (${(r.float64Band.seconds * 1000).toFixed(1)} ms, ${r.float64Band.rebalances} rebalances)`,
    `  exact twin / float64 = 1/${(1 / r.exactOverFloat).toFixed(1)}; ideal / float64 = 1/${(1 / r.idealOverFloat).toFixed(0)}`,
  ].join("\n");
}
