// `lt price <SYMBOL>`, `lt buy <SYMBOL> <usdt>` and `lt sell <SYMBOL> <tokens|all>`: the token's
// Uniswap V2 pool against its NAV, and swaps through Router02 with a slippage limit.
import type { ContractTransactionReceipt, Signer } from "ethers";
import { reservesOf } from "../spot/arbitrage.ts";
import { ratioToNumber, spotPrice, type Reserves } from "../spot/poolMath.ts";
import { connectPair, connectRouter, NO_DEADLINE, type UniswapV2Router02 } from "../spot/uniswap.ts";
import { parseShareAmount, parseUsdtAmount } from "./amounts.ts";
import { type Context, resolveSymbol, signerOf, tokenAddressOf, tokenOf, usdtOf } from "./context.ts";
import {
  CliError,
  explainError,
  insufficientSharesMessage,
  insufficientUsdtMessage,
  type ErrorContext,
} from "./errors.ts";
import {
  decimalString,
  formatNav,
  formatPercent,
  formatShares,
  formatUsdt,
  lines,
  parsePercent,
  SHARE_DECIMALS,
  USDT_DECIMALS,
  type Json,
  type Report,
} from "./format.ts";
import { gasLimitFrom } from "../keeper/decide.ts";
import { explainMinedRevert } from "./minedRevert.ts";
import { minimumOutDown, type TradeOptions } from "./trade.ts";

export type SwapOptions = Pick<TradeOptions, "maxSlippage">;

function poolOf(ctx: Context, symbol: string): string {
  const pool = ctx.book.pools?.[symbol];
  if (pool === undefined) {
    throw new CliError(
      `there is no spot pool for ${symbol} on ${ctx.options.network}; redeploy with: npm run deploy -- --network ${ctx.options.network}`,
    );
  }
  return pool;
}

function routerOf(ctx: Context, runner: Signer): UniswapV2Router02 {
  const router = ctx.book.uniswap?.router;
  if (router === undefined)
    throw new CliError(`the address book for ${ctx.options.network} has no Uniswap router`);
  return connectRouter(router, runner);
}

/** Spot (USDT per token, 6 decimals, rounded down) from the pool's reserves. */
function spotUsdt(r: Reserves): bigint {
  return (r.usdt * 10n ** 18n) / r.token;
}

/** The premium (+) or discount (-) of spot over NAV as a signed WAD fraction. */
function premiumWad(spot: bigint, nav: bigint): bigint {
  return ((spot - nav) * 10n ** 18n) / nav;
}

export async function priceCommand(ctx: Context, input: string): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  const pool = poolOf(ctx, symbol);
  try {
    const [reserves, nav] = await Promise.all([
      reservesOf(connectPair(pool, ctx.provider), ctx.book.usdt),
      tokenOf(ctx, symbol).nav(),
    ]);
    if (reserves.token === 0n) throw new CliError(`the ${symbol} pool has no liquidity`);
    const spot = spotUsdt(reserves);
    const premium = premiumWad(spot, nav);
    const word = premium >= 0n ? "premium" : "discount";
    const data: { [key: string]: Json } = {
      symbol,
      pool,
      spot: decimalString(spot, USDT_DECIMALS),
      nav: decimalString(nav, USDT_DECIMALS),
      premiumPercent: (ratioToNumber(spotPrice(reserves)) / (Number(nav) / 1e6) - 1) * 100,
      reserveTokens: decimalString(reserves.token, SHARE_DECIMALS),
      reserveUsdt: decimalString(reserves.usdt, USDT_DECIMALS),
    };
    const rows: [string, string][] = [
      ["spot", `${formatNav(spot)} USDT`],
      ["NAV", `${formatNav(nav)} USDT`],
      [word, formatPercent(premium >= 0n ? premium : -premium)],
      ["pool", `${formatShares(reserves.token)} ${symbol} / ${formatUsdt(reserves.usdt)} USDT (${pool})`],
    ];
    return { data, text: lines(rows) };
  } catch (e) {
    throw explainError(e, { rpcUrl: ctx.options.rpc, symbol });
  }
}

/**
 * A swap's failure as one sentence: the Router's slippage revert ("UniswapV2Router:
 * INSUFFICIENT_OUTPUT_AMOUNT") names the minimum that was not met; anything else as explainError says.
 */
export function swapErrorMessage(e: unknown, ectx: ErrorContext, minimum: string): CliError {
  const explained = explainError(e, ectx);
  if (explained.message.includes("INSUFFICIENT_OUTPUT_AMOUNT")) {
    return new CliError(
      `slippage exceeded: the pool would pay less than the ${minimum} you accepted; nothing was swapped`,
    );
  }
  return explained;
}

async function swap(
  ctx: Context,
  symbol: string,
  side: "buy" | "sell",
  amountIn: bigint,
  opts: SwapOptions,
): Promise<Report> {
  const ectx: ErrorContext = { rpcUrl: ctx.options.rpc, symbol };
  const slippage = parsePercent(opts.maxSlippage, "--max-slippage");
  poolOf(ctx, symbol);
  const signer = await signerOf(ctx);
  const account = await signer.getAddress();
  const router = routerOf(ctx, signer);
  const tokenAddress = tokenAddressOf(ctx, symbol);
  const input = side === "buy" ? usdtOf(ctx, signer) : tokenOf(ctx, symbol, signer);
  const path = side === "buy" ? [ctx.book.usdt, tokenAddress] : [tokenAddress, ctx.book.usdt];
  try {
    const balance = await input.balanceOf(account);
    if (balance < amountIn) {
      throw new CliError(
        side === "buy"
          ? insufficientUsdtMessage(balance, amountIn)
          : insufficientSharesMessage(symbol, balance, amountIn, "sell"),
      );
    }
    const [, quoted] = await router.getAmountsOut(amountIn, path);
    if (quoted === undefined || quoted === 0n)
      throw new CliError(`the ${symbol} pool would pay nothing for that amount`);
    const minOut = minimumOutDown(quoted, slippage);
    let approveTx: string | null = null;
    const routerAddress = await router.getAddress();
    if ((await input.allowance(account, routerAddress)) < amountIn) {
      const receipt = await (await input.approve(routerAddress, amountIn)).wait();
      approveTx = receipt?.hash ?? null;
    }
    let receipt: ContractTransactionReceipt | null;
    try {
      // a swap in a later block than its estimate's may update the pair's price accumulators: + 20%
      const gas = await router.swapExactTokensForTokens.estimateGas(
        amountIn,
        minOut,
        path,
        account,
        NO_DEADLINE,
      );
      receipt = await (
        await router.swapExactTokensForTokens(amountIn, minOut, path, account, NO_DEADLINE, {
          gasLimit: gasLimitFrom(gas),
        })
      ).wait();
    } catch (e) {
      throw swapErrorMessage(
        await explainMinedRevert(signer.provider, e, ectx),
        ectx,
        side === "buy" ? `${formatShares(minOut)} ${symbol}` : `${formatUsdt(minOut)} USDT`,
      );
    }
    if (!receipt) throw new CliError("the node did not return a receipt for the swap");
    const out = side === "buy" ? formatShares(quoted) + ` ${symbol}` : formatUsdt(quoted) + " USDT";
    const spent = side === "buy" ? formatUsdt(amountIn) + " USDT" : formatShares(amountIn) + ` ${symbol}`;
    const data: { [key: string]: Json } = {
      action: side,
      symbol,
      account,
      amountIn: decimalString(amountIn, side === "buy" ? USDT_DECIMALS : SHARE_DECIMALS),
      quoted: decimalString(quoted, side === "buy" ? SHARE_DECIMALS : USDT_DECIMALS),
      minOut: decimalString(minOut, side === "buy" ? SHARE_DECIMALS : USDT_DECIMALS),
      approveTx,
      tx: receipt.hash,
      block: receipt.blockNumber,
    };
    const rows: [string, string][] = [];
    if (approveTx) rows.push(["approved", `the router for ${spent} (tx ${approveTx})`]);
    rows.push(
      [
        side === "buy" ? "bought" : "sold",
        side === "buy" ? `about ${out} for ${spent}` : `${spent} for about ${out}`,
      ],
      [
        "minimum",
        `${side === "buy" ? `${formatShares(minOut)} ${symbol}` : `${formatUsdt(minOut)} USDT`} (max slippage ${formatPercent(slippage)})`,
      ],
      ["tx", `${receipt.hash} (block ${receipt.blockNumber})`],
    );
    return { data, text: lines(rows) };
  } catch (e) {
    throw explainError(e, ectx);
  }
}

export async function buyCommand(
  ctx: Context,
  input: string,
  usdtText: string,
  opts: SwapOptions,
): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  return swap(ctx, symbol, "buy", parseUsdtAmount(usdtText), opts);
}

export async function sellCommand(
  ctx: Context,
  input: string,
  amountText: string,
  opts: SwapOptions,
): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  poolOf(ctx, symbol);
  return swap(ctx, symbol, "sell", await parseShareAmount(ctx, symbol, amountText, "sell"), opts);
}
