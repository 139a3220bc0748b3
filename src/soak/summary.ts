// The soak's figures from what it recorded and what the chain holds at the end, and the problems that
// make it fail: a crash, an unexplained error, USDT not conserved, the chain's NAV not the engine's.
import { formatUnits, type JsonRpcProvider } from "ethers";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import type { AddressBook } from "../chain/addressBook.ts";
import type { Line } from "../chain/processes.ts";
import { doubleRebalances, rebalanceEvents, usdtConservation, type Conservation } from "./checks.ts";
import type { Jump } from "./path.ts";
import { engineReplay, type EngineCheck } from "./replay.ts";
import type { ActionRecord } from "./wallets.ts";
import type { NeedSpan } from "./watch.ts";

/** What the run recorded as it went. */
export interface SoakRecord {
  options: { minutes: number; wallets: number; seed: number; volatility: number };
  actions: ActionRecord[];
  faults: { atSeconds: number; what: string }[];
  crashes: { name: string; code: number | null; stderr: string }[];
  /** Resident memory of each keeper (bytes) at the start and the end of the run. */
  memory: Record<string, { start?: number; end?: number }>;
  /** Every keeper process's JSON lines (a restarted keeper is a second process). */
  keeperLines: Record<string, Line[]>;
  arbLines: Line[];
  watch?: { longest: NeedSpan; samples: number; staleSamples: number };
  setupMs: number;
  runMs?: number;
}

export interface SoakSummary {
  ok: boolean;
  problems: string[];
  options: SoakRecord["options"];
  seconds: { setup: number; run: number; checks: number };
  blocks: { from: number; to: number };
  jumps: Jump[];
  faults: SoakRecord["faults"];
  actions: {
    total: number;
    done: number;
    refused: number;
    unexplained: number;
    byCommand: Record<string, Record<string, number>>;
    refusals: Record<string, number>;
    unexplainedErrors: { wallet: number; command: string; message: string }[];
  };
  rebalances: {
    events: number;
    byReason: Record<string, number>;
    byKeeper: Record<string, number>;
    keeperLines: number;
    matched: boolean;
    doubles: number;
    skippedAsDone: number;
  };
  longestNeedWhileLive: NeedSpan & { seconds: number };
  crashes: SoakRecord["crashes"];
  keeperMemoryMB: Record<string, { start?: number; end?: number }>;
  keeperErrors: Record<string, number>;
  arbitrage: Record<string, number>;
  /** Tokens the arbitrageur holds at the end (left over from a trade whose second leg failed). */
  arbitrageurHolds: Record<string, string>;
  conservation: Omit<Conservation, "sumOfBalances" | "totalSupply" | "mintedLessBurned"> & {
    sumOfBalances: string;
    totalSupply: string;
    mintedLessBurned: string;
  };
  engine: EngineCheck;
}

export interface ChainContext {
  provider: JsonRpcProvider;
  book: AddressBook;
  fromBlock: number;
  toBlock: number;
  jumps: Jump[];
  /** The node account the arbitrage bot signs with. */
  arbAccount: number;
}

const count = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

/** "the BTC price is stale: last updated ..." -> "the BTC price is stale" (a refusal's kind). */
function kindOf(message: string): string {
  return message
    .split(/[:;(]/)[0]!
    .replace(/0x[0-9a-fA-F]+/g, "0x...")
    .replace(/\b\d[\d.,]*\b/g, "N")
    .trim();
}

export async function summarize(r: SoakRecord, c: ChainContext): Promise<SoakSummary> {
  const checksStart = Date.now();
  const problems: string[] = [];

  const byCommand: Record<string, Record<string, number>> = {};
  const refusals: Record<string, number> = {};
  for (const a of r.actions) {
    count((byCommand[a.args[0]!] ??= {}), a.outcome);
    if (a.outcome === "refused") count(refusals, kindOf(a.message ?? ""));
  }
  const unexplained = r.actions.filter((a) => a.outcome === "unexplained");
  for (const a of unexplained) problems.push(`unexplained error on \`lt ${a.args.join(" ")}\`: ${a.message}`);

  // rebalances: the chain's events against the keepers' lines
  const events = await rebalanceEvents(c.provider, c.book, c.fromBlock + 1, c.toBlock);
  const keeperOf = new Map<string, string>();
  let keeperLines = 0;
  let skippedAsDone = 0;
  const keeperErrors: Record<string, number> = {};
  for (const [name, lines] of Object.entries(r.keeperLines)) {
    for (const l of lines) {
      if (l.event === "rebalanced" && typeof l.tx === "string") {
        keeperLines++;
        keeperOf.set(l.tx, name.replace(/#\d+$/, ""));
      }
      if (l.event === "skipped") skippedAsDone++;
      if (l.event === "error") count(keeperErrors, kindOf(String(l.message)));
    }
  }
  const byReason: Record<string, number> = {};
  const byKeeper: Record<string, number> = {};
  for (const e of events) {
    count(byReason, e.reason);
    count(byKeeper, keeperOf.get(e.tx) ?? "a mint or redeem at the ripcord");
  }
  const eventTxs = new Set(events.map((e) => e.tx));
  const matched = [...keeperOf.keys()].every((tx) => eventTxs.has(tx));
  if (!matched) problems.push("a keeper logged a rebalance the chain has no event for");
  const doubles = doubleRebalances(events);
  for (const d of doubles) problems.push(`${d.token} rebalanced twice in block ${d.block}`);

  for (const crash of r.crashes)
    problems.push(
      `${crash.name} crashed (exit ${crash.code}): ${crash.stderr.trim().split("\n").at(-1) ?? ""}`,
    );

  const arbitrage: Record<string, number> = {};
  for (const l of r.arbLines) count(arbitrage, l.event);

  const arbitrageurHolds: Record<string, string> = {};
  const arbAccount = ((await c.provider.send("eth_accounts", [])) as string[])[c.arbAccount];
  for (const [symbol, address] of Object.entries(c.book.tokens)) {
    const held =
      arbAccount === undefined
        ? 0n
        : await LeveragedToken__factory.connect(address, c.provider).balanceOf(arbAccount, {
            blockTag: c.toBlock,
          });
    if (held > 0n) arbitrageurHolds[symbol] = formatUnits(held, 18);
  }
  const conservation = await usdtConservation(c.provider, c.book, c.toBlock);
  if (!conservation.exact)
    problems.push(
      `USDT not conserved: balances ${conservation.sumOfBalances}, supply ${conservation.totalSupply}, minted less burned ${conservation.mintedLessBurned}`,
    );
  const engine = await engineReplay(c.provider, c.book, c.toBlock);
  for (const t of engine.tokens)
    if (!t.equal) problems.push(`${t.symbol}: chain NAV ${t.chainNav} but the engine's ${t.engineNav}`);
  for (const m of engine.mismatches) problems.push(`engine replay: ${m}`);

  const longest = r.watch?.longest ?? { token: "", ms: 0 };
  const mb = (b?: number) => (b === undefined ? undefined : Math.round((b / 2 ** 20) * 10) / 10);
  return {
    ok: problems.length === 0,
    problems,
    options: r.options,
    seconds: {
      setup: Math.round(r.setupMs / 1000),
      run: Math.round((r.runMs ?? 0) / 1000),
      checks: Math.round((Date.now() - checksStart) / 1000),
    },
    blocks: { from: c.fromBlock, to: c.toBlock },
    jumps: c.jumps,
    faults: r.faults,
    actions: {
      total: r.actions.length,
      done: r.actions.filter((a) => a.outcome === "done").length,
      refused: r.actions.filter((a) => a.outcome === "refused").length,
      unexplained: unexplained.length,
      byCommand,
      refusals,
      unexplainedErrors: unexplained.map((a) => ({
        wallet: a.wallet,
        command: a.args.join(" "),
        message: a.message ?? "",
      })),
    },
    rebalances: {
      events: events.length,
      byReason,
      byKeeper,
      keeperLines,
      matched,
      doubles: doubles.length,
      skippedAsDone,
    },
    longestNeedWhileLive: { ...longest, seconds: Math.round(longest.ms / 100) / 10 },
    crashes: r.crashes,
    keeperMemoryMB: Object.fromEntries(
      Object.entries(r.memory).map(([k, v]) => [k, { start: mb(v.start), end: mb(v.end) }]),
    ),
    keeperErrors,
    arbitrage,
    arbitrageurHolds,
    conservation: {
      ...conservation,
      sumOfBalances: conservation.sumOfBalances.toString(),
      totalSupply: conservation.totalSupply.toString(),
      mintedLessBurned: conservation.mintedLessBurned.toString(),
    },
    engine,
  };
}
