// npm run feeder -- --gbm --seed 1 --vol 0.6 --step 1h --steps 8760 --fast | --csv file --market BTC | --jump BTC:-12%
import { feederMain } from "../src/feeder/cli.ts";
import { stopQuietlyOnBrokenPipe } from "../src/cli/pipes.ts";

stopQuietlyOnBrokenPipe();
try {
  process.exitCode = await feederMain(process.argv.slice(2));
} catch (e) {
  console.error(`feeder: ${(e as Error).message}`);
  process.exitCode = 1;
}
