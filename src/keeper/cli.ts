// `npm run keeper -- [options]`: parses the command line, connects, runs the Keeper until SIGINT or
// SIGTERM (or one pass with --once). Errors are one plain sentence and a non-zero exit.
import { addPassOptions, botCommand, startBot, type PassOptions } from "../chain/bot.ts";
import { connectWhenUp } from "../chain/connection.ts";
import { withChainTokens } from "../chain/factoryTokens.ts";
import { nameList, parseCommandLine, positiveInt, wholeNumberOrZero } from "../common/options.ts";
import { DEFAULT_KEEPER_OPTIONS, Keeper } from "./keeper.ts";

const CONNECTION = { signer: "the keeper", keyEnv: "KEEPER_KEY", account: true };

export async function keeperMain(argv: string[]): Promise<number> {
  const program = botCommand(
    "keeper",
    "Rebalances, accrues fees and settles every token in deployments/<network>.json",
    CONNECTION,
  )
    .option(
      "--interval <ms>",
      "poll interval in milliseconds",
      positiveInt("--interval"),
      DEFAULT_KEEPER_OPTIONS.intervalMs,
    )
    .option(
      "--fee-interval <seconds>",
      "accrue the management fee after this much chain time (0 = never)",
      wholeNumberOrZero,
      DEFAULT_KEEPER_OPTIONS.feeIntervalSeconds,
    )
    .option(
      "--batch <n>",
      "holders paid per settleHolders transaction",
      positiveInt("--batch"),
      DEFAULT_KEEPER_OPTIONS.holderBatch,
    )
    .option(
      "--tx-timeout <ms>",
      "wait this long for a receipt, then resend with a higher fee and the same nonce",
      positiveInt("--tx-timeout"),
      DEFAULT_KEEPER_OPTIONS.txTimeoutMs,
    )
    .option(
      "--max-replacements <n>",
      "resends of one stuck transaction before giving up on it",
      wholeNumberOrZero,
      DEFAULT_KEEPER_OPTIONS.maxReplacements,
    )
    .option(
      "--token-refresh <polls>",
      "re-read the factory's token list every this many polls, to watch tokens created since (0 = never)",
      wholeNumberOrZero,
      DEFAULT_KEEPER_OPTIONS.tokenRefreshPolls,
    )
    .option(
      "--tokens <symbols>",
      "comma-separated symbols to watch (default: all, and every token created later)",
    );
  addPassOptions(program, "token");
  const stop = parseCommandLine(program, argv);
  if (stop !== undefined) return stop;
  const o = program.opts<
    PassOptions & {
      feeInterval: number;
      batch: number;
      txTimeout: number;
      maxReplacements: number;
    }
  >();
  let keeper: Keeper | undefined;
  const { log, book, signal } = startBot(o, () => keeper?.stop());
  // wait for the node (a keeper started before its node is fine)
  const connection = await connectWhenUp(o, book, CONNECTION.keyEnv, Math.min(o.interval, 1000), {
    signal,
    attempts: o.once ? DEFAULT_KEEPER_OPTIONS.onceAttempts : undefined,
    baseMs: o.interval,
    maxMs: DEFAULT_KEEPER_OPTIONS.maxBackoffMs,
    log,
  });
  if (connection === undefined) return 0;
  const { provider, signer } = connection;
  keeper = new Keeper(provider, signer, await withChainTokens(book, provider), log, {
    intervalMs: o.interval,
    once: o.once,
    dryRun: o.dryRun,
    feeIntervalSeconds: o.feeInterval,
    holderBatch: o.batch,
    txTimeoutMs: o.txTimeout,
    maxReplacements: o.maxReplacements,
    tokenRefreshPolls: o.tokenRefresh,
    symbols: nameList(o.tokens),
  });
  if (signal.aborted) keeper.stop();
  await keeper.run();
  provider.destroy();
  if (o.once && keeper.errorCount > 0)
    throw new Error(onceErrorSentence(keeper.errorsMet, keeper.errorCount));
  return 0;
}

/**
 * The one sentence a `--once` pass that met errors ends with (the exit code is then 1): how many, and
 * the first one's token and reason.
 */
export function onceErrorSentence(
  errors: readonly { token: string; message: string }[],
  count: number,
): string {
  const first = errors[0];
  const what = count === 1 ? "an error" : `${count} errors`;
  return first === undefined
    ? `the pass met ${what}; see the error lines above`
    : `the pass met ${what}, the first on ${first.token}: ${first.message}`;
}
