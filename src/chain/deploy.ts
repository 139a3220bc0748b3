// Deploys the whole system with ethers (tests, benchmarks, the demo). Ignition modules in deploy/
// do the same for real networks.
import { keccak256 } from "ethers";
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type {
  LeveragedToken,
  LeveragedTokenFactory,
  MockPerpVault,
  MockPriceFeed,
  MockUSDT,
} from "../../types/ethers-contracts/index.js";
import {
  EXCHANGE,
  MARKETS,
  STANDARD_TOKENS,
  tokenConfig,
  type MarketName,
  type TokenParams,
} from "./params.ts";

export interface System {
  usdt: MockUSDT;
  vault: MockPerpVault;
  feeds: Record<MarketName, MockPriceFeed>;
  factory: LeveragedTokenFactory;
  tokens: Record<string, LeveragedToken>;
  tokenCreationCode: string;
}

export interface DeployOptions {
  tokens?: TokenParams[];
  treasury?: string;
  keeper?: string;
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
  const factory = (await ethers.deployContract("LeveragedTokenFactory", [
    await vault.getAddress(),
    keccak256(tokenCreationCode),
    admin.address,
  ])) as unknown as LeveragedTokenFactory;

  const system: System = { usdt, vault, feeds, factory, tokens: {}, tokenCreationCode };
  for (const p of options.tokens ?? STANDARD_TOKENS) {
    system.tokens[p.symbol] = await createToken(ethers, system, p, options);
  }
  return system;
}

export async function createToken(
  ethers: HardhatEthers,
  system: Pick<System, "vault" | "factory" | "tokenCreationCode">,
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
  await (await system.factory.createToken(config, system.tokenCreationCode)).wait();
  const address = await system.factory.tokenBySymbol(p.symbol);
  return (await ethers.getContractAt("LeveragedToken", address)) as unknown as LeveragedToken;
}
