// The spot market's shared fixture for the arbitrage tests (arbitrage.ts, deskArbitrage.ts): every
// token with its ForwardDesk, the admin's and the trader's tokens got the only way a desk token mints
// (a deposit request, a new price round, the keeper's fill, the claim), one Uniswap V2 pool per token
// seeded at NAV from the admin's tokens, and the helpers both files use (a price round, the keeper's
// fills, the band, a pushed pool, the bot's context). The test files import the one network
// connection below, so loadFixture deploys this once per run and every test starts from a snapshot.
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { AddressBook } from "../../src/chain/addressBook.ts";
import { deploySystem, type System } from "../../src/chain/deploy.ts";
import { MARKETS, USDT } from "../../src/common/params.ts";
import type { LogFields } from "../../src/common/log.ts";
import { bookOf, type Line } from "../keeper/support.ts";
import { readTrueNav } from "../../src/cli/trueNav.ts";
import { rawRpcOf } from "../../src/chain/tokenBook.ts";
import {
  arbitrageOnce,
  reservesOf,
  type ArbContext,
  type ArbResult,
  type OpenTrades,
} from "../../src/spot/arbitrage.ts";
import {
  addressesOf,
  createPoolAtNav,
  deployUniswap,
  NO_DEADLINE,
  type Uniswap,
  type UniswapV2Pair,
} from "../../src/spot/uniswap.ts";

export const { ethers, networkHelpers } = await network.create();

/** USDT each of the admin, the arbitrageur and the trader starts with. */
export const FUNDS = 10_000_000n * USDT;
/** USDT the admin and the trader each deposit through every desk in the fixture. */
export const DESK_DEPOSIT = 200_000n * USDT;

export type { Line } from "../keeper/support.ts";

/** A new price round on both markets, `btcMove` on BTC's (the exchange's updatedAt moves on). */
export async function newRound(s: System, btcMove = 0): Promise<void> {
  await networkHelpers.time.increase(60);
  for (const m of Object.keys(MARKETS) as ("BTC" | "ETH")[]) {
    const [, answer] = await s.feeds[m].latestRoundData();
    const factor = m === "BTC" ? 1 + btcMove : 1;
    await s.feeds[m].updateAnswer((answer * BigInt(Math.round(factor * 1e6))) / 1_000_000n);
  }
}

/** The keeper (the admin holds KEEPER_ROLE) fills every desk that has work; returns how many. */
export async function fillAll(s: System): Promise<number> {
  let fills = 0;
  for (const desk of Object.values(s.desks)) {
    if ((await desk.fillNeeded())[0]) {
      await desk.fill();
      fills++;
    }
  }
  return fills;
}

export async function setup() {
  const [admin, arb, trader] = (await ethers.getSigners()) as [HardhatEthersSigner, ...HardhatEthersSigner[]];
  const s = await deploySystem(ethers);
  const u = await deployUniswap(admin);
  for (const who of [admin, arb!, trader!]) await s.usdt.mint(who.address, FUNDS);
  // the pools' seed and the trader's tokens come through the desks: request, a new round, fill, claim
  for (const who of [admin, trader!]) {
    for (const desk of Object.values(s.desks)) {
      await s.usdt.connect(who).approve(await desk.getAddress(), 2n ** 256n - 1n);
      await desk.connect(who).requestDeposit(DESK_DEPOSIT, who.address, who.address);
    }
  }
  await newRound(s);
  await fillAll(s);
  for (const who of [admin, trader!]) {
    for (const desk of Object.values(s.desks)) {
      await desk
        .connect(who)
        ["deposit(uint256,address,address)"](await desk.maxDeposit(who.address), who.address, who.address);
    }
  }
  /** Each token's supply and the admin's tokens (claims and fee shares: it is the treasury) before the seed. */
  const seed: Record<string, { held: bigint; supply: bigint }> = {};
  const pools: Record<string, UniswapV2Pair> = {};
  for (const [symbol, token] of Object.entries(s.tokens)) {
    seed[symbol] = { held: await token.balanceOf(admin.address), supply: await token.totalSupply() };
    pools[symbol] = await createPoolAtNav(u, s.usdt, token, admin);
  }
  const book: AddressBook = { ...(await bookOf(ethers, s)), pools: {}, uniswap: await addressesOf(u) };
  for (const [symbol, pool] of Object.entries(pools)) book.pools![symbol] = await pool.getAddress();
  return { s, u, book, pools, seed, admin, arb: arb!, trader: trader! };
}

export type Fixture = Awaited<ReturnType<typeof setup>>;

/**
 * The band, computed here from the fees, the exchange's taker fee and the pool's 0.3%, in floats,
 * around NAV as total assets over supply (what the arbitrage prices at; nav() rounds it down to 6
 * decimals).
 */
export async function bandOf(
  s: System,
  symbol: string,
): Promise<{ lower: number; upper: number; nav: number }> {
  const token = s.tokens[symbol]!;
  const nav = Number((await readTrueNav(token, rawRpcOf(token.runner))).perToken) / 1e18;
  const [mintFee, redeemFee] = (await token.fees()).map((f) => Number(f) / 1e18);
  const [takerFee] = await s.vault.tradeCosts(await token.market());
  const cost = (Number(await token.targetLeverage()) / 1e18) * (Number(takerFee) / 1e18);
  return {
    nav,
    upper: nav / ((1 - mintFee!) * (1 - cost) * 0.997),
    lower: nav * (1 - redeemFee!) * (1 - cost) * 0.997,
  };
}

/** The pool's price, USDT per token, from its reserves. */
export async function spot(pool: UniswapV2Pair, s: System): Promise<number> {
  const r = await reservesOf(pool, await s.usdt.getAddress());
  return Number(r.usdt) / 1e6 / (Number(r.token) / 1e18);
}

/** The trader swaps through the router (USDT in, or its own desk-minted tokens in) until the pool is
 * `factor` x NAV. */
export async function pushPool(f: Fixture, symbol: string, factor: number): Promise<void> {
  const { s, u, pools, trader } = f;
  const token = s.tokens[symbol]!;
  const r = await reservesOf(pools[symbol]!, await s.usdt.getAddress());
  const k = Number(r.token) * Number(r.usdt);
  const tokenAfter = Math.sqrt(k / ((Number(await token.nav()) / 1e18) * factor));
  const router = u.router.connect(trader) as Uniswap["router"];
  const path = [await s.usdt.getAddress(), await token.getAddress()];
  if (tokenAfter < Number(r.token)) {
    const usdtIn = BigInt(Math.round((k / tokenAfter - Number(r.usdt)) / 0.997));
    await s.usdt.connect(trader).approve(await router.getAddress(), usdtIn);
    await router.swapExactTokensForTokens(usdtIn, 0n, path, trader.address, NO_DEADLINE);
  } else {
    const tokensIn = BigInt(Math.round((tokenAfter - Number(r.token)) / 0.997));
    await token.connect(trader).approve(await router.getAddress(), tokensIn);
    await router.swapExactTokensForTokens(tokensIn, 0n, path.reverse(), trader.address, NO_DEADLINE);
  }
}

/** The arbitrageur's unlimited approvals of every leg (the desks take USDT and tokens, the router
 * both), given beforehand so that the bot's first transaction is its first leg. */
export async function approveAll(f: Fixture): Promise<void> {
  const { s, u, arb } = f;
  const router = await u.router.getAddress();
  await s.usdt.connect(arb).approve(router, 2n ** 256n - 1n);
  for (const [symbol, token] of Object.entries(s.tokens)) {
    const desk = await s.desks[symbol]!.getAddress();
    await s.usdt.connect(arb).approve(desk, 2n ** 256n - 1n);
    await token.connect(arb).approve(desk, 2n ** 256n - 1n);
    await token.connect(arb).approve(router, 2n ** 256n - 1n);
  }
}

/** The bot's context for the arbitrageur (or `signer`), logging into `lines`. */
export function arbContext(
  f: Fixture,
  symbols?: string[],
  open: OpenTrades = new Map(),
  signer: HardhatEthersSigner = f.arb,
) {
  const lines: Line[] = [];
  const ctx: ArbContext = {
    signer,
    book: f.book,
    ...(symbols === undefined ? {} : { symbols }),
    open,
    log: (event: string, fields?: LogFields) => lines.push({ event, ...fields }),
  };
  return { ctx, lines, open };
}

/** One pass over a single pool (the context's only symbol): its one result. */
export async function once(ctx: ArbContext): Promise<ArbResult> {
  const [r] = (await arbitrageOnce(ctx)) as [ArbResult];
  return r;
}
