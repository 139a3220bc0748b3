// The connection options of the long-running programs (the keeper, the feeder, the arbitrage bot):
// which network's address book, which node, which key; and the code that turns them into a provider
// and a signer on the chain the address book is for, at once or once the node is up.
import type { Command } from "commander";
import { NonceManager, Wallet, type JsonRpcProvider, type Signer } from "ethers";
import type { Logger } from "../common/log.ts";
import { wholeNumberOrZero } from "../common/options.ts";
import { backoffMs, isTransient, sleep } from "../common/retry.ts";
import { DEPLOYMENTS_DIR, type AddressBook } from "./addressBook.ts";
import { connectRpc, fetchChainId, rpcUrlFor, signerFor } from "./rpc.ts";

export interface ConnectionOptions {
  network: string;
  rpc?: string;
  key?: string;
  /** The node's unlocked account to sign with when there is no key (0 where there is no --account). */
  account?: number;
  deployments: string;
}

export interface ConnectionFlags {
  /** Whose key --key is, for its help: "the keeper". */
  signer: string;
  /** The environment variable read when --key is not given: "KEEPER_KEY". */
  keyEnv: string;
  /** Offer --account <index> (otherwise the node's account 0 signs when there is no key). */
  account: boolean;
}

/** Adds --network, --rpc, --key, --account (when asked for) and --deployments to `program`. */
export function addConnectionOptions(program: Command, flags: ConnectionFlags): Command {
  program
    .option(
      "--network <name>",
      "network: its address book and, for localhost and anvil, its RPC URL",
      process.env.NETWORK ?? "localhost",
    )
    .option("--rpc <url>", "RPC URL (default: from --network, RPC_URL, ANVIL_URL)")
    .option(
      "--key <hex>",
      `private key of ${flags.signer} (default: env ${flags.keyEnv}, else the node's account${flags.account ? "" : " 0"})`,
    );
  if (flags.account) {
    program.option(
      "--account <index>",
      "the node's unlocked account to use without a key",
      wholeNumberOrZero,
      0,
    );
  }
  return program.option(
    "--deployments <dir>",
    "address book folder",
    process.env.DEPLOYMENTS_DIR ?? DEPLOYMENTS_DIR,
  );
}

/** The node's URL: --rpc, else the network's own (see rpcUrlFor). */
export function rpcUrlOf(o: ConnectionOptions): string {
  return o.rpc ?? rpcUrlFor(o.network);
}

/** Throws unless the node at `url` (chain `chainId`) is the chain the address book is for. */
export function checkChainId(o: ConnectionOptions, book: AddressBook, url: string, chainId: number): void {
  if (chainId !== book.chainId) {
    throw new Error(
      `the address book for "${o.network}" is for chain ${book.chainId} but ${url} is chain ${chainId}`,
    );
  }
}

export interface Connection {
  url: string;
  chainId: number;
  provider: JsonRpcProvider;
  signer: Signer;
}

/**
 * A provider pinned to `chainId`, polling every `pollingMs`, and its signer: --key, else the
 * environment's `keyEnv`, else the node's unlocked account. A private key gets its own nonce
 * manager; a node account gets its nonces from the node itself.
 */
export async function openSigner(
  o: ConnectionOptions,
  url: string,
  chainId: number,
  keyEnv: string,
  pollingMs: number,
): Promise<Connection> {
  const provider = connectRpc(url, chainId, pollingMs);
  const base = await signerFor(provider, o.key ?? process.env[keyEnv], o.account ?? 0, keyEnv);
  const signer = base instanceof Wallet ? new NonceManager(base) : base;
  return { url, chainId, provider, signer };
}

/**
 * Connects at once (no waiting for a node that is down): the node must answer and be the chain of
 * `book`; then the provider and signer as openSigner.
 */
export async function connect(
  o: ConnectionOptions,
  book: AddressBook,
  keyEnv: string,
  pollingMs: number,
): Promise<Connection> {
  const url = rpcUrlOf(o);
  let chainId: number;
  try {
    chainId = await fetchChainId(url);
  } catch (e) {
    throw unreachable(url, e);
  }
  return openChecked(o, book, url, chainId, keyEnv, pollingMs);
}

/** How connectWhenUp waits for a node that is down. */
export interface NodeWait {
  /** Stops the waiting: connectWhenUp then returns undefined. */
  signal: AbortSignal;
  /** Attempts before giving up with "cannot reach the RPC" (undefined: wait until the signal). */
  attempts?: number;
  /** The first retry's delay, doubled each time up to `maxMs` (see backoffMs). */
  baseMs: number;
  maxMs: number;
  /** Told once, at the first attempt that fails: "rpc-unavailable" with the URL and the reason. */
  log: Logger;
}

/**
 * As connect, but a node that does not answer yet (down, restarting: a transient failure) is asked
 * again with backoff until it does, `wait.attempts` run out or `wait.signal` aborts (undefined); any
 * other failure is thrown as it is.
 */
export async function connectWhenUp(
  o: ConnectionOptions,
  book: AddressBook,
  keyEnv: string,
  pollingMs: number,
  wait: NodeWait,
): Promise<Connection | undefined> {
  const url = rpcUrlOf(o);
  for (let attempt = 0; !wait.signal.aborted; attempt++) {
    let chainId: number;
    try {
      chainId = await fetchChainId(url);
    } catch (e) {
      if (!isTransient(e) && !(e instanceof TypeError)) throw e;
      if (wait.attempts !== undefined && attempt + 1 >= wait.attempts) throw unreachable(url, e);
      if (attempt === 0) wait.log("rpc-unavailable", { url, message: (e as Error).message });
      await sleep(backoffMs(attempt, wait.baseMs, wait.maxMs), wait.signal);
      continue;
    }
    return openChecked(o, book, url, chainId, keyEnv, pollingMs);
  }
  return undefined;
}

function unreachable(url: string, e: unknown): Error {
  return new Error(`cannot reach the RPC at ${url} (${(e as Error).message})`);
}

async function openChecked(
  o: ConnectionOptions,
  book: AddressBook,
  url: string,
  chainId: number,
  keyEnv: string,
  pollingMs: number,
): Promise<Connection> {
  checkChainId(o, book, url, chainId);
  return openSigner(o, url, chainId, keyEnv, pollingMs);
}
