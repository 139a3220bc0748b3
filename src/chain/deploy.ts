// Deploys the whole system with ethers (tests, benchmarks, the demo). Ignition modules in deploy/
// do the same for real networks.
import { keccak256 } from "ethers";
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type {
  ForwardDesk,
  InstantDesk,
  LeveragedToken,
  LeveragedTokenFactory,
  MockPerpVault,
  MockPriceFeed,
  MockUSDT,
} from "../../types/ethers-contracts/index.js";
import {
  DESK,
  EXCHANGE,
  MARKETS,
  STANDARD_TOKENS,
  tokenConfig,
  type MarketName,
  type TokenParams,
} from "../common/params.ts";
import type { DeploymentRoles, MarketDeployment, SystemDeployment } from "../engine/system.ts";

export interface System {
  usdt: MockUSDT;
  vault: MockPerpVault;
  feeds: Record<MarketName, MockPriceFeed>;
  factory: LeveragedTokenFactory;
  tokens: Record<string, LeveragedToken>;
  /** Each token's ForwardDesk (empty with `desk: "instant"`). */
  desks: Record<string, ForwardDesk>;
  /** Each token's InstantDesk (only with `desk: "instant"`). */
  instantDesks: Record<string, InstantDesk>;
  tokenCreationCode: string;
  deskCreationCode: string;
}

/** The desk every token gets: "forward", the ForwardDesk (requests filled at the next price round);
 * "instant", the test-only InstantDesk (contracts/mocks), which passes each deposit and redeem
 * straight to the token at the stored price, for the token's unit tests and the attack comparison. */
export type DeskKind = "forward" | "instant";

export interface DeployOptions {
  tokens?: TokenParams[];
  treasury?: string;
  keeper?: string;
  /** Default "forward". */
  desk?: DeskKind;
}

export async function deploySystem(ethers: HardhatEthers, options: DeployOptions = {}): Promise<System> {
  const [admin] = await ethers.getSigners();
  if (!admin) throw new Error("no signer available to deploy with");
  const usdt = (await ethers.deployContract("MockUSDT", [admin.address])) as unknown as MockUSDT;
  const vault = (await ethers.deployContract("MockPerpVault", [
    await usdt.getAddress(),
    admin.address,
  ])) as unknown as MockPerpVault;
  const feeds = {} as Record<MarketName, MockPriceFeed>;
  for (const m of Object.values(MARKETS)) {
    feeds[m.name] = (await ethers.deployContract("MockPriceFeed", [
      m.description,
      m.initialPrice,
      admin.address,
    ])) as unknown as MockPriceFeed;
    // the feed pushes every answer to the exchange, which lists only a market whose feed does
    await feeds[m.name].setListener(await vault.getAddress(), m.id);
    await vault.addMarket(m.id, await feeds[m.name].getAddress(), m.heartbeat, m.fundingRate, m.priceImpact);
  }
  await usdt.mint(admin.address, EXCHANGE.poolLiquidity);
  await usdt.approve(await vault.getAddress(), EXCHANGE.poolLiquidity);
  await vault.addLiquidity(EXCHANGE.poolLiquidity);

  const tokenArtifact = await ethers.getContractFactory("LeveragedToken");
  const tokenCreationCode = tokenArtifact.bytecode;
  const deskCreationCode = (
    await ethers.getContractFactory(options.desk === "instant" ? "InstantDesk" : "ForwardDesk")
  ).bytecode;
  const factory = (await ethers.deployContract("LeveragedTokenFactory", [
    await vault.getAddress(),
    keccak256(tokenCreationCode),
    keccak256(deskCreationCode),
    admin.address,
  ])) as unknown as LeveragedTokenFactory;

  const system: System = {
    usdt,
    vault,
    feeds,
    factory,
    tokens: {},
    desks: {},
    instantDesks: {},
    tokenCreationCode,
    deskCreationCode,
  };
  for (const p of options.tokens ?? STANDARD_TOKENS) {
    system.tokens[p.symbol] = await createToken(ethers, system, p, options);
    const desk = await system.factory.deskOf(await system.tokens[p.symbol]!.getAddress());
    if (options.desk === "instant") {
      system.instantDesks[p.symbol] = (await ethers.getContractAt(
        "InstantDesk",
        desk,
      )) as unknown as InstantDesk;
    } else {
      system.desks[p.symbol] = (await ethers.getContractAt("ForwardDesk", desk)) as unknown as ForwardDesk;
    }
  }
  return system;
}

export async function createToken(
  ethers: HardhatEthers,
  system: Pick<System, "vault" | "factory" | "tokenCreationCode" | "deskCreationCode">,
  p: TokenParams,
  options: DeployOptions = {},
): Promise<LeveragedToken> {
  const [admin] = await ethers.getSigners();
  if (!admin) throw new Error("no signer available to deploy with");
  const config = tokenConfig(p, await system.vault.getAddress(), {
    treasury: options.treasury ?? admin.address,
    admin: admin.address,
    keeper: options.keeper ?? admin.address,
  });
  const { factory, tokenCreationCode, deskCreationCode } = system;
  await (
    await factory.createTokenWithDesk(
      config,
      tokenCreationCode,
      deskCreationCode,
      DESK.fillDelay,
      DESK.fillBounty,
    )
  ).wait();
  const address = await system.factory.tokenBySymbol(p.symbol);
  return (await ethers.getContractAt("LeveragedToken", address)) as unknown as LeveragedToken;
}

/**
 * The SystemDeployment of a system deployed with deploySystem (every market, the pool's liquidity,
 * and `tokens`, which must be the ones deployed): its addresses, and the block times read from chain
 * (each feed's first answer, each market's addMarket, each token's deployment).
 */
export async function readDeployment(
  sys: System,
  tokens: readonly TokenParams[],
  roles: DeploymentRoles,
): Promise<SystemDeployment> {
  const markets: MarketDeployment[] = [];
  for (const m of Object.values(MARKETS)) {
    const feed = sys.feeds[m.name];
    const round = await feed.latestRoundData();
    const [added] = await sys.vault.queryFilter(sys.vault.filters.MarketAdded(m.id));
    if (added === undefined) throw new Error(`market ${m.name} was never added to the exchange`);
    markets.push({
      params: m,
      feed: await feed.getAddress(),
      feedTime: round[3],
      addedAt: BigInt((await added.getBlock()).timestamp),
    });
  }
  return {
    usdt: await sys.usdt.getAddress(),
    vault: await sys.vault.getAddress(),
    admin: roles.admin,
    markets,
    poolLiquidity: EXCHANGE.poolLiquidity,
    tokens: await Promise.all(
      tokens.map(async (p) => {
        const token = sys.tokens[p.symbol];
        if (token === undefined) throw new Error(`token ${p.symbol} is not part of this deployment`);
        return {
          params: p,
          address: await token.getAddress(),
          desk: await sys.factory.deskOf(await token.getAddress()),
          deployTime: (await token.status()).lastFeeAccrual,
          treasury: roles.treasury,
          admin: roles.admin,
          keeper: roles.keeper,
        };
      }),
    ),
  };
}
