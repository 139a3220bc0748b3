// The prices at which a position's leverage reaches the edges of its rebalance band, for a price
// move alone (size and margin fixed; funding and fees left out). Pure bigint arithmetic.
//
// A position of signed size s with equity E at price P has, at price P',
//   equity E + s (P' - P) and leverage L(P') = |s| P' / (E + s (P' - P)).
// Solving L(P') = L gives P' = L (E - s P) / (|s| - L s):
//   long  (s > 0): P' = L (s P - E) / (s (L - 1))
//   short (s < 0): P' = L (|s| P + E) / (|s| (L + 1))
// For a fresh 3x long with band [2x, 4x]: 4x at -11.1%, 2x at +33.3%; a 3x short: 4x at +6.7%,
// 2x at -11.1%.
//
// Units: size 18 decimals (signed), equity USDT 6 decimals, price 8 decimals, leverage WAD.

const WAD = 10n ** 18n;
/** size (1e18) x price (1e8) = 1e26; equity is 1e6: scale equity by 1e20 to compare. */
const EQUITY_TO_NOTIONAL = 10n ** 20n;

export interface PositionState {
  size: bigint;
  equity: bigint;
  price: bigint;
}

export interface BandEdges {
  minLeverage: bigint;
  maxLeverage: bigint;
  ripcordLeverage?: bigint;
}

/** Prices (8 decimals) at which leverage reaches each edge; null where no price does. */
export interface RebalanceTriggers {
  atMaxLeverage: bigint | null;
  atMinLeverage: bigint | null;
  atRipcord: bigint | null;
}

/**
 * The price at which the position's leverage equals `leverage`, rounded down, or null when no
 * positive price does (no position, no equity, or a long asked for leverage of 1x or less).
 */
export function priceAtLeverageDown(p: PositionState, leverage: bigint): bigint | null {
  if (p.size === 0n || p.equity <= 0n || leverage <= 0n) return null;
  const abs = p.size < 0n ? -p.size : p.size;
  const notional = abs * p.price; // 1e26
  const equity = p.equity * EQUITY_TO_NOTIONAL; // 1e26
  let numerator: bigint;
  let denominator: bigint;
  if (p.size > 0n) {
    if (leverage <= WAD || notional <= equity) return null;
    numerator = leverage * (notional - equity);
    denominator = abs * (leverage - WAD);
  } else {
    numerator = leverage * (notional + equity);
    denominator = abs * (leverage + WAD);
  }
  const price = numerator / denominator;
  return price > 0n ? price : null;
}

/**
 * Leverage (WAD, rounded down) the position would have at `newPrice`, or null once its equity
 * there is zero or less.
 */
export function leverageAtPriceDown(p: PositionState, newPrice: bigint): bigint | null {
  if (p.size === 0n) return 0n;
  const abs = p.size < 0n ? -p.size : p.size;
  const equity = p.equity * EQUITY_TO_NOTIONAL + p.size * (newPrice - p.price); // 1e26
  if (equity <= 0n) return null;
  return (abs * newPrice * WAD) / equity;
}

/** Where the next band rebalance (and the ripcord) would trigger on a price move alone. */
export function nextRebalanceTriggers(p: PositionState, band: BandEdges): RebalanceTriggers {
  return {
    atMaxLeverage: priceAtLeverageDown(p, band.maxLeverage),
    atMinLeverage: priceAtLeverageDown(p, band.minLeverage),
    atRipcord: band.ripcordLeverage === undefined ? null : priceAtLeverageDown(p, band.ripcordLeverage),
  };
}
