// npm run feeder -- --gbm --seed 1 --vol 0.6 --step 1h --steps 8760 --fast | --csv file --market BTC | --jump BTC:-12%
import { feederMain } from "../src/feeder/cli.ts";
import { runProgram } from "../src/cli/pipes.ts";

await runProgram("feeder", feederMain);
