// The soak's summary as a few lines of text.
import type { SoakSummary } from "./summary.ts";

const list = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ") || "none";

export function formatSummary(s: SoakSummary): string {
  const a = s.actions;
  const r = s.rebalances;
  const c = s.conservation;
  const mem = Object.entries(s.keeperMemoryMB)
    .map(([k, v]) => `${k} ${v.start ?? "?"} -> ${v.end ?? "?"} MB`)
    .join(", ");
  const lines = [
    `soak: ${s.options.minutes} min, ${s.options.wallets} wallets, seed ${s.options.seed}, blocks ${s.blocks.from}..${s.blocks.to} (setup ${s.seconds.setup} s, run ${s.seconds.run} s, checks ${s.seconds.checks} s)`,
    `faults: ${s.faults.map((f) => `${f.atSeconds}s ${f.what}`).join("; ")}`,
    `user actions: ${a.total} (${a.done} done, ${a.refused} clean refusals, ${a.unexplained} unexplained)`,
    `  refusals: ${list(a.refusals)}`,
    ...a.unexplainedErrors.map((u) => `  UNEXPLAINED (wallet ${u.wallet}) lt ${u.command}: ${u.message}`),
    `rebalances: ${r.events} events (${list(r.byReason)}); by ${list(r.byKeeper)}; keeper lines ${r.keeperLines}, all matched: ${r.matched ? "yes" : "NO"}; double: ${r.doubles}; skipped as done: ${r.skippedAsDone}`,
    `longest need for a rebalance while prices were live: ${s.longestNeedWhileLive.seconds} s${s.longestNeedWhileLive.token ? ` (${s.longestNeedWhileLive.token})` : ""}`,
    `crashes: ${s.crashes.length}${s.crashes.map((x) => ` ${x.name} (exit ${x.code})`).join(",")}`,
    `keeper memory: ${mem}`,
    `keeper errors: ${list(s.keeperErrors)}`,
    `arbitrage lines: ${list(s.arbitrage)}; left holding: ${
      Object.entries(s.arbitrageurHolds)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ") || "nothing"
    }`,
    `USDT conserved: ${c.exact ? "yes" : "NO"} (${c.holders} holders, sum of balances ${c.sumOfBalances} = supply ${c.totalSupply} = minted less burned ${c.mintedLessBurned})`,
    `chain NAV = engine NAV: ${s.engine.tokens.every((t) => t.equal) && s.engine.mismatches.length === 0 ? "yes" : "NO"} (${s.engine.replayed} transactions replayed; ${s.engine.tokens.map((t) => `${t.symbol} ${t.chainNav}${t.equal ? "" : ` vs ${t.engineNav}`}`).join(", ")})`,
    s.ok ? "soak: OK" : `soak: FAILED\n${s.problems.map((p) => `  - ${p}`).join("\n")}`,
  ];
  return lines.join("\n");
}
