// `npm run arb -- [options]`: parses the command line, connects, runs the NAV arbitrage over every
// pool of deployments/<network>.json (one pass with --once). Errors are one plain sentence and a
// non-zero exit.
import { Option } from "commander";
import { addPassOptions, botCommand, startBot, type PassOptions } from "../chain/bot.ts";
import { connect } from "../chain/connection.ts";
import { withChainTokens } from "../chain/factoryTokens.ts";
import { nameList, parseCommandLine, positiveInt, wholeNumberOrZero } from "../common/options.ts";
import { runArbitrage } from "./arbitrage.ts";
import { DEFAULT_MIN_PROFIT, usdtOption } from "./arbShared.ts";

const CONNECTION = { signer: "the arbitrageur", keyEnv: "ARB_KEY", account: true };

export async function arbMain(argv: string[]): Promise<number> {
  const program = botCommand(
    "arb",
    "Keeps each token's Uniswap V2 pool inside the no-arbitrage band around NAV",
    CONNECTION,
  )
    .option("--interval <ms>", "poll interval in milliseconds", positiveInt("--interval"), 2000)
    .option("--tokens <symbols>", "comma-separated symbols to arbitrage (default: every pool)")
    .option(
      "--token-refresh <passes>",
      "re-read the factory's token list and their pools every this many passes (0: only at start)",
      wholeNumberOrZero,
      5,
    )
    .addOption(
      // a bigint default needs its own words: commander's help cannot print one
      new Option(
        "--min-profit <usdt>",
        "the least profit, in USDT, the engine must expect of a trade before it is opened",
      )
        .argParser(usdtOption("--min-profit"))
        .default(DEFAULT_MIN_PROFIT, "1"),
    );
  addPassOptions(program, "pool");
  const stop = parseCommandLine(program, argv);
  if (stop !== undefined) return stop;
  const o = program.opts<
    PassOptions & {
      minProfit: bigint;
    }
  >();
  const { log, book, signal } = startBot(o);
  if (book.pools === undefined || book.uniswap === undefined) {
    throw new Error(
      `the address book for "${o.network}" has no pools; redeploy: npm run deploy -- --network ${o.network}`,
    );
  }
  const { provider, signer } = await connect(o, book, CONNECTION.keyEnv, Math.min(o.interval, 1000));
  const symbols = nameList(o.tokens);
  for (const s of symbols ?? []) {
    if (book.pools[s] === undefined)
      throw new Error(`no pool for ${s} (pools: ${Object.keys(book.pools).join(", ")})`);
  }
  const failures = await runArbitrage(
    // desk trades open across passes: what each request expected, for the report of its fill
    {
      signer,
      book: await withChainTokens(book, provider),
      log,
      dryRun: o.dryRun,
      symbols,
      open: new Map(),
      minProfit: o.minProfit,
    },
    {
      once: o.once,
      intervalMs: o.interval,
      signal,
      // an explicit --tokens list stays as given
      tokenRefreshPasses: symbols === undefined ? o.tokenRefresh : 0,
    },
  );
  provider.destroy();
  return o.once && failures > 0 ? 1 : 0;
}
