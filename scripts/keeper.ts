// npm run keeper -- [--network localhost] [--once] [--dry-run] [--interval ms] [--key hex] ...
import { keeperMain } from "../src/keeper/cli.ts";
import { stopQuietlyOnBrokenPipe } from "../src/cli/pipes.ts";

stopQuietlyOnBrokenPipe();
try {
  process.exitCode = await keeperMain(process.argv.slice(2));
} catch (e) {
  console.error(`keeper: ${(e as Error).message}`);
  process.exitCode = 1;
}
