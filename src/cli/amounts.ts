// Amounts as the user types them: USDT, or token shares (a number or "all" of the account's); and the
// deadline every command that trades takes.
import type { Provider } from "ethers";
import { blockTimestamp, rawRpcOf } from "../chain/tokenBook.ts";
import { parseDuration } from "../common/duration.ts";
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

/** A duration option (`--deadline 5m`) in seconds; a bad one is a sentence naming the option. */
export function parseDurationOption(text: string, option = "--deadline"): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw new CliError(`${option}: ${(e as Error).message}`);
  }
}

/**
 * The chain time `seconds` after the block the next transaction lands in (the pending block, so an
 * idle local node's old latest block does not make a deadline already past).
 */
export async function deadlineFromNow(provider: Provider, seconds: number): Promise<bigint> {
  return (await blockTimestamp(rawRpcOf(provider), "pending")) + BigInt(seconds);
}
