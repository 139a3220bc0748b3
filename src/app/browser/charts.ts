/// <reference lib="dom" />
// The page's two pictures, drawn as plain SVG: the leverage gauge (band, target, ripcord and where the
// token stands) and NAV against the underlying over time with the rebalances marked. Each carries a
// text alternative with the same numbers.
import { formatLeverage } from "../../cli/format.ts";
import type { SeriesPoint } from "../reads.ts";
import { s } from "./dom.ts";

const WAD = 1e18;
const MAX_UINT256 = 2n ** 256n - 1n;

export interface GaugeInput {
  leverage: bigint | null;
  min: bigint;
  max: bigint;
  target: bigint;
  ripcord: bigint;
}

/** A horizontal gauge from 0 to 1.25x the ripcord. */
export function gauge(g: GaugeInput): SVGElement {
  const width = 150;
  const height = 26;
  const top = Number(g.ripcord) * 1.25;
  const x = (v: bigint | number) => Math.max(0, Math.min(width, (Number(v) / top) * width));
  const lev = g.leverage === null || g.leverage === MAX_UINT256 ? null : g.leverage;
  const label =
    `leverage ${lev === null ? "unknown" : formatLeverage(lev)}, band ${formatLeverage(g.min)} to ` +
    `${formatLeverage(g.max)}, target ${formatLeverage(g.target)}, ripcord ${formatLeverage(g.ripcord)}`;
  const outside = lev !== null && (lev < g.min || lev > g.max);
  return s(
    "svg",
    { class: "gauge", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label },
    s("title", {}, label),
    s("rect", { x: 0, y: 9, width, height: 8, fill: "#e5e7eb", rx: 2 }),
    s("rect", { x: x(g.min), y: 9, width: x(g.max) - x(g.min), height: 8, fill: "#bbf7d0" }),
    s("line", { x1: x(g.target), x2: x(g.target), y1: 5, y2: 21, stroke: "#166534", "stroke-width": 2 }),
    s("line", { x1: x(g.ripcord), x2: x(g.ripcord), y1: 5, y2: 21, stroke: "#b91c1c", "stroke-width": 2 }),
    lev === null
      ? null
      : s("path", {
          d: `M ${x(lev) - 5} 0 L ${x(lev) + 5} 0 L ${x(lev)} 9 Z`,
          fill: outside ? "#b91c1c" : "#111827",
        }),
  );
}

export interface ChartMark {
  block: number;
  label: string;
}

/** NAV and the underlying, each as the growth of 1 since the first point, with rebalance marks. */
export function navChart(
  series: SeriesPoint[],
  marks: ChartMark[],
  symbol: string,
  market: string,
): SVGElement {
  const width = 720;
  const height = 260;
  const pad = { left: 56, right: 16, top: 16, bottom: 40 };
  const first = series[0]!;
  const last = series[series.length - 1]!;
  const navOf = (p: SeriesPoint) => Number(p.nav) / Number(first.nav);
  const priceOf = (p: SeriesPoint) => Number(p.price) / Number(first.price);
  const values = series.flatMap((p) => [navOf(p), priceOf(p)]);
  let [lo, hi] = [Math.min(...values), Math.max(...values)];
  if (hi - lo < 1e-9) [lo, hi] = [lo * 0.99, hi * 1.01];
  const span = Math.max(last.time - first.time, 1);
  const px = (p: SeriesPoint) => pad.left + ((p.time - first.time) / span) * (width - pad.left - pad.right);
  const py = (v: number) => pad.top + (1 - (v - lo) / (hi - lo)) * (height - pad.top - pad.bottom);
  const line = (f: (p: SeriesPoint) => number) =>
    series.map((p, i) => `${i === 0 ? "M" : "L"} ${px(p).toFixed(1)} ${py(f(p)).toFixed(1)}`).join(" ");
  const date = (t: number) => new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ");
  const ticks = [lo, (lo + hi) / 2, hi];
  const markPoints = marks
    .map((m) => ({ m, p: series.find((p) => p.block >= m.block) ?? last }))
    .filter((x) => x.p !== undefined);
  const summary =
    `${symbol} NAV grew ${navOf(last).toFixed(4)}x and ${market} ${priceOf(last).toFixed(4)}x ` +
    `from ${date(first.time)} to ${date(last.time)} UTC over ${series.length} price updates; ${marks.length} rebalances marked`;
  return s(
    "svg",
    { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": summary },
    s("title", {}, summary),
    ...ticks.flatMap((v) => [
      s("line", { x1: pad.left, x2: width - pad.right, y1: py(v), y2: py(v), stroke: "#e5e7eb" }),
      s("text", { x: pad.left - 6, y: py(v) + 4, "text-anchor": "end", class: "tick" }, v.toFixed(3)),
    ]),
    s("text", { x: pad.left, y: height - 18, class: "tick" }, date(first.time)),
    s("text", { x: width - pad.right, y: height - 18, "text-anchor": "end", class: "tick" }, date(last.time)),
    s("path", {
      d: line(priceOf),
      fill: "none",
      stroke: "#6b7280",
      "stroke-width": 1.5,
      "stroke-dasharray": "4 3",
    }),
    s("path", { d: line(navOf), fill: "none", stroke: "#1d4ed8", "stroke-width": 2 }),
    ...markPoints.map(({ m, p }) =>
      s(
        "path",
        {
          d: `M ${px(p) - 5} ${py(navOf(p)) + 9} L ${px(p) + 5} ${py(navOf(p)) + 9} L ${px(p)} ${py(navOf(p)) + 1} Z`,
          fill: "#b45309",
        },
        s("title", {}, m.label),
      ),
    ),
    s("text", { x: pad.left, y: height - 4, class: "legend nav" }, `— ${symbol} NAV (growth of 1)`),
    s("text", { x: pad.left + 220, y: height - 4, class: "legend und" }, `- - ${market} price (growth of 1)`),
    s("text", { x: pad.left + 450, y: height - 4, class: "legend reb" }, "▲ rebalance"),
  );
}
