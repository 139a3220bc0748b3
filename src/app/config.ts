// What the server tells the page at /config.json: the network, its address book (or the sentence
// saying why there is none), and where the page sends its JSON-RPC reads (the server's /rpc, which
// forwards to the node, so any node works without CORS).
import type { AddressBook } from "../chain/addressBookCore.ts";

export interface AppConfig {
  network: string;
  /** The node's own URL, for people (the page itself reads through `rpcPath`). */
  rpcUrl: string;
  rpcPath: string;
  /** The address book; absent when `problem` says why. */
  book?: AddressBook;
  /** A plain sentence for the page: no deployment, the node is down, another chain. */
  problem?: string;
}

export const RPC_PATH = "/rpc";
export const CONFIG_PATH = "/config.json";
