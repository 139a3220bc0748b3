// lt, the wallet CLI: npm run lt -- <command> ... (see src/cli/program.ts, or lt --help).
import { runCli } from "../src/cli/program.ts";

process.exitCode = await runCli(process.argv.slice(2));
