// npm run demo -- [--days 365] [--step 1h] [--seed 1] [--csv BTC=file.csv] [--network localhost] [--log-scale] [--out out/demo]
import { demoMain } from "../src/demo/cli.ts";
import { runProgram } from "../src/cli/pipes.ts";

await runProgram("demo", demoMain);
