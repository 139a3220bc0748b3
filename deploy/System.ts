// Hardhat Ignition module for the whole system: test USDT, one price feed per market, the perpetual
// exchange with a funded LP pool, the token factory and the standard tokens (BTC3L, BTC3S, ETH3L,
// ETH3S), and the spot market (deploy/Spot.ts: Uniswap V2 and one token/USDT pool per token). Every number comes from src/chain/params.ts; only the keeper and the treasury (addresses)
// are module parameters. Deploy with `npm run deploy -- --network <name>` (scripts/deploy.ts).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type {
  NamedArtifactContractAtFuture,
  NamedArtifactContractDeploymentFuture,
} from "@nomicfoundation/ignition-core";
import { keccak256 } from "ethers";
import { EXCHANGE, MARKETS, STANDARD_TOKENS, tokenConfig } from "../src/chain/params.ts";
import { addSpot } from "./Spot.ts";

/**
 * LeveragedToken's creation code from the compiled artifact (in LT_ARTIFACTS_DIR when set, as in
 * hardhat.config.ts); the factory is fixed to its hash.
 */
export function tokenCreationCode(): string {
  return artifactBytecode("contracts/LeveragedToken.sol/LeveragedToken.json", "LeveragedToken");
}

function artifactBytecode(relative: string, name: string): string {
  const dir = process.env.LT_ARTIFACTS_DIR;
  const url =
    dir === undefined
      ? new URL(`../artifacts/${relative}`, import.meta.url)
      : pathToFileURL(resolve(dir, relative));
  let artifact: { bytecode?: unknown };
  try {
    artifact = JSON.parse(readFileSync(url, "utf8")) as { bytecode?: unknown };
  } catch {
    throw new Error(`${name} artifact not found at ${url.pathname}; run: npm run build`);
  }
  if (typeof artifact.bytecode !== "string" || artifact.bytecode.length < 4) {
    throw new Error(`${name} artifact at ${url.pathname} has no bytecode; run: npm run build`);
  }
  return artifact.bytecode;
}

/** ForwardDesk's creation code, read as `tokenCreationCode` reads the token's. */
export function deskCreationCode(): string {
  return artifactBytecode("contracts/ForwardDesk.sol/ForwardDesk.json", "ForwardDesk");
}

export default buildModule("System", (m) => {
  const admin = m.getAccount(0);
  const keeper = m.getParameter<string>("keeper");
  const treasury = m.getParameter<string>("treasury");

  const usdt = m.contract("MockUSDT", [admin]);
  const vault = m.contract("MockPerpVault", [usdt, admin]);

  const feeds = {} as Record<keyof typeof MARKETS, NamedArtifactContractDeploymentFuture<"MockPriceFeed">>;
  const markets = [];
  for (const p of Object.values(MARKETS)) {
    const feed = m.contract("MockPriceFeed", [p.description, p.initialPrice, admin], { id: `Feed${p.name}` });
    feeds[p.name] = feed;
    // the feed pushes every answer to the exchange, which lists only a market whose feed does
    const listen = m.call(feed, "setListener", [vault, p.id], { id: `listen${p.name}` });
    markets.push(
      m.call(vault, "addMarket", [p.id, feed, p.heartbeat, p.fundingRate, p.priceImpact], {
        id: `addMarket${p.name}`,
        after: [listen],
      }),
    );
  }

  const poolMint = m.call(usdt, "mint", [admin, EXCHANGE.poolLiquidity], { id: "mintPoolLiquidity" });
  const poolApprove = m.call(usdt, "approve", [vault, EXCHANGE.poolLiquidity], {
    id: "approvePoolLiquidity",
  });
  m.call(vault, "addLiquidity", [EXCHANGE.poolLiquidity], { after: [poolMint, poolApprove] });

  const code = tokenCreationCode();
  const factory = m.contract("LeveragedTokenFactory", [
    vault,
    keccak256(code),
    keccak256(deskCreationCode()),
    admin,
  ]);

  const tokens: Record<string, NamedArtifactContractAtFuture<"LeveragedToken">> = {};
  for (const p of STANDARD_TOKENS) {
    const config = tokenConfig(p, vault, { treasury, admin, keeper });
    const created = m.call(factory, "createToken", [config, code], {
      id: `create${p.symbol}`,
      after: markets,
    });
    const address = m.readEventArgument(created, "TokenCreated", "token", { id: `address${p.symbol}` });
    tokens[p.symbol] = m.contractAt("LeveragedToken", address, { id: p.symbol });
  }

  const spot = addSpot(m, admin, usdt, tokens);
  const pools = Object.fromEntries(
    Object.entries(spot.pools).map(([symbol, pool]) => [`Pool${symbol}`, pool]),
  );

  return {
    usdt,
    vault,
    factory,
    FeedBTC: feeds.BTC,
    FeedETH: feeds.ETH,
    ...tokens,
    WETH9: spot.weth,
    UniswapV2Factory: spot.uniswapFactory,
    UniswapV2Router02: spot.router,
    ...pools,
  };
});
