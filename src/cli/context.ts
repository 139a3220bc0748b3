// Where the CLI talks to: the address book, the node (checked before anything else), the signer,
// and typed handles on the contracts. Plain ethers over JSON-RPC, so it starts fast and works with
// any node.
import { isAddress, JsonRpcProvider, Network, Wallet, type Signer } from "ethers";
import type { LeveragedToken, MockPerpVault, MockUSDT } from "../../types/ethers-contracts/index.js";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { MockUSDT__factory } from "../../types/ethers-contracts/factories/mocks/MockUSDT__factory.ts";
import { addressBookPath, readAddressBook, type AddressBook } from "../chain/addressBook.ts";
import { withChainTokens } from "../chain/factoryTokens.ts";
import { CliError, unreachableMessage } from "./errors.ts";

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";
export const DEFAULT_NETWORK = "localhost";
const PROBE_TIMEOUT_MS = 5_000;

export interface GlobalOptions {
  network: string;
  rpc: string;
  deployments: string;
  json: boolean;
}

export interface Context {
  options: GlobalOptions;
  book: AddressBook;
  provider: JsonRpcProvider;
  /** LT_PRIVATE_KEY, when set. */
  privateKey?: string;
  /** Progress of a long wait (a request waiting for its fill), one line at a time; none with --json. */
  progress?: (line: string) => void;
}

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

/** The symbol as the address book spells it (matching is case-insensitive), or a plain error. */
export function resolveSymbol(book: AddressBook, input: string): string {
  const symbol = Object.keys(book.tokens).find((s) => s.toLowerCase() === input.trim().toLowerCase());
  if (!symbol) {
    const known = Object.keys(book.tokens);
    throw new CliError(
      `unknown token "${input}"; ${known.length ? `known tokens: ${known.join(", ")}` : "no tokens are deployed on this network"}`,
    );
  }
  return symbol;
}

/** The token's address from the address book (the symbol as resolveSymbol returned it). */
export function tokenAddressOf(ctx: Context, symbol: string): string {
  const address = ctx.book.tokens[symbol];
  if (!address) throw new CliError(`unknown token "${symbol}"`);
  return address;
}

export function tokenOf(ctx: Context, symbol: string, runner?: Signer): LeveragedToken {
  return LeveragedToken__factory.connect(tokenAddressOf(ctx, symbol), runner ?? ctx.provider);
}

export function usdtOf(ctx: Context, runner?: Signer): MockUSDT {
  return MockUSDT__factory.connect(ctx.book.usdt, runner ?? ctx.provider);
}

export function vaultOf(ctx: Context): MockPerpVault {
  return MockPerpVault__factory.connect(ctx.book.perpVault, ctx.provider);
}

/** The account that signs: LT_PRIVATE_KEY if set, else the node's first unlocked account. */
export async function signerOf(ctx: Context): Promise<Signer> {
  if (ctx.privateKey) {
    try {
      return new Wallet(ctx.privateKey, ctx.provider);
    } catch {
      throw new CliError("LT_PRIVATE_KEY is not a valid private key (expected 0x and 64 hex digits)");
    }
  }
  const accounts = (await ctx.provider.send("eth_accounts", [])) as string[];
  const first = accounts[0];
  if (!first) {
    throw new CliError(
      `the node at ${ctx.options.rpc} has no unlocked accounts; set LT_PRIVATE_KEY to sign with your own key`,
    );
  }
  return ctx.provider.getSigner(first);
}

/** An address given on the command line, else the signer's. */
export async function accountOf(ctx: Context, address?: string): Promise<string> {
  if (address !== undefined) {
    if (!isAddress(address)) throw new CliError(`"${address}" is not an address (0x and 40 hex digits)`);
    return address;
  }
  return (await signerOf(ctx)).getAddress();
}
