// lt's connection: reads the address book file (Node: node:fs, through src/chain/addressBook.ts),
// checks the node answers and is the chain the book is for, and lists the factory's tokens. Only
// src/cli/program.ts imports it; the handles on a connection (./context.ts) stay browser-safe, so the
// web page, which gets its address book from the server, shares them without reaching node:fs.
import { JsonRpcProvider, Network } from "ethers";
import { addressBookPath, readAddressBook, type AddressBook } from "../chain/addressBook.ts";
import { withChainTokens } from "../chain/factoryTokens.ts";
import type { Context, GlobalOptions } from "./context.ts";
import { CliError, unreachableMessage } from "./errors.ts";

const PROBE_TIMEOUT_MS = 5_000;

/** Reads the address book, checks the node answers and is the chain the book is for. */
export async function connect(
  options: GlobalOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Context> {
  let book: AddressBook;
  try {
    book = readAddressBook(options.network, options.deployments);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const chainId = await probeChainId(options.rpc);
  if (chainId !== book.chainId) {
    throw new CliError(
      `the node at ${options.rpc} runs chain ${chainId}, but ${addressBookPath(options.network, options.deployments)} is for chain ${book.chainId}; check --network and --rpc`,
    );
  }
  const provider = new JsonRpcProvider(options.rpc, Network.from(chainId), {
    staticNetwork: true,
    cacheTimeout: -1, // every read and every gas estimate asks the node again
  });
  const privateKey = env.LT_PRIVATE_KEY?.trim() || undefined;
  try {
    // the tokens are the factory's: a token created after the deploy is listed like the first four
    return { options, book: await withChainTokens(book, provider), provider, privateKey };
  } catch (e) {
    provider.destroy();
    throw e;
  }
}

/**
 * Asks the node for its chain id with a timeout; a node that is down or not a JSON-RPC node gives a
 * plain sentence here, before ethers would start retrying in the background.
 */
export async function probeChainId(url: string): Promise<number> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
  } catch (e) {
    throw new CliError(unreachableMessage(url, connectionReason(e)));
  }
  let body: { result?: unknown };
  try {
    body = (await response.json()) as { result?: unknown };
  } catch {
    throw new CliError(`the server at ${url} is not a JSON-RPC node (HTTP ${response.status})`);
  }
  if (typeof body.result !== "string") {
    throw new CliError(`the node at ${url} did not return a chain id`);
  }
  return Number(BigInt(body.result));
}

function connectionReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string } }).cause;
  if (cause?.code === "ECONNREFUSED") return "connection refused";
  if (cause?.code === "ENOTFOUND") return "host not found";
  if ((e as { name?: string }).name === "TimeoutError")
    return `no answer within ${PROBE_TIMEOUT_MS / 1000} s`;
  return cause?.code ?? (e as Error).message;
}
