// npm run demo -- [--days 365] [--step 1h] [--seed 1] [--csv BTC=file.csv] [--network localhost] [--log-scale] [--out out/demo]
import { demoMain } from "../src/demo/cli.ts";

try {
  process.exitCode = await demoMain(process.argv.slice(2));
} catch (e) {
  console.error(`demo: ${(e as Error).message}`);
  process.exitCode = 1;
}
