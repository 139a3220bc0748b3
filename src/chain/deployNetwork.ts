// Deploys the system to one network with Hardhat Ignition (deploy/System.ts), writes the address book
// deployments/<network>.json and, on local chains, funds the node's accounts with test USDT.
// Idempotent: Ignition's journal (ignition/deployments/<network>-chain-<id>/) records what is done,
// so a re-run sends nothing new. A local chain restarted empty (chain 31337 with no code at the
// journal's addresses) gets its stale journal reset and a fresh deployment.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  errorDeploymentResultToExceptionMessage,
  HardhatArtifactResolver,
} from "@nomicfoundation/hardhat-ignition/helpers";
import {
  deploy,
  DeploymentResultType,
  type DeploymentResult,
  type EIP1193Provider,
} from "@nomicfoundation/ignition-core";
import type { ArtifactManager } from "hardhat/types/artifacts";
import type { NetworkConnection } from "hardhat/types/network";
import { systemModule } from "../../deploy/System.ts";
import { MockUSDT__factory } from "../../types/ethers-contracts/factories/mocks/MockUSDT__factory.ts";
import { addressBookPath, DEPLOYMENTS_DIR, writeAddressBook, type AddressBook } from "./addressBook.ts";
import { USDT } from "../common/params.ts";
import { DEFAULT_SPEC, type DeploySpec } from "./deploySpec.ts";
import { gasLimitFrom } from "./gas.ts";

export const LOCAL_CHAIN_ID = 31337;
/** Test USDT every default account holds after a local deploy. */
export const LOCAL_FUNDING = 1_000_000n * USDT;
/** How many of the node's accounts a local deploy funds. */
export const LOCAL_FUNDED_ACCOUNTS = 10;
export const JOURNAL_ROOT = join("ignition", "deployments");

export interface NetworkDeployOptions {
  /** Where the address book goes (default deployments/). */
  deploymentsDir?: string;
  /** Where Ignition journals go (default ignition/deployments/). */
  journalRoot?: string;
  /** KEEPER_ROLE holder and fee treasury of every token (default: the deployer). */
  keeper?: string;
  treasury?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /**
   * The test-only InstantDesk in place of each ForwardDesk (Ignition module SystemInstant): the
   * primary market before forward pricing, for the attack test that shows what it pays an attacker.
   * The address book then lists no desks (the tools would take them for ForwardDesks); the test
   * reads each token's InstantDesk from factory.deskOf. Default false: every token has its ForwardDesk.
   */
  instantTokens?: boolean;
  /**
   * The markets and tokens to deploy (src/chain/deploySpec.ts; default: BTC and ETH, and BTC3L,
   * BTC3S, ETH3L, ETH3S). Another list is an Ignition module of its own ("System_<tag>").
   */
  spec?: DeploySpec;
}

export interface NetworkDeployResult {
  book: AddressBook;
  path: string;
  /** Journal directory (undefined on the in-process network, where nothing persists). */
  journalDir: string | undefined;
  /** True when the journal was stale (fresh local chain) and was reset. */
  journalReset: boolean;
  /** Accounts topped up with test USDT (local chains only). */
  funded: string[];
}

/** The Ignition future ids the address book is read from, in the module `module`. */
function idsOf(module: string) {
  return {
    usdt: `${module}#MockUSDT`,
    perpVault: `${module}#MockPerpVault`,
    factory: `${module}#LeveragedTokenFactory`,
    feed: (market: string) => `${module}#Feed${market}`,
    token: (symbol: string) => `${module}#${symbol}`,
    desk: (symbol: string) => `${module}#Desk${symbol}`,
    pool: (symbol: string) => `${module}#Pool${symbol}`,
    uniswap: {
      factory: `${module}#UniswapV2Factory`,
      router: `${module}#UniswapV2Router02`,
      weth: `${module}#WETH9`,
    },
  };
}

export async function deployToNetwork(
  connection: NetworkConnection,
  artifacts: ArtifactManager,
  options: NetworkDeployOptions = {},
): Promise<NetworkDeployResult> {
  const log = options.log ?? (() => undefined);
  const provider = connection.provider;
  const network = connection.networkName;
  const chainId = Number(await provider.request({ method: "eth_chainId" }));
  const accounts = (await provider.request({ method: "eth_accounts" })) as string[];
  const deployer = accounts[0];
  if (deployer === undefined) {
    throw new Error(
      `network "${network}" has no account to deploy with; configure accounts for it in hardhat.config.ts`,
    );
  }
  const simulated = connection.networkConfig.type === "edr-simulated";
  const journalDir = simulated
    ? undefined
    : join(options.journalRoot ?? JOURNAL_ROOT, `${network}-chain-${chainId}`);
  const journalReset =
    journalDir !== undefined && (await resetStaleJournal(connection, journalDir, chainId, log));
  const resumed = journalDir !== undefined && existsSync(join(journalDir, "journal.jsonl"));
  const blockBefore = Number(await provider.request({ method: "eth_blockNumber" }));

  const spec = options.spec ?? DEFAULT_SPEC;
  const module = systemModule(options.instantTokens !== true, spec);
  const IDS = idsOf(module.id);
  log(
    `deploying ${module.id} (markets ${spec.markets.map((m) => m.name).join(", ")}; tokens ${spec.tokens.map((t) => t.symbol).join(", ")}) to ${network} (chain ${chainId}) from ${deployer}${resumed ? ", resuming the journal" : ""}`,
  );
  const result = await deploy({
    artifactResolver: new HardhatArtifactResolver(artifacts),
    provider: withGasMargin(provider),
    deploymentDir: journalDir,
    ignitionModule: module,
    deploymentParameters: {
      [module.id]: { keeper: options.keeper ?? deployer, treasury: options.treasury ?? deployer },
    },
    accounts,
    defaultSender: deployer,
  });
  const contracts = successfulContracts(result, network);
  const at = (id: string): string => {
    const c = contracts[id];
    if (c === undefined) throw new Error(`Ignition result has no ${id}`);
    return c.address;
  };

  const previous = readPrevious(options.deploymentsDir ?? DEPLOYMENTS_DIR, network);
  const factory = at(IDS.factory);
  const startBlock =
    previous !== undefined && previous.chainId === chainId && previous.factory === factory && !journalReset
      ? previous.startBlock
      : resumed
        ? 0
        : blockBefore;
  const book: AddressBook = {
    chainId,
    network,
    usdt: at(IDS.usdt),
    perpVault: at(IDS.perpVault),
    factory,
    feeds: Object.fromEntries(spec.markets.map((m) => [m.name, at(IDS.feed(m.name))])),
    tokens: Object.fromEntries(spec.tokens.map((p) => [p.symbol, at(IDS.token(p.symbol))])),
    ...(options.instantTokens === true
      ? {}
      : { desks: Object.fromEntries(spec.tokens.map((p) => [p.symbol, at(IDS.desk(p.symbol))])) }),
    pools: Object.fromEntries(spec.tokens.map((p) => [p.symbol, at(IDS.pool(p.symbol))])),
    uniswap: { factory: at(IDS.uniswap.factory), router: at(IDS.uniswap.router), weth: at(IDS.uniswap.weth) },
    deployer,
    keeper: options.keeper ?? deployer,
    startBlock,
  };

  const funded =
    chainId === LOCAL_CHAIN_ID ? await fundLocalAccounts(connection, book.usdt, accounts, log) : [];
  const path = writeAddressBook(network, book, options.deploymentsDir);
  log(`wrote ${path}`);
  return { book, path, journalDir, journalReset, funded };
}

/**
 * `provider` with a margin on every gas estimate (gasLimitFrom: + 20%), for Ignition, which sends
 * exactly what `eth_estimateGas` answers. When the clock ticks between the estimate and the send, the
 * transaction lands in a new second and accrues the market's funding and the token's management fee,
 * which the estimate did not: measured on anvil, a mint estimated at 116,457 gas used 121,440, and
 * with the exact estimate it ran out of gas (the e2e deploy's seed mints failed so, now and then).
 */
export function withGasMargin(provider: EIP1193Provider): EIP1193Provider {
  return {
    async request(args) {
      const answer: unknown = await provider.request(args);
      if (args.method !== "eth_estimateGas" || typeof answer !== "string") return answer;
      return "0x" + gasLimitFrom(BigInt(answer)).toString(16);
    },
  };
}

/** Tops every local account up to LOCAL_FUNDING test USDT (a re-run mints nothing). */
async function fundLocalAccounts(
  connection: NetworkConnection,
  usdtAddress: string,
  accounts: string[],
  log: (line: string) => void,
): Promise<string[]> {
  const [admin] = await connection.ethers.getSigners();
  if (admin === undefined) return [];
  const usdt = MockUSDT__factory.connect(usdtAddress, admin);
  const funded: string[] = [];
  for (const account of accounts.slice(0, LOCAL_FUNDED_ACCOUNTS)) {
    const balance = await usdt.balanceOf(account);
    if (balance >= LOCAL_FUNDING) continue;
    await (await usdt.mint(account, LOCAL_FUNDING - balance)).wait();
    funded.push(account);
  }
  if (funded.length > 0) log(`funded ${funded.length} local accounts with test USDT`);
  return funded;
}

/**
 * A journal whose recorded contracts have no code on this chain belongs to a chain that is gone (a
 * restarted `hardhat node` or anvil is chain 31337 again, but empty). On a local chain it is removed;
 * anywhere else that is an error for a human to look at.
 */
async function resetStaleJournal(
  connection: NetworkConnection,
  journalDir: string,
  chainId: number,
  log: (line: string) => void,
): Promise<boolean> {
  const recorded = join(journalDir, "deployed_addresses.json");
  if (!existsSync(journalDir)) return false;
  let addresses: string[] = [];
  if (existsSync(recorded)) {
    addresses = Object.values(JSON.parse(readFileSync(recorded, "utf8")) as Record<string, string>);
  }
  let missing = addresses.length === 0 ? "nothing recorded" : undefined;
  for (const address of addresses) {
    const code = (await connection.provider.request({
      method: "eth_getCode",
      params: [address, "latest"],
    })) as string;
    if (code === "0x") {
      missing = `no code at ${address}`;
      break;
    }
  }
  if (missing === undefined) return false;
  if (chainId !== LOCAL_CHAIN_ID) {
    throw new Error(
      `the Ignition journal ${journalDir} does not match chain ${chainId} (${missing}); ` +
        `move it away to deploy afresh`,
    );
  }
  if (addresses.length === 0 && existsSync(join(journalDir, "journal.jsonl"))) {
    // an interrupted first run on a local chain: only trust it if its first transaction is mined
    const firstTx = firstJournalTx(join(journalDir, "journal.jsonl"));
    if (firstTx !== undefined) {
      const receipt = await connection.provider.request({
        method: "eth_getTransactionReceipt",
        params: [firstTx],
      });
      if (receipt !== null) return false;
    }
  }
  rmSync(journalDir, { recursive: true, force: true });
  log(`reset the stale Ignition journal ${journalDir} (${missing}: the local chain was restarted)`);
  return true;
}

function firstJournalTx(path: string): string | undefined {
  const match = /"hash":"(0x[0-9a-fA-F]{64})"/.exec(readFileSync(path, "utf8"));
  return match?.[1];
}

function readPrevious(dir: string, network: string): (AddressBook & { startBlock?: number }) | undefined {
  const path = addressBookPath(network, dir);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as AddressBook & { startBlock?: number };
  } catch {
    return undefined;
  }
}

function successfulContracts(result: DeploymentResult, network: string): Record<string, { address: string }> {
  if (result.type === DeploymentResultType.SUCCESSFUL_DEPLOYMENT) return result.contracts;
  throw new Error(`deployment to ${network} failed: ${errorDeploymentResultToExceptionMessage(result)}`);
}
