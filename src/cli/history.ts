// `lt history <SYMBOL>`: the token's mints, redeems, rebalances and lifecycle events, oldest first,
// read from its event logs.
import { decodeBytes32String, type Log, type LogDescription } from "ethers";
import { type Context, resolveSymbol, tokenOf } from "./context.ts";
import { CliError, explainError } from "./errors.ts";
import {
  decimalString,
  formatLeverage,
  formatPrice,
  formatShares,
  formatTime,
  formatUsdt,
  PRICE_DECIMALS,
  SHARE_DECIMALS,
  shortAddress,
  table,
  USDT_DECIMALS,
  WAD_DECIMALS,
  type Json,
  type Report,
} from "./format.ts";
import { REBALANCE_REASONS } from "./tokens.ts";

const EVENTS = [
  "Deposit",
  "Withdraw",
  "PositionResized",
  "Rebalanced",
  "DelistingScheduled",
  "Settled",
  "HolderSettled",
  "Depleted",
  "MintingPaused",
] as const;

export interface HistoryEntry {
  kind: string;
  block: number;
  logIndex: number;
  tx: string;
  time: number;
  data: { [key: string]: Json };
  text: string;
}

export interface HistoryOptions {
  fromBlock?: string;
  toBlock?: string;
}

function parseBlock(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === "latest") return undefined;
  if (!/^\d+$/.test(text.trim())) throw new CliError(`${name} must be a block number (got "${text}")`);
  return Number(text);
}

/** One event as a history row; PositionResized is folded into the mint or redeem before it. */
function historyRow(
  symbol: string,
  market: string,
  ev: LogDescription,
): Omit<HistoryEntry, "block" | "logIndex" | "tx" | "time"> | null {
  const a = ev.args;
  const big = (name: string): bigint => BigInt(a.getValue(name) as bigint);
  switch (ev.name) {
    case "Deposit":
      return {
        kind: "mint",
        data: {
          sender: String(a.getValue("sender")),
          owner: String(a.getValue("owner")),
          usdt: decimalString(big("assets"), USDT_DECIMALS),
          shares: decimalString(big("shares"), SHARE_DECIMALS),
        },
        text: `${formatUsdt(big("assets"))} USDT -> ${formatShares(big("shares"))} ${symbol} to ${shortAddress(String(a.getValue("owner")))}`,
      };
    case "Withdraw":
      return {
        kind: "redeem",
        data: {
          sender: String(a.getValue("sender")),
          receiver: String(a.getValue("receiver")),
          owner: String(a.getValue("owner")),
          shares: decimalString(big("shares"), SHARE_DECIMALS),
          usdt: decimalString(big("assets"), USDT_DECIMALS),
        },
        text: `${formatShares(big("shares"))} ${symbol} -> ${formatUsdt(big("assets"))} USDT from ${shortAddress(String(a.getValue("owner")))}`,
      };
    case "Rebalanced": {
      const bounty = big("bounty");
      const reason = Number(a.getValue("reason"));
      return {
        kind: "rebalance",
        data: {
          caller: String(a.getValue("caller")),
          reason: REBALANCE_REASONS[reason] ?? String(reason),
          leverageBefore: decimalString(big("leverageBefore"), WAD_DECIMALS),
          leverageAfter: decimalString(big("leverageAfter"), WAD_DECIMALS),
          sizeDelta: decimalString(big("sizeDelta"), SHARE_DECIMALS),
          price: decimalString(big("price"), PRICE_DECIMALS),
          cost: decimalString(big("cost"), USDT_DECIMALS),
          bounty: decimalString(bounty, USDT_DECIMALS),
          managementFeeShares: decimalString(big("managementFeeShares"), SHARE_DECIMALS),
        },
        text:
          `${formatLeverage(big("leverageBefore"))} -> ${formatLeverage(big("leverageAfter"))}, traded ` +
          `${decimalString(big("sizeDelta"), SHARE_DECIMALS)} ${market} at ${formatPrice(big("price"))}, cost ` +
          `${formatUsdt(big("cost"))} USDT (${REBALANCE_REASONS[reason] ?? reason})` +
          (bounty > 0n ? `, bounty ${formatUsdt(bounty)} USDT` : ""),
      };
    }
    case "DelistingScheduled":
      return {
        kind: "delisting scheduled",
        data: { delistingTime: Number(big("delistingTime")) },
        text: `settlement from ${formatTime(big("delistingTime"))}`,
      };
    case "Settled":
      return {
        kind: "settled",
        data: {
          usdt: decimalString(big("assets"), USDT_DECIMALS),
          supply: decimalString(big("supply"), SHARE_DECIMALS),
        },
        text: `${formatUsdt(big("assets"))} USDT for ${formatShares(big("supply"))} ${symbol}`,
      };
    case "HolderSettled":
      return {
        kind: "holder settled",
        data: {
          holder: String(a.getValue("holder")),
          shares: decimalString(big("shares"), SHARE_DECIMALS),
          usdt: decimalString(big("assets"), USDT_DECIMALS),
        },
        text: `${formatShares(big("shares"))} ${symbol} -> ${formatUsdt(big("assets"))} USDT to ${shortAddress(String(a.getValue("holder")))}`,
      };
    case "Depleted":
      return {
        kind: "depleted",
        data: {
          equity: decimalString(big("equity"), USDT_DECIMALS),
          price: decimalString(big("price"), PRICE_DECIMALS),
        },
        text: `equity ${decimalString(big("equity"), USDT_DECIMALS)} USDT at ${formatPrice(big("price"))}`,
      };
    case "MintingPaused": {
      const paused = Boolean(a.getValue("paused"));
      return { kind: paused ? "minting paused" : "minting resumed", data: { paused }, text: "" };
    }
    default:
      return null;
  }
}

export async function readHistory(
  ctx: Context,
  symbol: string,
  opts: HistoryOptions = {},
): Promise<HistoryEntry[]> {
  const token = tokenOf(ctx, symbol);
  const fromBlock = parseBlock(opts.fromBlock, "--from-block") ?? 0;
  const toBlock = parseBlock(opts.toBlock, "--to-block") ?? "latest";
  const topics = EVENTS.map((name) => token.interface.getEvent(name).topicHash);
  let logs: Log[];
  let market: string;
  try {
    [logs, market] = await Promise.all([
      ctx.provider.getLogs({ address: await token.getAddress(), fromBlock, toBlock, topics: [topics] }),
      token.market(),
    ]);
  } catch (e) {
    throw explainError(e, { rpcUrl: ctx.options.rpc, symbol });
  }
  const marketName = decodeBytes32String(market);
  logs.sort((x, y) => x.blockNumber - y.blockNumber || x.index - y.index);
  const times = new Map<number, number>();
  await Promise.all(
    [...new Set(logs.map((l) => l.blockNumber))].map(async (n) => {
      const block = await ctx.provider.getBlock(n);
      times.set(n, block?.timestamp ?? 0);
    }),
  );
  const entries: HistoryEntry[] = [];
  for (const log of logs) {
    const ev = token.interface.parseLog(log);
    if (!ev) continue;
    if (ev.name === "PositionResized") {
      // emitted right after the Deposit or Withdraw of the same transaction
      const last = entries[entries.length - 1];
      if (last && last.tx === log.transactionHash && (last.kind === "mint" || last.kind === "redeem")) {
        const price = BigInt(ev.args.getValue("price") as bigint);
        const fee = BigInt(ev.args.getValue("feeShares") as bigint);
        last.data.price = decimalString(price, PRICE_DECIMALS);
        last.data.feeShares = decimalString(fee, SHARE_DECIMALS);
        last.data.tradingCost = decimalString(BigInt(ev.args.getValue("cost") as bigint), USDT_DECIMALS);
        last.data.managementFeeShares = decimalString(
          BigInt(ev.args.getValue("managementFeeShares") as bigint),
          SHARE_DECIMALS,
        );
        last.text += ` at ${formatPrice(price)} (fee ${formatShares(fee)} ${symbol})`;
      }
      continue;
    }
    const row = historyRow(symbol, marketName, ev);
    if (!row) continue;
    entries.push({
      ...row,
      block: log.blockNumber,
      logIndex: log.index,
      tx: log.transactionHash,
      time: times.get(log.blockNumber) ?? 0,
    });
  }
  return entries;
}

export async function historyCommand(ctx: Context, input: string, opts: HistoryOptions): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  const entries = await readHistory(ctx, symbol, opts);
  const data: { [key: string]: Json } = {
    symbol,
    events: entries.map((e) => ({ kind: e.kind, block: e.block, time: e.time, tx: e.tx, ...e.data })),
  };
  const text = entries.length
    ? table(
        ["time", "block", "event", "details"],
        entries.map((e) => [formatTime(e.time), String(e.block), e.kind, e.text]),
        [false, true, false, false],
      )
    : `no mints, redeems or rebalances of ${symbol} in these blocks`;
  return { data, text: `${symbol} history\n${text}` };
}
