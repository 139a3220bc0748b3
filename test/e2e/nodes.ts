// Local nodes that the test process deploys to itself: a `hardhat node` or an anvil on a free port
// (started by support/processes.ts, in the test's own environment), and the system deployed on it,
// with its address book written where a CLI can read it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import hre, { network } from "hardhat";
import { type AddressBook, writeAddressBook } from "../../src/chain/addressBook.ts";
import { deploySystem, type System } from "../../src/chain/deploy.ts";
import { freePort, type NodeKind, spawnNode } from "./support/processes.ts";

export type { NodeKind } from "./support/processes.ts";

export interface LocalNode {
  kind: NodeKind;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a node of `kind` on a free port and waits until it answers. Under `hardhat test
 * --coverage` this process deploys coverage-instrumented contracts, so the node runs in coverage
 * mode too (see spawnNode).
 */
export async function startNode(kind: NodeKind): Promise<LocalNode> {
  const port = await freePort();
  const child = await spawnNode(kind, port, {
    env: process.env,
    coverage: hre.globalOptions.coverage === true,
  });
  return {
    kind,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await child.stop("SIGTERM", 5_000);
    },
  };
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

/** Runs `fn` on the deployment's node and then puts the chain back as it was (evm_snapshot/revert). */
export async function isolated(dep: Deployment, fn: () => Promise<void>): Promise<void> {
  const snapshot = (await dep.ethers.provider.send("evm_snapshot", [])) as string;
  try {
    await fn();
  } finally {
    await dep.ethers.provider.send("evm_revert", [snapshot]);
  }
}
