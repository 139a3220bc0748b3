// `npm run arb -- [options]`: parses the command line, connects, runs the NAV arbitrage over every
// pool of deployments/<network>.json (one pass with --once). Errors are one plain sentence and a
// non-zero exit.
import { Command, InvalidArgumentError } from "commander";
import { NonceManager, Wallet } from "ethers";
import { DEPLOYMENTS_DIR, readAddressBook } from "../chain/addressBook.ts";
import { connectRpc, fetchChainId, rpcUrlFor, signerFor } from "../chain/rpc.ts";
import { jsonLogger } from "../keeper/log.ts";
import { runArbitrage } from "./arbitrage.ts";

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError("must be a positive whole number");
  return Number(value);
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number, 0 or more");
  return Number(value);
}

export async function arbMain(argv: string[]): Promise<number> {
  const program = new Command("arb")
    .description("Keeps each token's Uniswap V2 pool inside the no-arbitrage band around NAV")
    .option(
      "--network <name>",
      "network: its address book and, for localhost and anvil, its RPC URL",
      process.env.NETWORK ?? "localhost",
    )
    .option("--rpc <url>", "RPC URL (default: from --network, RPC_URL, ANVIL_URL)")
    .option("--key <hex>", "private key of the arbitrageur (default: env ARB_KEY, else the node's account)")
    .option("--account <index>", "the node's unlocked account to use without a key", wholeNumber, 0)
    .option("--interval <ms>", "poll interval in milliseconds", positiveInt, 2000)
    .option("--tokens <symbols>", "comma-separated symbols to arbitrage (default: every pool)")
    .option("--deployments <dir>", "address book folder", process.env.DEPLOYMENTS_DIR ?? DEPLOYMENTS_DIR)
    .option("--once", "one pass over every pool, then exit", false)
    .option("--dry-run", "decide and log, never send a transaction", false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 1;
  }
  const o = program.opts<{
    network: string;
    rpc?: string;
    key?: string;
    account: number;
    interval: number;
    tokens?: string;
    deployments: string;
    once: boolean;
    dryRun: boolean;
  }>();
  const log = jsonLogger();
  const book = readAddressBook(o.network, o.deployments);
  if (book.pools === undefined || book.uniswap === undefined) {
    throw new Error(
      `the address book for "${o.network}" has no pools; redeploy: npm run deploy -- --network ${o.network}`,
    );
  }
  const url = o.rpc ?? rpcUrlFor(o.network);
  let chainId: number;
  try {
    chainId = await fetchChainId(url);
  } catch (e) {
    throw new Error(`cannot reach the RPC at ${url} (${(e as Error).message})`);
  }
  if (chainId !== book.chainId) {
    throw new Error(
      `the address book for "${o.network}" is for chain ${book.chainId} but ${url} is chain ${chainId}`,
    );
  }
  const provider = connectRpc(url, chainId, Math.min(o.interval, 1000));
  const base = await signerFor(provider, o.key ?? process.env.ARB_KEY, o.account);
  const signer = base instanceof Wallet ? new NonceManager(base) : base;
  const symbols = o.tokens
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const s of symbols ?? []) {
    if (book.pools[s] === undefined)
      throw new Error(`no pool for ${s} (pools: ${Object.keys(book.pools).join(", ")})`);
  }
  const controller = new AbortController();
  const onSignal = (signal: string) => {
    log("stopping", { signal });
    controller.abort();
  };
  process.once("SIGINT", () => onSignal("SIGINT"));
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  const failures = await runArbitrage(
    { signer, book, log, dryRun: o.dryRun, symbols },
    { once: o.once, intervalMs: o.interval, signal: controller.signal },
  );
  provider.destroy();
  return o.once && failures > 0 ? 1 : 0;
}
