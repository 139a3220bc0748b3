// `lt position [address]`: for every token the account holds or has held, its balance, cost basis
// (from its mints, redeems, settlement payouts and transfers, read from the token's events), realised
// and unrealised profit and loss, and the fees its own mints and redeems paid. The arithmetic is in
// positionMath.ts. On a token with a ForwardDesk the account's mints and redeems are its claims on
// the desk (the desk's Deposit and Withdraw events: the USDT paid and the shares got, or the reverse),
// each with its pro-rata part of the fee and trading cost of the batch the desk minted or redeemed
// last before the claim; the shares moving between the account and the desk (a redeem request, a
// cancel, a claim) are not transfers.
import { getAddress, ZeroAddress } from "ethers";
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { rawRpcOf } from "../chain/tokenBook.ts";
import { accountOf, type Context, tokenOf } from "./context.ts";
import { CliError, explainError } from "./errors.ts";
import {
  decimalString,
  formatShares,
  formatUsdt,
  SHARE_DECIMALS,
  table,
  USDT_DECIMALS,
  type Json,
  type Report,
} from "./format.ts";
import { feeSharesInUsdt, type Position, type PositionEvent, positionFrom } from "./positionMath.ts";
import { formatPerToken, perTokenJson, readTrueNav } from "./trueNav.ts";

export interface PositionOptions {
  fromBlock?: string;
}

interface Ordered {
  block: number;
  index: number;
  tx: string;
}

interface TokenPosition {
  symbol: string;
  balance: bigint;
  nav: bigint | null;
  position: Position | null;
  note?: string;
}

const ZERO = "0x0000000000000000000000000000000000000000";

/** A token's PositionResized event: the fee shares and the trading cost of the trade before it. */
interface Resized {
  transactionHash: string;
  index: number;
  args: { feeShares: bigint; cost: bigint };
}

/** A token's (or a desk's) Deposit or Withdraw event: USDT in and shares out, or the reverse. */
interface TradeLog {
  blockNumber: number;
  index: number;
  transactionHash: string;
  args: { assets: bigint; shares: bigint };
}

/**
 * A token mint's or redeem's fee (its fee shares in USDT, at the trade's price) and trading cost, from
 * the PositionResized right after its event in the same transaction; none when there is none. The fee
 * shares come on top of a mint's shares and out of a redeem's.
 */
function tradeCosts(
  resized: readonly Resized[],
  e: TradeLog,
  kind: "mint" | "redeem",
): { fee: bigint; tradingCost: bigint } {
  const r = resized
    .filter((x) => x.transactionHash === e.transactionHash && x.index > e.index)
    .sort((a, b) => a.index - b.index)[0]?.args;
  if (r === undefined) return { fee: 0n, tradingCost: 0n };
  const { assets, shares } = e.args;
  const gross = kind === "mint" ? shares + r.feeShares : shares - r.feeShares;
  return { fee: feeSharesInUsdt(r.feeShares, assets, gross), tradingCost: r.cost };
}

/** The holder's events in one token, oldest first, as positionMath's events. */
async function holderEvents(
  token: LeveragedToken,
  account: string,
  fromBlock: number,
  deskAddress: string | undefined,
): Promise<PositionEvent[]> {
  const [deposits, withdraws, received, sent, settled, resized] = await Promise.all([
    token.queryFilter(token.filters.Deposit(undefined, account), fromBlock),
    token.queryFilter(token.filters.Withdraw(undefined, undefined, account), fromBlock),
    token.queryFilter(token.filters.Transfer(undefined, account), fromBlock),
    token.queryFilter(token.filters.Transfer(account, undefined), fromBlock),
    token.queryFilter(token.filters.HolderSettled(account), fromBlock),
    token.queryFilter(token.filters.PositionResized(), fromBlock),
  ]);
  const at = (e: { blockNumber: number; index: number; transactionHash: string }): Ordered => ({
    block: e.blockNumber,
    index: e.index,
    tx: e.transactionHash,
  });
  // these transactions' transfers are the mints, redeems and payouts themselves
  const own = new Set([...deposits, ...withdraws, ...settled].map((e) => e.transactionHash));
  const trade = (kind: "mint" | "redeem", e: TradeLog) => ({
    ...at(e),
    event: { kind, usdt: e.args.assets, shares: e.args.shares, ...tradeCosts(resized, e, kind) },
  });
  const rows: (Ordered & { event: PositionEvent | (() => Promise<PositionEvent>) })[] = [
    ...deposits.map((d) => trade("mint", d)),
    ...withdraws.map((w) => trade("redeem", w)),
  ];
  for (const s of settled) {
    rows.push({
      ...at(s),
      event: { kind: "redeem", usdt: s.args.assets, shares: s.args.shares, fee: 0n, tradingCost: 0n },
    });
  }
  if (deskAddress !== undefined)
    rows.push(...(await deskClaims(token, account, fromBlock, deskAddress, resized)));
  const desk = deskAddress?.toLowerCase();
  const viaDesk = (other: string) => desk !== undefined && other.toLowerCase() === desk;
  const rpc = rawRpcOf(token.runner);
  for (const t of received) {
    if (own.has(t.transactionHash) || t.args.from === account || viaDesk(t.args.from)) continue;
    const shares = t.args.value;
    // valued at NAV in the block it arrived
    rows.push({
      ...at(t),
      event: async () => ({
        kind: "in",
        shares,
        navPerToken: (await readTrueNav(token, rpc, t.blockNumber)).perToken,
      }),
    });
  }
  for (const t of sent) {
    if (own.has(t.transactionHash) || t.args.to === account || t.args.to === ZERO || viaDesk(t.args.to))
      continue;
    rows.push({ ...at(t), event: { kind: "out", shares: t.args.value } });
  }
  rows.sort((a, b) => a.block - b.block || a.index - b.index);
  return Promise.all(rows.map((r) => (typeof r.event === "function" ? r.event() : r.event)));
}

/**
 * The account's claims on the token's desk as mints (a Deposit claim: USDT paid, shares got) and
 * redeems (a Withdraw claim), each with its pro-rata part (by USDT in, or by shares out) of the fee and
 * trading cost of the desk's last batch mint or redeem before it (the token's Deposit or Withdraw
 * owned by the desk, and the PositionResized after it).
 */
async function deskClaims(
  token: LeveragedToken,
  account: string,
  fromBlock: number,
  deskAddress: string,
  resized: readonly Resized[],
): Promise<(Ordered & { event: PositionEvent })[]> {
  const desk = ForwardDesk__factory.connect(deskAddress, token.runner);
  const [claimsIn, claimsOut, batchMints, batchRedeems] = await Promise.all([
    desk.queryFilter(desk.filters.Deposit(undefined, account), fromBlock),
    desk.queryFilter(desk.filters.Withdraw(undefined, undefined, account), fromBlock),
    token.queryFilter(token.filters.Deposit(undefined, deskAddress), fromBlock),
    token.queryFilter(token.filters.Withdraw(undefined, undefined, deskAddress), fromBlock),
  ]);
  const order = (e: { blockNumber: number; index: number }) => e.blockNumber * 1e6 + e.index;
  /**
   * A claim as a mint or a redeem with its part of the costs of the desk's last batch before it (the
   * token's mint or redeem by the desk), by what it put in: USDT for a mint, shares for a redeem.
   */
  const claim = (kind: "mint" | "redeem", c: TradeLog, batches: readonly TradeLog[]) => {
    const batch = batches.filter((b) => order(b) < order(c)).sort((a, b) => order(b) - order(a))[0];
    const costs = batch === undefined ? { fee: 0n, tradingCost: 0n } : tradeCosts(resized, batch, kind);
    const [usdt, shares] = [c.args.assets, c.args.shares];
    const [mine, total] =
      kind === "mint" ? [usdt, batch?.args.assets ?? 0n] : [shares, batch?.args.shares ?? 0n];
    const part = (value: bigint) => (total === 0n ? 0n : (value * mine) / total);
    return {
      block: c.blockNumber,
      index: c.index,
      tx: c.transactionHash,
      event: { kind, usdt, shares, fee: part(costs.fee), tradingCost: part(costs.tradingCost) },
    };
  };
  return [
    ...claimsIn.map((c) => claim("mint", c, batchMints)),
    ...claimsOut.map((c) => claim("redeem", c, batchRedeems)),
  ];
}

export async function positionCommand(
  ctx: Context,
  address: string | undefined,
  opts: PositionOptions,
): Promise<Report> {
  const account = getAddress(await accountOf(ctx, address)); // as the events spell it
  const fromText = opts.fromBlock;
  if (fromText !== undefined && !/^\d+$/.test(fromText.trim())) {
    throw new CliError(`--from-block must be a block number (got "${fromText}")`);
  }
  const fromBlock =
    fromText !== undefined
      ? Number(fromText)
      : typeof ctx.book.startBlock === "number"
        ? ctx.book.startBlock
        : 0;
  const rows: TokenPosition[] = await Promise.all(
    Object.keys(ctx.book.tokens).map(async (symbol): Promise<TokenPosition> => {
      const token = tokenOf(ctx, symbol);
      const deskAddress = ctx.book.desks?.[symbol] ?? (await token.desk());
      const [events, balance] = await Promise.all([
        holderEvents(token, account, fromBlock, deskAddress === ZeroAddress ? undefined : deskAddress),
        token.balanceOf(account),
      ]);
      if (events.length === 0 && balance === 0n) return { symbol, balance, nav: null, position: null };
      let nav: bigint;
      try {
        nav = (await readTrueNav(token, rawRpcOf(ctx.provider))).perToken;
      } catch (e) {
        return { symbol, balance, nav: null, position: null, note: explainError(e, { symbol }).message };
      }
      const position = positionFrom(events, nav);
      const note =
        position.shares === balance
          ? undefined
          : `the events from block ${fromBlock} explain ${formatShares(position.shares)} of the ${formatShares(balance)} held`;
      return { symbol, balance, nav, position, ...(note ? { note } : {}) };
    }),
  );
  const held = rows.filter((r) => r.position !== null || r.note !== undefined);
  const usdt = (v: bigint) => decimalString(v, USDT_DECIMALS);
  const data: { [key: string]: Json } = {
    account,
    fromBlock,
    positions: held.map((r) => ({
      symbol: r.symbol,
      shares: decimalString(r.balance, SHARE_DECIMALS),
      nav: r.nav === null ? null : perTokenJson(r.nav),
      ...(r.position
        ? {
            valueUsdt: usdt(r.position.value),
            costBasisUsdt: usdt(r.position.costBasis),
            unrealisedUsdt: usdt(r.position.unrealised),
            realisedUsdt: usdt(r.position.realised),
            feesPaidUsdt: usdt(r.position.feesPaid),
            paidInUsdt: usdt(r.position.paidIn),
            paidOutUsdt: usdt(r.position.paidOut),
          }
        : {}),
      ...(r.note ? { note: r.note } : {}),
    })),
  };
  const signed = (v: bigint) => (v > 0n ? "+" : "") + formatUsdt(v);
  const body = held.length
    ? table(
        ["token", "balance", "NAV", "value", "cost basis", "unrealised", "realised", "fees paid"],
        held.map((r) => {
          const p = r.position;
          return [
            r.symbol,
            formatShares(r.balance),
            r.nav === null ? "n/a" : formatPerToken(r.nav),
            p ? formatUsdt(p.value) : "n/a",
            p ? formatUsdt(p.costBasis) : "n/a",
            p ? signed(p.unrealised) : "n/a",
            p ? signed(p.realised) : "n/a",
            p ? formatUsdt(p.feesPaid) : "n/a",
          ];
        }),
        [false, true, true, true, true, true, true, true],
      )
    : "no positions";
  const notes = held.filter((r) => r.note).map((r) => `${r.symbol}: ${r.note}`);
  const text = [
    `account ${account} (USDT; cost basis at average cost, tokens received by transfer or swap at NAV when they arrived)`,
    body,
    ...notes,
  ].join("\n");
  return { data, text };
}
