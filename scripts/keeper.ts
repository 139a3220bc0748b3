// npm run keeper -- [--network localhost] [--once] [--dry-run] [--interval ms] [--key hex] ...
import { keeperMain } from "../src/keeper/cli.ts";
import { runProgram } from "../src/cli/pipes.ts";

await runProgram("keeper", keeperMain);
