// Local nodes for end-to-end tests: a `hardhat node` or an anvil on a free port, started as a child
// process in its own process group and stopped by that group's id; and the system deployed on it,
// with its address book written where a CLI can read it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import hre, { network } from "hardhat";
import { type AddressBook, writeAddressBook } from "../../src/chain/addressBook.ts";
import { deploySystem, type System } from "../../src/chain/deploy.ts";

export type NodeKind = "hardhat" | "anvil";

export interface LocalNode {
  kind: NodeKind;
  url: string;
  stop(): Promise<void>;
}

const ROOT = resolve(import.meta.dirname, "../..");
const HARDHAT_CLI = join(ROOT, "node_modules/hardhat/dist/src/cli.js");
const ANVIL = join(ROOT, "node_modules/@foundry-rs/anvil/bin.mjs");
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function answersChainId(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    return typeof ((await response.json()) as { result?: unknown }).result === "string";
  } catch {
    return false;
  }
}

function stopGroup(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return done();
    const pid = child.pid;
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, STOP_TIMEOUT_MS);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      clearTimeout(timer);
      done();
    }
  });
}

/**
 * Starts a node of `kind` on a free port and waits until it answers. Under `hardhat test
 * --coverage` the contracts are instrumented and larger than the 24 KB limit, so the nodes are
 * started without it (hardhat's own coverage mode lifts it; anvil has a flag).
 */
export async function startNode(kind: NodeKind): Promise<LocalNode> {
  const port = await freePort();
  const coverage = hre.globalOptions.coverage === true;
  const args =
    kind === "hardhat"
      ? [HARDHAT_CLI, ...(coverage ? ["--coverage"] : []), "node", "--port", String(port)]
      : [ANVIL, "--port", String(port), "--silent", ...(coverage ? ["--disable-code-size-limit"] : [])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const node: LocalNode = { kind, url, stop: () => stopGroup(child) };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answersChainId(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await node.stop();
      throw new Error(`${kind} node on port ${port} did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return node;
}

export interface Deployment {
  system: System;
  book: AddressBook;
  /** A directory holding <network>.json for the CLI's --deployments. */
  dir: string;
  ethers: Awaited<ReturnType<typeof network.create>>["ethers"];
  close(): Promise<void>;
}

/**
 * Deploys the whole system on the node at `url` (fees to the node's second account, so the first
 * one's balances are its own) and writes its address book to a temp dir.
 */
export async function deployOn(url: string, networkName = "localhost"): Promise<Deployment> {
  const connection = await network.create({ network: "localhost", override: { url } });
  const [, treasury] = await connection.ethers.getSigners();
  const system = await deploySystem(connection.ethers, { treasury: treasury?.address });
  const { chainId } = await connection.ethers.provider.getNetwork();
  const book: AddressBook = {
    chainId: Number(chainId),
    usdt: await system.usdt.getAddress(),
    perpVault: await system.vault.getAddress(),
    factory: await system.factory.getAddress(),
    feeds: Object.fromEntries(
      await Promise.all(
        Object.entries(system.feeds).map(async ([m, f]) => [m, await f.getAddress()] as const),
      ),
    ),
    tokens: Object.fromEntries(
      await Promise.all(
        Object.entries(system.tokens).map(async ([s, t]) => [s, await t.getAddress()] as const),
      ),
    ),
  };
  const dir = mkdtempSync(join(tmpdir(), "lt-e2e-"));
  writeAddressBook(networkName, book, dir);
  return {
    system,
    book,
    dir,
    ethers: connection.ethers,
    close: async () => {
      await connection.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
