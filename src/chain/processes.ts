// Child processes for end-to-end tests and the soak: nodes (hardhat node, anvil), the deploy, the
// keeper and the feeder, each in its own process group so a kill takes everything it started with
// it. With E2E_LOG_DIR set, every child's output is kept there.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { AddressBook } from "./addressBook.ts";
import { PATH_START } from "../feeds/paths.ts";

export const ROOT = resolve(import.meta.dirname, "../..");
const HARDHAT_CLI = join(ROOT, "node_modules/hardhat/dist/src/cli.js");
const ANVIL_BIN = join(ROOT, "node_modules/@foundry-rs/anvil/bin.mjs");

export interface Line {
  event: string;
  [key: string]: unknown;
}

const live = new Set<Child>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

export class Child {
  readonly proc: ChildProcess;
  readonly lines: Line[] = [];
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  readonly name: string;

  /** `env` is added to `base`: the children's environment (childEnv) unless told otherwise. */
  constructor(
    name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
    base: NodeJS.ProcessEnv = childEnv(),
  ) {
    this.name = name;
    this.proc = spawn(command, args, {
      cwd: ROOT,
      env: { ...base, ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(this);
    let partial = "";
    this.proc.stdout!.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      this.stdout += text;
      partial += text;
      const parts = partial.split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        if (!line.startsWith("{")) continue;
        try {
          this.lines.push(JSON.parse(line) as Line);
        } catch {
          // not a JSON line
        }
      }
      this.notify();
    });
    this.proc.stderr!.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.notify();
    });
    this.exited = new Promise((done) =>
      this.proc.on("exit", (code) => {
        live.delete(this);
        const logDir = process.env.E2E_LOG_DIR;
        if (logDir !== undefined) {
          mkdirSync(logDir, { recursive: true });
          appendFileSync(
            join(logDir, `${this.name.replace(/[^\w.-]+/g, "_")}.log`),
            this.stdout + this.stderr,
          );
        }
        this.notify();
        done(code);
      }),
    );
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves with the first JSON line (from index `from`) matching `pred`. */
  async waitFor(pred: (l: Line) => boolean, timeoutMs: number, what: string, from = 0): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.slice(from).find(pred);
      if (found !== undefined) return found;
      if (!this.running) throw new Error(`${this.name} exited before ${what}\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what} from ${this.name}\n${this.tail()}`,
        );
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  tail(): string {
    return `--- ${this.name} stdout ---\n${this.stdout.slice(-3000)}\n--- stderr ---\n${this.stderr.slice(-3000)}`;
  }

  /** Signals the whole process group (the child and anything it started). */
  kill(signal: NodeJS.Signals = "SIGTERM"): void {
    if (!this.running || this.proc.pid === undefined) return;
    try {
      process.kill(-this.proc.pid, signal);
    } catch {
      // already gone
    }
  }

  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000): Promise<number | null> {
    this.kill(signal);
    const timer = setTimeout(() => this.kill("SIGKILL"), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/**
 * The children's environment: none of the parent's Hardhat options (under `hardhat test --coverage`
 * they would make the children deploy coverage-instrumented contracts, too large for a real node),
 * their own build output in cache/e2e (so they never overwrite the parent's artifacts), no typechain.
 */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("HARDHAT_")) env[k] = v;
  if (!mainBuild) {
    env.LT_ARTIFACTS_DIR = E2E_ARTIFACTS;
    env.LT_CACHE_DIR = join(ROOT, "cache/e2e/cache");
  }
  env.HARDHAT_NO_TYPECHAIN = "true";
  return env;
}

let mainBuild = false;

/**
 * The children use the checkout's own build (artifacts/, built by the npm script that runs them)
 * instead of a separate one in cache/e2e: for a command run outside the test suite (npm run soak),
 * whose contracts are never coverage-instrumented.
 */
export function useMainBuild(): void {
  mainBuild = true;
}

export const E2E_ARTIFACTS = join(ROOT, "cache/e2e/artifacts");

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

export async function waitForRpc(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await rpc(url, "eth_chainId");
      return;
    } catch {
      if (!child.running) throw new Error(`${child.name} exited before answering\n${child.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`${child.name} did not answer at ${url} within ${timeoutMs} ms\n${child.tail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export type NodeKind = "hardhat" | "anvil";

export interface NodeOptions {
  /** The node's environment (default: childEnv(), as every child's). */
  env?: NodeJS.ProcessEnv;
  /**
   * The contracts deployed to it are coverage-instrumented (the test process deploys its own
   * under `hardhat test --coverage`) and larger than the 24 KB limit: hardhat's own coverage mode
   * lifts it, anvil has a flag.
   */
  coverage?: boolean;
  /** More command-line arguments for the node (e.g. anvil's --block-time). */
  args?: string[];
}

/** Starts a `hardhat node` or an anvil on `port` and waits until it answers. */
export async function spawnNode(kind: NodeKind, port: number, o: NodeOptions = {}): Promise<Child> {
  const coverage = o.coverage === true;
  const args =
    kind === "hardhat"
      ? [HARDHAT_CLI, ...(coverage ? ["--coverage"] : []), "node", "--port", String(port)]
      : [
          ANVIL_BIN,
          "--port",
          String(port),
          "--silent",
          // the same fixed genesis time as the in-process chain and `hardhat node` (hardhat.config.ts)
          "--timestamp",
          String(PATH_START),
          ...(coverage ? ["--disable-code-size-limit"] : []),
        ];
  args.push(...(o.args ?? []));
  const name = `${kind === "hardhat" ? "hardhat node" : "anvil"} :${port}`;
  const node = new Child(name, process.execPath, args, {}, o.env);
  try {
    await waitForRpc(`http://127.0.0.1:${port}`, node, kind === "hardhat" ? 60_000 : 30_000);
  } catch (e) {
    await node.stop("SIGKILL");
    throw e;
  }
  return node;
}

export interface Scratch {
  dir: string;
  deployments: string;
  journals: string;
  remove: () => void;
}

/** A scratch folder for address books and journals, so tests never touch the checkout's. */
export function scratch(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), "lt-e2e-"));
  return {
    dir,
    deployments: join(dir, "deployments"),
    journals: join(dir, "ignition"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Target {
  network: "localhost" | "anvil";
  url: string;
  deployments: string;
  journals: string;
}

/**
 * A node of `kind` on a free port for the children (`hardhat` is the network localhost, `anvil`
 * anvil), and the target they reach it at, with address books and journals in `dirs`.
 */
export async function startTarget(
  kind: NodeKind,
  dirs: Scratch,
): Promise<{ node: Child; port: number; target: Target }> {
  const port = await freePort();
  const node = await spawnNode(kind, port);
  const target: Target = {
    network: kind === "hardhat" ? "localhost" : "anvil",
    url: `http://127.0.0.1:${port}`,
    deployments: dirs.deployments,
    journals: dirs.journals,
  };
  return { node, port, target };
}

function targetEnv(t: Target): NodeJS.ProcessEnv {
  return {
    RPC_URL: t.network === "localhost" ? t.url : undefined,
    ANVIL_URL: t.network === "anvil" ? t.url : undefined,
    DEPLOYMENTS_DIR: t.deployments,
    IGNITION_JOURNAL_DIR: t.journals,
  };
}

let built: Promise<void> | undefined;

/** Compiles the contracts once for every child (into cache/e2e; a no-op when up to date). */
export function buildForChildren(): Promise<void> {
  if (mainBuild) return Promise.resolve();
  built ??= (async () => {
    const child = new Child("build", process.execPath, [HARDHAT_CLI, "build", "--no-tests"]);
    const code = await child.exited;
    if (code !== 0) throw new Error(`build for the e2e children exited with ${code}\n${child.tail()}`);
  })();
  return built;
}

/**
 * `npm run deploy -- --network <name>` as a child process; returns the address book it wrote.
 * `instantTokens`: the test-only InstantDesk in place of every ForwardDesk (INSTANT_TOKENS=1), the
 * primary market before forward pricing, for the attack test that shows what it pays an attacker.
 */
export async function deploy(
  t: Target,
  options: { instantTokens?: boolean } = {},
): Promise<{ book: AddressBook; output: string }> {
  await buildForChildren();
  const child = new Child(
    `deploy ${t.network}`,
    process.execPath,
    [HARDHAT_CLI, "run", "--no-compile", "scripts/deploy.ts", "--network", t.network],
    { ...targetEnv(t), INSTANT_TOKENS: options.instantTokens === true ? "1" : undefined },
  );
  const code = await child.exited;
  if (code !== 0) throw new Error(`deploy exited with ${code}\n${child.tail()}`);
  const book = JSON.parse(readFileSync(join(t.deployments, `${t.network}.json`), "utf8")) as AddressBook;
  return { book, output: child.stdout };
}

/** `node scripts/<script> --network <t> --deployments <dir> <args>` as a child process. */
export function program(
  t: Target,
  script: string,
  args: string[],
  name: string,
  env: NodeJS.ProcessEnv = {},
): Child {
  return new Child(
    name,
    process.execPath,
    [`scripts/${script}`, "--network", t.network, "--deployments", t.deployments, ...args],
    { ...targetEnv(t), ...env },
  );
}

export function keeper(t: Target, args: string[], name = "keeper", env: NodeJS.ProcessEnv = {}): Child {
  return program(t, "keeper.ts", args, name, env);
}

/** Runs the feeder to completion and returns its JSON lines. */
export async function feeder(t: Target, args: string[]): Promise<Line[]> {
  const child = program(t, "feeder.ts", args, "feeder");
  const code = await child.exited;
  if (code !== 0) throw new Error(`feeder exited with ${code}\n${child.tail()}`);
  return child.lines;
}
