// The address book: deployments/<network>.json, written by the deploy and read by the keeper, the
// feeder, the CLI, the arbitrage bot and the demo.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isAddress } from "ethers";

export interface AddressBook {
  chainId: number;
  usdt: string;
  perpVault: string;
  factory: string;
  feeds: Record<string, string>; // market name (BTC, ETH) -> MockPriceFeed
  tokens: Record<string, string>; // symbol (BTC3L...) -> LeveragedToken
  desks?: Record<string, string>; // symbol -> its ForwardDesk (tokens made with one)
  pools?: Record<string, string>; // symbol -> Uniswap V2 pair (token/USDT)
  uniswap?: { factory: string; router: string; weth: string };
  [key: string]: unknown;
}

export const DEPLOYMENTS_DIR = "deployments";

export function addressBookPath(network: string, dir = DEPLOYMENTS_DIR): string {
  return join(dir, `${network}.json`);
}

/** Reads and checks deployments/<network>.json; the error says what is missing and how to fix it. */
export function readAddressBook(network: string, dir = DEPLOYMENTS_DIR): AddressBook {
  const path = addressBookPath(network, dir);
  if (!existsSync(path)) {
    throw new Error(
      `no deployment for network "${network}" (${path} not found); run: npm run deploy -- --network ${network}`,
    );
  }
  let book: AddressBook;
  try {
    book = JSON.parse(readFileSync(path, "utf8")) as AddressBook;
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  checkAddressBook(book, path);
  return book;
}

export function writeAddressBook(network: string, book: AddressBook, dir = DEPLOYMENTS_DIR): string {
  const path = addressBookPath(network, dir);
  checkAddressBook(book, path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(book, null, 2) + "\n");
  return path;
}

function checkAddressBook(book: AddressBook, path: string): void {
  if (!Number.isInteger(book.chainId)) throw new Error(`${path}: chainId is missing or not a number`);
  for (const key of ["usdt", "perpVault", "factory"] as const) {
    if (!isAddress(book[key])) throw new Error(`${path}: "${key}" is not an address`);
  }
  for (const group of ["feeds", "tokens"] as const) {
    const entries = book[group];
    if (typeof entries !== "object" || entries === null) throw new Error(`${path}: "${group}" is missing`);
    for (const [name, address] of Object.entries(entries)) {
      if (!isAddress(address)) throw new Error(`${path}: ${group}.${name} is not an address`);
    }
  }
  for (const [name, address] of Object.entries({ ...book.pools, ...book.uniswap })) {
    if (!isAddress(address)) throw new Error(`${path}: pool or uniswap ${name} is not an address`);
  }
  for (const [name, address] of Object.entries(book.desks ?? {})) {
    if (!isAddress(address)) throw new Error(`${path}: desks.${name} is not an address`);
  }
}
