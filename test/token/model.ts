// The token's arithmetic, worked out independently in BigInt, so the tests can state the exact value
// every call must produce. Each function carries its rounding in its name, like its Solidity
// counterpart in contracts/libraries (TokenMath, PerpMath) and the quoting code of LeveragedToken.
// Units: USDT 6 decimals, price 8 decimals, size 18 decimals signed, shares 18 decimals, rates WAD.

export const WAD = 10n ** 18n;
export const YEAR = 365n * 86_400n;
export const SIZE_PRICE_TO_USDT = 10n ** 20n;
export const INITIAL_SHARES_PER_UNIT = 10n ** 12n;
export const MINIMUM_SHARES = 10n ** 10n;
export const FUNDING_SCALE = 10n ** 22n;
export const FUNDING_DIVISOR = 8n * 3600n * 10n ** 16n;

export function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

export function mulDivDown(a: bigint, b: bigint, d: bigint): bigint {
  return (a * b) / d;
}

export function mulDivUp(a: bigint, b: bigint, d: bigint): bigint {
  return (a * b + d - 1n) / d;
}

/** Toward minus infinity, for signed a. */
export function mulDivDownSigned(a: bigint, b: bigint, d: bigint): bigint {
  return a >= 0n ? mulDivDown(a, b, d) : -mulDivUp(-a, b, d);
}

/** Toward plus infinity, for signed a. */
export function mulDivUpSigned(a: bigint, b: bigint, d: bigint): bigint {
  return a >= 0n ? mulDivUp(a, b, d) : -mulDivDown(-a, b, d);
}

export function valueDown(size: bigint, price: bigint): bigint {
  return mulDivDownSigned(size, price, SIZE_PRICE_TO_USDT);
}

export function costUp(size: bigint, price: bigint): bigint {
  return mulDivUpSigned(size, price, SIZE_PRICE_TO_USDT);
}

export function notionalUp(size: bigint, price: bigint): bigint {
  return mulDivUp(abs(size), price, SIZE_PRICE_TO_USDT);
}

/** Taker fee plus linear price impact on `notional`, rounded up. */
export function tradeCostUp(notional: bigint, takerFee: bigint, impact: bigint): bigint {
  const fee = mulDivUp(notional, takerFee, WAD);
  const impactCost = impact === 0n ? 0n : mulDivUp(notional * notional, impact, 10n ** 12n * WAD);
  return fee + impactCost;
}

/** Exact equity change of trading `delta` on `size` at `price`, before cost (no flips). */
export function tradeRoundingDown(size: bigint, delta: bigint, price: bigint): bigint {
  if (size === 0n || size > 0n === delta > 0n) {
    return valueDown(size + delta, price) - valueDown(size, price) - costUp(delta, price);
  }
  return valueDown(-delta, price) + valueDown(size + delta, price) - valueDown(size, price);
}

/** Funding owed by `size` for an index move, rounded up (negative: received, rounded toward zero). */
export function fundingOwedUp(size: bigint, indexDelta: bigint): bigint {
  const product = size * indexDelta;
  if (product >= 0n) return (product + FUNDING_SCALE - 1n) / FUNDING_SCALE;
  return -(-product / FUNDING_SCALE);
}

export function feeUp(amount: bigint, rate: bigint): bigint {
  return mulDivUp(amount, rate, WAD);
}

export function toSharesDown(value: bigint, supply: bigint, equity: bigint): bigint {
  return mulDivDown(value, supply, equity);
}

export function toAssetsDown(shares: bigint, equity: bigint, supply: bigint): bigint {
  return mulDivDown(shares, equity, supply);
}

export function toAssetsUp(shares: bigint, equity: bigint, supply: bigint): bigint {
  return mulDivUp(shares, equity, supply);
}

/** Fee fraction f = min(rate x elapsed / year, 1/2), rounded down. */
export function managementFeeFractionDown(annualRate: bigint, elapsed: bigint): bigint {
  const f = mulDivDown(annualRate, elapsed, YEAR);
  return f < WAD / 2n ? f : WAD / 2n;
}

/** supply x f / (1 - f): the treasury then owns exactly f of the new supply. */
export function managementFeeSharesDown(supply: bigint, annualRate: bigint, elapsed: bigint): bigint {
  const f = managementFeeFractionDown(annualRate, elapsed);
  return mulDivDown(supply, f, WAD - f);
}

export function targetSizeDown(equity: bigint, leverage: bigint, price: bigint): bigint {
  return mulDivDown(equity * 100n, leverage, price);
}

export function leverageDown(notional: bigint, equity: bigint): bigint {
  return mulDivDown(notional, WAD, equity);
}

/** Leverage of a position as the token reports it. */
export function leverageOf(size: bigint, equity: bigint, price: bigint): bigint {
  if (size === 0n) return 0n;
  if (equity <= 0n) return 2n ** 256n - 1n;
  return leverageDown(notionalUp(size, price), equity);
}

/** `size` x num / den, toward zero. */
export function scaleSize(size: bigint, num: bigint, den: bigint): bigint {
  const scaled = mulDivDown(abs(size), num, den);
  return size >= 0n ? scaled : -scaled;
}

/** What the exchange says about the token at one instant, with the fees that apply. */
export interface Book {
  supply: bigint; // management fee accrued to the instant
  managementFeeShares: bigint; // what that accrual adds (the mint's or redeem's event reports it)
  size: bigint;
  equity: bigint;
  price: bigint;
  takerFee: bigint;
  priceImpact: bigint;
  mintFee: bigint;
  redeemFee: bigint;
  targetLeverage: bigint;
  isLong: boolean;
}

export interface TradeQuote {
  sizeDelta: bigint;
  cost: bigint;
  equityAfter: bigint;
}

export function quoteTrade(b: Book, sizeDelta: bigint): TradeQuote {
  if (sizeDelta === 0n) return { sizeDelta, cost: 0n, equityAfter: b.equity };
  const cost = tradeCostUp(notionalUp(sizeDelta, b.price), b.takerFee, b.priceImpact);
  return { sizeDelta, cost, equityAfter: b.equity - cost + tradeRoundingDown(b.size, sizeDelta, b.price) };
}

export interface DepositQuote extends TradeQuote {
  shares: bigint; // to the receiver
  feeShares: bigint; // to the treasury
}

/** A deposit of `assets`: all of it becomes margin, the position grows pro rata (target on the first). */
export function quoteDeposit(b: Book, assets: bigint): DepositQuote {
  const first = b.supply === 0n;
  const target = targetSizeDown(assets, b.targetLeverage, b.price);
  const sizeDelta = first ? (b.isLong ? target : -target) : scaleSize(b.size, assets, b.equity);
  const t = quoteTrade(b, sizeDelta);
  const equityAfter = t.equityAfter + assets;
  const added = equityAfter - b.equity;
  if (added <= 0n) return { ...t, equityAfter, shares: 0n, feeShares: 0n };
  let total: bigint;
  if (!first) total = toSharesDown(added, b.supply, b.equity);
  else {
    total = added * INITIAL_SHARES_PER_UNIT;
    total = total > MINIMUM_SHARES ? total - MINIMUM_SHARES : 0n;
  }
  const feeShares = feeUp(total, b.mintFee);
  return { ...t, equityAfter, shares: total - feeShares, feeShares };
}

export interface RedeemQuote extends TradeQuote {
  assets: bigint; // paid out
  feeShares: bigint; // moved to the treasury
  burnt: bigint;
}

/** A redemption of `shares`: the fee shares go to the treasury, the rest are burnt and paid. */
export function quoteRedeem(b: Book, shares: bigint): RedeemQuote {
  const feeShares = feeUp(shares, b.redeemFee);
  const burnt = shares - feeShares;
  const t = quoteTrade(b, -scaleSize(b.size, burnt, b.supply));
  const released = t.equityAfter - toAssetsUp(b.supply - burnt, b.equity, b.supply);
  return { ...t, assets: released > 0n ? released : 0n, feeShares, burnt };
}

/** NAV per 1e18 shares, as nav() reports it. */
export function navOf(equity: bigint, supply: bigint): bigint {
  if (supply === 0n) return 10n ** 6n;
  return mulDivDown(equity > 0n ? equity : 0n, WAD, supply);
}
