// What the page reads from the chain, browser-safe (ethers and the project's own readers only): each
// token's row (the CLI's readTokenInfo, its pool, its NAV a day ago), a token's NAV against its
// underlying at every price update (the exchange's PriceUpdated events), its rebalances (the CLI's
// readHistory), the funding, trading costs and fees it paid (the exchange's and its own events), and the ideal closed form next to what it made.
import { Contract, JsonRpcProvider, Network, encodeBytes32String, type Provider } from "ethers";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import type { AddressBook } from "../chain/addressBookCore.ts";
import { rawRpcOf } from "../chain/tokenBook.ts";
import type { Context } from "../cli/context.ts";
import { explainError, STATE } from "../cli/errors.ts";
import { readHistory, type HistoryEntry } from "../cli/history.ts";
import { readTokenInfo, type TokenInfo } from "../cli/tokens.ts";
import { perTokenDown, readTrueNav } from "../cli/trueNav.ts";
import { explainResult, realizedVariance, type Explanation } from "../engine/index.ts";
import { getAmountOut, type Reserves } from "../spot/poolMath.ts";

/** The two Uniswap V2 pair views read here (src/spot/uniswap.ts loads the whole artifacts, Node-only). */
const PAIR_ABI = [
  "function getReserves() view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast)",
  "function token0() view returns (address)",
];

/** A read-only connection for the CLI's readers, through `url` (the app server's /rpc). */
export function pageContext(book: AddressBook, url: string, network: string, rpcUrl: string): Context {
  const provider = new JsonRpcProvider(url, Network.from(book.chainId), {
    staticNetwork: true,
    cacheTimeout: -1,
    pollingInterval: 1000,
  });
  return { options: { network, rpc: rpcUrl, deployments: "", json: false }, book, provider };
}

export interface PoolQuote {
  address: string;
  reserves: Reserves;
  /** USDT per token, 18 decimals (as trueNav's per-token values). */
  spot: bigint;
  /** (spot - NAV) / NAV as a WAD fraction; null when NAV is 0. */
  premium: bigint | null;
}

/** The token's pool against `nav` (per token, 18 decimals), or null when it has none or no liquidity. */
export async function readPool(ctx: Context, symbol: string, nav: bigint | null): Promise<PoolQuote | null> {
  const address = ctx.book.pools?.[symbol];
  if (address === undefined) return null;
  const pair = new Contract(address, PAIR_ABI, ctx.provider);
  const [[r0, r1], token0] = (await Promise.all([
    pair.getFunction("getReserves")(),
    pair.getFunction("token0")(),
  ])) as [[bigint, bigint], string];
  const reserves =
    token0.toLowerCase() === ctx.book.usdt.toLowerCase() ? { token: r1, usdt: r0 } : { token: r0, usdt: r1 };
  if (reserves.token === 0n) return null;
  const spot = perTokenDown(reserves.usdt, reserves.token);
  const premium = nav === null || nav === 0n ? null : ((spot - nav) * 10n ** 18n) / nav;
  return { address, reserves, spot, premium };
}

/** Tokens for `usdt` bought on the pool, and USDT for `shares` sold (Uniswap V2's 0.3% fee included). */
export function poolBuy(p: PoolQuote, usdt: bigint): bigint {
  return getAmountOut(usdt, p.reserves.usdt, p.reserves.token);
}
export function poolSell(p: PoolQuote, shares: bigint): bigint {
  return getAmountOut(shares, p.reserves.token, p.reserves.usdt);
}

/** The last block at or before `time` (binary search by timestamp), or null when the chain starts later. */
export async function blockAtOrBefore(
  provider: Provider,
  time: number,
  latest: number,
): Promise<number | null> {
  const first = await provider.getBlock(0);
  if (first === null || first.timestamp > time) return null;
  let [lo, hi] = [0, latest];
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const block = await provider.getBlock(mid);
    if (block !== null && block.timestamp <= time) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface TokenRow {
  symbol: string;
  info: TokenInfo;
  pool: PoolQuote | null;
  poolError?: string;
  /** NAV 24 h before the block read (per token, 18 decimals), or null when the chain is younger. */
  navDayAgo: bigint | null;
}

export const DAY = 86_400;

/** One row of the tokens table, read at the latest block (`dayAgoBlock`: the block 24 h before it). */
export async function readTokenRow(
  ctx: Context,
  symbol: string,
  dayAgoBlock: number | null,
): Promise<TokenRow> {
  const info = await readTokenInfo(ctx, symbol);
  const row: TokenRow = { symbol, info, pool: null, navDayAgo: null };
  try {
    row.pool = await readPool(ctx, symbol, info.nav);
  } catch (e) {
    row.poolError = explainError(e, { symbol }).message;
  }
  if (dayAgoBlock !== null && info.address !== "") {
    const t = LeveragedToken__factory.connect(info.address, ctx.provider);
    row.navDayAgo = await readTrueNav(t, rawRpcOf(ctx.provider), dayAgoBlock)
      .then((n) => (n.perToken === 0n ? null : n.perToken))
      .catch(() => null);
  }
  return row;
}

export interface SeriesPoint {
  block: number;
  time: number;
  /** The underlying's price, 8 decimals. */
  price: bigint;
  /** NAV per token, 18 decimals. */
  nav: bigint;
}

/** At most this many points on the chart (every price update when there are fewer). */
export const MAX_POINTS = 60;

/**
 * NAV against the underlying at the token's price updates (the exchange's PriceUpdated events of its
 * market) from `fromBlock`, while it had holders, sampled down to MAX_POINTS (the last one kept).
 */
export async function readSeries(ctx: Context, info: TokenInfo, fromBlock: number): Promise<SeriesPoint[]> {
  const vault = MockPerpVault__factory.connect(ctx.book.perpVault, ctx.provider);
  const market = encodeBytes32String(info.market);
  const updates = await vault.queryFilter(vault.filters.PriceUpdated(market), fromBlock);
  const byBlock = new Map<number, { price: bigint; time: number }>();
  for (const u of updates)
    byBlock.set(u.blockNumber, { price: u.args.answer, time: Number(u.args.updatedAt) });
  let blocks = [...byBlock.keys()].sort((a, b) => a - b);
  if (blocks.length > MAX_POINTS) {
    const step = (blocks.length - 1) / (MAX_POINTS - 1);
    blocks = [...new Set(Array.from({ length: MAX_POINTS }, (_, i) => blocks[Math.round(i * step)]!))];
  }
  const token = LeveragedToken__factory.connect(info.address, ctx.provider);
  const rpc = rawRpcOf(ctx.provider);
  const points = await Promise.all(
    blocks.map(async (block) => {
      // a price update before the token was deployed, or while it had no holders, has no NAV to draw
      const supply = await token.totalSupply({ blockTag: block }).catch(() => 0n);
      if (supply === 0n) return null;
      const nav = await readTrueNav(token, rpc, block).catch(() => null);
      const u = byBlock.get(block)!;
      return nav === null ? null : { block, time: u.time, price: u.price, nav: nav.perToken };
    }),
  );
  return points.filter((p): p is SeriesPoint => p !== null);
}

export interface CostsPaid {
  /** The last block counted (the view's block; `fundingOwed` is read at it). */
  block: number;
  /** USDT the rebalances' trades cost (taker fee and impact, the Rebalanced events), shared by all holders. */
  rebalanceTrading: bigint;
  /** USDT the mints' and redeems' trades cost (the PositionResized events), each paid by its own user. */
  mintRedeemTrading: bigint;
  /** USDT the token's other trades cost (a liquidation's, the close at settlement or depletion). */
  otherTrading: bigint;
  /**
   * Funding settled on the token's position, as the exchange reports it (+ paid, - received): at
   * every trade (Traded's fundingPaid), margin withdrawal (FundingSettled) and PnL settlement
   * (PnlSettled's funding).
   */
  funding: bigint;
  /** Funding accrued since the last settlement, at `block` (the exchange's fundingOwed view; + owed). */
  fundingOwed: bigint;
  /** Management fee shares minted to the treasury. */
  managementFeeShares: bigint;
  /** Mint and redeem fee shares: the token's (PositionResized) and its desk's on netted requests (Netted). */
  tradeFeeShares: bigint;
}

/** What the token paid from `fromBlock` to `toBlock`: trading costs, funding, fee shares. */
export async function readCostsPaid(
  ctx: Context,
  info: TokenInfo,
  fromBlock: number,
  toBlock: number,
): Promise<CostsPaid> {
  const vault = MockPerpVault__factory.connect(ctx.book.perpVault, ctx.provider);
  const market = encodeBytes32String(info.market);
  const token = LeveragedToken__factory.connect(info.address, ctx.provider);
  const deskAddress = ctx.book.desks?.[info.symbol];
  const desk = deskAddress === undefined ? null : ForwardDesk__factory.connect(deskAddress, ctx.provider);
  const [traded, funded, settled, accrued, resized, rebalanced, netted, fundingOwed] = await Promise.all([
    vault.queryFilter(vault.filters.Traded(market, info.address), fromBlock, toBlock),
    vault.queryFilter(vault.filters.FundingSettled(market, info.address), fromBlock, toBlock),
    vault.queryFilter(vault.filters.PnlSettled(market, info.address), fromBlock, toBlock),
    token.queryFilter(token.filters.ManagementFeeAccrued(), fromBlock, toBlock),
    token.queryFilter(token.filters.PositionResized(), fromBlock, toBlock),
    token.queryFilter(token.filters.Rebalanced(), fromBlock, toBlock),
    desk === null ? Promise.resolve([]) : desk.queryFilter(desk.filters.Netted(), fromBlock, toBlock),
    vault.fundingOwed(market, info.address, { blockTag: toBlock }),
  ]);
  const sum = <T>(items: readonly T[], of: (item: T) => bigint) => items.reduce((a, x) => a + of(x), 0n);
  const rebalanceTrading = sum(rebalanced, (e) => e.args.cost);
  const mintRedeemTrading = sum(resized, (e) => e.args.cost);
  return {
    block: toBlock,
    rebalanceTrading,
    mintRedeemTrading,
    // every trade of the token is the exchange's Traded; what its own events do not report is the rest
    otherTrading: sum(traded, (e) => e.args.cost) - rebalanceTrading - mintRedeemTrading,
    funding:
      sum(traded, (e) => e.args.fundingPaid) +
      sum(funded, (e) => e.args.amount) +
      sum(settled, (e) => e.args.funding),
    fundingOwed,
    managementFeeShares:
      sum(accrued, (e) => e.args.shares) +
      sum(resized, (e) => e.args.managementFeeShares) +
      sum(rebalanced, (e) => e.args.managementFeeShares),
    tradeFeeShares:
      sum(resized, (e) => e.args.feeShares) +
      sum(netted, (e) => e.args.redeemFeeShares + e.args.mintFeeShares),
  };
}

export interface IdealComparison {
  /** NAV at the end over the start, as the chain has it. */
  realised: number;
  explanation: Explanation;
  years: number;
}

/**
 * The closed form (continuous rebalancing at the path's realised variance, the management fee
 * included) over the series, next to what the token made: the engine's explainResult.
 */
export function idealComparison(info: TokenInfo, series: SeriesPoint[]): IdealComparison | null {
  const first = series[0];
  const last = series[series.length - 1];
  if (first === undefined || last === undefined || last.time <= first.time || first.nav === 0n) return null;
  const years = (last.time - first.time) / (365 * DAY);
  const leverage = (Number(info.targetLeverage) / 1e18) * (info.isLong ? 1 : -1);
  const explanation = explainResult({
    leverage,
    start: first.price.toString(),
    end: last.price.toString(),
    variance: realizedVariance(series.map((p) => p.price.toString())),
    years,
    managementFee: Number(info.managementFee) / 1e18,
  });
  return { realised: Number((last.nav * 10n ** 9n) / first.nav) / 1e9, explanation, years };
}

/** The token's history from `fromBlock` (the CLI's reader: mints, redeems, rebalances with reasons). */
export function readTokenHistory(ctx: Context, symbol: string, fromBlock: number): Promise<HistoryEntry[]> {
  return readHistory(ctx, symbol, { fromBlock: String(fromBlock) });
}

/** A token is tradable on its desk: minting needs Active and not paused, redeeming Active or Delisting. */
export function canMint(info: TokenInfo): boolean {
  return info.state === STATE.Active && !info.mintPaused;
}
export function canRedeem(info: TokenInfo): boolean {
  return info.state === STATE.Active || info.state === STATE.Delisting;
}
