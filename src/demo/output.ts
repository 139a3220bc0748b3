// The demo's outputs: the fixed-width table and the NAV check lines for stdout, report.json and the
// chart (growth of 1 USDT: the underlyings and every token's NAV, rebalance marks) as SVG and PNG.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lineChartSpec, writeChart, type Mark, type SeriesPoint } from "../report/chart.ts";
import type { DemoReport } from "./types.ts";
import { formatValue, parseExact } from "../report/digits.ts";
import { percent } from "./story.ts";

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
}

/** "2026-01-01 00:00 UTC" (seconds shown only when not zero). */
export function utcTime(unixSeconds: bigint): string {
  const iso = new Date(Number(unixSeconds) * 1000).toISOString();
  const seconds = iso.slice(17, 19);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}${seconds === "00" ? "" : `:${seconds}`} UTC`;
}

/** A premium as a percentage, or past +1000% (a pool quoting a decayed token) as a multiple of NAV: "x8.00e+16". */
export function premium(x: number): string {
  return x > 10 ? `x${(1 + x).toExponential(2)}` : percent(x);
}

function money(x: number): string {
  return x.toFixed(2);
}

/** One row per token (and a header), fixed width. */
export function formatTable(r: DemoReport): string {
  const head = [
    "token",
    "NAV start",
    "NAV end (chain)",
    "NAV end (engine)",
    "rebal",
    "band/daily/rip",
    "mgmt fee",
    "funding",
    "trading",
    "underlying",
    "L x und.",
    "token",
    "ideal",
    "spot end",
    "prem/disc max",
    "arbs",
    "arb profit",
  ];
  const rows = r.tokens.map((t) => [
    t.symbol,
    formatValue(parseExact(t.valueStart)),
    formatValue(parseExact(t.valueEndChain)),
    formatValue(parseExact(t.valueEndEngine)),
    String(t.rebalances),
    `${t.triggers.band ?? 0}/${t.triggers.daily ?? 0}/${(t.triggers.ripcord ?? 0) + (t.triggers.depleted ?? 0) + (t.triggers.reopen ?? 0)}`,
    money(t.fees.managementUsdt),
    money(t.fees.fundingUsdt),
    money(t.fees.tradingUsdt),
    percent(t.underlyingReturn),
    percent(t.leveredUnderlyingReturn),
    percent(t.tokenReturn),
    percent(t.idealReturn),
    t.spot.dead ? `dead (${t.spot.spotEnd.toFixed(4)})` : t.spot.spotEnd.toFixed(4),
    `${premium(t.spot.maxPremium)}/${premium(t.spot.maxDiscount)}`,
    String(t.spot.arbTrades),
    money(t.spot.arbProfitUsdt),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const lines = [
    pad(head, widths),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map((x) => pad(x, widths)),
  ];
  return lines.join("\n");
}

/** "on-chain NAV == engine NAV: yes (to the last unit)" per token, or a loud NO with the difference. */
export function navCheckLines(r: DemoReport): string[] {
  const lines = r.tokens.map((t) =>
    t.navEqual
      ? `${t.symbol}: on-chain NAV == engine NAV: yes (to the last unit)`
      : t.navEndChain !== t.navEndEngine
        ? `${t.symbol}: on-chain NAV == engine NAV: NO !!! chain ${t.navEndChain}, engine ${t.navEndEngine}, difference ${t.navDifference} units`
        : `${t.symbol}: on-chain NAV == engine NAV: NO !!! nav() agrees, but the value per token with 18 decimals differs: chain ${t.valueEndChain}, engine ${t.valueEndEngine}`,
  );
  // the final NAVs are in the lines above; earlier checks and rebalanceNeeded() disagreements here
  const during = r.navMismatches.filter((m) => m.time < r.endTime || m.symbol.includes("rebalanceNeeded"));
  if (during.length > 0) {
    const first = during[0]!;
    lines.push(
      `NO !!! ${during.length} checks differed (daily NAVs or rebalanceNeeded); the first: ${first.symbol} at day ` +
        `${((first.time - r.startTime) / 86_400).toFixed(2)}, chain ${first.chain}, engine ${first.engine}`,
    );
  }
  return lines;
}

/**
 * One line per token whose desk netted a fill: how many, the USDT matched between its depositors and
 * its redeemers, and the trading cost those fills saved against the same fills with the sides traded
 * apart (measured in the engine, which agrees with the chain to the unit).
 */
export function nettingLines(r: DemoReport): string[] {
  return r.tokens
    .filter((t) => t.netting.fills > 0)
    .map(
      (t) =>
        `${t.symbol}: ${t.netting.fills} of ${t.deskFills} desk fills netted deposits against redemptions, ` +
        `${money(t.netting.matchedUsdt)} USDT matched at NAV, ${money(t.netting.tradingCostSavedUsdt)} USDT of trading cost saved`,
    );
}

/** One line per token whose keeper actions the engine predicted would revert (so they were not sent): the first and why. */
export function skippedLines(r: DemoReport): string[] {
  return r.tokens
    .filter((t) => t.skippedActions > 0)
    .map((t) => {
      const first = t.skippedWhy[0];
      return (
        `${t.symbol}: ${t.skippedActions} keeper action${t.skippedActions === 1 ? "" : "s"} not sent, the engine predicting a revert` +
        (first === undefined
          ? ""
          : `; the first: ${first.action} at ${utcTime(BigInt(first.time))}, ${first.error}`)
      );
    });
}

/**
 * One line per dead pool: the token is depleted or worth nothing, the pool still quotes a price for
 * it, and the arbitrage no longer trades it, so a pool trader would buy nothing for that price.
 */
export function deadPoolLines(r: DemoReport): string[] {
  return r.tokens
    .filter((t) => t.spot.dead)
    .map((t) => {
      const why =
        t.depletion !== undefined
          ? `${t.symbol} was depleted on ${t.depletion.date}${t.settledUsdt !== null ? ` and settled at ${formatValue(parseExact(t.settledPerToken ?? "0"))} USDT per token` : ""}`
          : `${t.symbol} is worth nothing`;
      return (
        `${t.symbol}'s pool is dead: ${why}, yet the pool still quotes ${t.spot.spotEnd.toFixed(4)} USDT per token; ` +
        "the arbitrage skips it and nothing backs the tokens in it (buying there pays for nothing)"
      );
    });
}

/**
 * `value` as the growth of 1 USDT from `first`: undefined (the point is left out) when there is no
 * first value to grow from (a series that starts at 0 has no growth of 1 USDT, and no division by it).
 */
export function growthOf(value: number, first: number | undefined): number | undefined {
  return first !== undefined && first > 0 ? value / first : undefined;
}

/** Adds the point when it has a value (growthOf's undefined leaves it out). */
function pushPoint(points: SeriesPoint[], x: number, y: number | undefined, series: string): void {
  if (y !== undefined) points.push({ x, y, series });
}

/** The chart: growth of 1 USDT for each underlying and token, with rebalance marks. */
export function demoChartSpec(r: DemoReport, logScale: boolean): ReturnType<typeof lineChartSpec> {
  const points: SeriesPoint[] = [];
  const days = r.series.days;
  for (const [m, ps] of Object.entries(r.series.prices)) {
    ps.forEach((p, k) => pushPoint(points, days[k]!, growthOf(p, ps[0]), `${m} price`));
  }
  for (const [s, ns] of Object.entries(r.series.navs))
    ns.forEach((v, k) => pushPoint(points, days[k]!, growthOf(v, ns[0]), `${s} NAV`));
  // daily rebalances happen almost every day: only the price-triggered ones are marked
  const marks: Mark[] = r.series.marks.flatMap((k) => {
    const y = growthOf(k.nav, r.series.navs[k.symbol]?.[0]);
    return k.reason === "daily" || y === undefined
      ? []
      : [
          {
            x: k.day,
            y,
            series: `${k.symbol} NAV`,
            label: `${k.symbol} rebalance (${k.reason}) day ${k.day.toFixed(2)}`,
          },
        ];
  });
  // a log scale has no 0: a depleted token's line stops where its value went
  const shown = (p: SeriesPoint) => !logScale || p.y > 0;
  const spec = lineChartSpec(points.filter(shown), marks.filter(shown), {
    title: "Growth of 1 USDT: underlyings and token NAVs (triangles: band and ripcord rebalances)",
    xTitle: "days",
    yTitle: logScale ? "value (log scale)" : "value",
    logScale,
  });
  // a year of hourly lines is dense: larger outlined triangles stay visible on top
  const layer = "layer" in spec ? spec.layer[1] : undefined;
  if (layer !== undefined && "mark" in layer) {
    layer.mark = {
      type: "point",
      shape: "triangle-up",
      size: 110,
      filled: true,
      stroke: "black",
      strokeWidth: 0.8,
    };
  }
  return spec;
}

/** The spot chart: each token's pool price against its NAV, both as growth of 1 USDT of NAV. */
export function spotChartSpec(r: DemoReport, logScale: boolean): ReturnType<typeof lineChartSpec> {
  const points: SeriesPoint[] = [];
  const days = r.series.days;
  for (const [s, ns] of Object.entries(r.series.navs)) {
    ns.forEach((v, k) => pushPoint(points, days[k]!, growthOf(v, ns[0]), `${s} NAV`));
    for (const p of r.series.spots[s] ?? []) pushPoint(points, p.day, growthOf(p.spot, ns[0]), `${s} spot`);
  }
  return lineChartSpec(
    points.filter((p) => !logScale || p.y > 0),
    [],
    {
      title:
        "Uniswap V2 spot price (after each arbitrage pass) against NAV per token, relative to the first NAV",
      xTitle: "days",
      yTitle: logScale ? "value (log scale)" : "value",
      logScale,
    },
  );
}

export interface DemoFiles {
  report: string;
  svg: string;
  png: string;
  spec: string;
  spot: { svg: string; png: string; spec: string };
}

export async function writeDemoOutputs(r: DemoReport, dir: string, logScale: boolean): Promise<DemoFiles> {
  mkdirSync(dir, { recursive: true });
  const report = join(dir, "report.json");
  writeFileSync(report, JSON.stringify(r, null, 2) + "\n");
  const chart = await writeChart(dir, "nav", demoChartSpec(r, logScale));
  const spot = await writeChart(dir, "spot", spotChartSpec(r, logScale));
  return { report, ...chart, spot };
}
