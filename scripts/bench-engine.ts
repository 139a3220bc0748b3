// npm run bench:engine: engine speed on a 1,000,000-step GBM path; writes out/bench/engine.json.
import { formatEngineBench, runEngineBench } from "../src/bench/engine.ts";

const steps = Number(process.env.BENCH_STEPS ?? 1_000_000);
if (!Number.isInteger(steps) || steps < 1) {
  console.error(`BENCH_STEPS must be a positive whole number, got ${process.env.BENCH_STEPS}`);
  process.exit(1);
}
const result = runEngineBench({
  steps,
  stepSeconds: 60,
  seed: 42,
  volatility: 0.6,
  idealSteps: steps,
  out: "out/bench/engine.json",
});
console.log(formatEngineBench(result));
console.log("  written to out/bench/engine.json");
