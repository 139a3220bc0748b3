// `npm run app -- [--network localhost] [--rpc <url>] [--port 8090]`: builds the traders' page and
// serves it for one network's deployment, printing the URL. Read-only without a wallet; a browser
// wallet (MetaMask, Rabby: any injected EIP-1193 provider) signs the trades.
import { join } from "node:path";
import { Command } from "commander";
import { DEPLOYMENTS_DIR } from "../chain/addressBook.ts";
import { rpcUrlFor } from "../chain/rpc.ts";
import { wholeNumberOrZero } from "../common/options.ts";
import { buildApp } from "./build.ts";
import { serveApp, type Served } from "./server.ts";

export const DEFAULT_PORT = 8090;
export const SITE_DIR = join("out", "app", "site");

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

/** Parses the command line, builds, serves; resolves with the server (it runs until the process ends). */
export async function appMain(argv: string[]): Promise<Served> {
  const program = new Command("app")
    .description("Builds and serves the traders' web page for a network from the address book")
    .option(
      "--network <name>",
      "network: its address book and, for localhost and anvil, its RPC URL",
      process.env.NETWORK ?? "localhost",
    )
    .option("--rpc <url>", "the node's JSON-RPC URL (default: from --network, RPC_URL, ANVIL_URL)")
    .option("--deployments <dir>", "address book folder", process.env.DEPLOYMENTS_DIR ?? DEPLOYMENTS_DIR)
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port to listen on (0: any free one)", wholeNumberOrZero, DEFAULT_PORT)
    .option("--out <dir>", "where the built page goes", SITE_DIR)
    .exitOverride()
    .parse(argv, { from: "user" });
  const o = program.opts<{
    network: string;
    rpc?: string;
    deployments: string;
    host: string;
    port: number;
    out: string;
  }>();
  const rpcUrl = o.rpc ?? rpcUrlFor(o.network);
  const built = await buildApp(o.out);
  const served = await serveApp({
    dir: built.dir,
    network: o.network,
    rpcUrl,
    deployments: o.deployments,
    host: o.host,
    port: o.port,
  });
  console.log(
    `app: built in ${built.ms} ms (script ${kb(built.jsBytes)}, ${kb(built.totalGzipBytes)} gzipped with the HTML and CSS)`,
  );
  console.log(`app: ${o.network} (node ${rpcUrl}, address book in ${o.deployments}/) at ${served.url}`);
  return served;
}
