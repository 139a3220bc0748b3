// The address book as an object, browser-safe (ethers only, no node:fs): its type, its checks, and
// the parser of its JSON text. src/chain/addressBook.ts reads and writes deployments/<network>.json
// with it in Node and re-exports all of it; the web page (src/app) imports this module directly.
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

/**
 * Checks an address book object (`source` names it in the error: its file, or where it came from);
 * the error says which field is missing or not an address.
 */
export function checkAddressBook(book: AddressBook, source: string): void {
  if (typeof book !== "object" || book === null || Array.isArray(book))
    throw new Error(`${source}: not an address book (a JSON object)`);
  if (!Number.isInteger(book.chainId)) throw new Error(`${source}: chainId is missing or not a number`);
  for (const key of ["usdt", "perpVault", "factory"] as const) {
    if (!isAddress(book[key])) throw new Error(`${source}: "${key}" is not an address`);
  }
  for (const group of ["feeds", "tokens"] as const) {
    const entries = book[group];
    if (typeof entries !== "object" || entries === null) throw new Error(`${source}: "${group}" is missing`);
    for (const [name, address] of Object.entries(entries)) {
      if (!isAddress(address)) throw new Error(`${source}: ${group}.${name} is not an address`);
    }
  }
  for (const [name, address] of Object.entries({ ...book.pools, ...book.uniswap })) {
    if (!isAddress(address)) throw new Error(`${source}: pool or uniswap ${name} is not an address`);
  }
  for (const [name, address] of Object.entries(book.desks ?? {})) {
    if (!isAddress(address)) throw new Error(`${source}: desks.${name} is not an address`);
  }
}

/** Parses and checks an address book's JSON text; the error names `source` and what is wrong. */
export function parseAddressBook(text: string, source: string): AddressBook {
  let book: AddressBook;
  try {
    book = JSON.parse(text) as AddressBook;
  } catch (e) {
    throw new Error(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  checkAddressBook(book, source);
  return book;
}
