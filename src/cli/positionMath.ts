// A holder's position in one token from its history, as pure arithmetic: cost basis at average cost,
// realised profit and loss on every redeem (or settlement payout), unrealised at NAV, fees paid.
// Amounts: USDT 6 decimals, shares 18 decimals, NAV per token 18 decimals (trueNav.ts).

export type PositionEvent =
  /** A mint to the holder: `usdt` paid for `shares`; its fee and trading cost in USDT. */
  | { kind: "mint"; usdt: bigint; shares: bigint; fee: bigint; tradingCost: bigint }
  /** A redeem from the holder (or a settlement payout): `shares` given for `usdt`. */
  | { kind: "redeem"; usdt: bigint; shares: bigint; fee: bigint; tradingCost: bigint }
  /** Shares received (a transfer, a pool swap), valued at NAV per token when they arrived. */
  | { kind: "in"; shares: bigint; navPerToken: bigint }
  /** Shares sent away: they leave at average cost, realising nothing. */
  | { kind: "out"; shares: bigint };

export interface Position {
  shares: bigint;
  /** USDT paid for the shares held, at average cost. */
  costBasis: bigint;
  realised: bigint;
  unrealised: bigint;
  /** Mint and redeem fees and the trading cost of the holder's own mints and redeems. */
  feesPaid: bigint;
  paidIn: bigint;
  paidOut: bigint;
  /** Value of the shares held at NAV. */
  value: bigint;
}

const WAD = 10n ** 18n;

/** Folds the events (oldest first) into the position held now, valued at `navPerToken`. */
export function positionFrom(events: PositionEvent[], navPerToken: bigint): Position {
  let shares = 0n;
  let basis = 0n;
  let realised = 0n;
  let feesPaid = 0n;
  let paidIn = 0n;
  let paidOut = 0n;
  /** The basis of `part` of the shares held, at average cost (rounded down). */
  const basisOf = (part: bigint) => (shares === 0n ? 0n : (basis * part) / shares);
  for (const e of events) {
    switch (e.kind) {
      case "mint":
        shares += e.shares;
        basis += e.usdt;
        paidIn += e.usdt;
        feesPaid += e.fee + e.tradingCost;
        break;
      case "in":
        basis += (e.shares * e.navPerToken) / 10n ** 30n;
        shares += e.shares;
        break;
      case "redeem":
      case "out": {
        const part = e.shares > shares ? shares : e.shares;
        const leaving = basisOf(part);
        basis -= leaving;
        shares -= part;
        if (e.kind === "redeem") {
          realised += e.usdt - leaving;
          paidOut += e.usdt;
          feesPaid += e.fee + e.tradingCost;
        }
        break;
      }
    }
  }
  const value = (shares * navPerToken) / (WAD * 10n ** 12n);
  return { shares, costBasis: basis, realised, unrealised: value - basis, feesPaid, paidIn, paidOut, value };
}

/** A fee taken in `feeShares`, in USDT, at the price `usdt` / `shares` of the trade it came with. */
export function feeSharesInUsdt(feeShares: bigint, usdt: bigint, shares: bigint): bigint {
  return shares === 0n ? 0n : (feeShares * usdt) / shares;
}
