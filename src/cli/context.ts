// A connection to the chain and the handles on it: the address book, the node, the signer, and typed
// handles on the contracts. Plain ethers over JSON-RPC, so it starts fast and works with any node.
// Browser-safe (no node:fs): lt makes its Context in ./connect.ts from the address book file, the web
// page from the address book its server hands it, and both use these handles.
import { isAddress, type JsonRpcProvider, Wallet, type Signer } from "ethers";
import type { LeveragedToken, MockPerpVault, MockUSDT } from "../../types/ethers-contracts/index.js";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { MockUSDT__factory } from "../../types/ethers-contracts/factories/mocks/MockUSDT__factory.ts";
import type { AddressBook } from "../chain/addressBookCore.ts";
import { CliError } from "./errors.ts";

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";
export const DEFAULT_NETWORK = "localhost";

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
