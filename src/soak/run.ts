// `npm run soak`: the live system under load and faults. Starts its own anvil (one-second blocks),
// deploys, and runs the feeder on a very volatile path with scripted jumps, two keepers with one key,
// the arbitrage bot and N wallets doing random `lt` actions, while it kills and restarts a keeper,
// cuts the other's RPC through a local proxy, and stops the feeder while the chain clock jumps 70
// minutes. Then it stops everything it started and checks the chain (summary.ts).
import { appendFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { JsonRpcProvider, Network } from "ethers";
import type { AddressBook } from "../chain/addressBook.ts";
import {
  buildForChildren,
  Child,
  deploy,
  freePort,
  program,
  rpc,
  scratch,
  spawnNode,
  type Target,
} from "../chain/processes.ts";
import { sleep } from "../common/retry.ts";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";
import { soakPrices, writeCsvFrom, type Jump } from "./path.ts";
import { CuttableProxy } from "./proxy.ts";
import { Rng } from "./rng.ts";
import { summarize, type SoakRecord, type SoakSummary } from "./summary.ts";
import { runWallet, type ActionRecord } from "./wallets.ts";
import { RebalanceWatch, residentBytes } from "./watch.ts";

export interface SoakOptions {
  minutes: number;
  wallets: number;
  seed: number;
  /** Annual volatility of the path (30 = 3,000%: about 1.2% a 5 s step). */
  volatility: number;
  outDir: string;
  /** Progress, one line at a time (stderr). */
  say: (line: string) => void;
}

export const STEP_SECONDS = 5;
/** The chain clock jumps this far while the feeder is stopped: past the feeds' 3,600 s heartbeat. */
export const CLOCK_JUMP_SECONDS = 70 * 60;
/** Accounts of the node: 0 deploys, keeps (both keepers) and feeds; 1 arbitrages; 2.. the wallets. */
const ARB_ACCOUNT = 1;
const FIRST_WALLET_ACCOUNT = 2;

/** A child the soak started, and whether its exit was asked for. */
interface Managed {
  child: Child;
  stopping: boolean;
}

export async function runSoak(o: SoakOptions): Promise<SoakSummary> {
  const started = Date.now();
  const durationMs = o.minutes * 60_000;
  const dirs = scratch();
  const logDir = join(o.outDir, "logs");
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const managed: Managed[] = [];
  const record: SoakRecord = {
    options: { minutes: o.minutes, wallets: o.wallets, seed: o.seed, volatility: o.volatility },
    actions: [],
    faults: [],
    crashes: [],
    memory: {},
    keeperLines: {},
    arbLines: [],
    setupMs: 0,
  };
  const fault = (what: string) => {
    record.faults.push({ atSeconds: Math.round((Date.now() - runStart) / 1000), what });
    o.say(`soak: ${what}`);
  };
  const start = (child: Child): Child => {
    const m: Managed = { child, stopping: false };
    managed.push(m);
    void child.exited.then((code) => {
      if (!m.stopping) record.crashes.push({ name: child.name, code, stderr: child.stderr.slice(-2000) });
    });
    return child;
  };
  const stop = async (child: Child, signal: NodeJS.Signals = "SIGTERM") => {
    const m = managed.find((x) => x.child === child);
    if (m !== undefined) m.stopping = true;
    const code = await child.stop(signal, 15_000);
    if (signal === "SIGTERM" && code !== 0)
      record.crashes.push({ name: child.name, code, stderr: child.stderr.slice(-2000) });
  };

  let runStart = Date.now();
  let node: Child | undefined;
  let proxy: CuttableProxy | undefined;
  let provider: JsonRpcProvider | undefined;
  try {
    o.say("soak: building the contracts for the children, starting anvil, deploying");
    await buildForChildren();
    const port = await freePort();
    node = start(await spawnNode("anvil", port));
    const url = `http://127.0.0.1:${port}`;
    const target: Target = { network: "anvil", url, deployments: dirs.deployments, journals: dirs.journals };
    // every token with its desk, as `npm run deploy` makes them: the wallets' lt mint and lt redeem,
    // the arbitrage and the engine replay all go through the desks
    const { book } = await deploy(target);
    provider = new JsonRpcProvider(url, undefined, {
      staticNetwork: Network.from(book.chainId),
      pollingInterval: 500,
    });
    // one-second blocks from here on, as a live chain
    await rpc(url, "evm_setIntervalMining", [1]);
    const fromBlock = await provider.getBlockNumber();

    const jumps = scheduleJumps(o.minutes);
    const steps = Math.ceil(durationMs / 1000 / STEP_SECONDS) + 60;
    const prices = soakPrices({
      starts: await currentPrices(book, provider),
      seed: o.seed,
      volatility: o.volatility,
      stepSeconds: STEP_SECONDS,
      steps,
      jumps,
    });
    const feeders = (from: number) =>
      Object.entries(writeCsvFrom(prices, from, STEP_SECONDS, dirs.dir)).map(([market, file]) =>
        start(program(target, "feeder.ts", ["--csv", file, "--market", market], `feeder ${market} @${from}`)),
      );
    const proxied = await CuttableProxy.start(port);
    proxy = proxied.proxy;
    const keeperArgs = ["--interval", "1000", "--fee-interval", "600", "--tx-timeout", "20000"];
    const keeperA = () => start(program(target, "keeper.ts", keeperArgs, "keeper A"));
    let keepers = {
      A: keeperA(),
      B: start(
        program(
          target,
          "keeper.ts",
          [...keeperArgs, "--rpc", `http://127.0.0.1:${proxied.port}`],
          "keeper B",
        ),
      ),
    };
    let feederChildren = feeders(0);
    const arb = start(
      program(target, "arb.ts", ["--account", String(ARB_ACCOUNT), "--interval", "1000"], "arbitrage"),
    );
    for (const [name, k] of Object.entries(keepers))
      await k.waitFor((l) => l.event === "started", 60_000, `${name} started`);
    await arb.waitFor((l) => l.event.startsWith("arb-"), 60_000, "the arbitrage's first pass");
    record.setupMs = Date.now() - started;
    runStart = Date.now();
    const memoryAt = (when: "start" | "end") => {
      for (const [name, k] of Object.entries(keepers)) {
        const m = (record.memory[`keeper ${name}`] ??= {});
        m[when] = residentBytes(k.proc.pid);
      }
    };
    memoryAt("start");
    o.say(`soak: running for ${o.minutes} min (anvil at ${url}, logs in ${logDir})`);

    // the wallets and the watch run until the end
    const wallets = new AbortController();
    const symbols = Object.keys(book.tokens);
    const walletRuns = Array.from({ length: o.wallets }, (_, i) =>
      runWallet({
        index: i,
        account: FIRST_WALLET_ACCOUNT + i,
        rpcUrl: url,
        deployments: dirs.deployments,
        network: "anvil",
        symbols,
        rng: new Rng(o.seed * 1000 + i + 1),
        pauseMs: [1_000, 6_000],
        signal: wallets.signal,
        onAction: (a: ActionRecord) => record.actions.push(a),
      }),
    );
    const watch = new RebalanceWatch(provider, book);
    const watching = (async () => {
      while (!wallets.signal.aborted) {
        try {
          await watch.sample();
        } catch {
          // the node is busy: the next sample
        }
        await sleep(1_000, wallets.signal);
      }
    })();

    // the faults, on a schedule scaled to the run
    const at = (fraction: number) => sleep(Math.max(0, runStart + fraction * durationMs - Date.now()));
    await at(0.25);
    fault("keeper A killed (SIGKILL)");
    await stop(keepers.A, "SIGKILL");
    await sleep(5_000);
    keepers = { ...keepers, A: keeperA() };
    fault("keeper A restarted");
    await at(0.42);
    const cutMs = Math.min(30_000, 0.1 * durationMs);
    fault(`keeper B's RPC cut for ${Math.round(cutMs / 1000)} s`);
    proxy.cut();
    await sleep(cutMs);
    proxy.restore();
    fault("keeper B's RPC restored");
    await at(0.65);
    fault(`feeder stopped; chain clock +${CLOCK_JUMP_SECONDS / 60} min`);
    await Promise.all(feederChildren.map((f) => stop(f)));
    await rpc(url, "evm_increaseTime", [CLOCK_JUMP_SECONDS]);
    await rpc(url, "evm_mine", []);
    await sleep(Math.min(20_000, 0.08 * durationMs));
    const resumeStep = Math.ceil((Date.now() - runStart) / 1000 / STEP_SECONDS);
    feederChildren = feeders(resumeStep);
    fault(`feeder restarted at step ${resumeStep}`);
    await at(1);

    // stop: the wallets finish their action, then every process is asked to stop
    o.say("soak: stopping");
    memoryAt("end");
    wallets.abort();
    await Promise.all([...walletRuns, watching]);
    watch.finish();
    await stop(arb);
    for (const k of Object.values(keepers)) await stop(k);
    await Promise.all(feederChildren.map((f) => stop(f)));
    await sleep(2_500); // the last transactions sent are mined
    const toBlock = await provider.getBlockNumber();
    record.keeperLines = Object.fromEntries(
      managed
        .filter((m) => m.child.name.startsWith("keeper"))
        .map((m, i) => [`${m.child.name}#${i}`, m.child.lines]),
    );
    record.arbLines = arb.lines;
    record.watch = { longest: watch.longest, samples: watch.samples, staleSamples: watch.staleSamples };
    record.runMs = Date.now() - runStart;
    return await summarize(record, { provider, book, fromBlock, toBlock, jumps, arbAccount: ARB_ACCOUNT });
  } finally {
    for (const m of managed) {
      m.stopping = true;
      // a restarted process's log goes on in the same file
      appendFileSync(
        join(logDir, `${m.child.name.replace(/[^\w.@-]+/g, "_")}.log`),
        m.child.stdout + m.child.stderr,
      );
    }
    for (const m of managed) if (m.child !== node) await m.child.stop("SIGKILL", 5_000);
    await proxy?.close();
    provider?.destroy();
    await node?.stop("SIGKILL", 5_000);
    dirs.remove();
  }
}

/** -12% and +15% on each market, spread over the run. */
function scheduleJumps(minutes: number): Jump[] {
  const stepAt = (fraction: number) => Math.round((fraction * minutes * 60) / STEP_SECONDS);
  return [
    { market: "BTC", step: stepAt(0.15), move: -0.12 },
    { market: "ETH", step: stepAt(0.35), move: 0.15 },
    { market: "BTC", step: stepAt(0.55), move: 0.15 },
    { market: "ETH", step: stepAt(0.85), move: -0.12 },
  ];
}

async function currentPrices(book: AddressBook, provider: JsonRpcProvider): Promise<Record<string, bigint>> {
  const out: Record<string, bigint> = {};
  for (const [market, address] of Object.entries(book.feeds)) {
    out[market] = (await MockPriceFeed__factory.connect(address, provider).latestRoundData())[1];
  }
  return out;
}
