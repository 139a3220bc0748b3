// What the long-running programs (the keeper, the feeder, the arbitrage bot) share around their own
// work: a command line with the connection options (connection.ts), and the start that follows it:
// the JSON-lines log, the network's address book, and a stop on the first SIGINT or SIGTERM.
import { Command } from "commander";
import { jsonLogger, type Logger } from "../common/log.ts";
import { onStopSignal } from "../common/options.ts";
import { readAddressBook, type AddressBook } from "./addressBook.ts";
import { addConnectionOptions, type ConnectionFlags, type ConnectionOptions } from "./connection.ts";

/** The program `name`, described for its --help, with the connection options `flags` asks for. */
export function botCommand(name: string, description: string, flags: ConnectionFlags): Command {
  return addConnectionOptions(new Command(name).description(description), flags);
}

export interface BotStart {
  log: Logger;
  book: AddressBook;
  /** Aborted by the first SIGINT or SIGTERM. */
  signal: AbortSignal;
}

/**
 * A bot's start once its command line is read: a JSON-lines logger on stdout and the address book of
 * --network in --deployments; the first SIGINT or SIGTERM logs "stopping" with the signal's name,
 * aborts `signal` and calls `onStop` (a bot's own stop, for one that is already running).
 */
export function startBot(o: ConnectionOptions, onStop: () => void = () => undefined): BotStart {
  const log = jsonLogger();
  const book = readAddressBook(o.network, o.deployments);
  const controller = new AbortController();
  onStopSignal((signal) => {
    log("stopping", { signal });
    controller.abort();
    onStop();
  });
  return { log, book, signal: controller.signal };
}

/** The options of a bot that works in passes (the keeper, the arbitrage bot). */
export interface PassOptions extends ConnectionOptions {
  account: number;
  interval: number;
  tokens?: string;
  tokenRefresh: number;
  once: boolean;
  dryRun: boolean;
}

/** Adds --once (one pass over every `unit`, then exit) and --dry-run to a bot that works in passes. */
export function addPassOptions(program: Command, unit: "token" | "pool"): Command {
  return program
    .option("--once", `one pass over every ${unit}, then exit`, false)
    .option("--dry-run", "decide and log, never send a transaction", false);
}
