// Uniswap V2 from the compiled artifacts published in @uniswap/v2-core and @uniswap/v2-periphery
// (deployed as they are, never recompiled), typed wrappers for the few functions we call, and the
// ethers deploy helpers (tests, the demo); deploy/Spot.ts does the same with Ignition.
import { createRequire } from "node:module";
import {
  BaseContract,
  ContractFactory,
  type BaseContractMethod,
  type ContractRunner,
  type ContractTransactionResponse,
  type JsonFragment,
  type Signer,
} from "ethers";
import type { LeveragedToken, MockUSDT } from "../../types/ethers-contracts/index.js";
import { SPOT } from "../common/params.ts";

const require = createRequire(import.meta.url);

/** The fields of a published artifact we use, in the shape Ignition's m.contract accepts. */
export interface UniswapArtifact {
  _format: "hh-sol-artifact-1";
  contractName: string;
  sourceName: string;
  abi: JsonFragment[];
  bytecode: string;
  deployedBytecode: string;
  linkReferences: Record<string, never>;
  deployedLinkReferences: Record<string, never>;
}

function load(path: string, contractName: string): UniswapArtifact {
  const raw = require(path) as {
    abi: JsonFragment[];
    bytecode: string;
    evm: { deployedBytecode: { object: string } };
  };
  const hex = (s: string) => (s.startsWith("0x") ? s : `0x${s}`);
  return {
    _format: "hh-sol-artifact-1",
    contractName,
    sourceName: path,
    abi: raw.abi,
    bytecode: hex(raw.bytecode),
    deployedBytecode: hex(raw.evm.deployedBytecode.object),
    linkReferences: {},
    deployedLinkReferences: {},
  };
}

export const UNISWAP_ARTIFACTS = {
  factory: load("@uniswap/v2-core/build/UniswapV2Factory.json", "UniswapV2Factory"),
  pair: load("@uniswap/v2-core/build/UniswapV2Pair.json", "UniswapV2Pair"),
  router: load("@uniswap/v2-periphery/build/UniswapV2Router02.json", "UniswapV2Router02"),
  weth: load("@uniswap/v2-periphery/build/WETH9.json", "WETH9"),
};

type View<A extends unknown[], R> = BaseContractMethod<A, R, R>;
type Send<A extends unknown[], R = void> = BaseContractMethod<A, R, ContractTransactionResponse>;

export interface UniswapV2Factory extends BaseContract {
  getPair: View<[string, string], string>;
  createPair: Send<[string, string], string>;
  allPairsLength: View<[], bigint>;
}

export interface UniswapV2Pair extends BaseContract {
  token0: View<[], string>;
  token1: View<[], string>;
  getReserves: View<[], [bigint, bigint, bigint]>;
  balanceOf: View<[string], bigint>;
  totalSupply: View<[], bigint>;
}

export interface UniswapV2Router02 extends BaseContract {
  factory: View<[], string>;
  WETH: View<[], string>;
  getAmountsOut: View<[bigint, string[]], bigint[]>;
  getAmountsIn: View<[bigint, string[]], bigint[]>;
  addLiquidity: Send<
    [string, string, bigint, bigint, bigint, bigint, string, bigint],
    [bigint, bigint, bigint]
  >;
  swapExactTokensForTokens: Send<[bigint, bigint, string[], string, bigint], bigint[]>;
  swapTokensForExactTokens: Send<[bigint, bigint, string[], string, bigint], bigint[]>;
}

export const connectFactory = (address: string, runner: ContractRunner | null) =>
  new BaseContract(address, UNISWAP_ARTIFACTS.factory.abi, runner) as UniswapV2Factory;
export const connectPair = (address: string, runner: ContractRunner | null) =>
  new BaseContract(address, UNISWAP_ARTIFACTS.pair.abi, runner) as UniswapV2Pair;
export const connectRouter = (address: string, runner: ContractRunner | null) =>
  new BaseContract(address, UNISWAP_ARTIFACTS.router.abi, runner) as UniswapV2Router02;

/** A deadline far in the future (the Router checks `deadline >= block.timestamp`). */
export const NO_DEADLINE = 2n ** 64n - 1n;

export interface Uniswap {
  factory: UniswapV2Factory;
  router: UniswapV2Router02;
  weth: string;
}

export interface UniswapAddresses {
  factory: string;
  router: string;
  weth: string;
}

export async function addressesOf(u: Uniswap): Promise<UniswapAddresses> {
  return { factory: await u.factory.getAddress(), router: await u.router.getAddress(), weth: u.weth };
}

async function deployArtifact(artifact: UniswapArtifact, signer: Signer, args: unknown[]): Promise<string> {
  const contract = await new ContractFactory(artifact.abi, artifact.bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract.getAddress();
}

/** Deploys WETH9, UniswapV2Factory (fee-to setter: the signer) and UniswapV2Router02. */
export async function deployUniswap(signer: Signer): Promise<Uniswap> {
  const weth = await deployArtifact(UNISWAP_ARTIFACTS.weth, signer, []);
  const factory = await deployArtifact(UNISWAP_ARTIFACTS.factory, signer, [await signer.getAddress()]);
  const router = await deployArtifact(UNISWAP_ARTIFACTS.router, signer, [factory, weth]);
  return { factory: connectFactory(factory, signer), router: connectRouter(router, signer), weth };
}

/**
 * Creates the token/USDT pair and seeds it at the token's NAV from the signer's own `tokens` shares
 * (got through the token's desk) and tokens x NAV USDT (test USDT, minted).
 */
export async function createPoolAtNav(
  u: Uniswap,
  usdt: MockUSDT,
  token: LeveragedToken,
  signer: Signer,
  tokens: bigint = SPOT.seedTokens,
): Promise<UniswapV2Pair> {
  const me = await signer.getAddress();
  const [tokenAddress, usdtAddress, router] = await Promise.all([
    token.getAddress(),
    usdt.getAddress(),
    u.router.getAddress(),
  ]);
  let pair = await u.factory.getPair(tokenAddress, usdtAddress);
  if (pair === "0x0000000000000000000000000000000000000000") {
    await (
      await (u.factory.connect(signer) as UniswapV2Factory).createPair(tokenAddress, usdtAddress)
    ).wait();
    pair = await u.factory.getPair(tokenAddress, usdtAddress);
  }
  // a pool seeded at a NAV of 0 would quote a token worth nothing (and Uniswap refuses 0 liquidity)
  const seedable = (nav: bigint) => {
    if ((tokens * nav) / 10n ** 18n === 0n)
      throw new Error(
        `cannot seed a pool for ${tokens} shares at a NAV of ${nav} USDT units per token: the USDT side would be 0`,
      );
  };
  const nav = await token.nav();
  seedable(nav);
  const held = await token.balanceOf(me);
  if (held < tokens)
    throw new Error(
      `cannot seed a pool with ${tokens} shares: the signer holds ${held}; mint them through the desk first`,
    );
  const usdtSide = (tokens * nav) / 10n ** 18n;
  await (await usdt.connect(signer).mint(me, usdtSide)).wait();
  await (await token.connect(signer).approve(router, tokens)).wait();
  await (await usdt.connect(signer).approve(router, usdtSide)).wait();
  const r = u.router.connect(signer) as UniswapV2Router02;
  await (
    await r.addLiquidity(tokenAddress, usdtAddress, tokens, usdtSide, tokens, usdtSide, me, NO_DEADLINE)
  ).wait();
  return connectPair(pair, signer);
}
