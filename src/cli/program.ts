// The `lt` command line: commands, global options, output (text or --json) and the one place where
// every error becomes a plain sentence and a non-zero exit code.
import { Command, CommanderError, Option } from "commander";
import { rpcUrlFor } from "../chain/rpc.ts";
import { addAdminCommands } from "./adminProgram.ts";
import { balanceCommand } from "./balance.ts";
import { connect } from "./connect.ts";
import {
  cancelCommand,
  claimCommand,
  DEFAULT_REQUEST_DEADLINE,
  fillCommand,
  maxSlippageRefusal,
  requestsCommand,
} from "./desk.ts";
import { type Context, DEFAULT_NETWORK, DEFAULT_RPC_URL, type GlobalOptions } from "./context.ts";
import { CliError, explainError } from "./errors.ts";
import { toJson, type Report } from "./format.ts";
import { historyCommand, type HistoryOptions } from "./history.ts";
import { positionCommand, type PositionOptions } from "./position.ts";
import { type EngineQuoteFactory, quoteCommand } from "./quote.ts";
import {
  buyCommand,
  DEFAULT_DEADLINE,
  DEFAULT_MAX_PREMIUM,
  priceCommand,
  sellCommand,
  type SwapOptions,
} from "./spot.ts";
import { infoCommand, navCommand, tokensCommand } from "./tokens.ts";
import {
  DEFAULT_SLIPPAGE,
  mintCommand,
  type MintOptions,
  redeemCommand,
  type TradeOptions,
} from "./trade.ts";

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface CliOptions {
  /** The reference engine's quotes for `lt quote`; without it the engine column reads n/a. */
  engineQuote?: EngineQuoteFactory;
  io?: Partial<CliIo>;
}

const EXIT_OK = 0;
const EXIT_FAILURE = 1;

/** Runs `lt` with the user's arguments (argv without node and the script); resolves to the exit code. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<number> {
  const io: CliIo = {
    out: options.io?.out ?? ((t) => process.stdout.write(t + "\n")),
    err: options.io?.err ?? ((t) => process.stderr.write(t + "\n")),
    env: options.io?.env ?? process.env,
  };
  let exitCode = EXIT_OK;
  const usageErrors: string[] = [];

  /** Connects, runs one command and prints its report; any failure is one sentence and exit 1. */
  const execute = async (
    command: Command,
    body: (ctx: Context) => Promise<Report>,
    /** What can be refused from the command line alone, before the node is asked anything. */
    check?: () => void,
  ): Promise<void> => {
    const given = command.optsWithGlobals<Omit<GlobalOptions, "rpc"> & { rpc?: string }>();
    const g: GlobalOptions = { ...given, rpc: given.rpc ?? "" };
    let ctx: Context | undefined;
    try {
      check?.();
      // the same rule as every program: --rpc, else the network's own URL (RPC_URL, ANVIL_URL)
      g.rpc = given.rpc ?? rpcUrlFor(g.network, io.env);
      ctx = await connect(g, io.env);
      if (!g.json) ctx.progress = (line) => io.err(`lt: ${line}`);
      const report = await body(ctx);
      io.out(g.json ? toJson(report.data) : report.text);
    } catch (e) {
      const error = explainError(e, { rpcUrl: g.rpc });
      if (g.json) io.out(toJson({ error: error.message }));
      io.err(`lt: ${error.message}`);
      if (io.env.LT_DEBUG) io.err(e instanceof Error && e.stack ? e.stack : String(e));
      exitCode = EXIT_FAILURE;
    } finally {
      ctx?.provider.destroy();
    }
  };

  const program = new Command()
    .name("lt")
    .description(
      "Wallet for leveraged tokens: list, inspect, quote, mint, redeem (through the token's desk when it has one: requests, claims, fills), spot prices and swaps, balances and history.",
    )
    .option(
      "--network <name>",
      "network whose address book to use (deployments/<name>.json)",
      DEFAULT_NETWORK,
    )
    .option(
      "--rpc <url>",
      `JSON-RPC URL of the node (default: localhost RPC_URL or ${DEFAULT_RPC_URL}; anvil ANVIL_URL or http://127.0.0.1:8546; other networks RPC_URL)`,
    )
    .option("--deployments <dir>", "directory of the address books", "deployments")
    .option("--json", "print JSON instead of text", false)
    .addHelpText(
      "after",
      "\nAmounts are in human units (USDT, tokens). Transactions are signed with LT_PRIVATE_KEY if set,\n" +
        "else with the node's first unlocked account.",
    )
    .exitOverride()
    .configureOutput({
      writeOut: (t) => io.out(t.trimEnd()),
      writeErr: (t) => io.err(t.trimEnd()),
      // usage errors are sentences like every other failure (and JSON with --json), printed below
      outputError: (t) => usageErrors.push(t.trim().replace(/^error: /, "")),
    });

  /** A command of one token: `lt <name> <symbol>`. */
  const symbolCommand = (
    name: string,
    description: string,
    run: (ctx: Context, symbol: string) => Promise<Report>,
  ) =>
    program
      .command(name)
      .description(description)
      .argument("<symbol>", "token symbol, e.g. BTC3L")
      .action(async (symbol: string, _opts: object, cmd: Command) => execute(cmd, (ctx) => run(ctx, symbol)));

  program
    .command("tokens")
    .description("list the tokens of the network, with state and NAV")
    .action(async (_opts: object, cmd: Command) => execute(cmd, (ctx) => tokensCommand(ctx)));

  symbolCommand(
    "info",
    "target and current leverage, band, next trigger prices, fees, state, NAV",
    infoCommand,
  );

  symbolCommand("nav", "NAV per token in USDT", navCommand);

  program
    .command("quote")
    .description(
      "what a mint (USDT in) or a redeem (tokens in) would give: the token's preview and the engine's",
    )
    .argument("<side>", "mint or redeem")
    .argument("<symbol>", "token symbol")
    .argument("<amount>", "USDT to mint with, or tokens to redeem (or all)")
    .action(async (side: string, symbol: string, amount: string, _opts: object, cmd: Command) =>
      execute(cmd, (ctx) => quoteCommand(ctx, side, symbol, amount, options.engineQuote)),
    );

  const DESK_HELP =
    "\nEvery token mints and redeems through its desk (forward pricing): this places a request, filled at the\n" +
    "next price round by the keeper: it waits for the fill (until --deadline), claims it and prints the NAV it\n" +
    "got and the costs. The keeper and the price feeder must be running; past the deadline the request stays\n" +
    "pending and nothing is lost (lt requests, lt claim). A request takes no slippage limit (--max-slippage and\n" +
    "--min-out are refused): nobody knows the next price; --deadline bounds the wait, and lt cancel takes a\n" +
    "request back while its round is current. A settled token's redeem is paid at once from its frozen USDT;\n" +
    "the slippage options apply to that.";
  /** Whether the user gave --max-slippage (commander fills in its default otherwise). */
  const maxSlippageGiven = (cmd: Command): boolean => cmd.getOptionValueSource("maxSlippage") === "cli";
  /** The options `lt mint` and `lt redeem` share: the desk's wait, the deadline, a minimum (refused on a request). */
  const requestCommand = (
    name: string,
    description: string,
    amount: [string, string],
    minOut: [string, string],
  ) =>
    program
      .command(name)
      .description(description)
      .argument("<symbol>", "token symbol")
      .argument(...amount)
      .addOption(new Option(...minOut))
      .option("--no-wait", "only place the request (claim it later with lt claim)")
      .option(
        "--deadline <duration>",
        "how long the trade may take, e.g. 90s, 10m: the USDT permit's validity and the wait for the fill",
        DEFAULT_REQUEST_DEADLINE,
      )
      .addOption(new Option("--timeout <duration>", "the old name of --deadline").hideHelp())
      .addHelpText("after", DESK_HELP);
  requestCommand(
    "mint",
    "mint tokens with USDT: one request at the token's desk carrying a USDT permit",
    ["<usdt>", "USDT to pay"],
    [
      "--min-out <tokens>",
      "least tokens to receive: refused, as a mint is a request at a price nobody knows yet",
    ],
  )
    // every mint is a request, which takes no slippage bound: accepted only to be refused in a sentence
    .addOption(
      new Option("--max-slippage <percent>", "refused: a mint request has no slippage bound").hideHelp(),
    )
    .option("--no-approve", "never send an approval; fail if the allowance is short")
    .action(async (symbol: string, usdt: string, opts: MintOptions, cmd: Command) =>
      execute(
        cmd,
        (ctx) => mintCommand(ctx, symbol, usdt, { ...opts, maxSlippageGiven: maxSlippageGiven(cmd) }),
        () => {
          if (maxSlippageGiven(cmd)) throw new CliError(maxSlippageRefusal("mint", symbol));
        },
      ),
    );
  requestCommand(
    "redeem",
    "redeem tokens for USDT",
    ["<tokens>", "tokens to redeem, or all"],
    [
      "--min-out <usdt>",
      "least USDT to receive, instead of --max-slippage: a settled token's redeem (refused on a request)",
    ],
  )
    .option(
      "--max-slippage <percent>",
      "most the USDT received may fall short of the quote: a settled token's redeem, paid at once (refused on a request)",
      DEFAULT_SLIPPAGE,
    )
    .action(async (symbol: string, amount: string, opts: TradeOptions, cmd: Command) =>
      execute(cmd, (ctx) =>
        redeemCommand(ctx, symbol, amount, { ...opts, maxSlippageGiven: maxSlippageGiven(cmd) }),
      ),
    );

  program
    .command("requests")
    .description(
      "your mint and redeem requests on tokens with a desk: pending, claimable, refused, and whether a fill is due or late",
    )
    .argument("[symbol]", "token symbol (default: every token with a desk)")
    .action(async (symbol: string | undefined, _opts: object, cmd: Command) =>
      execute(cmd, (ctx) => requestsCommand(ctx, symbol)),
    );

  symbolCommand(
    "claim",
    "claim what the desk's fills left for you: minted tokens, redeemed USDT, and refused requests back",
    claimCommand,
  );

  program
    .command("cancel")
    .description(
      "take a request back while its price round is still the current one (or after the fill refused it)",
    )
    .argument("<symbol>", "token symbol")
    .argument("[side]", "deposit (a mint request) or redeem (default: whichever you have)")
    .action(async (symbol: string, side: string | undefined, _opts: object, cmd: Command) =>
      execute(cmd, (ctx) => cancelCommand(ctx, symbol, side)),
    );

  symbolCommand(
    "fill",
    "fill the desk's waiting requests at the current price round: the keeper any time, anyone once the oldest waited the fill delay (for the bounty)",
    fillCommand,
  );

  symbolCommand(
    "price",
    "spot price in the token's Uniswap V2 pool, NAV, and the premium or discount",
    priceCommand,
  );

  /** `lt buy` and `lt sell`: a swap in the token's pool, with slippage, premium and deadline limits. */
  const swapCommand = (name: "buy" | "sell", amount: [string, string], out: string, premium: string) =>
    program
      .command(name)
      .description(
        `${name} tokens ${name === "buy" ? "with" : "for"} USDT in the token's Uniswap V2 pool (approves the router when needed)`,
      )
      .argument("<symbol>", "token symbol")
      .argument(...amount)
      .option(
        "--max-slippage <percent>",
        `most the ${out} received may fall short of the quote`,
        DEFAULT_SLIPPAGE,
      )
      .option("--max-premium <percent>", premium, DEFAULT_MAX_PREMIUM)
      .option(
        "--deadline <duration>",
        "the swap is void if not mined within this long, e.g. 5m",
        DEFAULT_DEADLINE,
      )
      .action(async (symbol: string, value: string, opts: SwapOptions, cmd: Command) =>
        execute(cmd, (ctx) => (name === "buy" ? buyCommand : sellCommand)(ctx, symbol, value, opts)),
      );
  swapCommand(
    "buy",
    ["<usdt>", "USDT to pay"],
    "tokens",
    "most the pool's price may be above NAV (minting is cheaper beyond)",
  );
  swapCommand(
    "sell",
    ["<tokens>", "tokens to sell, or all"],
    "USDT",
    "most the pool's price may be below NAV (redeeming pays more beyond)",
  );

  program
    .command("balance")
    .description("USDT and every token held, valued at NAV")
    .argument("[address]", "account to show (default: the signing account)")
    .action(async (address: string | undefined, _opts: object, cmd: Command) =>
      execute(cmd, (ctx) => balanceCommand(ctx, address)),
    );

  program
    .command("position")
    .description("per token: balance, cost basis, value, unrealised and realised profit and loss, fees paid")
    .argument("[address]", "account to show (default: the signing account)")
    .option("--from-block <n>", "first block of the account's history (default: the deployment's)")
    .action(async (address: string | undefined, opts: PositionOptions, cmd: Command) =>
      execute(cmd, (ctx) => positionCommand(ctx, address, opts)),
    );

  program
    .command("history")
    .description("mints, redeems, rebalances and lifecycle events of a token, oldest first")
    .argument("<symbol>", "token symbol")
    .option("--from-block <n>", "first block to read", "0")
    .option("--to-block <n>", "last block to read (default: latest)")
    .action(async (symbol: string, opts: HistoryOptions, cmd: Command) =>
      execute(cmd, (ctx) => historyCommand(ctx, symbol, opts)),
    );

  addAdminCommands(program, execute);

  try {
    await program.parseAsync(args, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      const message = usageErrors[0];
      if (e.exitCode !== EXIT_OK && message !== undefined) {
        const sentence = `${message} (see lt --help)`;
        if (args.includes("--json")) io.out(toJson({ error: sentence }));
        io.err(`lt: ${sentence}`);
      }
      return e.exitCode; // usage errors and --help
    }
    io.err(`lt: ${explainError(e).message}`);
    return EXIT_FAILURE;
  }
  return exitCode;
}
