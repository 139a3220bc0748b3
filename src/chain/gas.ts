// Gas limits every program sends with: an estimate plus the margin the contracts' paths need.

/** Gas limit from an estimate: estimate + 20%, rounded up. */
export function gasLimitFrom(estimate: bigint): bigint {
  return (estimate * 12n + 9n) / 10n;
}

/**
 * The most a mint or a redeem can cost beyond its estimate when the block it lands in differs from
 * the one it was estimated in: a price pushed in between (or a second of funding and fees) can take
 * the token past the ripcord, and then the call rebalances first, a second trade on the exchange.
 * Measured (test/chain/gasLimit.ts): a mint or a redeem of BTC3L/BTC3S estimated at 4.3x in the last
 * block's second used 23,500 to 24,800 gas (23-24%) more than its estimate one second later past the
 * ripcord, about 19,000 for the rebalance and 5,000 for the new second's fee accrual; a whole
 * rebalance transaction, the intrinsic 21,000 included, costs 77,825. This bounds the path with a
 * standalone rebalance's cost and room to spare.
 */
export const RIPCORD_REBALANCE_GAS = 100_000n;

/**
 * Gas limit for a mint or a redeem (deposit, mint, redeem, withdraw): estimate + 20% (the management
 * fee and funding of a new second) + RIPCORD_REBALANCE_GAS (the ripcord's rebalance-first path), so
 * it never runs out of gas in the block it lands in. Only the gas used is paid.
 */
export function mintRedeemGasLimit(estimate: bigint): bigint {
  return gasLimitFrom(estimate) + RIPCORD_REBALANCE_GAS;
}

/**
 * What a ForwardDesk request (requestDeposit, requestRedeem) can cost beyond its estimate when a new
 * price round starts between the estimate and the block it lands in: it then opens the round's epoch
 * instead of joining it. Measured on the in-process network: 94,318 gas joining an epoch, 136,635 to
 * 151,545 opening one (a controller's first request the most).
 */
export const NEW_EPOCH_GAS = 60_000n;

/** Gas limit for a desk request: estimate + 20% + NEW_EPOCH_GAS. Only the gas used is paid. */
export function deskRequestGasLimit(estimate: bigint): bigint {
  return gasLimitFrom(estimate) + NEW_EPOCH_GAS;
}
