// Charts for the demo and the backtest: Vega-Lite specs, rendered to SVG by Vega (no browser) and to
// PNG by resvg. Specs are plain data, so tests can check them and users can open them in the Vega
// editor.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import type { TopLevelSpec } from "vega-lite";

/** One point of a line: x (days since the start, or any number), y and the series it belongs to. */
export interface SeriesPoint {
  x: number;
  y: number;
  series: string;
}

/** A marker on a series at x (a rebalance), with the reason shown in its tooltip. */
export interface Mark {
  x: number;
  y: number;
  series: string;
  label: string;
}

export interface LineChartOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  logScale?: boolean;
  width?: number;
  height?: number;
}

/** Lines per series, optional point marks on top (e.g. rebalances), optional log y scale. */
export function lineChartSpec(points: SeriesPoint[], marks: Mark[], o: LineChartOptions): TopLevelSpec {
  const y = {
    field: "y",
    type: "quantitative" as const,
    title: o.yTitle,
    scale: o.logScale ? { type: "log" as const, nice: false } : { zero: false },
  };
  const x = { field: "x", type: "quantitative" as const, title: o.xTitle };
  const color = { field: "series", type: "nominal" as const, title: null };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: o.title,
    width: o.width ?? 900,
    height: o.height ?? 420,
    background: "white",
    layer: [
      { data: { values: points }, mark: { type: "line", strokeWidth: 1.5 }, encoding: { x, y, color } },
      {
        data: { values: marks },
        mark: { type: "point", shape: "triangle-up", size: 40, filled: true, opacity: 0.8 },
        encoding: { x, y, color, tooltip: [{ field: "label", type: "nominal" }] },
      },
    ],
  };
}

/** Vega-Lite spec -> SVG text, rendered headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG text -> PNG bytes at `width` pixels, with the system's fonts. */
export function renderPng(svg: string, width = 1400): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: "width", value: width },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
  });
  return resvg.render().asPng();
}

/** Writes `<name>.svg`, `<name>.png` and `<name>.vl.json` into `dir`; returns their paths. */
export async function writeChart(
  dir: string,
  name: string,
  spec: TopLevelSpec,
): Promise<{ svg: string; png: string; spec: string }> {
  mkdirSync(dir, { recursive: true });
  const svg = await renderSvg(spec);
  const paths = {
    svg: join(dir, `${name}.svg`),
    png: join(dir, `${name}.png`),
    spec: join(dir, `${name}.vl.json`),
  };
  writeFileSync(paths.svg, svg);
  writeFileSync(paths.png, renderPng(svg));
  writeFileSync(paths.spec, JSON.stringify(spec, null, 2) + "\n");
  return paths;
}

/** PNG files start with these 8 bytes. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
