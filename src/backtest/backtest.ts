// `npm run backtest`: the exact engine (no chain) over one price path for a grid of settings: band
// width, band versus daily-only rebalancing, leverage 2x/3x/5x long and short, fee levels. Each run
// deploys an engine-only system, deposits, replays every price with the keeper's rule
// (rebalanceNeeded) and reports the token's value against the ideal closed form. Pure: no I/O.
import { parseUnits } from "ethers";
import { DEFAULT_FEES, MARKETS, USDT, WAD, tokenParams, type TokenParams } from "../common/params.ts";
import { localSystem, syntheticAddress } from "../engine/system.ts";
import { RebalanceScreen } from "../engine/screen.ts";
import { DEFAULT_EXCHANGE_PARAMS } from "../engine/exchange.ts";
import { REASON_NONE, TokenState } from "../engine/token.ts";
import type { Tx } from "../engine/world.ts";
import { D, bandValue, continuousValue, realizedVariance, type BandResult } from "../engine/ideal.ts";
import { PATH_START, YEAR_SECONDS } from "../feeds/paths.ts";
import { REASON_NAMES } from "../keeper/decide.ts";
import {
  enginePerToken,
  exactDecimal,
  formatFloat,
  formatValue,
  parseExact,
  ratio18,
  toNumber,
} from "../report/digits.ts";

export type Mode = "band+daily" | "band" | "daily";
export type FeeLevel = "none" | "default" | "double";

export interface Setting {
  leverage: number; // 2, 3, 5
  isLong: boolean;
  mode: Mode;
  /** Half-width of the band as a fraction of the target (1/3: [2x, 4x] for 3x); unused for "daily". */
  bandWidth: number;
  fees: FeeLevel;
}

export interface BacktestPath {
  /** Seconds after the start of each point (strictly increasing, times[0] = 0). */
  times: number[];
  /** 8-decimal prices, one per time. */
  prices: bigint[];
}

export interface BacktestResult extends Setting {
  label: string;
  /** Value per token at the end over the start (total assets over supply, not the 6-decimal nav()). */
  finalValue: number;
  /** The same with 18 decimals, as a decimal string: "0.91", "0.000000016234..."; "0" only when depleted. */
  finalValueExact: string;
  /** When the token was depleted: the path's time (seconds from its start) and the move of that price update. */
  depletedAt?: { time: number; move: number };
  rebalances: number;
  triggers: Record<string, number>;
  depleted: boolean;
  /** The ideal closed form with the same fees and funding. */
  idealValue: number;
  /** Leverage band actually configured (WAD as numbers). */
  band: [number, number];
  /**
   * With `bandModel`: the band ideal's value (bandIdealFor, the same conventions as the chain) and
   * its relative gap to the engine's (|engine / model - 1|; the engine's roundings, about 1e-10).
   */
  bandModel?: { value: string; gap: number };
}

export const DEFAULT_GRID = {
  leverages: [2, 3, 5],
  bandWidths: [0.1, 0.2, 1 / 3, 0.5, 0.6],
  modes: ["band+daily", "band", "daily"] as Mode[],
  fees: ["default", "none", "double"] as FeeLevel[],
};

/** Every combination: band modes for each band width, daily-only once per leverage. */
export function settingsGrid(g: typeof DEFAULT_GRID = DEFAULT_GRID): Setting[] {
  const out: Setting[] = [];
  for (const fees of g.fees)
    for (const leverage of g.leverages)
      for (const isLong of [true, false])
        for (const mode of g.modes) {
          if (mode === "daily") out.push({ leverage, isLong, mode, bandWidth: 0, fees });
          else for (const bandWidth of g.bandWidths) out.push({ leverage, isLong, mode, bandWidth, fees });
        }
  return out;
}

export function settingLabel(s: Setting): string {
  const band = s.mode === "daily" ? "daily only" : `${s.mode} ±${(s.bandWidth * 100).toFixed(0)}%`;
  return `${s.leverage}x ${s.isLong ? "long" : "short"}, ${band}, fees ${s.fees}`;
}

const VAULT_MAX_LEVERAGE = 10n * WAD; // 1 / initial margin ratio

/** The token's parameters for a setting (the contract's constraints hold for every grid point). */
export function paramsFor(s: Setting): TokenParams {
  if (![2, 3, 5].includes(s.leverage) && !(s.leverage >= 1 && s.leverage <= 6))
    throw new Error(`leverage must be between 1 and 6, got ${s.leverage}`);
  const base = tokenParams("BTC", BigInt(s.leverage), s.isLong);
  const target = base.targetLeverage;
  const scale = (x: number) => parseUnits(x.toFixed(6), 6); // fraction as 1e6
  const mult = s.fees === "none" ? 0n : s.fees === "default" ? 1n : 2n;
  const fees = {
    mintFee: DEFAULT_FEES.mintFee * mult,
    redeemFee: DEFAULT_FEES.redeemFee * mult,
    managementFee: DEFAULT_FEES.managementFee * mult,
    rebalanceBounty: 0n,
  };
  if (s.mode === "daily") {
    // the band opens to the exchange's limit: only the 00:00 UTC check (and the 10x safety) trades
    return {
      ...base,
      ...fees,
      minLeverage: 1n,
      maxLeverage: VAULT_MAX_LEVERAGE - 1n,
      ripcordLeverage: VAULT_MAX_LEVERAGE,
    };
  }
  if (!(s.bandWidth > 0 && s.bandWidth < 1))
    throw new Error(`band width must be in (0, 1), got ${s.bandWidth}`);
  // a third is the standard token's band ([2x, 4x] for 3x), exactly as deployed
  const third = Math.abs(s.bandWidth - 1 / 3) < 1e-12;
  const w = scale(s.bandWidth);
  const min = third ? base.minLeverage : (target * (1_000_000n - w)) / 1_000_000n;
  const max = third ? base.maxLeverage : (target * (1_000_000n + w)) / 1_000_000n;
  let ripcord = (target * 3n) / 2n;
  if (ripcord < max) ripcord = max;
  if (ripcord > VAULT_MAX_LEVERAGE)
    throw new Error(`${settingLabel(s)}: the band's top ${Number(max) / 1e18}x is above the exchange's 10x`);
  // band only: the daily check needs a deviation the band itself would already catch
  const epsilon = s.mode === "band" ? max - target - 1n : target / 60n;
  return {
    ...base,
    ...fees,
    minLeverage: min,
    maxLeverage: max,
    ripcordLeverage: ripcord,
    rebalanceEpsilon: epsilon,
  };
}

const START = PATH_START;
const USER = syntheticAddress(0xa1);
export const DEPOSIT = 1_000_000n * USDT;

/** One setting over the path with the exact engine; `deposit`: the first (and only) deposit, in USDT units. */
export function runSetting(path: BacktestPath, s: Setting, deposit = DEPOSIT): BacktestResult {
  if (path.times.length !== path.prices.length || path.prices.length < 2)
    throw new Error("a backtest path needs at least two points, one price per time");
  const params = paramsFor(s);
  const e = localSystem({
    markets: [
      {
        ...MARKETS.BTC,
        initialPrice: path.prices[0]!,
        fundingRate: s.fees === "none" ? 0n : MARKETS.BTC.fundingRate * (s.fees === "double" ? 2n : 1n),
      },
    ],
    tokens: [params],
    time: START,
    poolLiquidity: 10n ** 12n * USDT,
  });
  const admin: Tx = { from: syntheticAddress(1), time: START };
  const taker = s.fees === "none" ? 0n : DEFAULT_EXCHANGE_PARAMS.takerFee * (s.fees === "double" ? 2n : 1n);
  e.vault.setFees(taker, DEFAULT_EXCHANGE_PARAMS.liquidationReward);
  const token = e.token(params.symbol);
  const feed = e.feed("BTC");
  // only the token's desk deposits: it mints the user's position
  e.world.usdt.mint(token.desk, deposit);
  e.world.usdt.approve(token.desk, token.address, deposit);
  token.deposit({ from: token.desk, time: START }, deposit, USER);
  e.world.log.enabled = false;
  const valueStart = enginePerToken(token, START);
  let depletedAt: BacktestResult["depletedAt"];
  const screen = new RebalanceScreen(token, e.vault);
  const triggers = [0, 0, 0, 0, 0];
  for (let k = 1; k < path.prices.length; k++) {
    admin.time = START + BigInt(path.times[k]!);
    feed.updateAnswer(admin, path.prices[k]!);
    const reason = screen.reason(admin.time);
    if (reason !== REASON_NONE) {
      token.rebalance(admin);
      triggers[reason]!++;
    }
    if (token.state() === TokenState.Depleted) {
      depletedAt = { time: path.times[k]!, move: Number(path.prices[k]!) / Number(path.prices[k - 1]!) - 1 };
      break;
    }
  }
  const end = START + BigInt(path.times[path.times.length - 1]!);
  const depleted = token.state() === TokenState.Depleted;
  const exact = depleted ? 0n : ratio18(enginePerToken(token, end), valueStart);
  const byName: Record<string, number> = {};
  REASON_NAMES.forEach((n, i) => {
    if (i > 0) byName[n] = triggers[i]!;
  });
  return {
    ...s,
    label: settingLabel(s),
    finalValue: toNumber(exact),
    finalValueExact: exactDecimal(exact),
    ...(depletedAt === undefined ? {} : { depletedAt }),
    rebalances: triggers.reduce((a, b) => a + b, 0),
    triggers: byName,
    depleted,
    idealValue: idealFor(path, s, params),
    band: [Number(params.minLeverage) / 1e18, Number(params.maxLeverage) / 1e18],
  };
}

/** sigma^2 T of each path, computed once (decimal.js logarithms are the slowest part of a run). */
const variances = new WeakMap<BacktestPath, string>();

function varianceOf(path: BacktestPath): string {
  let v = variances.get(path);
  if (v === undefined) {
    v = realizedVariance(path.prices.map((x) => x.toString())).toString();
    variances.set(path, v);
  }
  return v;
}

function idealFor(path: BacktestPath, s: Setting, p: TokenParams): number {
  const years = path.times[path.times.length - 1]! / YEAR_SECONDS;
  const funding =
    s.fees === "none" ? 0 : (Number(MARKETS.BTC.fundingRate) / 1e18) * (s.fees === "double" ? 2 : 1);
  return continuousValue({
    leverage: s.isLong ? s.leverage : -s.leverage,
    start: path.prices[0]!.toString(),
    end: path.prices[path.prices.length - 1]!.toString(),
    variance: varianceOf(path),
    years,
    managementFee: Number(p.managementFee) / 1e18,
    fundingRate: funding * 3 * 365,
  }).toNumber();
}

/** A WAD bigint as an exact decimal. */
function fromWad(x: bigint): InstanceType<typeof D> {
  return new D(x.toString()).div(WAD.toString());
}

/**
 * The band ideal (src/engine/ideal.ts, decimal.js) for a setting over the path, with the setting's
 * own band, daily epsilon, taker fee, funding and management fee: the model of what runSetting
 * does, which it matches to about 1e-9 relative (the engine's roundings are all the difference).
 */
export function bandIdealFor(path: BacktestPath, s: Setting): BandResult {
  const p = paramsFor(s);
  const mult = s.fees === "none" ? 0n : s.fees === "double" ? 2n : 1n;
  return bandValue(
    path.prices.map((x) => x.toString()),
    {
      target: fromWad(p.targetLeverage),
      isLong: s.isLong,
      min: fromWad(p.minLeverage),
      max: fromWad(p.maxLeverage),
      dailyEpsilon: fromWad(p.rebalanceEpsilon),
      stepSeconds: 0,
      times: path.times,
      startTime: Number(START),
      takerFee: fromWad(DEFAULT_EXCHANGE_PARAMS.takerFee * mult),
      fundingRate: fromWad(MARKETS.BTC.fundingRate * mult),
      managementFee: fromWad(p.managementFee),
    },
  );
}

/** The relative gap |engine / model - 1| (0 when both are depleted, 1 when only one is). */
export function modelGap(engineExact: string, model: BandResult): number {
  const engine = new D(engineExact);
  if (model.value.isZero() || engine.isZero()) return model.value.eq(engine) ? 0 : 1;
  return engine.div(model.value).minus(1).abs().toNumber();
}

/**
 * Every setting over the path; `bandModel`: also the band ideal (decimal.js: slower) and its gap;
 * `deposit`: the one deposit in USDT units (1,000,000 USDT by default).
 */
export function runBacktest(
  path: BacktestPath,
  settings: readonly Setting[],
  onDone?: (i: number) => void,
  o: { bandModel?: boolean; deposit?: bigint } = {},
): BacktestResult[] {
  return settings.map((s, i) => {
    const r = runSetting(path, s, o.deposit);
    if (o.bandModel === true) {
      const m = bandIdealFor(path, s);
      r.bandModel = { value: m.value.toSignificantDigits(20).toFixed(), gap: modelGap(r.finalValueExact, m) };
    }
    onDone?.(i + 1);
    return r;
  });
}

/** "0 (depleted 2020-03-12, -37.17%)": when a run's equity went and on which move (its date when the path has dates). */
export function depletedCell(r: BacktestResult, startUnix?: number): string {
  const d = r.depletedAt;
  if (d === undefined) return "0 (depleted)";
  const when =
    startUnix === undefined
      ? `day ${(d.time / 86_400).toFixed(1)}`
      : new Date((startUnix + d.time) * 1000).toISOString().slice(0, 10);
  return `0 (depleted ${when}, ${d.move >= 0 ? "+" : ""}${(d.move * 100).toFixed(2)}%)`;
}

/** A fixed-width table: one row per setting (`startUnix`: the path's first date, to date depletions). */
export function formatBacktestTable(results: readonly BacktestResult[], startUnix?: number): string {
  const model = results.some((r) => r.bandModel !== undefined);
  const head = ["setting", "band", "rebalances", "band/daily/rip", "final value", "ideal"];
  if (model) head.push("band model", "gap");
  const rows = results.map((r) => [
    r.label,
    r.mode === "daily" ? "-" : `[${r.band[0].toFixed(2)}x, ${r.band[1].toFixed(2)}x]`,
    String(r.rebalances),
    `${r.triggers.band}/${r.triggers.daily}/${(r.triggers.ripcord ?? 0) + (r.triggers.depleted ?? 0)}`,
    r.depleted ? depletedCell(r, startUnix) : formatValue(parseExact(r.finalValueExact)),
    formatFloat(r.idealValue),
    ...(model
      ? [
          r.bandModel === undefined ? "-" : formatFloat(Number(r.bandModel.value)),
          r.bandModel === undefined ? "-" : r.bandModel.gap.toExponential(1),
        ]
      : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [fmt(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)].join("\n");
}
