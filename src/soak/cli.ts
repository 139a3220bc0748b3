// `npm run soak -- [--minutes 15] [--wallets 3] [--seed 1] [--vol 30] [--out out/soak]`: runs the soak,
// prints its figures, writes them to <out>/summary.json (each process's log to <out>/logs/), and exits
// non-zero on a crash, an unexplained error, USDT not conserved or the chain's NAV not the engine's.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { useMainBuild } from "../chain/processes.ts";
import { number, positiveInt, wholeNumber } from "../common/options.ts";
import { runSoak } from "./run.ts";
import { formatSummary } from "./report.ts";

export async function soakMain(argv: string[], mainBuild = true): Promise<number> {
  const program = new Command("soak")
    .description("The live system under load and faults on its own anvil, and what it found")
    .option("--minutes <n>", "how long the load and the faults run", number("--minutes"), 15)
    .option("--wallets <n>", "wallets doing random lt actions (at most 8)", positiveInt("--wallets"), 3)
    .option("--seed <n>", "seed of the price path and the actions", wholeNumber("--seed"), 1)
    .option("--vol <sigma>", "annual volatility of the price path (30 = 3,000%)", number("--vol"), 30)
    .option("--out <dir>", "where summary.json and the logs go", "out/soak")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 1;
  }
  const o = program.opts<{ minutes: number; wallets: number; seed: number; vol: number; out: string }>();
  if (!(o.minutes > 0)) throw new Error(`--minutes must be more than 0, got ${o.minutes}`);
  if (o.wallets > 8) throw new Error(`--wallets: at most 8 (the node's accounts 2 to 9), got ${o.wallets}`);
  if (mainBuild) useMainBuild();
  mkdirSync(o.out, { recursive: true });
  const summary = await runSoak({
    minutes: o.minutes,
    wallets: o.wallets,
    seed: o.seed,
    volatility: o.vol,
    outDir: o.out,
    say: (line) => process.stderr.write(line + "\n"),
  });
  const file = join(o.out, "summary.json");
  writeFileSync(file, JSON.stringify(summary, null, 2) + "\n");
  process.stdout.write(formatSummary(summary) + `\n(all of it in ${file})\n`);
  return summary.ok ? 0 : 2;
}
