// Engine speed: steps per second of the exact twin (a price update and a rebalance check each step,
// a keeper rebalance when needed) and of the ideal band model (decimal.js) on one seeded GBM path,
// against a plain float64 loop doing the same band model in the same run.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { DEFAULT_FEES, EXCHANGE, MARKETS, USDT, tokenParams } from "../common/params.ts";
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
    bigintOnlyStepsPerSecond: number;
  };
  idealBand: { stepsPerSecond: number; seconds: number; steps: number; rebalances: number; value: string };
  float64Band: { stepsPerSecond: number; seconds: number; rebalances: number; value: number };
  exactOverFloat: number;
  idealOverFloat: number;
  node: string;
}

/** Block time of the first price. */
const START = 1_800_000_000n;

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/** One timed replay of the exact twin over `prices` on a fresh system. */
function replayOnce(prices: BigInt64Array, stepSeconds: number, noScreen = false) {
  const start = START;
  const params = tokenParams("BTC", 3n, true);
  const e = localSystem({
    markets: [{ ...MARKETS.BTC, initialPrice: prices[0]! }],
    tokens: [params],
    time: start,
    poolLiquidity: EXCHANGE.poolLiquidity * 100n,
  });
  const token = e.token(params.symbol);
  const user = syntheticAddress(0xa1);
  // only the token's desk deposits: it mints the user's position
  e.world.usdt.mint(token.desk, 1_000_000n * USDT);
  e.world.usdt.approve(token.desk, token.address, 1_000_000n * USDT);
  token.deposit({ from: token.desk, time: start }, 1_000_000n * USDT, user);
  e.world.log.enabled = false;
  const t0 = process.hrtime.bigint();
  const r = replayPrices(e, token, e.feed("BTC"), prices, {
    startTime: start,
    stepSeconds: BigInt(stepSeconds),
    keeper: syntheticAddress(1),
    feeder: syntheticAddress(1),
    noScreen,
  });
  return { ...r, seconds: seconds(t0), nav: token.nav(r.endTime) };
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

  // exact twin: a 3x long with 1,000,000 USDT, fed every step, rebalanced by a keeper when needed;
  // run three times on fresh systems (the machine may be shared), the median is reported
  const runs = [0, 1, 2].map(() => replayOnce(prices, o.stepSeconds));
  runs.sort((a, b) => a.seconds - b.seconds);
  const exact = runs[1]!;
  // the same twin checking every step in BigInt only (no float screen): same result, slower
  const bigintOnly = replayOnce(prices, o.stepSeconds, true);
  if (bigintOnly.nav !== exact.nav || bigintOnly.rebalances !== exact.rebalances) {
    throw new Error("the screened and the BigInt-only replays disagree: the screen is wrong");
  }

  // float64 band model, same path, same band; repeated so the timer sees enough work, median of 3
  // the contract's rule: band [2x, 4x] and the daily 00:00 UTC rebalance when off by > 0.05x
  const band = {
    target: 3,
    min: 2,
    max: 4,
    isLong: true,
    takerFee: 0.0005,
    dailyEpsilon: 0.05,
    stepSeconds: o.stepSeconds,
    startTime: Number(START),
  };
  let floatResult = bandValueFloat(floats, band);
  const repeats = 10;
  const floatTimes = [0, 1, 2].map(() => {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < repeats; r++) {
      floatResult = bandValueFloat(floats, band);
    }
    return seconds(t0) / repeats;
  });
  floatTimes.sort((a, b) => a - b);
  const floatSeconds = floatTimes[1]!;

  // ideal band model in decimal.js (40 digits)
  const idealSteps = Math.min(o.idealSteps, o.steps);
  const idealPath = Array.from(floats.subarray(0, idealSteps + 1));
  const t = process.hrtime.bigint();
  // with the twin's funding (0.01% per 8 h) and management fee, so its value is comparable to NAV
  const ideal = bandValue(idealPath, {
    ...band,
    fundingRate: Number(MARKETS.BTC.fundingRate) / 1e18,
    managementFee: Number(DEFAULT_FEES.managementFee) / 1e18,
  });
  const idealSeconds = seconds(t);

  const floatRate = o.steps / floatSeconds;
  const exactRate = o.steps / exact.seconds;
  const idealRate = idealSteps / idealSeconds;
  const result: EngineBenchResult = {
    steps: o.steps,
    stepSeconds: o.stepSeconds,
    seed: o.seed,
    exactTwin: {
      stepsPerSecond: exactRate,
      seconds: exact.seconds,
      rebalances: exact.rebalances,
      nav: exact.nav.toString(),
      screenedChecks: exact.screened,
      exactChecks: exact.exactChecks,
      bigintOnlyStepsPerSecond: o.steps / bigintOnly.seconds,
    },
    idealBand: {
      stepsPerSecond: idealRate,
      seconds: idealSeconds,
      steps: idealSteps,
      rebalances: ideal.rebalances,
      value: ideal.value.toSignificantDigits(12).toString(),
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
    `  exact twin (screened)   ${rate(r.exactTwin.stepsPerSecond)}  (${r.exactTwin.seconds.toFixed(2)} s, ${r.exactTwin.rebalances} rebalances; ${r.exactTwin.exactChecks} of ${r.steps} checks needed BigInt)`,
    `  exact twin, BigInt only ${rate(r.exactTwin.bigintOnlyStepsPerSecond)}  (every check in BigInt: same NAV, same rebalances)`,
    `  ideal band (decimal.js) ${rate(r.idealBand.stepsPerSecond)}  (${r.idealBand.steps.toLocaleString("en-US")} steps in ${r.idealBand.seconds.toFixed(2)} s, ${r.idealBand.rebalances} rebalances)`,
    `  end value: exact twin NAV ${(Number(r.exactTwin.nav) / 1e6).toFixed(6)} USDT, ideal band ${Number(r.idealBand.value).toFixed(6)}, float64 band ${r.float64Band.value.toFixed(6)} (fees and funding only in the first two)`,
    `  float64 band loop       ${rate(r.float64Band.stepsPerSecond)}  (${(r.float64Band.seconds * 1000).toFixed(1)} ms, ${r.float64Band.rebalances} rebalances)`,
    `  exact twin / float64 = 1/${(1 / r.exactOverFloat).toFixed(1)}; ideal / float64 = 1/${(1 / r.idealOverFloat).toFixed(0)}`,
  ].join("\n");
}
