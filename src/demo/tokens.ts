// The demo's tokens as the chain lists them: every token `factory.allTokens()` holds (oldest first),
// by the symbol it reports, with its parameters read from the token itself, so a token created after
// the first four is replayed, checked and shown like them.
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { ZeroAddress } from "ethers";
import { listFactoryTokens } from "../chain/factoryTokens.ts";
import { readTokenParameters } from "../chain/tokenParameters.ts";
import type { System } from "../chain/deploy.ts";
import { MARKETS, type MarketName, type TokenParams } from "../common/params.ts";
import type { ForwardDesk, LeveragedToken } from "../../types/ethers-contracts/index.js";
import { DEMO_MARKETS } from "./path.ts";

/** The market whose id is `id`, among those the demo has prices for (a sentence otherwise). */
export function demoMarketOf(id: string, symbol: string): MarketName {
  const m = DEMO_MARKETS.find((x) => MARKETS[x].id === id);
  if (m === undefined)
    throw new Error(
      `${symbol} trades a market the demo has no prices for (${id}); the demo replays ${DEMO_MARKETS.join(" and ")}`,
    );
  return m;
}

/** A token's parameters as its contract holds them (src/chain/tokenParameters.ts), its market by
 * the demo's name for it. */
export async function readTokenParams(token: LeveragedToken): Promise<TokenParams> {
  const p = await readTokenParameters(token);
  return { ...p, market: demoMarketOf(p.market, p.symbol) };
}

/**
 * The system with its tokens and desks as the factory lists them (not as the deploy made them),
 * and each token's parameters read from the chain, in the factory's order.
 */
export async function factoryTokens(
  ethers: HardhatEthers,
  sys: System,
): Promise<{ sys: System; params: TokenParams[] }> {
  const [runner] = await ethers.getSigners();
  if (runner === undefined) throw new Error("the network has no account to read the factory with");
  const listed = await listFactoryTokens(await sys.factory.getAddress(), runner);
  const tokens: Record<string, LeveragedToken> = {};
  const desks: Record<string, ForwardDesk> = {};
  for (const [symbol, address] of Object.entries(listed)) {
    const token = (await ethers.getContractAt("LeveragedToken", address)) as unknown as LeveragedToken;
    tokens[symbol] = token;
    const desk = await token.desk();
    if (desk === ZeroAddress)
      throw new Error(`${symbol} has no ForwardDesk: the demo mints and redeems through the desks`);
    desks[symbol] = (await ethers.getContractAt("ForwardDesk", desk)) as unknown as ForwardDesk;
  }
  const params = await Promise.all(Object.values(tokens).map(readTokenParams));
  return { sys: { ...sys, tokens, desks }, params };
}
