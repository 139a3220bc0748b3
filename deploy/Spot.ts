// The spot market's part of the Ignition module (called from deploy/System.ts): Uniswap V2 from the
// published artifacts (WETH9, UniswapV2Factory with the deployer as fee-to setter, UniswapV2Router02)
// and one token/USDT pair per token, seeded at NAV: the deployer mints SPOT.seedTokens at NAV with
// test USDT and adds them with as many USDT (a new token's NAV is 1 USDT), amounts from
// src/common/params.ts. A token with a desk is minted the only way it can be, through its desk: the
// deployer requests a deposit of SEED_MAX_COST, the feed publishes a new price round (the same price),
// the deployer fills as the token's keeper (KEEPER_ROLE for the fill only, then given back to the
// keeper) and claims every share; the pool takes SPOT.seedTokens of them and the deployer keeps the
// rest (the fees and trading cost take about 0.35%, so SEED_MAX_COST buys about 100,650 tokens).
import type { IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import type {
  AccountRuntimeValue,
  ContractCallFuture,
  ModuleParameterRuntimeValue,
  ContractAtFuture,
  NamedArtifactContractAtFuture,
  NamedArtifactContractDeploymentFuture,
} from "@nomicfoundation/ignition-core";
import { SPOT, USDT, WAD } from "../src/common/params.ts";
import { NO_DEADLINE, UNISWAP_ARTIFACTS } from "../src/spot/uniswap.ts";

/** The USDT side of each pool: SPOT.seedTokens at a new token's NAV of 1 USDT. */
export const SEED_USDT = (SPOT.seedTokens * USDT) / WAD;
/** The most USDT the deployer's seed mint may cost (fees and trading cost included). */
export const SEED_MAX_COST = (SEED_USDT * 101n) / 100n;

export interface SpotInputs {
  admin: AccountRuntimeValue;
  /** The tokens' keeper (KEEPER_ROLE), given the role back after the seed fills. */
  keeper: ModuleParameterRuntimeValue<string>;
  keeperRole: string;
  usdt: NamedArtifactContractDeploymentFuture<"MockUSDT">;
  tokens: Record<string, NamedArtifactContractAtFuture<"LeveragedToken">>;
  /** Each token's desk: a ForwardDesk (the seed is a request, filled at a new price round), or in the
   * attack test's comparison system the test-only InstantDesk (the seed is one deposit through it). */
  desks:
    | { kind: "forward"; of: Record<string, NamedArtifactContractAtFuture<"ForwardDesk">> }
    | { kind: "instant"; of: Record<string, NamedArtifactContractAtFuture<"InstantDesk">> };
  feeds: Record<string, NamedArtifactContractDeploymentFuture<"MockPriceFeed">>;
  /** symbol -> the token's market. */
  marketOf: Record<string, string>;
  /** market -> its feed's first price (8 decimals): the seed's price round publishes it again. */
  prices: Record<string, bigint>;
}

export function addSpot(m: IgnitionModuleBuilder, inputs: SpotInputs) {
  const { admin, keeper, keeperRole, usdt, tokens, desks, feeds, prices } = inputs;
  const marketOf = (symbol: string): string => {
    const market = inputs.marketOf[symbol];
    if (market === undefined) throw new Error(`no market for ${symbol}`);
    return market;
  };
  const weth = m.contract("WETH9", UNISWAP_ARTIFACTS.weth, []);
  const factory = m.contract("UniswapV2Factory", UNISWAP_ARTIFACTS.factory, [admin]);
  const router = m.contract("UniswapV2Router02", UNISWAP_ARTIFACTS.router, [factory, weth]);
  // one USDT allowance for every pool's seed (per-pool approvals would overwrite one another)
  const usdtApproved = m.call(usdt, "approve", [router, SEED_USDT * BigInt(Object.keys(tokens).length)], {
    id: "approvePoolUsdt",
  });

  // the seed's mint through the desk: a request, a new price round, the fill and the claim (or one
  // deposit through an InstantDesk)
  const minted: Record<string, ContractCallFuture<string, string>> = {};
  const requests: Record<string, ContractCallFuture<string, string>[]> = {};
  for (const symbol of Object.keys(tokens)) {
    const funded = m.call(usdt, "mint", [admin, SEED_MAX_COST + SEED_USDT], { id: `mintSeed${symbol}` });
    if (desks.kind === "instant") {
      const instant = desks.of[symbol]!;
      const approved = m.call(usdt, "approve", [instant, SEED_MAX_COST], { id: `approveSeed${symbol}` });
      minted[symbol] = m.call(instant, "deposit", [SEED_MAX_COST, admin], {
        id: `seedMint${symbol}`,
        after: [funded, approved],
      });
      continue;
    }
    const desk = desks.of[symbol]!;
    const approved = m.call(usdt, "approve", [desk, SEED_MAX_COST], { id: `approveSeed${symbol}` });
    const requested = m.call(desk, "requestDeposit", [SEED_MAX_COST, admin, admin], {
      id: `seedRequest${symbol}`,
      after: [funded, approved],
    });
    (requests[marketOf(symbol)] ??= []).push(requested);
  }
  if (desks.kind === "forward") {
    // a new price round after every seed request of the market: the fill prices at it
    const rounds: Record<string, ContractCallFuture<string, string>> = {};
    for (const [market, placed] of Object.entries(requests)) {
      const feed = feeds[market];
      const price = prices[market];
      if (feed === undefined || price === undefined) throw new Error(`no ${market} feed to seed with`);
      rounds[market] = m.call(feed, "updateAnswer", [price], {
        id: `seedRound${market}`,
        after: placed,
      });
    }
    for (const [symbol, desk] of Object.entries(desks.of)) {
      const token = tokens[symbol]!;
      const role = m.call(token, "grantRole", [keeperRole, admin], { id: `seedFillRole${symbol}` });
      const filled = m.call(desk, "fill", [], {
        id: `seedFill${symbol}`,
        after: [role, rounds[marketOf(symbol)]!],
      });
      const revoked = m.call(token, "revokeRole", [keeperRole, admin], {
        id: `seedFillRoleRevoke${symbol}`,
        after: [filled],
      });
      // the keeper keeps (or gets back, when it is the deployer) its role
      m.call(token, "grantRole", [keeperRole, keeper], { id: `seedKeeperRole${symbol}`, after: [revoked] });
      minted[symbol] = m.call(desk, "deposit(uint256,address,address)", [SEED_MAX_COST, admin, admin], {
        id: `seedClaim${symbol}`,
        after: [filled],
      });
    }
  }

  const pools: Record<string, ContractAtFuture<typeof UNISWAP_ARTIFACTS.pair.abi>> = {};
  for (const [symbol, token] of Object.entries(tokens)) {
    const created = m.call(factory, "createPair", [token, usdt], { id: `createPair${symbol}` });
    const pair = m.readEventArgument(created, "PairCreated", "pair", { id: `pair${symbol}` });
    pools[symbol] = m.contractAt("UniswapV2Pair", UNISWAP_ARTIFACTS.pair, pair, { id: `Pool${symbol}` });
    const tokenApproved = m.call(token, "approve", [router, SPOT.seedTokens], {
      id: `approvePoolToken${symbol}`,
    });
    m.call(
      router,
      "addLiquidity",
      [token, usdt, SPOT.seedTokens, SEED_USDT, SPOT.seedTokens, SEED_USDT, admin, NO_DEADLINE],
      { id: `seedPool${symbol}`, after: [minted[symbol]!, tokenApproved, usdtApproved, created] },
    );
  }
  return { weth, uniswapFactory: factory, router, pools };
}
