// Pure bigint math of a token/USDT Uniswap V2 pool against the token's NAV: the pair's own swap
// formulas (0.3% fee), the no-arbitrage band around NAV, and the trade that brings the pool price
// back to the band's edge. Prices are exact fractions: USDT base units per token base unit.
import { WAD } from "../common/params.ts";

/** Uniswap V2 keeps 997/1000 of every input. */
const FEE_KEEP = 997n;
const FEE_BASE = 1000n;

/** An exact price: num / den USDT base units (1e-6 USDT) per token base unit (1e-18 token). */
export interface Ratio {
  num: bigint;
  den: bigint;
}

/** A pool's reserves, token side and USDT side (base units). */
export interface Reserves {
  token: bigint;
  usdt: bigint;
}

/** Fees that separate the pool price from NAV, as WAD fractions. */
export interface BandFees {
  mintFee: bigint;
  redeemFee: bigint;
  /** The exchange's trading cost of a mint or redeem, as a fraction of the USDT amount (leverage x taker fee). */
  tradingCost: bigint;
}

export interface Band {
  lower: Ratio;
  upper: Ratio;
}

/** The pair's getAmountOut: output for `amountIn` in, rounded down (as the pair pays). */
export function getAmountOut(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  if (amountIn <= 0n) throw new Error("getAmountOut: the input must be positive");
  if (reserveIn <= 0n || reserveOut <= 0n) throw new Error("getAmountOut: the pool has no liquidity");
  const inWithFee = amountIn * FEE_KEEP;
  return (inWithFee * reserveOut) / (reserveIn * FEE_BASE + inWithFee);
}

/** The pair's getAmountIn: input needed for `amountOut` out, rounded up (as the Router charges). */
export function getAmountIn(amountOut: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  if (amountOut <= 0n) throw new Error("getAmountIn: the output must be positive");
  if (reserveIn <= 0n || amountOut >= reserveOut)
    throw new Error("getAmountIn: the pool has too little liquidity");
  return (reserveIn * amountOut * FEE_BASE) / ((reserveOut - amountOut) * FEE_KEEP) + 1n;
}

/** The pool's price (USDT per token), exactly. */
export const spotPrice = (r: Reserves): Ratio => ({ num: r.usdt, den: r.token });

/** NAV (USDT base units per 1e18 shares) as a Ratio. */
export const navRatio = (nav: bigint): Ratio => ({ num: nav, den: WAD });

/** a < b for two Ratios. */
export const lessThan = (a: Ratio, b: Ratio): boolean => a.num * b.den < b.num * a.den;

/** A Ratio as a float (display and logs only). */
export const ratioToNumber = (r: Ratio, scale = 1e12): number =>
  r.den === 0n ? Number.NaN : (Number(r.num) / Number(r.den)) * scale;

/**
 * The no-arbitrage band around NAV. Above `upper`, minting at NAV (paying the mint fee and the
 * trading cost) and selling into the pool (paying its 0.3%) earns on the marginal token:
 *   upper = NAV / ((1 - mintFee) (1 - tradingCost) (1 - 0.3%)).
 * Below `lower`, buying from the pool and redeeming earns on the marginal token:
 *   lower = NAV (1 - redeemFee) (1 - tradingCost) (1 - 0.3%).
 */
export function noArbitrageBand(nav: bigint, fees: BandFees): Band {
  return noArbitrageBandAt(navRatio(nav), fees);
}

/**
 * noArbitrageBand at an exact NAV (total assets over supply, USDT base units per token base unit),
 * which keeps a decayed token's 1.6e-8 USDT that the 6-decimal nav() rounds to 0. A NAV of 0 gives
 * the band [0, 0]: nothing sells a token worth nothing (see isDeadNav).
 */
export function noArbitrageBandAt(nav: Ratio, fees: BandFees): Band {
  for (const [name, f] of Object.entries(fees)) {
    if (f < 0n || f >= WAD) throw new Error(`${name} must be a WAD fraction in [0, 1)`);
  }
  if (nav.num < 0n || nav.den <= 0n) throw new Error("the NAV must be a non-negative fraction");
  return {
    upper: {
      num: nav.num * WAD * WAD * FEE_BASE,
      den: nav.den * (WAD - fees.mintFee) * (WAD - fees.tradingCost) * FEE_KEEP,
    },
    lower: {
      num: nav.num * (WAD - fees.redeemFee) * (WAD - fees.tradingCost) * FEE_KEEP,
      den: nav.den * WAD * WAD * FEE_BASE,
    },
  };
}

/** A NAV of exactly 0: the token is worth nothing and its pool is dead (no arbitrage can price it). */
export const isDeadNav = (nav: Ratio): boolean => nav.num === 0n;

/** Where the pool price sits against the band. */
export function position(r: Reserves, band: Band): "above" | "below" | "inside" {
  const p = spotPrice(r);
  if (lessThan(band.upper, p)) return "above";
  if (lessThan(p, band.lower)) return "below";
  return "inside";
}

export function sqrtDown(n: bigint): bigint {
  if (n < 0n) throw new Error("square root of a negative number");
  if (n < 2n) return n;
  // Newton's method from a float estimate above the root: decreases monotonically to floor(sqrt(n))
  const estimate = Math.sqrt(Number(n));
  let x = Number.isFinite(estimate)
    ? BigInt(Math.ceil(estimate * (1 + 1e-10))) + 1n
    : 1n << BigInt(Math.ceil(n.toString(2).length / 2) + 1);
  for (;;) {
    const next = (x + n / x) >> 1n;
    if (next >= x) break;
    x = next;
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

function sqrtUp(n: bigint): bigint {
  const r = sqrtDown(n);
  return r * r === n ? r : r + 1n;
}

const divUp = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** Reserves after selling `tokensIn` into the pool. */
export function afterSell(r: Reserves, tokensIn: bigint): Reserves {
  return { token: r.token + tokensIn, usdt: r.usdt - getAmountOut(tokensIn, r.token, r.usdt) };
}

/** Reserves after buying `tokensOut` from the pool. */
export function afterBuy(r: Reserves, tokensOut: bigint): Reserves {
  return { token: r.token - tokensOut, usdt: r.usdt + getAmountIn(tokensOut, r.usdt, r.token) };
}

/**
 * The fewest tokens to sell into a pool priced above `upper` so that its price ends at or below
 * `upper` (0 when it already is). With x, y the reserves and v = x + dx, the pair leaves the price
 * at 1000 x y / ((997 v + 3 x) v); solving for the edge and rounding v up lands on or inside it;
 * the pair's own rounding is then checked exactly and the size nudged up if needed.
 */
export function sellToUpper(r: Reserves, upper: Ratio): bigint {
  if (!lessThan(upper, spotPrice(r))) return 0n;
  // no number of tokens sold takes a pool's price to 0 (a token worth nothing): there is no size
  if (upper.num === 0n)
    throw new Error("sellToUpper: the band's upper edge is 0 (a token worth nothing); no sale reaches it");
  if (r.token <= 0n || r.usdt <= 0n) throw new Error("sellToUpper: the pool has no liquidity");
  const { token: x, usdt: y } = r;
  const { num: a, den: b } = upper;
  const disc = 9n * x * x * a * a + 4n * FEE_KEEP * a * FEE_BASE * x * y * b;
  const v = divUp(sqrtUp(disc) - 3n * x * a, 2n * FEE_KEEP * a);
  let dx = v > x ? v - x : 1n;
  while (lessThan(upper, spotPrice(afterSell(r, dx)))) dx += dx / 1_000_000n + 1n;
  return dx;
}

/**
 * The fewest tokens to buy from a pool priced below `lower` so that its price ends at or above
 * `lower` (0 when it already is). With u = x - dx the pair leaves the price at
 * y (1000 x - 3 u) / (997 u^2) (the Router's amountIn rounded up only raises it); u is rounded
 * down, so dx rounds up and lands on or inside the edge.
 */
export function buyToLower(r: Reserves, lower: Ratio): bigint {
  if (!lessThan(spotPrice(r), lower)) return 0n;
  // a price below a positive edge: lower.num > 0, so the division below is by a positive number
  if (r.token <= 0n || r.usdt <= 0n) throw new Error("buyToLower: the pool has no liquidity");
  const { token: x, usdt: y } = r;
  const { num: a, den: b } = lower;
  const disc = 9n * y * y * b * b + 4n * FEE_KEEP * a * FEE_BASE * x * y * b;
  const u = (sqrtDown(disc) - 3n * y * b) / (2n * FEE_KEEP * a);
  let dx = x - u;
  if (dx <= 0n) dx = 1n;
  while (dx < x - 1n && lessThan(spotPrice(afterBuy(r, dx)), lower)) dx += dx / 1_000_000n + 1n;
  return dx;
}
