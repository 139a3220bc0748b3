// npm run arb -- [--network localhost] [--once] [--dry-run] [--interval ms] [--key hex] [--tokens BTC3L,...]
import { arbMain } from "../src/spot/cli.ts";
import { runProgram } from "../src/cli/pipes.ts";

await runProgram("arb", arbMain);
