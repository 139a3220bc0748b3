// The system's parameters in one place: markets, prices, the standard token set, fees and bands.
import { encodeBytes32String, parseUnits, ZeroAddress } from "ethers";

export const WAD = 10n ** 18n;
export const USDT = 10n ** 6n;
export const PRICE = 10n ** 8n;

export type MarketName = "BTC" | "ETH";

export interface MarketParams {
  name: MarketName;
  id: string; // bytes32
  description: string;
  initialPrice: bigint; // 8 decimals
  heartbeat: number; // seconds
  fundingRate: bigint; // WAD per 8 h
  priceImpact: bigint; // WAD per 1,000,000 USDT of notional
}

export const MARKETS: Record<MarketName, MarketParams> = {
  BTC: {
    name: "BTC",
    id: encodeBytes32String("BTC"),
    description: "BTC / USD",
    initialPrice: 100_000n * PRICE,
    heartbeat: 3600,
    fundingRate: parseUnits("0.0001", 18),
    priceImpact: 0n,
  },
  ETH: {
    name: "ETH",
    id: encodeBytes32String("ETH"),
    description: "ETH / USD",
    initialPrice: 4_000n * PRICE,
    heartbeat: 3600,
    fundingRate: parseUnits("0.0001", 18),
    priceImpact: 0n,
  },
};

/** The leverage rules a due rebalance is judged by (a token's immutables, WAD). */
export interface RebalanceRules {
  isLong: boolean;
  targetLeverage: bigint;
  minLeverage: bigint;
  maxLeverage: bigint;
  ripcordLeverage: bigint;
  rebalanceEpsilon: bigint;
}

export interface TokenParams extends RebalanceRules {
  symbol: string;
  name: string;
  market: MarketName;
  mintFee: bigint;
  redeemFee: bigint;
  managementFee: bigint; // WAD per year
  rebalanceBounty: bigint; // USDT
  supplyCap: bigint; // shares
}

export const DEFAULT_FEES = {
  mintFee: parseUnits("0.0005", 18), // 0.05%
  redeemFee: parseUnits("0.0005", 18), // 0.05%
  managementFee: parseUnits("0.01825", 18), // 0.005% a day
  rebalanceBounty: 5n * USDT,
};

/** A ForwardDesk's fill rules: the keeper fills at once; anyone may after `fillDelay` seconds, for a
 * bounty of at most `fillBounty` USDT (and 1% of the side that pays it). */
export const DESK = {
  fillDelay: 3600n,
  fillBounty: 5n * USDT,
};

export interface Band {
  minLeverage: bigint;
  maxLeverage: bigint;
  ripcordLeverage: bigint;
  rebalanceEpsilon: bigint;
}

/** Band [2/3, 4/3] x target and ripcord 1.5 x target: [2x, 4x] and 4.5x for a 3x token, as Bybit. */
export function bandFor(target: bigint): Band {
  return {
    minLeverage: (target * 2n) / 3n,
    maxLeverage: (target * 4n) / 3n,
    ripcordLeverage: (target * 3n) / 2n,
    rebalanceEpsilon: target / 60n, // 0.05x for a 3x token
  };
}

/** The symbol and name of a (market, whole leverage, side) token: BTC3L, "BTC 3x Long". */
export function tokenNaming(
  market: string,
  leverage: bigint,
  isLong: boolean,
): { symbol: string; name: string } {
  const x = leverage.toString();
  return {
    symbol: `${market}${x}${isLong ? "L" : "S"}`,
    name: `${market} ${x}x ${isLong ? "Long" : "Short"}`,
  };
}

export function tokenParams<M extends string = MarketName>(
  market: M,
  leverage: bigint,
  isLong: boolean,
): Omit<TokenParams, "market"> & { market: M } {
  const target = leverage * WAD;
  return {
    ...tokenNaming(market, leverage, isLong),
    market,
    isLong,
    targetLeverage: target,
    ...bandFor(target),
    ...DEFAULT_FEES,
    supplyCap: 2n ** 128n - 1n,
  };
}

/**
 * The token's Config struct (ILeveragedToken.Config) for `p` on the listed market `p.market`.
 * `vault` and the roles are whatever the caller deploys with (addresses, or Ignition futures).
 */
export function tokenConfig<V, T, A, K>(
  p: TokenParams,
  vault: V,
  roles: { treasury: T; admin: A; keeper: K },
) {
  return tokenConfigOn(p, MARKETS[p.market].id, vault, roles);
}

/** The token's Config struct for `p` on the market whose id is `marketId` (any market, SOL too):
 * the one place its fields are listed. */
export function tokenConfigOn<V, T, A, K>(
  p: Omit<TokenParams, "market">,
  marketId: string,
  vault: V,
  roles: { treasury: T; admin: A; keeper: K },
) {
  return {
    name: p.name,
    symbol: p.symbol,
    vault,
    market: marketId,
    isLong: p.isLong,
    targetLeverage: p.targetLeverage,
    minLeverage: p.minLeverage,
    maxLeverage: p.maxLeverage,
    ripcordLeverage: p.ripcordLeverage,
    rebalanceEpsilon: p.rebalanceEpsilon,
    mintFee: p.mintFee,
    redeemFee: p.redeemFee,
    managementFee: p.managementFee,
    rebalanceBounty: p.rebalanceBounty,
    supplyCap: p.supplyCap,
    treasury: roles.treasury,
    admin: roles.admin,
    keeper: roles.keeper,
    desk: ZeroAddress,
  };
}

/** BTC3L, BTC3S, ETH3L, ETH3S. */
export const STANDARD_TOKENS: TokenParams[] = (["BTC", "ETH"] as const).flatMap((m) => [
  tokenParams(m, 3n, true),
  tokenParams(m, 3n, false),
]);

export const EXCHANGE = {
  poolLiquidity: 100_000_000n * USDT,
};

/** The spot market: each token/USDT Uniswap V2 pool is seeded with this many tokens at NAV. */
export const SPOT = {
  seedTokens: 100_000n * WAD,
};
