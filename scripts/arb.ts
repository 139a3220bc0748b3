// npm run arb -- [--network localhost] [--once] [--dry-run] [--interval ms] [--key hex] [--tokens BTC3L,...]
import { arbMain } from "../src/spot/cli.ts";
import { stopQuietlyOnBrokenPipe } from "../src/cli/pipes.ts";

stopQuietlyOnBrokenPipe();
try {
  process.exitCode = await arbMain(process.argv.slice(2));
} catch (e) {
  console.error(`arb: ${(e as Error).message}`);
  process.exitCode = 1;
}
