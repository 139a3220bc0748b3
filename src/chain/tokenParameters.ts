// A token's parameters as its contract holds them: what `lt info` shows and what the demo replays
// a token with (the market as the token's bytes32 id; each reader maps it to its own name).
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import type { RebalanceRules, TokenParams } from "../common/params.ts";

/** TokenParams as read from the chain: the market is the token's id (bytes32), not a name. */
export interface ChainTokenParams extends Omit<TokenParams, "market"> {
  market: string;
}

/** The token's immutable leverage rules, which say when a rebalance is due (and a mint or a redeem
 * runs it first). */
export async function readRebalanceRules(token: LeveragedToken): Promise<RebalanceRules> {
  const [isLong, targetLeverage, minLeverage, maxLeverage, ripcordLeverage, rebalanceEpsilon] =
    await Promise.all([
      token.isLong(),
      token.targetLeverage(),
      token.minLeverage(),
      token.maxLeverage(),
      token.ripcordLeverage(),
      token.rebalanceEpsilon(),
    ]);
  return { isLong, targetLeverage, minLeverage, maxLeverage, ripcordLeverage, rebalanceEpsilon };
}

/** Reads a token's parameters (symbol, name, market id, side, leverages, fees, supply cap). */
export async function readTokenParameters(token: LeveragedToken): Promise<ChainTokenParams> {
  const [symbol, name, market, rules, fees, supplyCap] = await Promise.all([
    token.symbol(),
    token.name(),
    token.market(),
    readRebalanceRules(token),
    token.fees(),
    token.supplyCap(),
  ]);
  return {
    symbol,
    name,
    market,
    ...rules,
    mintFee: fees.mintFee,
    redeemFee: fees.redeemFee,
    managementFee: fees.managementFee,
    rebalanceBounty: fees.rebalanceBounty,
    supplyCap,
  };
}
