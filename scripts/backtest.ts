// npm run backtest -- [--days 365] [--seed 1] [--csv file.csv] [--leverage 2,3,5] [--bands 0.1,0.33] [--fees default] [--out out/backtest]
import { backtestMain } from "../src/backtest/cli.ts";

try {
  process.exitCode = await backtestMain(process.argv.slice(2));
} catch (e) {
  console.error(`backtest: ${(e as Error).message}`);
  process.exitCode = 1;
}
