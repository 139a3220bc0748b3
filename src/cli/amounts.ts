// Amounts as the user types them: USDT, or token shares (a number or "all" of the account's).
import { accountOf, type Context, tokenOf } from "./context.ts";
import { CliError } from "./errors.ts";
import { parseAmount, SHARE_DECIMALS, USDT_DECIMALS } from "./format.ts";

export function parseUsdtAmount(text: string): bigint {
  return parseAmount(text, USDT_DECIMALS, "USDT");
}

/** Shares of `symbol`: a number, or "all" for the signing account's whole balance. */
export async function parseShareAmount(
  ctx: Context,
  symbol: string,
  text: string,
  purpose: string,
): Promise<bigint> {
  if (text.trim().toLowerCase() !== "all") return parseAmount(text, SHARE_DECIMALS, symbol);
  const account = await accountOf(ctx);
  const balance = await tokenOf(ctx, symbol).balanceOf(account);
  if (balance === 0n) throw new CliError(`the account ${account} holds no ${symbol} to ${purpose}`);
  return balance;
}
