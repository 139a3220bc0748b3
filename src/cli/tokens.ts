// `lt tokens`, `lt info <SYMBOL>`, `lt nav <SYMBOL>`: what a token is and where it stands.
import { decodeBytes32String } from "ethers";
import { type Context, resolveSymbol, tokenOf, vaultOf } from "./context.ts";
import { explainError, STATE, STATE_NAMES } from "./errors.ts";
import {
  decimalString,
  formatChange,
  formatLeverage,
  formatPercent,
  formatPrice,
  formatShares,
  formatTime,
  formatUsdt,
  lines,
  PRICE_DECIMALS,
  SHARE_DECIMALS,
  table,
  USDT_DECIMALS,
  WAD_DECIMALS,
  type Json,
  type Report,
} from "./format.ts";
import { nextRebalanceTriggers, type RebalanceTriggers } from "./triggers.ts";
import { formatPerToken, perTokenJson, readTrueNav } from "./trueNav.ts";
import { rawRpcOf } from "../chain/tokenBook.ts";
import { readTokenParameters } from "../chain/tokenParameters.ts";
import type { TokenParams } from "../common/params.ts";

const MAX_UINT128 = 2n ** 128n - 1n;
const MAX_UINT256 = 2n ** 256n - 1n;
const DAYS_PER_YEAR = 365n;

export const REBALANCE_REASONS = [
  "none",
  "leverage outside the band",
  "daily rebalance",
  "ripcord",
  "depleted",
  "liquidated: no position left, reopen at target",
];

export interface LiveState {
  price: bigint; // 8 decimals
  size: bigint; // 18 decimals, signed
  equity: bigint; // USDT
  leverage: bigint; // WAD; 2^256-1 when equity is gone
  rebalanceNeeded: boolean;
  rebalanceReason: number;
  triggers: RebalanceTriggers;
}

/** A token as the chain shows it: its parameters (the market by name, any listed one) and its state. */
export interface TokenInfo extends Omit<TokenParams, "market" | "supplyCap"> {
  address: string;
  market: string;
  /** The state to show (Depleted as soon as the equity is gone); stateOnChain is the contract's. */
  state: number;
  stateOnChain: number;
  mintPaused: boolean;
  delistingTime: bigint;
  supply: bigint;
  supplyCap: bigint;
  lastRebalance: bigint;
  /** USDT per token, 18 decimals (trueNav.ts): the frozen payout once settled. */
  nav: bigint | null;
  navError?: string;
  live: LiveState | null;
  liveError?: string;
}

/** Everything `lt info` shows. Price-dependent parts fail soft: a stale price leaves a note. */
export async function readTokenInfo(ctx: Context, symbol: string): Promise<TokenInfo> {
  const token = tokenOf(ctx, symbol);
  const [p, status, supply, lastRebalance, delistingTime] = await Promise.all([
    readTokenParameters(token),
    token.status(),
    token.totalSupply(),
    token.lastRebalance(),
    token.delistingTime(),
  ]);
  const marketId = p.market;
  const { minLeverage: min, maxLeverage: max, ripcordLeverage: ripcord } = p;
  const info: TokenInfo = {
    ...p,
    // the address book's symbol (the one asked for), the market by its name
    symbol,
    address: ctx.book.tokens[symbol] ?? "",
    market: decodeBytes32String(marketId),
    state: Number(status.state),
    stateOnChain: Number(status.state),
    mintPaused: status.mintPaused,
    delistingTime,
    supply,
    lastRebalance,
    nav: null,
    live: null,
  };
  const ectx = { rpcUrl: ctx.options.rpc, symbol };
  try {
    const trueNav = await readTrueNav(token, rawRpcOf(ctx.provider));
    info.nav = trueNav.perToken;
    info.state = trueNav.state;
  } catch (e) {
    info.navError = explainError(e, ectx).message;
  }
  try {
    const [[size, equity, price], leverage, [needed, reason]] = await Promise.all([
      vaultOf(ctx).snapshot(marketId, info.address),
      token.leverage(),
      token.rebalanceNeeded(),
    ]);
    info.live = {
      price,
      size,
      equity,
      leverage,
      rebalanceNeeded: needed,
      rebalanceReason: Number(reason),
      triggers: nextRebalanceTriggers(
        { size, equity, price },
        { minLeverage: min, maxLeverage: max, ripcordLeverage: ripcord },
      ),
    };
  } catch (e) {
    info.liveError = explainError(e, ectx).message;
  }
  return info;
}

function stateText(info: TokenInfo): string {
  const name = STATE_NAMES[info.state] ?? `state ${info.state}`;
  switch (info.state) {
    case STATE.Active:
      return info.mintPaused
        ? `${name} (minting paused, redeeming open)`
        : `${name} (minting and redeeming open)`;
    case STATE.Delisting:
      return `${name} (settlement from ${formatTime(info.delistingTime)}; redeeming open, minting closed)`;
    case STATE.Settled:
      return `${name} (redeem at the final NAV)`;
    default:
      return info.stateOnChain === STATE.Depleted
        ? `${name} (equity reached zero)`
        : `${name} (equity reached zero; the contract says ${STATE_NAMES[info.stateOnChain] ?? info.stateOnChain} until someone calls rebalance())`;
  }
}

function triggerText(price: bigint | null, leverage: bigint, now: bigint): string {
  return price === null
    ? `${formatLeverage(leverage)} never on price alone`
    : `${formatLeverage(leverage)} at ${formatPrice(price)} (${formatChange(price, now)})`;
}

function priceJson(price: bigint | null): Json {
  return price === null ? null : decimalString(price, PRICE_DECIMALS);
}

export function infoJson(info: TokenInfo): { [key: string]: Json } {
  const live = info.live;
  return {
    symbol: info.symbol,
    name: info.name,
    address: info.address,
    market: info.market,
    side: info.isLong ? "long" : "short",
    state: STATE_NAMES[info.state] ?? String(info.state),
    stateOnChain: STATE_NAMES[info.stateOnChain] ?? String(info.stateOnChain),
    mintPaused: info.mintPaused,
    delistingTime: info.delistingTime === 0n ? null : Number(info.delistingTime),
    targetLeverage: decimalString(info.targetLeverage, WAD_DECIMALS),
    band: [decimalString(info.minLeverage, WAD_DECIMALS), decimalString(info.maxLeverage, WAD_DECIMALS)],
    ripcordLeverage: decimalString(info.ripcordLeverage, WAD_DECIMALS),
    rebalanceEpsilon: decimalString(info.rebalanceEpsilon, WAD_DECIMALS),
    fees: {
      mint: decimalString(info.mintFee, WAD_DECIMALS),
      redeem: decimalString(info.redeemFee, WAD_DECIMALS),
      managementPerYear: decimalString(info.managementFee, WAD_DECIMALS),
      rebalanceBountyUsdt: decimalString(info.rebalanceBounty, USDT_DECIMALS),
    },
    supply: decimalString(info.supply, SHARE_DECIMALS),
    supplyCap: info.supplyCap === MAX_UINT128 ? null : decimalString(info.supplyCap, SHARE_DECIMALS),
    lastRebalance: info.lastRebalance === 0n ? null : Number(info.lastRebalance),
    nav: info.nav === null ? null : perTokenJson(info.nav),
    ...(info.navError ? { navError: info.navError } : {}),
    live: live
      ? {
          price: decimalString(live.price, PRICE_DECIMALS),
          size: decimalString(live.size, SHARE_DECIMALS),
          equity: decimalString(live.equity, USDT_DECIMALS),
          leverage: live.leverage === MAX_UINT256 ? null : decimalString(live.leverage, WAD_DECIMALS),
          rebalanceNeeded: live.rebalanceNeeded,
          rebalanceReason: REBALANCE_REASONS[live.rebalanceReason] ?? String(live.rebalanceReason),
          triggers: {
            atMaxLeverage: priceJson(live.triggers.atMaxLeverage),
            atMinLeverage: priceJson(live.triggers.atMinLeverage),
            atRipcord: priceJson(live.triggers.atRipcord),
          },
        }
      : null,
    ...(info.liveError ? { liveError: info.liveError } : {}),
  };
}

export function infoText(info: TokenInfo): string {
  const rows: [string, string][] = [
    ["state", stateText(info)],
    [
      "NAV",
      info.nav === null
        ? `unavailable: ${info.navError ?? ""}`
        : `${formatPerToken(info.nav)} USDT per token${info.state === STATE.Settled ? " (the frozen payout)" : ""}`,
    ],
    [
      "supply",
      `${formatShares(info.supply)} ${info.symbol}` +
        (info.supplyCap === MAX_UINT128 ? " (no cap)" : ` (cap ${formatShares(info.supplyCap)})`),
    ],
    [
      "leverage",
      `target ${formatLeverage(info.targetLeverage)}, band ${formatLeverage(info.minLeverage)} - ${formatLeverage(info.maxLeverage)}, ripcord ${formatLeverage(info.ripcordLeverage)}`,
    ],
  ];
  const live = info.live;
  if (live) {
    const abs = live.size < 0n ? -live.size : live.size;
    const position =
      live.size === 0n
        ? `none (${info.isLong ? "long" : "short"} token), equity ${formatUsdt(live.equity)} USDT`
        : `${formatShares(abs)} ${info.market} ${live.size > 0n ? "long" : "short"}, equity ${formatUsdt(live.equity)} USDT`;
    rows.push(
      [
        "current leverage",
        live.leverage === MAX_UINT256 ? "unbounded (no equity)" : formatLeverage(live.leverage),
      ],
      [`${info.market} price`, formatPrice(live.price)],
      ["position", position],
      [
        "rebalance",
        live.rebalanceNeeded
          ? `needed (${REBALANCE_REASONS[live.rebalanceReason] ?? live.rebalanceReason})`
          : "not needed",
      ],
      [
        "next triggers",
        live.size === 0n
          ? "none (no position)"
          : [
              triggerText(live.triggers.atMaxLeverage, info.maxLeverage, live.price),
              triggerText(live.triggers.atMinLeverage, info.minLeverage, live.price),
              "ripcord " + triggerText(live.triggers.atRipcord, info.ripcordLeverage, live.price),
            ].join("; "),
      ],
    );
  } else {
    rows.push(["live state", `unavailable: ${info.liveError ?? ""}`]);
  }
  rows.push(
    [
      "fees",
      `mint ${formatPercent(info.mintFee)}, redeem ${formatPercent(info.redeemFee)} (in ${info.symbol}), management ${formatPercent(info.managementFee)}/year (${formatPercent(info.managementFee / DAYS_PER_YEAR)}/day), ripcord bounty ${formatUsdt(info.rebalanceBounty)} USDT`,
    ],
    ["last rebalance", info.lastRebalance === 0n ? "never" : formatTime(info.lastRebalance)],
  );
  const title = `${info.symbol}  ${info.name}  ${info.address}`;
  return `${title}\n${lines(rows, "  ")}`;
}

export async function infoCommand(ctx: Context, input: string): Promise<Report> {
  const info = await readTokenInfo(ctx, resolveSymbol(ctx.book, input));
  return { data: infoJson(info), text: infoText(info) };
}

export async function navCommand(ctx: Context, input: string): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  const block = await ctx.provider.getBlockNumber();
  const nav = await readTrueNav(tokenOf(ctx, symbol), rawRpcOf(ctx.provider), block);
  const state = STATE_NAMES[nav.state] ?? String(nav.state);
  const note =
    nav.state === STATE.Settled
      ? ", settled: the frozen payout"
      : nav.state === STATE.Depleted
        ? ", depleted"
        : "";
  return {
    data: { symbol, nav: perTokenJson(nav.perToken), unit: "USDT", state, block },
    text: `${symbol} NAV ${formatPerToken(nav.perToken)} USDT per token (block ${block}${note})`,
  };
}

export async function tokensCommand(ctx: Context): Promise<Report> {
  const rows = await Promise.all(
    Object.entries(ctx.book.tokens).map(async ([symbol, address]) => {
      const token = tokenOf(ctx, symbol);
      const [name, status, target, isLong] = await Promise.all([
        token.name(),
        token.status(),
        token.targetLeverage(),
        token.isLong(),
      ]);
      let nav: bigint | null = null;
      let state = Number(status.state);
      try {
        ({ perToken: nav, state } = await readTrueNav(token, rawRpcOf(ctx.provider)));
      } catch {
        nav = null; // a stale price: the list still shows the token
      }
      return { symbol, address, name, state, target, isLong, nav };
    }),
  );
  return {
    data: {
      network: ctx.options.network,
      tokens: rows.map((r) => ({
        symbol: r.symbol,
        name: r.name,
        address: r.address,
        side: r.isLong ? "long" : "short",
        targetLeverage: decimalString(r.target, WAD_DECIMALS),
        state: STATE_NAMES[r.state] ?? String(r.state),
        nav: r.nav === null ? null : perTokenJson(r.nav),
      })),
    },
    text: table(
      ["symbol", "name", "state", "NAV (USDT)", "address"],
      rows.map((r) => [
        r.symbol,
        r.name,
        STATE_NAMES[r.state] ?? String(r.state),
        r.nav === null ? "n/a" : formatPerToken(r.nav),
        r.address,
      ]),
      [false, false, false, true, false],
    ),
  };
}
