// npm run soak -- [--minutes 15] [--wallets 3] [--seed 1] [--vol 30] [--out out/soak]
import { soakMain } from "../src/soak/cli.ts";

try {
  process.exitCode = await soakMain(process.argv.slice(2));
} catch (e) {
  console.error(`soak: ${(e as Error).message}`);
  process.exitCode = 1;
}
