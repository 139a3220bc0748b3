// Forward pricing on a real node: `lt mint` requests filled by the running keeper while the feeder
// publishes a price round every period, and the request-to-fill latency they measure (blocks and
// seconds from the request's block to its fill's block).
import { expect } from "chai";
import type { Chain } from "./chain.ts";
import { json, runLt } from "./lt.ts";
import { program, type Child, type Target } from "./processes.ts";

export interface Latency {
  requestBlock: number;
  fillBlock: number;
  blocks: number;
  seconds: number;
  wallMs: number;
}

/** The feeder in real time: a GBM step every `periodS` seconds for every market (and `extra` options). */
export function realTimeFeeder(target: Target, periodS: number, extra: string[] = []): Child {
  return program(
    target,
    "feeder.ts",
    ["--gbm", "--vol", "0.2", "--seed", "3", "--step", `${periodS}s`, "--steps", "1000", ...extra],
    "feeder (real time)",
  );
}

/**
 * The feeder's arguments for `days` days passing in fast mode, a day a step, at flat prices: every
 * feed refreshed as block time moves, so none goes stale on the way to a delisting time.
 */
export function flatDays(days: number): string[] {
  return ["--gbm", "--vol", "0", "--drift", "0", "--step", "1d", "--steps", String(days), "--fast"];
}

/**
 * `requests` mints of `symbol` through `lt mint` (each waits for its fill and claims), with the
 * keeper and a real-time feeder running; returns each request's latency.
 */
export async function measureFillLatency(
  target: Target,
  chain: Chain,
  symbol: string,
  requests: number,
): Promise<Latency[]> {
  const out: Latency[] = [];
  for (let i = 0; i < requests; i++) {
    const t0 = Date.now();
    const run = await runLt([
      "--rpc",
      target.url,
      "--deployments",
      target.deployments,
      "--network",
      target.network,
      "--json",
      "mint",
      symbol,
      "25",
      "--deadline",
      "60s",
    ]);
    const r = json<{ status: string; requestBlock: number; fillBlock: number }>(run);
    expect(r.status).to.equal("claimed");
    const [request, fill] = await Promise.all([
      chain.provider.getBlock(r.requestBlock),
      chain.provider.getBlock(r.fillBlock),
    ]);
    out.push({
      requestBlock: r.requestBlock,
      fillBlock: r.fillBlock,
      blocks: r.fillBlock - r.requestBlock,
      seconds: fill!.timestamp - request!.timestamp,
      wallMs: Date.now() - t0,
    });
  }
  return out;
}

/** Prints the latencies as a table and returns the summary line. */
export function reportLatency(node: string, periodS: number, l: Latency[]): string {
  const rows = l.map(
    (x, i) =>
      `  #${i + 1}  request block ${x.requestBlock}  fill block ${x.fillBlock}  ${x.blocks} blocks  ${x.seconds} s on chain  (lt mint end to end ${(x.wallMs / 1000).toFixed(1)} s)`,
  );
  const max = (f: (x: Latency) => number) => Math.max(...l.map(f));
  const mean = (f: (x: Latency) => number) => l.reduce((a, x) => a + f(x), 0) / l.length;
  const summary = `${node}: request to fill over ${l.length} requests, feeder period ${periodS} s, keeper interval 250 ms: blocks mean ${mean((x) => x.blocks).toFixed(1)} max ${max((x) => x.blocks)}, seconds mean ${mean((x) => x.seconds).toFixed(1)} max ${max((x) => x.seconds)}`;
  console.log([`      ${summary}`, ...rows.map((r) => `    ${r}`)].join("\n"));
  return summary;
}
