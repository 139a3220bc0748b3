// `lt balance [address]`: USDT, and each token's shares with their value at NAV.
import { formatEther } from "ethers";
import { accountOf, type Context, tokenOf, usdtOf } from "./context.ts";
import { explainError } from "./errors.ts";
import { rawRpcOf } from "../chain/tokenBook.ts";
import { formatPerToken, perTokenJson, readTrueNav } from "./trueNav.ts";
import {
  decimalString,
  formatDown,
  formatShares,
  formatUsdt,
  SHARE_DECIMALS,
  table,
  USDT_DECIMALS,
  type Json,
  type Report,
} from "./format.ts";

/** Value of `shares` at a per-token value with 18 decimals (trueNav's perToken), in USDT units, rounded down. */
export function valueAtPerTokenDown(shares: bigint, perToken: bigint): bigint {
  return (shares * perToken) / 10n ** 30n;
}

/** Value of `shares` at `nav` (USDT per 1e18 shares), rounded down. */
export function valueAtNavDown(shares: bigint, nav: bigint): bigint {
  return (shares * nav) / 10n ** 18n;
}

export async function balanceCommand(ctx: Context, address?: string): Promise<Report> {
  const account = await accountOf(ctx, address);
  const [usdt, eth] = await Promise.all([usdtOf(ctx).balanceOf(account), ctx.provider.getBalance(account)]);
  const rows = await Promise.all(
    Object.keys(ctx.book.tokens).map(async (symbol) => {
      const token = tokenOf(ctx, symbol);
      const shares = await token.balanceOf(account);
      try {
        // every digit of the value per token (nav() rounds a decayed token's to 0), 0 once depleted
        const nav = (await readTrueNav(token, rawRpcOf(ctx.provider))).perToken;
        return { symbol, shares, nav, value: valueAtPerTokenDown(shares, nav), note: null };
      } catch (e) {
        return { symbol, shares, nav: null, value: null, note: explainError(e, { symbol }).message };
      }
    }),
  );
  const total = rows.reduce((sum, r) => sum + (r.value ?? 0n), usdt);
  const data: { [key: string]: Json } = {
    account,
    eth: formatEther(eth),
    usdt: decimalString(usdt, USDT_DECIMALS),
    tokens: rows.map((r) => ({
      symbol: r.symbol,
      shares: decimalString(r.shares, SHARE_DECIMALS),
      nav: r.nav === null ? null : perTokenJson(r.nav),
      valueUsdt: r.value === null ? null : decimalString(r.value, USDT_DECIMALS),
      ...(r.note ? { note: r.note } : {}),
    })),
    totalUsdt: decimalString(total, USDT_DECIMALS),
  };
  const body = table(
    ["asset", "balance", "NAV (USDT)", "value (USDT)"],
    [
      ["USDT", formatUsdt(usdt), "", formatUsdt(usdt)],
      ...rows.map((r) => [
        r.symbol,
        formatShares(r.shares),
        r.nav === null ? "n/a" : formatPerToken(r.nav),
        r.value === null ? "n/a" : formatUsdt(r.value),
      ]),
    ],
    [false, true, true, true],
  );
  const notes = rows.filter((r) => r.note).map((r) => `${r.symbol}: ${r.note}`);
  const text = [
    `account ${account} (${formatDown(eth, 18, 0, 4)} ETH for gas)`,
    body,
    `total ${formatUsdt(total)} USDT${notes.length ? " (tokens without a NAV not counted)" : ""}`,
    ...notes,
  ].join("\n");
  return { data, text };
}
