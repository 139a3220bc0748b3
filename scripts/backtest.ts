// npm run backtest -- [--days 365] [--seed 1] [--csv file.csv] [--leverage 2,3,5] [--bands 0.1,0.33] [--fees default] [--out out/backtest]
import { backtestMain } from "../src/backtest/cli.ts";
import { runProgram } from "../src/cli/pipes.ts";

await runProgram("backtest", backtestMain);
