// `lt price <SYMBOL>`, `lt buy <SYMBOL> <usdt>` and `lt sell <SYMBOL> <tokens|all>`: the token's
// Uniswap V2 pool against its NAV, and swaps through Router02 with a slippage limit.
import type { ContractTransactionReceipt, Signer } from "ethers";
import { reservesOf } from "../spot/arbitrage.ts";
import { ratioToNumber, spotPrice, type Reserves } from "../spot/poolMath.ts";
import { connectPair, connectRouter, type UniswapV2Router02 } from "../spot/uniswap.ts";
import { MockUSDT__factory } from "../../types/ethers-contracts/factories/mocks/MockUSDT__factory.ts";
import { rawRpcOf } from "../chain/tokenBook.ts";
import { formatPerToken, perTokenDown, perTokenJson, readTrueNav } from "./trueNav.ts";
import { deadlineFromNow, parseDurationOption, parseShareAmount, parseUsdtAmount } from "./amounts.ts";
import { type Context, resolveSymbol, signerOf, tokenAddressOf, tokenOf, usdtOf } from "./context.ts";
import {
  CliError,
  explainError,
  insufficientSharesMessage,
  insufficientUsdtMessage,
  STATE,
  STATE_NAMES,
  type ErrorContext,
} from "./errors.ts";
import {
  decimalString,
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
import { gasLimitFrom } from "../chain/gas.ts";
import { explainMinedRevert } from "./minedRevert.ts";
import { minimumOutDown, type TradeOptions } from "./trade.ts";

export interface SwapOptions extends Pick<TradeOptions, "maxSlippage"> {
  /** The most the pool's price may be above NAV (buy) or below it (sell): "1%" by default. */
  maxPremium: string;
  /** How long the swap stays valid after the latest block: "5m" by default. */
  deadline: string;
}

export const DEFAULT_MAX_PREMIUM = "1%";
export const DEFAULT_DEADLINE = "5m";

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

/** The premium (+) or discount (-) of spot over NAV (both per token, same decimals) as a signed WAD fraction. */
function premiumWad(spot: bigint, nav: bigint): bigint {
  return ((spot - nav) * 10n ** 18n) / nav;
}

export async function priceCommand(ctx: Context, input: string): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  const pool = poolOf(ctx, symbol);
  try {
    const [reserves, trueNav] = await Promise.all([
      reservesOf(connectPair(pool, ctx.provider), ctx.book.usdt),
      readTrueNav(tokenOf(ctx, symbol), rawRpcOf(ctx.provider)),
    ]);
    if (reserves.token === 0n) throw new CliError(`the ${symbol} pool has no liquidity`);
    const spot = perTokenDown(reserves.usdt, reserves.token);
    const nav = trueNav.perToken;
    const premium = nav === 0n ? null : premiumWad(spot, nav);
    const dead = deadPool(trueNav.state, nav);
    const word = premium === null ? "premium" : premium >= 0n ? "premium" : "discount";
    const data: { [key: string]: Json } = {
      symbol,
      pool,
      spot: perTokenJson(spot),
      nav: perTokenJson(nav),
      state: STATE_NAMES[trueNav.state] ?? String(trueNav.state),
      premiumPercent:
        premium === null ? null : (ratioToNumber(spotPrice(reserves)) / (Number(nav) / 1e18) - 1) * 100,
      reserveTokens: decimalString(reserves.token, SHARE_DECIMALS),
      reserveUsdt: decimalString(reserves.usdt, USDT_DECIMALS),
      dead,
    };
    const rows: [string, string][] = [
      ["spot", `${formatPerToken(spot)} USDT`],
      ["NAV", `${formatPerToken(nav)} USDT${navNote(trueNav.state)}`],
      [
        word,
        premium === null
          ? "none: the token is worth nothing"
          : formatPercent(premium >= 0n ? premium : -premium),
      ],
      ["pool", `${formatShares(reserves.token)} ${symbol} / ${formatUsdt(reserves.usdt)} USDT (${pool})`],
      ...(dead
        ? ([
            [
              "status",
              `dead pool: ${symbol} is ${(STATE_NAMES[trueNav.state] ?? "").toLowerCase()} and worth nothing, so its price is backed by nothing; the arbitrage does not trade it`,
            ],
          ] as [string, string][])
        : []),
    ];
    return { data, text: lines(rows) };
  } catch (e) {
    throw explainError(e, { rpcUrl: ctx.options.rpc, symbol });
  }
}

/** A pool whose token is depleted, or settled at nothing: it still quotes a price, but nothing backs it. */
export function deadPool(state: number, perToken: bigint): boolean {
  return state === STATE.Depleted || (state === STATE.Settled && perToken === 0n);
}

function navNote(state: number): string {
  if (state === STATE.Settled) return " (settled: the frozen payout per token)";
  if (state === STATE.Depleted) return " (depleted)";
  return "";
}

/**
 * Why a swap at `paid` USDT per token (buy) or `received` (sell) is refused against NAV, or null:
 * a buy more than `maxPremium` above NAV, a sell more than it below.
 */
export function premiumProblem(
  symbol: string,
  side: "buy" | "sell",
  price: bigint,
  nav: bigint,
  maxPremium: bigint,
): string | null {
  if (side === "buy") {
    if (nav === 0n) return `${symbol} is worth nothing (NAV 0): buying it pays for nothing`;
    const premium = premiumWad(price, nav);
    if (premium <= maxPremium) return null;
    return `buying ${symbol} in the pool pays ${formatPerToken(price)} USDT a token, ${formatPercent(premium)} above its NAV of ${formatPerToken(nav)} (more than --max-premium ${formatPercent(maxPremium)}): minting is cheaper (lt mint ${symbol}); pass a larger --max-premium to buy anyway`;
  }
  if (nav === 0n) return null; // selling a worthless token for something is never below NAV
  const discount = -premiumWad(price, nav);
  if (discount <= maxPremium) return null;
  return `selling ${symbol} in the pool pays ${formatPerToken(price)} USDT a token, ${formatPercent(discount)} below its NAV of ${formatPerToken(nav)} (more than --max-premium ${formatPercent(maxPremium)}): redeeming pays more (lt redeem ${symbol}); pass a larger --max-premium to sell anyway`;
}

/**
 * A swap's failure as one sentence: the Router's slippage revert ("UniswapV2Router:
 * INSUFFICIENT_OUTPUT_AMOUNT") names the minimum that was not met; anything else as explainError says.
 */
export function swapErrorMessage(e: unknown, ectx: ErrorContext, minimum: string): CliError {
  const explained = explainError(e, ectx);
  if (explained.message.includes("UniswapV2Router: EXPIRED")) {
    return new CliError(
      "the swap's deadline passed before it was mined; nothing was swapped (try a longer --deadline)",
    );
  }
  if (explained.message.includes("INSUFFICIENT_OUTPUT_AMOUNT")) {
    return new CliError(
      `slippage exceeded: the pool would pay less than the ${minimum} you accepted; nothing was swapped`,
    );
  }
  return explained;
}

/** What `account` received of `asset` in the receipt (its ERC-20 Transfer events to the account). */
function receivedIn(receipt: ContractTransactionReceipt, asset: string, account: string): bigint {
  const erc20 = MockUSDT__factory.createInterface();
  let total = 0n;
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== asset.toLowerCase()) continue;
    const parsed = erc20.parseLog(log);
    if (
      parsed?.name === "Transfer" &&
      String(parsed.args.getValue("to")).toLowerCase() === account.toLowerCase()
    ) {
      total += BigInt(parsed.args.getValue("value") as bigint);
    }
  }
  return total;
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
  const maxPremium = parsePercent(opts.maxPremium, "--max-premium");
  const validFor = parseDurationOption(opts.deadline);
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
    const nav = (await readTrueNav(tokenOf(ctx, symbol), rawRpcOf(ctx.provider))).perToken;
    const price = side === "buy" ? perTokenDown(amountIn, quoted) : perTokenDown(quoted, amountIn);
    const problem = premiumProblem(symbol, side, price, nav, maxPremium);
    if (problem) throw new CliError(problem);
    const minOut = minimumOutDown(quoted, slippage);
    const outAddress = side === "buy" ? tokenAddress : ctx.book.usdt;
    let approveTx: string | null = null;
    const routerAddress = await router.getAddress();
    if ((await input.allowance(account, routerAddress)) < amountIn) {
      const receipt = await (await input.approve(routerAddress, amountIn)).wait();
      approveTx = receipt?.hash ?? null;
    }
    let receipt: ContractTransactionReceipt | null;
    const deadline = await deadlineFromNow(ctx.provider, validFor);
    try {
      // a swap in a later block than its estimate's may update the pair's price accumulators: + 20%
      const gas = await router.swapExactTokensForTokens.estimateGas(
        amountIn,
        minOut,
        path,
        account,
        deadline,
      );
      receipt = await (
        await router.swapExactTokensForTokens(amountIn, minOut, path, account, deadline, {
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
    const received = receivedIn(receipt, outAddress, account);
    const out = side === "buy" ? formatShares(received) + ` ${symbol}` : formatUsdt(received) + " USDT";
    const spent = side === "buy" ? formatUsdt(amountIn) + " USDT" : formatShares(amountIn) + ` ${symbol}`;
    const data: { [key: string]: Json } = {
      action: side,
      symbol,
      account,
      amountIn: decimalString(amountIn, side === "buy" ? USDT_DECIMALS : SHARE_DECIMALS),
      quoted: decimalString(quoted, side === "buy" ? SHARE_DECIMALS : USDT_DECIMALS),
      received: decimalString(received, side === "buy" ? SHARE_DECIMALS : USDT_DECIMALS),
      pricePerToken: perTokenJson(
        side === "buy" ? perTokenDown(amountIn, received) : perTokenDown(received, amountIn),
      ),
      nav: perTokenJson(nav),
      deadline: Number(deadline),
      minOut: decimalString(minOut, side === "buy" ? SHARE_DECIMALS : USDT_DECIMALS),
      approveTx,
      tx: receipt.hash,
      block: receipt.blockNumber,
    };
    const rows: [string, string][] = [];
    if (approveTx) rows.push(["approved", `the router for ${spent} (tx ${approveTx})`]);
    rows.push(
      [side === "buy" ? "bought" : "sold", side === "buy" ? `${out} for ${spent}` : `${spent} for ${out}`],
      [
        "price",
        `${formatPerToken(side === "buy" ? perTokenDown(amountIn, received) : perTokenDown(received, amountIn))} USDT a token (NAV ${formatPerToken(nav)}, pool quote ${side === "buy" ? formatShares(quoted) + ` ${symbol}` : formatUsdt(quoted) + " USDT"})`,
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
