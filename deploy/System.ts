// Hardhat Ignition module for the whole system: test USDT, one price feed per market, the perpetual
// exchange with a funded LP pool, the token factory and the tokens, each with its ForwardDesk
// (forward pricing: `createTokenWithDesk`, rules DESK), and the spot market (deploy/Spot.ts: Uniswap
// V2 and one token/USDT pool per token, seeded through the desks). The markets and tokens are a
// DeploySpec (src/chain/deploySpec.ts): by default BTC and ETH and the standard four (BTC3L, BTC3S,
// ETH3L, ETH3S), module id "System"; another list (`systemModule(spec)`, e.g. BTC3L, ETH5S and SOL2L
// on a SOL market) is a module of its own, "System_<tag>", so its journal never mixes with the
// default's. Every other number comes from src/common/params.ts; only the keeper and the treasury
// (addresses) are module parameters. Deploy with `npm run deploy -- --network <name>`
// (scripts/deploy.ts). `SystemInstant` is the same system with the test-only InstantDesk in place of
// each ForwardDesk (the primary market before forward pricing): only the attack test deploys it, to
// show what an attacker who knows the next price earns there.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type {
  NamedArtifactContractAtFuture,
  NamedArtifactContractDeploymentFuture,
} from "@nomicfoundation/ignition-core";
import { id, keccak256 } from "ethers";
import { DESK, EXCHANGE, tokenConfigOn } from "../src/common/params.ts";
import {
  DEFAULT_SPEC,
  isDefaultSpec,
  specTag,
  type DeploySpec,
  type DeployToken,
} from "../src/chain/deploySpec.ts";
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

/** The test-only InstantDesk's creation code (contracts/mocks). */
function instantDeskCreationCode(): string {
  return artifactBytecode("contracts/mocks/InstantDesk.sol/InstantDesk.json", "InstantDesk");
}

/** The module ids: the system with ForwardDesks, and the attack test's with InstantDesks. */
export const SYSTEM_MODULE_ID = "System";
export const INSTANT_SYSTEM_MODULE_ID = "SystemInstant";

const KEEPER_ROLE = id("KEEPER_ROLE");

/** The Ignition module id of `spec`'s system: "System" (or "SystemInstant") for the default four. */
export function systemModuleId(desks: boolean, spec: DeploySpec = DEFAULT_SPEC): string {
  const base = desks ? SYSTEM_MODULE_ID : INSTANT_SYSTEM_MODULE_ID;
  return isDefaultSpec(spec) ? base : `${base}_${specTag(spec)}`;
}

function buildSystem(desks: boolean, spec: DeploySpec = DEFAULT_SPEC) {
  return buildModule(systemModuleId(desks, spec), (m) => {
    const admin = m.getAccount(0);
    const keeper = m.getParameter<string>("keeper");
    const treasury = m.getParameter<string>("treasury");

    const usdt = m.contract("MockUSDT", [admin]);
    const vault = m.contract("MockPerpVault", [usdt, admin]);

    const feeds: Record<string, NamedArtifactContractDeploymentFuture<"MockPriceFeed">> = {};
    const markets = [];
    for (const p of spec.markets) {
      const feed = m.contract("MockPriceFeed", [p.description, p.initialPrice, admin], {
        id: `Feed${p.name}`,
      });
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
    const deskCode = desks ? deskCreationCode() : instantDeskCreationCode();
    const factory = m.contract("LeveragedTokenFactory", [vault, keccak256(code), keccak256(deskCode), admin]);

    const tokens: Record<string, NamedArtifactContractAtFuture<"LeveragedToken">> = {};
    const deskOf: Record<string, NamedArtifactContractAtFuture<"ForwardDesk">> = {};
    const instantOf: Record<string, NamedArtifactContractAtFuture<"InstantDesk">> = {};
    for (const p of spec.tokens) {
      const marketId = spec.markets.find((x) => x.name === p.market)?.id;
      if (marketId === undefined) throw new Error(`${p.symbol}: the deployment lists no ${p.market} market`);
      const config = tokenConfigOn(p, marketId, vault, { treasury, admin, keeper });
      const created = m.call(
        factory,
        "createTokenWithDesk",
        [config, code, deskCode, DESK.fillDelay, DESK.fillBounty],
        { id: `create${p.symbol}`, after: markets },
      );
      const address = m.readEventArgument(created, "TokenCreated", "token", { id: `address${p.symbol}` });
      tokens[p.symbol] = m.contractAt("LeveragedToken", address, { id: p.symbol });
      const desk = m.readEventArgument(created, "DeskCreated", "desk", { id: `deskAddress${p.symbol}` });
      if (desks) deskOf[p.symbol] = m.contractAt("ForwardDesk", desk, { id: `Desk${p.symbol}` });
      else instantOf[p.symbol] = m.contractAt("InstantDesk", desk, { id: `InstantDesk${p.symbol}` });
    }

    const spot = addSpot(m, {
      admin,
      keeper,
      keeperRole: KEEPER_ROLE,
      usdt,
      tokens,
      desks: desks ? { kind: "forward", of: deskOf } : { kind: "instant", of: instantOf },
      feeds,
      marketOf: Object.fromEntries(spec.tokens.map((t) => [t.symbol, t.market])),
      prices: Object.fromEntries(spec.markets.map((x) => [x.name, x.initialPrice])),
    });
    const pools = Object.fromEntries(
      Object.entries(spot.pools).map(([symbol, pool]) => [`Pool${symbol}`, pool]),
    );
    const deskFutures = Object.fromEntries(
      Object.entries(deskOf).map(([symbol, desk]) => [`Desk${symbol}`, desk]),
    );
    const feedFutures = Object.fromEntries(
      Object.entries(feeds).map(([market, feed]) => [`Feed${market}`, feed]),
    );

    return {
      usdt,
      vault,
      factory,
      ...feedFutures,
      ...tokens,
      ...deskFutures,
      WETH9: spot.weth,
      UniswapV2Factory: spot.uniswapFactory,
      UniswapV2Router02: spot.router,
      ...pools,
    };
  });
}

/** The system with every standard token made with its ForwardDesk (the default deployment). */
export const SystemModule = buildSystem(true);
/** The same system with InstantDesks (test only: the attack test's comparison). */
export const InstantSystemModule = buildSystem(false);

/** The module for `spec` (the default modules for the default spec). */
export function systemModule(desks: boolean, spec: DeploySpec) {
  if (isDefaultSpec(spec)) return desks ? SystemModule : InstantSystemModule;
  return buildSystem(desks, spec);
}

export default SystemModule;
