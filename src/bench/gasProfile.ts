// Where a transaction's gas goes: debug_traceTransaction's opcode steps summed per contract and per
// kind of work (storage, calls, logs, memory and arithmetic), so a gas change can aim at the cost.
/** What the profiler needs of a provider: a raw JSON-RPC call. */
export interface TraceProvider {
  send(method: string, params: unknown[]): Promise<unknown>;
}

interface StructLog {
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
}

export type GasKind = "sload" | "sstore" | "call" | "log" | "transient" | "other";

export interface GasProfile {
  gasUsed: number;
  /** Execution gas per contract label and kind (the intrinsic 21,000 and calldata are not in it). */
  byContract: Record<string, Record<GasKind, number>>;
  /** How many of each storage op ran per contract. */
  counts: Record<string, { sload: number; sstore: number; calls: number; logs: number }>;
  /** Gas and step count per opcode per contract, for the "other" kind's detail. */
  ops: Record<string, Record<string, { gas: number; steps: number }>>;
}

const CALLS = new Set(["CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"]);

function kindOf(op: string): GasKind {
  if (op === "SLOAD") return "sload";
  if (op === "SSTORE") return "sstore";
  if (op === "TLOAD" || op === "TSTORE") return "transient";
  if (CALLS.has(op) || op === "EXTCODESIZE") return "call";
  if (op.startsWith("LOG")) return "log";
  return "other";
}

function emptyKinds(): Record<GasKind, number> {
  return { sload: 0, sstore: 0, call: 0, log: 0, transient: 0, other: 0 };
}

/** Traces `hash` and sums its opcode gas per contract (named by `labels`, else by address). */
export async function profileTransaction(
  provider: TraceProvider,
  hash: string,
  to: string,
  labels: Record<string, string>,
): Promise<GasProfile> {
  const trace = (await provider.send("debug_traceTransaction", [hash, { enableMemory: false }])) as {
    gas: number;
    structLogs: StructLog[];
  };
  const logs = trace.structLogs;
  const name = (address: string): string => labels[address.toLowerCase()] ?? address.toLowerCase();
  const byContract: GasProfile["byContract"] = {};
  const counts: GasProfile["counts"] = {};
  const ops: GasProfile["ops"] = {};
  const frames: string[] = [name(to)];
  const add = (who: string, kind: GasKind, gas: number): void => {
    (byContract[who] ??= emptyKinds())[kind] += gas;
  };
  for (let i = 0; i < logs.length; i++) {
    const step = logs[i]!;
    const who = frames[step.depth - 1] ?? "?";
    const c = (counts[who] ??= { sload: 0, sstore: 0, calls: 0, logs: 0 });
    const kind = kindOf(step.op);
    if (kind === "sload") c.sload++;
    if (kind === "sstore") c.sstore++;
    if (kind === "log") c.logs++;
    if (CALLS.has(step.op)) {
      c.calls++;
      const next = logs[i + 1];
      if (next !== undefined && next.depth > step.depth) {
        // the call's own cost: what it took before the callee's first step (the rest is the callee's)
        const stack = step.stack ?? [];
        const target =
          "0x" + (stack[stack.length - 2] ?? "0").replace(/^0x/, "").padStart(40, "0").slice(-40);
        frames[step.depth] = name(target);
        let j = i + 1;
        while (j < logs.length && logs[j]!.depth > step.depth) j++;
        const childStart = next.gas;
        const after = logs[j]?.gas ?? 0;
        const childLast = logs[j - 1]!;
        const childUsed = childStart - childLast.gas + childLast.gasCost;
        add(who, "call", step.gas - after - childUsed);
        continue;
      }
    }
    add(who, kind, step.gasCost);
    const o = ((ops[who] ??= {})[step.op] ??= { gas: 0, steps: 0 });
    o.gas += step.gasCost;
    o.steps++;
  }
  const receipt = (await provider.send("eth_getTransactionReceipt", [hash])) as { gasUsed: string } | null;
  return { gasUsed: Number(receipt?.gasUsed ?? 0), byContract, counts, ops };
}

/** A printable table: one row per contract, gas per kind and storage op counts. */
export function profileRows(p: GasProfile): Record<string, Record<string, number>> {
  const rows: Record<string, Record<string, number>> = {};
  for (const [who, kinds] of Object.entries(p.byContract)) {
    const c = p.counts[who] ?? { sload: 0, sstore: 0, calls: 0, logs: 0 };
    const total = Object.values(kinds).reduce((a, b) => a + b, 0);
    rows[who] = { ...kinds, total, nSload: c.sload, nSstore: c.sstore, nCall: c.calls, nLog: c.logs };
  }
  return rows;
}

/** The `n` opcodes that cost `contract` the most gas. */
export function topOps(
  p: GasProfile,
  contract: string,
  n = 15,
): Record<string, { gas: number; steps: number }> {
  const entries = Object.entries(p.ops[contract] ?? {}).sort((a, b) => b[1].gas - a[1].gas);
  return Object.fromEntries(entries.slice(0, n));
}
