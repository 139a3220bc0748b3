// `npm run keeper -- [options]`: parses the command line, connects, runs the Keeper until SIGINT or
// SIGTERM (or one pass with --once). Errors are one plain sentence and a non-zero exit.
import { Command } from "commander";
import { readAddressBook } from "../chain/addressBook.ts";
import { addConnectionOptions, checkChainId, openSigner, rpcUrlOf } from "../chain/connection.ts";
import { withChainTokens } from "../chain/factoryTokens.ts";
import { fetchChainId } from "../chain/rpc.ts";
import {
  nameList,
  onStopSignal,
  parseCommandLine,
  positiveInt,
  wholeNumberOrZero,
} from "../common/options.ts";
import { DEFAULT_KEEPER_OPTIONS, Keeper } from "./keeper.ts";
import { jsonLogger } from "../common/log.ts";
import { backoffMs, isTransient, sleep } from "../common/retry.ts";

const CONNECTION = { signer: "the keeper", keyEnv: "KEEPER_KEY", account: true };

export async function keeperMain(argv: string[]): Promise<number> {
  const program = addConnectionOptions(
    new Command("keeper").description(
      "Rebalances, accrues fees and settles every token in deployments/<network>.json",
    ),
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
    )
    .option("--once", "one pass over every token, then exit", false)
    .option("--dry-run", "decide and log, never send a transaction", false);
  const stop = parseCommandLine(program, argv);
  if (stop !== undefined) return stop;
  const o = program.opts<{
    network: string;
    rpc?: string;
    key?: string;
    account: number;
    interval: number;
    feeInterval: number;
    batch: number;
    txTimeout: number;
    maxReplacements: number;
    tokenRefresh: number;
    tokens?: string;
    deployments: string;
    once: boolean;
    dryRun: boolean;
  }>();
  const log = jsonLogger();
  const book = readAddressBook(o.network, o.deployments);
  const url = rpcUrlOf(o);

  const controller = new AbortController();
  let keeper: Keeper | undefined;
  const onSignal = (signal: string) => {
    log("stopping", { signal });
    controller.abort();
    keeper?.stop();
  };
  onStopSignal(onSignal);

  // wait for the node (a keeper started before its node is fine)
  let chainId: number | undefined;
  for (let attempt = 0; chainId === undefined && !controller.signal.aborted; attempt++) {
    try {
      chainId = await fetchChainId(url);
    } catch (e) {
      if (!isTransient(e) && !(e instanceof TypeError)) throw e;
      if (o.once && attempt + 1 >= DEFAULT_KEEPER_OPTIONS.onceAttempts) {
        throw new Error(`cannot reach the RPC at ${url} (${(e as Error).message})`);
      }
      if (attempt === 0) log("rpc-unavailable", { url, message: (e as Error).message });
      await sleep(backoffMs(attempt, o.interval, DEFAULT_KEEPER_OPTIONS.maxBackoffMs), controller.signal);
    }
  }
  if (chainId === undefined) return 0;
  checkChainId(o, book, url, chainId);
  const { provider, signer } = await openSigner(
    o,
    url,
    chainId,
    CONNECTION.keyEnv,
    Math.min(o.interval, 1000),
  );
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
  if (controller.signal.aborted) keeper.stop();
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
