// BigInt twins of contracts/libraries/PerpMath.sol and TokenMath.sol, function for function, with
// the same names and the same rounding. OpenZeppelin's Math.mulDiv reverts on a zero denominator
// (Panic 0x12) and on a result above 2^256 - 1 (Panic 0x11); so do these.
import { EngineRevert } from "./errors.ts";

export const WAD = 10n ** 18n;
export const SIZE_PRICE_TO_USDT = 10n ** 20n;
export const FUNDING_SCALE = 10n ** 22n;
export const FUNDING_DIVISOR = 8n * 3600n * 10n ** 16n;
export const IMPACT_NOTIONAL = 10n ** 12n;
/** A market's open interest is summed in units of 1e-8 of the underlying (1e10 of size). */
export const OPEN_INTEREST_UNIT = 10n ** 10n;
export const INITIAL_SHARES_PER_UNIT = 10n ** 12n;
export const YEAR = 365n * 86400n;
export const UINT256_MAX = (1n << 256n) - 1n;
export const UINT64_MAX = (1n << 64n) - 1n;
export const UINT128_MAX = (1n << 128n) - 1n;
export const INT128_MAX = (1n << 127n) - 1n;
export const INT128_MIN = -(1n << 127n);

export const PANIC_OVERFLOW = 0x11n;
export const PANIC_DIVISION_BY_ZERO = 0x12n;

/** floor(a x b / d) for a, b, d >= 0 (Math.mulDiv, Rounding.Floor). */
export function mulDivDown(a: bigint, b: bigint, d: bigint): bigint {
  if (d === 0n) throw new EngineRevert("Panic", [PANIC_DIVISION_BY_ZERO]);
  const q = (a * b) / d;
  if (q > UINT256_MAX) throw new EngineRevert("Panic", [PANIC_OVERFLOW]);
  return q;
}

/** ceil(a x b / d) for a, b, d >= 0 (Math.mulDiv, Rounding.Ceil). */
export function mulDivUp(a: bigint, b: bigint, d: bigint): bigint {
  if (d === 0n) throw new EngineRevert("Panic", [PANIC_DIVISION_BY_ZERO]);
  const p = a * b;
  let q = p / d;
  if (q * d !== p) q += 1n;
  if (q > UINT256_MAX) throw new EngineRevert("Panic", [PANIC_OVERFLOW]);
  return q;
}

/** Math.ceilDiv(a, b) for a >= 0, b > 0. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new EngineRevert("Panic", [PANIC_DIVISION_BY_ZERO]);
  return a === 0n ? 0n : (a - 1n) / b + 1n;
}

export function abs(x: bigint): bigint {
  return x >= 0n ? x : -x;
}

export function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/* PerpMath */

/** floor(a x b / d) toward minus infinity, for signed a and positive b, d. */
export function mulDivDownSigned(a: bigint, b: bigint, d: bigint): bigint {
  if (a >= 0n) return mulDivDown(a, b, d);
  return -mulDivUp(-a, b, d);
}

/** ceil(a x b / d) toward plus infinity, for signed a and positive b, d. */
export function mulDivUpSigned(a: bigint, b: bigint, d: bigint): bigint {
  if (a >= 0n) return mulDivUp(a, b, d);
  return -mulDivDown(-a, b, d);
}

/** Value of `size` at `price` in USDT, rounded down. */
export function valueDown(size: bigint, price: bigint): bigint {
  return mulDivDownSigned(size, price, SIZE_PRICE_TO_USDT);
}

/** Cost of opening `size` at `price` in USDT, rounded up. */
export function costUp(size: bigint, price: bigint): bigint {
  return mulDivUpSigned(size, price, SIZE_PRICE_TO_USDT);
}

/** |size| x price in USDT, rounded up. */
export function notionalUp(size: bigint, price: bigint): bigint {
  return mulDivUp(abs(size), price, SIZE_PRICE_TO_USDT);
}

/** amount x rate (WAD), rounded up. */
export function wadMulUp(amount: bigint, rate: bigint): bigint {
  return mulDivUp(amount, rate, WAD);
}

export interface TradeCost {
  fee: bigint;
  impactCost: bigint;
}

/** Taker fee plus linear price impact on a trade of `notional` USDT, each rounded up. */
export function tradeCostUp(notional: bigint, takerFee: bigint, impact: bigint): TradeCost {
  const fee = wadMulUp(notional, takerFee);
  const impactCost = impact !== 0n ? mulDivUp(notional * notional, impact, IMPACT_NOTIONAL * WAD) : 0n;
  return { fee, impactCost };
}

/** Sum of tradeCostUp's two parts (the contracts only ever use the sum); allocates nothing. */
export function tradeCostTotalUp(notional: bigint, takerFee: bigint, impact: bigint): bigint {
  const fee = wadMulUp(notional, takerFee);
  return impact !== 0n ? fee + mulDivUp(notional * notional, impact, IMPACT_NOTIONAL * WAD) : fee;
}

/** Funding index growth, truncated toward zero like Solidity's signed division. */
export function fundingIndexDelta(price: bigint, rate: bigint, elapsed: bigint): bigint {
  return (price * rate * elapsed) / FUNDING_DIVISOR; // BigInt division truncates toward zero too
}

/** Funding a position of `size` owes for an index move of `indexDelta`: paid rounded up, received down. */
export function fundingOwedUp(size: bigint, indexDelta: bigint): bigint {
  const product = size * indexDelta;
  if (product >= 0n) return ceilDiv(product, FUNDING_SCALE);
  return -(-product / FUNDING_SCALE);
}

/** Funding `size` owes for an index move, rounded down (toward the trader): a side's sum. */
export function fundingOwedDown(size: bigint, indexDelta: bigint): bigint {
  const product = size * indexDelta;
  if (product >= 0n) return product / FUNDING_SCALE;
  return -ceilDiv(-product, FUNDING_SCALE);
}

/** What a position counts in its side's open interest: a long rounded up, a short's magnitude down. */
export function openInterestUnits(size: bigint): bigint {
  if (size >= 0n) return ceilDiv(size, OPEN_INTEREST_UNIT);
  return -size / OPEN_INTEREST_UNIT;
}

/** Part of `openCost` that leaves when `closed` of a position of `size` is closed, rounded up. */
export function closedCostUp(openCost: bigint, closed: bigint, size: bigint): bigint {
  return mulDivUpSigned(openCost, abs(closed), abs(size));
}

/** Exact change in equity from trading `sizeDelta` at `price` (open, increase or reduce; never a flip). */
export function tradeRoundingDown(size: bigint, sizeDelta: bigint, price: bigint): bigint {
  if (size === 0n || size > 0n === sizeDelta > 0n) {
    return valueDown(size + sizeDelta, price) - valueDown(size, price) - costUp(sizeDelta, price);
  }
  return valueDown(-sizeDelta, price) + valueDown(size + sizeDelta, price) - valueDown(size, price);
}

/**
 * PerpMath.liquidationSizeUp: the part of a position a liquidation closes (signed like `size`,
 * magnitude rounded up): the least that leaves equity after the taker fee on it and the reward at
 * the initial margin of what stays open; all of it when the equity cannot pay the reward.
 */
export function liquidationSizeUp(
  size: bigint,
  equity: bigint,
  price: bigint,
  reward: bigint,
  initialMarginRatio: bigint,
  takerFee: bigint,
): bigint {
  const notional = notionalUp(size, price);
  const left = equity - reward;
  if (left <= 0n || initialMarginRatio <= takerFee || notional === 0n) return size;
  const required = initialMarginRatio * notional;
  const have = left * WAD;
  if (have >= required) return 0n;
  const closed = mulDivUp(abs(size), required - have, (initialMarginRatio - takerFee) * notional);
  if (closed >= abs(size)) return size;
  return size > 0n ? closed : -closed;
}

/* TokenMath */

/** amount x rate (WAD), rounded up: a fee. */
export function feeUp(amount: bigint, rate: bigint): bigint {
  return mulDivUp(amount, rate, WAD);
}

/** Shares for `value` USDT added to `equity` backing `supply` shares, rounded down. */
export function toSharesDown(value: bigint, supply: bigint, equity: bigint): bigint {
  return mulDivDown(value, supply, equity);
}

/** USDT that `shares` of `supply` are worth at `equity`, rounded down. */
export function toAssetsDown(shares: bigint, equity: bigint, supply: bigint): bigint {
  return mulDivDown(shares, equity, supply);
}

/** USDT the holders of `shares` of `supply` keep out of `equity`, rounded up. */
export function toAssetsUp(shares: bigint, equity: bigint, supply: bigint): bigint {
  return mulDivUp(shares, equity, supply);
}

/** Management fee shares for `elapsed` seconds at `annualRate`: supply x f / (1 - f), rounded down. */
export function managementFeeSharesDown(supply: bigint, annualRate: bigint, elapsed: bigint): bigint {
  const f = min(mulDivDown(annualRate, elapsed, YEAR), WAD / 2n);
  return mulDivDown(supply, f, WAD - f);
}

/** Position size worth `leverage` x `equity` at `price`, rounded down. */
export function targetSizeDown(equity: bigint, leverage: bigint, price: bigint): bigint {
  return mulDivDown(equity * 100n, leverage, price);
}

/** Leverage (WAD) of `notional` over `equity`, rounded down. */
export function leverageDown(notional: bigint, equity: bigint): bigint {
  return mulDivDown(notional, WAD, equity);
}

/* SafeCast */

export function toInt128(x: bigint): bigint {
  if (x > INT128_MAX || x < INT128_MIN) throw new EngineRevert("SafeCastOverflowedIntDowncast", [128n, x]);
  return x;
}

/** SafeCast.toIntN: `x` if it fits `bits` bits, signed. */
export function toInt(bits: bigint, x: bigint): bigint {
  const max = (1n << (bits - 1n)) - 1n;
  if (x > max || x < -max - 1n) throw new EngineRevert("SafeCastOverflowedIntDowncast", [bits, x]);
  return x;
}

/** SafeCast.toUintN: `x` if it fits `bits` bits, unsigned. */
export function toUint(bits: bigint, x: bigint): bigint {
  if (x > (1n << bits) - 1n) throw new EngineRevert("SafeCastOverflowedUintDowncast", [bits, x]);
  return x;
}

export function toUint64(x: bigint): bigint {
  if (x > UINT64_MAX) throw new EngineRevert("SafeCastOverflowedUintDowncast", [64n, x]);
  return x;
}

/** A checked uint64 addition (Solidity reverts Panic 0x11 past 2^64 - 1). */
export function addUint64(a: bigint, b: bigint): bigint {
  if (a + b > UINT64_MAX) throw new EngineRevert("Panic", [PANIC_OVERFLOW]);
  return a + b;
}
