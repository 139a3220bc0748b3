// A token's parameters as its contract holds them: what `lt info` shows and what the demo replays
// a token with (the market as the token's bytes32 id; each reader maps it to its own name).
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import type { TokenParams } from "../common/params.ts";

/** TokenParams as read from the chain: the market is the token's id (bytes32), not a name. */
export interface ChainTokenParams extends Omit<TokenParams, "market"> {
  market: string;
}

/** Reads a token's parameters (symbol, name, market id, side, leverages, fees, supply cap). */
export async function readTokenParameters(token: LeveragedToken): Promise<ChainTokenParams> {
  const [symbol, name, market, isLong, target, min, max, ripcord, epsilon, fees, supplyCap] =
    await Promise.all([
      token.symbol(),
      token.name(),
      token.market(),
      token.isLong(),
      token.targetLeverage(),
      token.minLeverage(),
      token.maxLeverage(),
      token.ripcordLeverage(),
      token.rebalanceEpsilon(),
      token.fees(),
      token.supplyCap(),
    ]);
  return {
    symbol,
    name,
    market,
    isLong,
    targetLeverage: target,
    minLeverage: min,
    maxLeverage: max,
    ripcordLeverage: ripcord,
    rebalanceEpsilon: epsilon,
    mintFee: fees.mintFee,
    redeemFee: fees.redeemFee,
    managementFee: fees.managementFee,
    rebalanceBounty: fees.rebalanceBounty,
    supplyCap,
  };
}
