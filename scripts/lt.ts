// lt, the wallet CLI: npm run lt -- <command> ... (see src/cli/program.ts, or lt --help).
import { stopQuietlyOnBrokenPipe } from "../src/cli/pipes.ts";

stopQuietlyOnBrokenPipe();
try {
  const { runCli } = await import("../src/cli/program.ts");
  const { engineQuoteSource } = await import("../src/cli/engineQuote.ts");
  process.exitCode = await runCli(process.argv.slice(2), { engineQuote: engineQuoteSource });
} catch (e) {
  // runCli turns every failure into a sentence; what lands here is a checkout that is not built
  const unbuilt = (e as { code?: string }).code === "ERR_MODULE_NOT_FOUND";
  console.error(
    `lt: ${unbuilt ? "the contract types are not built yet; run: npm run build" : (e as Error).message}`,
  );
  process.exitCode = 1;
}
