// The address book: deployments/<network>.json, written by the deploy and read by the keeper, the
// feeder, the CLI, the arbitrage bot and the demo. This module is the file's side (Node: node:fs);
// the object's type, checks and parser are browser-safe in ./addressBookCore.ts, re-exported here.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { checkAddressBook, parseAddressBook, type AddressBook } from "./addressBookCore.ts";

export { checkAddressBook, parseAddressBook, type AddressBook } from "./addressBookCore.ts";

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
  return parseAddressBook(readFileSync(path, "utf8"), path);
}

export function writeAddressBook(network: string, book: AddressBook, dir = DEPLOYMENTS_DIR): string {
  const path = addressBookPath(network, dir);
  checkAddressBook(book, path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(book, null, 2) + "\n");
  return path;
}
