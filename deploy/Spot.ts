// The spot market's part of the Ignition module (called from deploy/System.ts): Uniswap V2 from the
// published artifacts (WETH9, UniswapV2Factory with the deployer as fee-to setter, UniswapV2Router02)
// and one token/USDT pair per token, seeded at NAV: the deployer mints SPOT.seedTokens at NAV with
// test USDT and adds them with as many USDT (a new token's NAV is 1 USDT), amounts from
// src/chain/params.ts.
import type { IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import type {
  AccountRuntimeValue,
  ContractAtFuture,
  NamedArtifactContractAtFuture,
  NamedArtifactContractDeploymentFuture,
} from "@nomicfoundation/ignition-core";
import { SPOT, USDT, WAD } from "../src/chain/params.ts";
import { NO_DEADLINE, UNISWAP_ARTIFACTS } from "../src/spot/uniswap.ts";

/** The USDT side of each pool: SPOT.seedTokens at a new token's NAV of 1 USDT. */
export const SEED_USDT = (SPOT.seedTokens * USDT) / WAD;
/** The most USDT the deployer's seed mint may cost (fees and trading cost included). */
export const SEED_MAX_COST = (SEED_USDT * 101n) / 100n;

export function addSpot(
  m: IgnitionModuleBuilder,
  admin: AccountRuntimeValue,
  usdt: NamedArtifactContractDeploymentFuture<"MockUSDT">,
  tokens: Record<string, NamedArtifactContractAtFuture<"LeveragedToken">>,
) {
  const weth = m.contract("WETH9", UNISWAP_ARTIFACTS.weth, []);
  const factory = m.contract("UniswapV2Factory", UNISWAP_ARTIFACTS.factory, [admin]);
  const router = m.contract("UniswapV2Router02", UNISWAP_ARTIFACTS.router, [factory, weth]);
  // one USDT allowance for every pool's seed (per-pool approvals would overwrite one another)
  const usdtApproved = m.call(usdt, "approve", [router, SEED_USDT * BigInt(Object.keys(tokens).length)], {
    id: "approvePoolUsdt",
  });
  const pools: Record<string, ContractAtFuture<typeof UNISWAP_ARTIFACTS.pair.abi>> = {};
  for (const [symbol, token] of Object.entries(tokens)) {
    const created = m.call(factory, "createPair", [token, usdt], { id: `createPair${symbol}` });
    const pair = m.readEventArgument(created, "PairCreated", "pair", { id: `pair${symbol}` });
    pools[symbol] = m.contractAt("UniswapV2Pair", UNISWAP_ARTIFACTS.pair, pair, { id: `Pool${symbol}` });

    const funded = m.call(usdt, "mint", [admin, SEED_MAX_COST + SEED_USDT], { id: `mintSeed${symbol}` });
    const approved = m.call(usdt, "approve", [token, SEED_MAX_COST], { id: `approveSeed${symbol}` });
    const minted = m.call(token, "mint(uint256,address,uint256)", [SPOT.seedTokens, admin, SEED_MAX_COST], {
      id: `seedMint${symbol}`,
      after: [funded, approved],
    });
    const tokenApproved = m.call(token, "approve", [router, SPOT.seedTokens], {
      id: `approvePoolToken${symbol}`,
    });
    m.call(
      router,
      "addLiquidity",
      [token, usdt, SPOT.seedTokens, SEED_USDT, SPOT.seedTokens, SEED_USDT, admin, NO_DEADLINE],
      { id: `seedPool${symbol}`, after: [minted, tokenApproved, usdtApproved, created] },
    );
  }
  return { weth, uniswapFactory: factory, router, pools };
}
