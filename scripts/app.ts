// npm run app -- [--network <name>] [--rpc <url>] [--port <n>]: the traders' web page (src/app/cli.ts).
import { appMain } from "../src/app/cli.ts";

try {
  const served = await appMain(process.argv.slice(2));
  const stop = () => void served.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (e) {
  const code = (e as { code?: string }).code;
  // commander has printed its own message for --help and bad options
  if (code !== "commander.helpDisplayed" && !String(code).startsWith("commander."))
    console.error(`app: ${(e as Error).message}`);
  process.exitCode = code === "commander.helpDisplayed" ? 0 : 1;
}
