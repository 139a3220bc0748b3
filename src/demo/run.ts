// `npm run demo`: deploys the whole system on a chain (in-process by default), every token with its
// ForwardDesk, mints the tokens from a few wallets through the desks, replays a price path with the
// feeder's one-block-per-step pushes, the keeper's decisions and its fill of every desk after each
// push, the wallets' daily requests and claims and the arbitrage through the desks, and mirrors every
// transaction in the exact engine (the desks in src/engine/desk.ts) at the same block time, so the
// demo is also a differential check: at the end (and once a day of chain time) on-chain NAV ==
// engine NAV, and every desk holds the USDT and shares the engine's does.
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { getAddress, id, type Interface } from "ethers";
import type { EthereumProvider } from "hardhat/types/providers";
import { nextTimeOfDay, pinBlockTimes } from "../chain/clock.ts";
import { createToken, deploySystem } from "../chain/deploy.ts";
import { DESK, SPOT, USDT, WAD, type MarketName, type TokenParams } from "../common/params.ts";
import { ForwardDesk as EngineDesk } from "../engine/desk.ts";
import { key } from "../engine/erc20.ts";
import { EngineSystem, isEngineRevert, RebalanceScreen, TokenState } from "../engine/index.ts";
import { readDeployment } from "../chain/deploy.ts";
import type { LeveragedToken as EngineToken } from "../engine/token.ts";
import type { EngineEvent } from "../engine/events.ts";
import type { Tx } from "../engine/world.ts";
import { decide, REASON_NAMES } from "../keeper/decide.ts";
import type { ForwardDesk, LeveragedToken, MockUSDT } from "../../types/ethers-contracts/index.js";
import type { AddressBook } from "../chain/addressBook.ts";
import { rawRpcOf } from "../chain/tokenBook.ts";
import { readTrueNav } from "../cli/trueNav.ts";
import { enginePerToken } from "../report/digits.ts";
import { arbitrageOnce, DEFAULT_MIN_PROFIT, type ArbResult, type OpenTrades } from "../spot/arbitrage.ts";
import { newArbCache } from "../spot/poolHandles.ts";
import { addressesOf, createPoolAtNav, deployUniswap } from "../spot/uniswap.ts";
import { DEMO_MARKETS, type MultiPath } from "./path.ts";
import { buildReport } from "./report.ts";
import { demoMarketOf, factoryTokens } from "./tokens.ts";
import type { ArbStats, ChainFees, DemoReport, Depletion, NavCheck, Recorded } from "./types.ts";

/** Thrown to roll back a counterfactual run in the engine. */
const ROLLBACK = new Error("rolled back");

export interface DemoOptions {
  path: MultiPath;
  /** Record NAVs and prices for the chart this often (chain seconds). */
  recordEverySeconds: number;
  /** Run the NAV arbitrage on every pool this often (chain seconds; each pass costs ~0.1 s of run time). */
  arbEverySeconds: number;
  /** The least profit (USDT base units) the arbitrage must expect of a trade (default: the bot's
   * DEFAULT_MIN_PROFIT, 1 USDT). */
  arbMinProfit?: bigint;
  /** Compare every token's NAV on chain with the engine this often (chain seconds); 0: only at the end. */
  checkEverySeconds: number;
  /** The keeper accrues the management fee when this much time passed since the last accrual. */
  feeIntervalSeconds: number;
  /** Label of the path for the report (e.g. "GBM seed 1, hourly"). */
  description: string;
  network: string;
  /**
   * Unix time of the path's first point. On a chain whose clock is already past it (less
   * SETUP_SECONDS), the demo starts at the next instant with the same time of day instead.
   */
  start: bigint;
  onProgress?: (done: number, total: number) => void;
  /**
   * Tokens created through the factory after the deployment (each with its desk), before the demo
   * reads the factory's list: they are replayed like the standard four.
   */
  laterTokens?: TokenParams[];
}

/** What the demo drives: the connection's ethers and the provider under it (to pin block times). */
export interface DemoChain {
  ethers: HardhatEthers;
  provider: EthereumProvider;
}

/**
 * Chain time the deployment, the pools and the first deposits take place in, before the path's first
 * point: about a hundred blocks, one second apart. Less than the feeds' heartbeat, so the prices
 * pushed at its beginning are still fresh at the start.
 */
export const SETUP_SECONDS = 1800n;

/** `start`, or the next instant at the same time of day that leaves room for the setup after `now`. */
export function alignStart(start: bigint, now: bigint): bigint {
  if (start - SETUP_SECONDS > now) return start;
  return nextTimeOfDay(now + SETUP_SECONDS + 1n, start % 86_400n);
}

/** What the wallets request through the desks: deposits at the start, a redeem and a top-up halfway,
 * and every day a deposit (the first wallet) and a redeem of a hundredth of its tokens (the second). */
const START_DEPOSITS: [wallet: number, usdt: bigint][] = [
  [0, 100_000n * USDT],
  [1, 50_000n * USDT],
  [2, 20_000n * USDT],
];
const HALFWAY_DEPOSIT = 10_000n * USDT;
const DAILY_DEPOSIT = 1_000n * USDT;
const DAILY_REDEEM_PART = 100n;
/** The admin's request for each pool's seed: SPOT.seedTokens at a new token's NAV of 1 USDT, and 2%
 * for the mint fee and the trading cost (what is left over stays with the admin). */
const SEED_DEPOSIT = (SPOT.seedTokens * USDT * 102n) / 100n / WAD;
const WALLET_FUNDS = 1_000_000n * USDT;
/** The arbitrageur's USDT inventory. */
const ARB_FUNDS = 1_000_000n * USDT;
const MAX = 2n ** 256n - 1n;
const REBALANCE_GAS = 5_000_000n; // room for the coverage run's instrumented contracts
const FEED_GAS = 200_000n;

interface RawTx {
  from: string;
  to: string;
  data: string;
  gas: bigint;
  label: string;
}

type Provider = HardhatEthers["provider"];

/**
 * Fee fields of every transaction the demo builds: a fixed cap far above the chain's base fee (its
 * blocks are far from full, so the base fee only falls) and no tip, so the node's gas-price handler
 * does not ask eth_feeHistory for each one, and every transaction of a block has the same tip (the
 * block keeps the order they were sent in). Only the base fee is paid.
 */
const FEE_FIELDS = { maxFeePerGas: "0x" + (100n * 10n ** 9n).toString(16), maxPriorityFeePerGas: "0x0" };

/** A log as eth_getLogs returns it (the fields the demo reads). */
interface RawLog {
  address: string;
  topics: string[];
  data: string;
  transactionHash: string;
}

/**
 * The hashes of the transactions that emitted a log in blocks `from` to `to`, with their logs: one
 * eth_getLogs instead of a receipt per transaction. A transaction that reverted emits none.
 */
async function logsByTransaction(
  provider: Provider,
  from: number,
  to: number,
): Promise<Map<string, RawLog[]>> {
  const out = new Map<string, RawLog[]>();
  if (to < from) return out;
  const logs = (await provider.send("eth_getLogs", [
    { fromBlock: "0x" + from.toString(16), toBlock: "0x" + to.toString(16) },
  ])) as RawLog[];
  for (const log of logs) {
    const hash = log.transactionHash.toLowerCase();
    const list = out.get(hash);
    if (list === undefined) out.set(hash, [log]);
    else list.push(log);
  }
  return out;
}

/** Throws unless the transaction `hash` was mined and succeeded (its receipt: for one that logged nothing). */
async function requireSuccess(provider: Provider, hash: string, label: string): Promise<void> {
  const r = await provider.getTransactionReceipt(hash);
  if (r === null) throw new Error(`${label} (${hash}) was not mined`);
  if (r.status !== 1) throw new Error(`${label} (${hash}) reverted on chain but not in the engine`);
}

/** A block of raw transactions mined at an exact timestamp (automine is off for the whole run). */
class BlockBuilder {
  private pending: RawTx[] = [];
  /** Hashes of transactions whose success is still to be checked (all but the price pushes). */
  private toCheck: { hash: string; label: string }[] = [];
  private feedHashes: { hash: string; label: string }[] = [];
  /** The last block whose transactions were checked. */
  private checkedBlock: number | undefined;
  blocks = 0;
  firstBlock = 0;

  private readonly provider: Provider;

  constructor(provider: Provider) {
    this.provider = provider;
  }

  add(tx: RawTx): void {
    this.pending.push(tx);
  }

  async mine(time: bigint, checkAll = false): Promise<void> {
    this.checkedBlock ??= await this.provider.getBlockNumber();
    for (const tx of this.pending) {
      const hash = (await this.provider.send("eth_sendTransaction", [
        { from: tx.from, to: tx.to, data: tx.data, gas: "0x" + tx.gas.toString(16), ...FEE_FIELDS },
      ])) as string;
      (tx.label.startsWith("feed") ? this.feedHashes : this.toCheck).push({ hash, label: tx.label });
    }
    this.pending = [];
    await this.provider.send("evm_setNextBlockTimestamp", [Number(time)]);
    await this.provider.send("evm_mine", []);
    this.blocks++;
    if (checkAll) await this.checkReceipts();
  }

  /**
   * Every non-feed transaction so far, and the last block's price pushes, succeeded: the logs of the
   * blocks since the last check in one request; a receipt only for one that logged nothing.
   */
  async checkReceipts(): Promise<void> {
    const feeds = this.feedHashes.slice(-DEMO_MARKETS.length);
    const txs = [...this.toCheck, ...feeds];
    this.toCheck = [];
    this.feedHashes = [];
    if (txs.length === 0) return;
    const last = await this.provider.getBlockNumber();
    const logged = await logsByTransaction(this.provider, (this.checkedBlock ?? 0) + 1, last);
    this.checkedBlock = last;
    for (const { hash, label } of txs)
      if (!logged.has(hash.toLowerCase())) await requireSuccess(this.provider, hash, label);
  }
}

/** A token's state just before a price update: what a depletion in that update is measured from. */
interface Before {
  time: bigint;
  leverage: bigint;
  perToken: bigint;
  assets: bigint;
  supply: bigint;
}

/** Runs the demo on `ethers`' network and returns its report (no files written; see output.ts). */
export async function runDemo(o: DemoOptions, chain: DemoChain): Promise<DemoReport> {
  const wallStart = Date.now();
  const cpuStart = process.cpuUsage();
  const provider = chain.ethers.provider;
  await provider.send("evm_setAutomine", [true]);
  // every block from here on at a time set by the run alone, never by the wall clock
  const now = await provider.getBlock("latest");
  if (now === null) throw new Error("the network returned no latest block");
  const start = alignStart(o.start, BigInt(now.timestamp));
  const immutables = cacheImmutableCalls(chain.provider);
  const clock = await pinBlockTimes(chain.provider, start - SETUP_SECONDS);
  try {
    return await replay(o, chain.ethers, start, {
      wallStart,
      cpuStart,
      setNext: (t) => clock.setNext(t),
      immutableAt: immutables.contracts,
    });
  } finally {
    clock.unpin();
    immutables.uncache();
  }
}

/**
 * Views whose answer never changes once the contract exists: the token's immutables and a Uniswap V2
 * pair's token0 (set once at creation). The arbitrage reads them on every pass (about 14 of its
 * calls for each pool it visits); the demo answers them from what the chain said the first time.
 */
const IMMUTABLE_VIEWS = new Set(
  ["market()", "targetLeverage()", "isLong()", "ripcordLeverage()", "desk()", "token0()"].map((f) =>
    id(f).slice(0, 10),
  ),
);

/**
 * Answers eth_call of an IMMUTABLE_VIEWS function on one of `contracts` (filled in as the demo
 * deploys them: its tokens and pools) from the first answer, at any block: the same bytes the node
 * would give. Every other request goes to the node.
 */
function cacheImmutableCalls(provider: EthereumProvider): { contracts: Set<string>; uncache: () => void } {
  const own = provider.request.bind(provider);
  const contracts = new Set<string>();
  const answers = new Map<string, unknown>();
  const cached: typeof own = async (args) => {
    if (args.method !== "eth_call") return own(args);
    const [call] = (args.params ?? []) as [{ to?: string; data?: string; input?: string }];
    const data = call?.data ?? call?.input;
    const to = call?.to?.toLowerCase();
    if (to === undefined || data === undefined || data.length !== 10 || !contracts.has(to)) return own(args);
    if (!IMMUTABLE_VIEWS.has(data.toLowerCase())) return own(args);
    const k = `${to}${data.toLowerCase()}`;
    if (answers.has(k)) return answers.get(k);
    const answer = await own(args);
    answers.set(k, answer);
    return answer;
  };
  (provider as { request: typeof own }).request = cached;
  return { contracts, uncache: () => ((provider as { request: typeof own }).request = own) };
}

interface ReplayContext {
  wallStart: number;
  cpuStart: NodeJS.CpuUsage;
  setNext: (time: bigint) => Promise<void>;
  /** Contracts whose immutable views the demo may answer from their first answer (tokens, pools). */
  immutableAt: Set<string>;
}

async function replay(
  o: DemoOptions,
  ethers: HardhatEthers,
  start: bigint,
  ctx: ReplayContext,
): Promise<DemoReport> {
  const provider = ethers.provider;
  const [admin, alice, bob, carol, treasury, arbitrageur] = await ethers.getSigners();
  if (!admin || !alice || !bob || !carol || !treasury || !arbitrageur)
    throw new Error(
      "the demo needs six accounts on the network (admin, three wallets, treasury, arbitrageur)",
    );
  const wallets = [alice, bob, carol];
  const roles = { treasury: treasury.address, keeper: admin.address };
  const deployed = await deploySystem(ethers, roles);
  for (const p of o.laterTokens ?? []) await createToken(ethers, deployed, p, roles);
  // the tokens the factory lists, whoever created them and when
  const { sys, params } = await factoryTokens(ethers, deployed);
  const symbols = params.map((p) => p.symbol);
  const chainTokens = symbols.map((s) => sys.tokens[s]!);
  const deployment = await readDeployment(sys, params, {
    admin: admin.address,
    treasury: treasury.address,
    keeper: admin.address,
  });
  const e = new EngineSystem(deployment);
  const engineTokens = symbols.map((s) => e.token(s));
  const chainDesks = symbols.map((s) => sys.desks[s]!);
  const deskAddresses = deployment.tokens.map((t) => {
    if (t.desk === undefined) throw new Error(`${t.params.symbol} was deployed without a desk`);
    return t.desk;
  });
  const engineDesks = symbols.map(
    (_, i) =>
      new EngineDesk(e.world, e.vault, engineTokens[i]!, {
        address: deskAddresses[i]!,
        fillDelay: DESK.fillDelay,
        fillBounty: DESK.fillBounty,
      }),
  );
  // management fee shares valued at the NAV when they accrue (every operation accrues them first)
  const managementValue = symbols.map(() => 0n);
  const valueAccrual = (i: number, t: bigint) => {
    const token = engineTokens[i]!;
    managementValue[i]! += ((token.supplyNow(t) - token.totalSupply()) * token.nav(t)) / WAD;
  };
  /** USDT paid to holders by redeems, per token. */
  const redeemed = symbols.map(() => 0n);
  const arbRedeemed = symbols.map(() => 0n);
  const tokenAddresses = deployment.tokens.map((t) => t.address);
  const usdtAddress = deployment.usdt;
  const usdtI = sys.usdt.interface;
  const tokenI: Interface = chainTokens[0]!.interface;
  const feedI = sys.feeds.BTC.interface;
  const tokenIndex = new Map(tokenAddresses.map((a, i) => [a.toLowerCase(), i]));
  const deskI: Interface = chainDesks[0]!.interface;
  const deskIndex = new Map(deskAddresses.map((a, i) => [a.toLowerCase(), i]));
  const isArbitrageur = (tx: Tx) => key(tx.from) === key(arbitrageur.address);
  /** Runs a call to token i's desk (its calldata, as sent on chain) on the engine's desk. */
  const deskCall = (i: number, tx: Tx, data: string): void => {
    const d = deskI.parseTransaction({ data });
    if (d === null) throw new Error(`the demo cannot decode a call to ${symbols[i]}'s desk`);
    const a = d.args.toArray() as (bigint | string)[];
    const desk = engineDesks[i]!;
    const n = a[0] as bigint;
    switch (d.signature) {
      case "requestDeposit(uint256,address,address)":
        desk.requestDeposit(tx, n, a[1] as string, a[2] as string);
        return;
      case "requestRedeem(uint256,address,address)":
        desk.requestRedeem(tx, n, a[1] as string, a[2] as string);
        return;
      case "deposit(uint256,address,address)":
        desk.deposit(tx, n, a[1] as string, a[2] as string);
        return;
      case "mint(uint256,address,address)":
        desk.mint(tx, n, a[1] as string, a[2] as string);
        return;
      case "redeem(uint256,address,address)":
        (isArbitrageur(tx) ? arbRedeemed : redeemed)[i]! += desk.redeem(
          tx,
          n,
          a[1] as string,
          a[2] as string,
        );
        return;
      case "withdraw(uint256,address,address)":
        desk.withdraw(tx, n, a[1] as string, a[2] as string);
        (isArbitrageur(tx) ? arbRedeemed : redeemed)[i]! += n;
        return;
      case "cancelDepositRequest(address)":
        desk.cancelDepositRequest(tx, a[0] as string);
        return;
      case "cancelRedeemRequest(address)":
        desk.cancelRedeemRequest(tx, a[0] as string);
        return;
      case "fill()":
        valueAccrual(i, tx.time);
        desk.fill(tx);
        return;
    }
    throw new Error(`the demo does not mirror ${d.signature} on ${symbols[i]}'s desk`);
  };
  const feedAddress = Object.fromEntries(deployment.markets.map((m) => [m.params.name, m.feed])) as Record<
    MarketName,
    string
  >;

  const latest = await provider.getBlock("latest");
  if (latest === null) throw new Error("the network returned no latest block");
  const firstBlock = latest.number + 1;
  let time = BigInt(latest.timestamp);
  await provider.send("evm_setAutomine", [false]);
  const b = new BlockBuilder(provider);

  /** Both feeds' answers at the path's point `k`: in the engine at `tx`, on chain in the next block. */
  const pushPrices = (tx: Tx, k: number) => {
    for (const m of DEMO_MARKETS) {
      const price = o.path.prices[m][k]!;
      e.feed(m).updateAnswer(tx, price);
      b.add({
        from: admin.address,
        to: feedAddress[m],
        data: feedI.encodeFunctionData("updateAnswer", [price]),
        gas: FEED_GAS,
        label: `feed ${m}`,
      });
    }
  };

  /** Mirrors one automined transaction in the engine at its block's time (mint/redeem, approvals, swaps' transfers). */
  const mirrorTx = (tx: Tx, to: string | null, data: string, logs: readonly RawLog[]) => {
    const target = to?.toLowerCase();
    const k = target === undefined ? undefined : deskIndex.get(target);
    if (k !== undefined) return deskCall(k, tx, data);
    const i = target === undefined ? undefined : tokenIndex.get(target);
    if (i !== undefined) {
      const et = engineTokens[i]!;
      const d = tokenI.parseTransaction({ data });
      if (d === null) throw new Error(`the demo cannot decode a call to ${symbols[i]}`);
      const a = d.args.toArray() as (bigint | string)[];
      // a settled token pays its holders instantly (the arbitrageur's tokens left when it settled)
      if (d.signature === "redeem(uint256,address,address)") {
        valueAccrual(i, tx.time);
        const paid = et.redeem(tx, a[0] as bigint, a[1] as string, a[2] as string);
        (tx.from.toLowerCase() === arbitrageur.address.toLowerCase() ? arbRedeemed : redeemed)[i]! += paid;
      } else if (d.signature === "approve(address,uint256)") {
        et.approve(tx, a[0] as string, a[1] as bigint);
      } else throw new Error(`the demo does not mirror ${d.signature} on ${symbols[i]}`);
      return;
    }
    if (target === usdtAddress.toLowerCase()) {
      const d = usdtI.parseTransaction({ data });
      const a = (d?.args.toArray() ?? []) as (bigint | string)[];
      if (d?.name === "mint") e.world.usdt.mint(a[0] as string, a[1] as bigint);
      else if (d?.name === "approve") e.world.usdt.approve(tx.from, a[0] as string, a[1] as bigint);
      else throw new Error(`the demo does not mirror USDT's ${d?.signature ?? "unknown call"}`);
      return;
    }
    // Uniswap (deployments, pair creation, liquidity, swaps): the tokens' and USDT's transfers
    for (const log of logs) {
      const j = tokenIndex.get(log.address.toLowerCase());
      const isUsdt = log.address.toLowerCase() === usdtAddress.toLowerCase();
      if (j === undefined && !isUsdt) continue;
      const ev = (isUsdt ? usdtI : tokenI).parseLog({ topics: [...log.topics], data: log.data });
      if (ev?.name !== "Transfer") continue;
      const [from, dest, value] = ev.args.toArray() as [string, string, bigint];
      if (isUsdt) e.world.usdt.transfer(from, dest, value);
      else engineTokens[j!]!.transfer({ from, time: tx.time }, dest, value);
    }
  };
  /**
   * Mirrors every block from `fromBlock` to the latest (all automined); returns the next block's
   * number. Raw reads: each block with its transactions, and the logs of all of them in one request
   * (a receipt only for a transaction that logged nothing, to see that it succeeded).
   */
  const mirrorBlocks = async (fromBlock: number): Promise<number> => {
    const last = await provider.getBlockNumber();
    const logged = await logsByTransaction(provider, fromBlock, last);
    for (let n = fromBlock; n <= last; n++) {
      const block = (await provider.send("eth_getBlockByNumber", ["0x" + n.toString(16), true])) as {
        timestamp: string;
        transactions: { hash: string; from: string; to: string | null; input: string }[];
      } | null;
      if (block === null) throw new Error(`the network returned no block ${n}`);
      const bt = BigInt(block.timestamp);
      if (bt <= time) throw new Error(`block ${n} is not after the previous block's time`);
      time = bt;
      for (const t of block.transactions) {
        const logs = logged.get(t.hash.toLowerCase());
        if (logs === undefined) await requireSuccess(provider, t.hash, `transaction ${t.hash}`);
        mirrorTx({ from: getAddress(t.from), time: bt }, t.to, t.input, logs ?? []);
      }
    }
    b.blocks += last + 1 - fromBlock;
    return last + 1;
  };
  /** Runs `f` with automine on (its transactions in blocks of their own), then mirrors what it sent. */
  const automined = async <T>(f: () => Promise<T>): Promise<T> => {
    const next = (await provider.getBlockNumber()) + 1;
    await provider.send("evm_setAutomine", [true]);
    let out: T;
    try {
      out = await f();
    } finally {
      await provider.send("evm_setAutomine", [false]);
    }
    await mirrorBlocks(next);
    return out;
  };

  try {
    // fund the wallets, the arbitrageur and the admin (the pools' seeds); the wallets and the admin
    // let every desk take their USDT and their tokens (requests)
    time += 1n;
    const mintUsdt = (to: string, amount: bigint, label: string) => {
      b.add({
        from: admin.address,
        to: usdtAddress,
        data: usdtI.encodeFunctionData("mint", [to, amount]),
        gas: 200_000n,
        label,
      });
      e.world.usdt.mint(to, amount);
    };
    for (const w of wallets) mintUsdt(w.address, WALLET_FUNDS, `mint USDT to ${w.address}`);
    mintUsdt(arbitrageur.address, ARB_FUNDS, "mint USDT to the arbitrageur");
    mintUsdt(admin.address, SEED_DEPOSIT * BigInt(symbols.length), "mint USDT for the pools' seeds");
    for (const w of [...wallets, admin]) {
      for (let i = 0; i < symbols.length; i++) {
        const desk = deskAddresses[i]!;
        b.add({
          from: w.address,
          to: usdtAddress,
          data: usdtI.encodeFunctionData("approve", [desk, MAX]),
          gas: 100_000n,
          label: "approve",
        });
        e.world.usdt.approve(w.address, desk, MAX);
        b.add({
          from: w.address,
          to: tokenAddresses[i]!,
          data: tokenI.encodeFunctionData("approve", [desk, MAX]),
          gas: 100_000n,
          label: "approve",
        });
        engineTokens[i]!.approve({ from: w.address, time }, desk, MAX);
      }
    }
    // the path's first prices (a CSV's first row) become the feeds' answers before anyone deposits
    pushPrices({ from: admin.address, time }, 0);
    await b.mine(time, true);

    /** One call to token i's desk, in the engine and on chain, unless the engine reverts (the chain
     * would too: neither side does it); true when sent. */
    const deskTx = (from: string, i: number, label: string, data: string): boolean => {
      try {
        deskCall(i, { from, time }, data);
      } catch (err) {
        if (!isEngineRevert(err)) throw err;
        return false;
      }
      b.add({ from, to: deskAddresses[i]!, data, gas: REBALANCE_GAS, label });
      return true;
    };
    /** A block of one account's desk calls (ordered by its nonce), mined one second on. */
    const accountBlock = async (from: string, calls: (i: number) => [label: string, data: string][]) => {
      time += 1n;
      let sent = false;
      for (let i = 0; i < symbols.length; i++) {
        for (const [label, data] of calls(i)) sent = deskTx(from, i, `${label} ${symbols[i]}`, data) || sent;
      }
      if (sent) await b.mine(time);
      else time -= 1n;
    };
    const requestDeposit = (who: string, assets: bigint): [string, string] => [
      "deposit request",
      deskI.encodeFunctionData("requestDeposit", [assets, who, who]),
    ];
    const requestRedeem = (who: string, shares: bigint): [string, string] => [
      "redeem request",
      deskI.encodeFunctionData("requestRedeem", [shares, who, who]),
    ];
    /** Claims of whatever the fills gave `who` (tokens for its deposits, USDT for its redemptions). */
    const claims = (who: string, i: number): [string, string][] => {
      const desk = engineDesks[i]!;
      const assets = desk.maxDeposit(who);
      const shares = desk.maxRedeem(who);
      return [
        ...(assets > 0n
          ? [
              [
                "deposit claim",
                deskI.encodeFunctionData("deposit(uint256,address,address)", [assets, who, who]),
              ],
            ]
          : []),
        ...(shares > 0n
          ? [["redemption claim", deskI.encodeFunctionData("redeem", [shares, who, who])]]
          : []),
      ] as [string, string][];
    };
    /** The keeper's fill of every desk with work, after the price push of the block being built. */
    const fillDesks = (tx: Tx): void => {
      for (let i = 0; i < symbols.length; i++) {
        if (!engineDesks[i]!.fillNeeded().needed) continue;
        const before = managementValue[i]!;
        // what the same fill would have cost with the two sides traded apart (rolled back at once)
        const apart = costApart(i, tx);
        const mark = e.world.log.events.length;
        try {
          deskCall(i, tx, deskI.encodeFunctionData("fill"));
        } catch (err) {
          if (!isEngineRevert(err)) throw err;
          managementValue[i] = before;
          continue;
        }
        const events = e.world.log.since(mark);
        const matched = events.find((ev) => ev.name === "Netted");
        if (matched !== undefined && apart !== undefined) {
          netting[i]!.fills++;
          netting[i]!.matchedUsdt += matched.args[1] as bigint;
          netting[i]!.tradingCostSaved += apart - tradingCostOf(i, events);
        }
        fills[i]!++;
        b.add({
          from: admin.address,
          to: deskAddresses[i]!,
          data: deskI.encodeFunctionData("fill"),
          gas: REBALANCE_GAS,
          label: `fill ${symbols[i]}`,
        });
      }
    };
    const fills = symbols.map(() => 0);
    const netting = symbols.map(() => ({ fills: 0, matchedUsdt: 0n, tradingCostSaved: 0n }));
    /** The trading cost the token's own trades in `events` paid (its PositionResized events). */
    const tradingCostOf = (i: number, events: readonly EngineEvent[]): bigint =>
      events
        .filter((ev) => ev.name === "PositionResized" && ev.address === engineTokens[i]!.address)
        .reduce((sum, ev) => sum + (ev.args[2] as bigint), 0n);
    /** The fill's trading cost with its sides traded apart: run in the engine, then rolled back. */
    const costApart = (i: number, tx: Tx): bigint | undefined => {
      let cost: bigint | undefined;
      try {
        e.world.atomic(() => {
          const mark = e.world.log.events.length;
          engineDesks[i]!.fillApart(tx);
          cost = tradingCostOf(i, e.world.log.since(mark));
          throw ROLLBACK;
        });
      } catch (err) {
        if (err !== ROLLBACK && !isEngineRevert(err)) throw err;
      }
      return cost;
    };

    // the first deposits and the pools' seeds: requested, filled at a new price round (the same
    // prices pushed a second later), claimed
    for (const [w, assets] of START_DEPOSITS)
      await accountBlock(wallets[w]!.address, () => [requestDeposit(wallets[w]!.address, assets)]);
    await accountBlock(admin.address, () => [requestDeposit(admin.address, SEED_DEPOSIT)]);
    time += 1n;
    pushPrices({ from: admin.address, time }, 0);
    fillDesks({ from: admin.address, time });
    await b.mine(time, true);
    for (const w of [...wallets, admin]) await accountBlock(w.address, (i) => claims(w.address, i));
    await b.checkReceipts();

    // the spot market: Uniswap V2 and one pool per token seeded at NAV from the admin's claimed tokens
    const book: AddressBook = await automined(async () => {
      const u = await deployUniswap(admin);
      const out: AddressBook = {
        chainId: Number((await provider.getNetwork()).chainId),
        usdt: usdtAddress,
        perpVault: deployment.vault,
        factory: await sys.factory.getAddress(),
        feeds: { BTC: feedAddress.BTC, ETH: feedAddress.ETH },
        tokens: {},
        desks: {},
        pools: {},
        uniswap: await addressesOf(u),
      };
      for (let i = 0; i < symbols.length; i++) {
        const pair = await createPoolAtNav(u, sys.usdt, chainTokens[i]!, admin, SPOT.seedTokens);
        out.tokens[symbols[i]!] = tokenAddresses[i]!;
        out.desks![symbols[i]!] = deskAddresses[i]!;
        out.pools![symbols[i]!] = await pair.getAddress();
      }
      return out;
    });

    for (const a of [...tokenAddresses, ...Object.values(book.pools ?? {})])
      ctx.immutableAt.add(a.toLowerCase());

    const arbStats: ArbStats[] = symbols.map(() => ({
      trades: 0,
      profit: 0n,
      maxPremium: 0,
      maxDiscount: 0,
      spotEnd: 0,
      dead: false,
    }));
    /** The arbitrage's desk trades open across passes (a request waits for the next step's fill). */
    const openTrades: OpenTrades = new Map();
    /** Its contract handles, immutable views and approvals, kept across passes. */
    const arbCache = newArbCache(arbitrageur);
    /** Each pool's result in the last pass that read it. */
    const lastResult = new Map<string, ArbResult>();
    /**
     * A pool the arbitrage found dead whose token can never come back (depleted, or settled at 0)
     * and with no trade of its open: nothing can move it (only the arbitrage trades the pools), so
     * later passes repeat that result instead of reading it again (a pool read is ~15 calls).
     */
    const deadForGood = (symbol: string): boolean => {
      const r = lastResult.get(symbol);
      if (r?.dead !== true || openTrades.has(symbol)) return false;
      const et = engineTokens[symbols.indexOf(symbol)]!;
      return (
        et.state() === TokenState.Depleted ||
        (et.state() === TokenState.Settled && et.st.settledAssets === 0n)
      );
    };
    /** A pass over every pool, or one that only finishes the open desk trades (their pools only). */
    const arbitrage = async (finishOnly = false): Promise<ArbResult[]> => {
      const live = symbols.filter((s) => !deadForGood(s));
      const read = await automined(() =>
        arbitrageOnce({
          signer: arbitrageur,
          book,
          open: openTrades,
          cache: arbCache,
          minProfit: o.arbMinProfit ?? DEFAULT_MIN_PROFIT,
          ...(finishOnly ? { finishOnly, symbols: [...openTrades.keys()] } : { symbols: live }),
        }),
      );
      for (const r of read) lastResult.set(r.symbol, r);
      // the dead pools' results, in pool order, as the pass would have found them again
      const results = finishOnly
        ? read
        : symbols.flatMap((s) =>
            live.includes(s) ? read.filter((r) => r.symbol === s) : [lastResult.get(s)!],
          );
      for (const r of results) {
        const i = symbols.indexOf(r.symbol);
        if (r.outcome === "failed") throw new Error(`the arbitrage failed on ${r.symbol}: ${r.why}`);
        const st = arbStats[i]!;
        if (r.navBefore > 0) {
          const premium = r.spotBefore / r.navBefore - 1;
          st.maxPremium = Math.max(st.maxPremium, premium);
          st.maxDiscount = Math.min(st.maxDiscount, premium);
        }
        if (r.outcome === "traded") {
          st.trades++;
          st.profit += r.profit ?? 0n;
        }
        st.spotEnd = r.spotAfter ?? r.spotBefore;
        st.dead = r.dead === true;
      }
      return results;
    };
    const arbUsdtStart = e.world.usdt.balanceOf(arbitrageur.address);

    // the path's first point is the start instant; the setup took place before it
    if (time >= start)
      throw new Error(`the setup took until ${time}, past the start ${start}: SETUP_SECONDS is too short`);
    time = start;
    await ctx.setNext(start + 1n);
    const navStart = engineTokens.map((t) => t.nav(start));
    const valueStart = engineTokens.map((t) => enginePerToken(t, start));
    const path = o.path;
    const recorded: Recorded = { times: [], prices: {}, navs: {}, marks: [], spots: {} };
    const record = (t: bigint, k: number) => {
      recorded.times.push(Number(t - start));
      for (const m of DEMO_MARKETS) (recorded.prices[m] ??= []).push(path.prices[m][k]!);
      symbols.forEach((s, i) => (recorded.navs[s] ??= []).push(enginePerToken(engineTokens[i]!, t)));
    };
    /** Runs the arbitrage and records, after it, every token's NAV, spot price and band. */
    const arbitrageAndRecord = async () => {
      const arb = await arbitrage();
      symbols.forEach((s, i) => {
        // the last of its results: a desk trade finished in a pass comes before what the pass did next
        const r = arb.filter((x) => x.symbol === s).at(-1)!;
        (recorded.spots[s] ??= []).push({
          time: Number(time - start),
          nav: engineTokens[i]!.nav(time),
          spot: r.spotAfter ?? r.spotBefore,
          lower: r.band.lower,
          upper: r.band.upper,
          pending: r.outcome === "requested" || r.outcome === "waiting",
        });
      });
    };
    record(start, 0);
    await arbitrageAndRecord();
    let lastArb = start;

    const screens = engineTokens.map((t) => new RebalanceScreen(t, e.vault));
    const triggers = symbols.map(() => REASON_NAMES.map(() => 0));
    const skipped = symbols.map(() => 0);
    /** Why the engine said a keeper action would revert: the first of each error, with its time. */
    const skippedWhy: { time: number; action: string; error: string }[][] = symbols.map(() => []);
    const mismatches: NavCheck[] = [];
    const keeperTx: Tx = { from: admin.address, time };
    const feederTx: Tx = { from: admin.address, time };
    const halfway = Math.floor(path.times.length / 2);
    const depletions: (Depletion | undefined)[] = symbols.map(() => undefined);
    const alive = (et: EngineToken) =>
      et.state() === TokenState.Active || et.state() === TokenState.Delisting;
    /** Each live token's leverage, value and supply at the last price, before the next update. */
    const beforeUpdate = (t: bigint): (Before | undefined)[] =>
      engineTokens.map((et) =>
        alive(et)
          ? {
              time: t,
              leverage: et.leverage(t),
              perToken: enginePerToken(et, t),
              assets: et.totalAssets(t),
              supply: et.supplyNow(t),
            }
          : undefined,
      );
    let lastRecord = start;
    let lastCheck = start;
    let lastDay = start / 86_400n;
    let halfwayDone = false;
    const n = path.times.length - 1;
    for (let k = 1; k <= n; k++) {
      const t = start + BigInt(path.times[k]!);
      if (t <= time) throw new Error(`path time ${path.times[k]} is not after the previous block`);
      e.world.log.clear(); // each step reads only its own calls' events: memory stays flat
      const before = beforeUpdate(time);
      time = t;
      feederTx.time = t;
      keeperTx.time = t;
      pushPrices(feederTx, k);
      for (let i = 0; i < symbols.length; i++) {
        const et = engineTokens[i]!;
        const reason = screens[i]!.reason(t);
        const st = et.st.status;
        const action = decide(
          {
            state: st.state,
            needed: reason !== 0,
            reason,
            supply: et.totalSupply(),
            lastFeeAccrual: Number(st.lastFeeAccrual),
            delistingTime: Number(et.delistingTime()),
            now: Number(t),
          },
          { feeIntervalSeconds: o.feeIntervalSeconds },
        );
        if (action === undefined || action.kind === "settleHolders") continue;
        const fn =
          action.kind === "rebalance"
            ? "rebalance"
            : action.kind === "settle"
              ? "settle"
              : "accrueManagementFee";
        const before = managementValue[i]!;
        valueAccrual(i, t);
        try {
          if (action.kind === "rebalance") et.rebalance(keeperTx);
          else if (action.kind === "settle") et.settle(keeperTx);
          else et.accrueManagementFee(keeperTx);
        } catch (err) {
          if (!isEngineRevert(err)) throw err;
          managementValue[i] = before;
          skipped[i]!++;
          if (skippedWhy[i]!.length < 10)
            skippedWhy[i]!.push({ time: Number(t), action: fn, error: err.message });
          continue;
        }
        if (action.kind === "rebalance") {
          triggers[i]![action.reason]!++;
          recorded.marks.push({
            time: Number(t - start),
            symbol: symbols[i]!,
            reason: action.reason,
            nav: enginePerToken(et, t),
          });
        }
        b.add({
          from: admin.address,
          to: tokenAddresses[i]!,
          data: tokenI.encodeFunctionData(fn, []),
          gas: REBALANCE_GAS,
          label: `${fn} ${symbols[i]}`,
        });
      }
      // the keeper fills every desk with requests of an earlier round, at the price just pushed
      fillDesks(keeperTx);
      const check = o.checkEverySeconds > 0 && t - lastCheck >= BigInt(o.checkEverySeconds);
      await b.mine(t, check);
      engineTokens.forEach((et, i) => {
        const was = before[i];
        if (was === undefined || depletions[i] !== undefined || alive(et)) return;
        const m = engineTokenMarket(et);
        depletions[i] = {
          time: Number(t),
          market: m,
          priceBefore: path.prices[m][k - 1]!,
          priceAfter: path.prices[m][k]!,
          timeBefore: Number(start + BigInt(path.times[k - 1]!)),
          leverageBefore: was.leverage,
          perTokenBefore: was.perToken,
          assetsBefore: was.assets,
          supply: was.supply,
        };
      });
      if (check) {
        lastCheck = t;
        await compareNavs(chainTokens, engineTokens, symbols, t, mismatches);
        await compareDesks(sys.usdt, chainTokens, chainDesks, e, engineTokens, symbols, t, mismatches);
      }
      if (t - lastRecord >= BigInt(o.recordEverySeconds) || k === n) {
        lastRecord = t;
        record(t, k);
      }
      if (t - lastArb >= BigInt(o.arbEverySeconds) || k === n) {
        lastArb = t;
        await arbitrageAndRecord();
      } else if (openTrades.size > 0) {
        // a desk trade of the arbitrage's was filled in this step's block: claim it and do its pool leg
        await arbitrage(true);
      }
      const day = t / 86_400n;
      if (day > lastDay && k < n) {
        // a new day: every wallet claims what the fills gave it; the first requests a deposit in each
        // token, the second the redemption of a hundredth of its tokens (halfway: half of them, and
        // the third adds to each token)
        lastDay = day;
        const half: boolean = k >= halfway && !halfwayDone;
        halfwayDone ||= half;
        const [alice, bob, carol] = wallets.map((w) => w.address) as [string, string, string];
        await accountBlock(alice, (i) => [...claims(alice, i), requestDeposit(alice, DAILY_DEPOSIT)]);
        await accountBlock(bob, (i) => {
          const shares = engineTokens[i]!.balanceOf(bob) / (half ? 2n : DAILY_REDEEM_PART);
          return [...claims(bob, i), ...(shares > 0n ? [requestRedeem(bob, shares)] : [])];
        });
        await accountBlock(carol, (i) => [
          ...claims(carol, i),
          ...(half ? [requestDeposit(carol, HALFWAY_DEPOSIT)] : []),
        ]);
      }
      o.onProgress?.(k, n);
    }
    // the arbitrage's requests of the last pass: filled at one more price round (the last prices
    // pushed again a second later), claimed and their pool legs done, so nothing is left open
    for (let round = 0; openTrades.size > 0 && round < 3; round++) {
      time += 1n;
      keeperTx.time = time;
      pushPrices({ from: admin.address, time }, n);
      fillDesks(keeperTx);
      await b.mine(time, true);
      await arbitrage(true);
    }
    await b.checkReceipts();
    symbols.forEach((_, i) => valueAccrual(i, time));
    const finalChecks = await compareNavs(chainTokens, engineTokens, symbols, time, mismatches, true);
    await compareDesks(sys.usdt, chainTokens, chainDesks, e, engineTokens, symbols, time, mismatches);
    const fees = await chainFees(sys, chainTokens, engineTokens, e, symbols, firstBlock, time);
    const chainId = (await provider.getNetwork()).chainId;
    return buildReport({
      network: o.network,
      chainId,
      description: o.description,
      path,
      start,
      end: time,
      symbols,
      engineTokens,
      navStart,
      valueStart,
      finalChecks,
      mismatches,
      triggers,
      skipped,
      skippedWhy,
      fees,
      managementValue,
      arbitrage: {
        perToken: arbStats,
        arbitrageurProfit: e.world.usdt.balanceOf(arbitrageur.address) - arbUsdtStart,
        arbitrageurProfitChain: (await sys.usdt.balanceOf(arbitrageur.address)) - ARB_FUNDS,
      },
      recorded,
      blocks: b.blocks,
      depletions,
      redeemed,
      deskFills: fills,
      netting,
      arbRedeemed,
      settled: engineTokens.map((et) =>
        et.state() === TokenState.Settled
          ? { assets: et.st.settledAssets, supply: et.st.settledSupply }
          : undefined,
      ),
      requestedStart: o.start,
      wallSeconds: (Date.now() - ctx.wallStart) / 1000,
      cpuSeconds: cpuSecondsSince(ctx.cpuStart),
    });
  } finally {
    await provider.send("evm_setAutomine", [true]);
  }
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

/** The market of an engine token, by name. */
function engineTokenMarket(et: EngineToken): MarketName {
  return demoMarketOf(et.market, et.address);
}

/**
 * Chain NAV, total assets and rebalanceNeeded() (at the latest block) against the engine's at that
 * block's time, per token; `exact`: also the value per token with 18 decimals (total assets over
 * supply, what nav() rounds to 6).
 */
async function compareNavs(
  chain: LeveragedToken[],
  engine: EngineToken[],
  symbols: string[],
  time: bigint,
  mismatches: NavCheck[],
  exact = false,
): Promise<NavCheck[]> {
  // every token's reads sent at once (the node answers them in turn, without a round trip each)
  const reads = await Promise.all(
    chain.map((t) =>
      Promise.all([
        t.nav(),
        t.totalAssets(),
        t.rebalanceNeeded(),
        exact ? readTrueNav(t, rawRpcOf(t.runner)).then((x) => x.perToken) : undefined,
      ]),
    ),
  );
  const out: NavCheck[] = [];
  for (let i = 0; i < chain.length; i++) {
    const [nav, chainAssets, [, chainReason], chainExact] = reads[i]!;
    const c: NavCheck = { time: Number(time), symbol: symbols[i]!, chain: nav, engine: engine[i]!.nav(time) };
    if (exact) {
      c.chainExact = chainExact;
      c.engineExact = enginePerToken(engine[i]!, time);
    }
    out.push(c);
    if (c.chain !== c.engine || c.chainExact !== c.engineExact) mismatches.push(c);
    // nav() rounds a decayed token's value to 0: its total assets must agree to the unit too
    const engineAssets = engine[i]!.totalAssets(time);
    if (chainAssets !== engineAssets)
      mismatches.push({
        time: c.time,
        symbol: `${c.symbol} totalAssets`,
        chain: chainAssets,
        engine: engineAssets,
      });
    // after the keeper's block nothing may be left to rebalance on chain that the engine missed
    const engineReason = BigInt(engine[i]!.rebalanceNeeded(time).reason);
    if (chainReason !== engineReason) {
      mismatches.push({
        time: c.time,
        symbol: `${c.symbol} rebalanceNeeded reason`,
        chain: chainReason,
        engine: engineReason,
      });
    }
  }
  return out;
}

/** Each desk's USDT and shares (what it owes its requesters) on chain against the engine's desk. */
async function compareDesks(
  usdt: MockUSDT,
  chain: LeveragedToken[],
  desks: ForwardDesk[],
  e: EngineSystem,
  engine: EngineToken[],
  symbols: string[],
  time: bigint,
  mismatches: NavCheck[],
): Promise<void> {
  const reads = await Promise.all(
    desks.map(async (d, i) => {
      const desk = await d.getAddress();
      return Promise.all([usdt.balanceOf(desk), chain[i]!.balanceOf(desk), desk]);
    }),
  );
  for (let i = 0; i < desks.length; i++) {
    const [chainUsdt, chainShares, desk] = reads[i]!;
    const pairs: [string, bigint, bigint][] = [
      [`${symbols[i]} desk USDT`, chainUsdt, e.world.usdt.balanceOf(desk)],
      [`${symbols[i]} desk shares`, chainShares, engine[i]!.balanceOf(desk)],
    ];
    for (const [symbol, c, en] of pairs)
      if (c !== en) mismatches.push({ time: Number(time), symbol, chain: c, engine: en });
  }
}

/** Fees each token paid, from the chain's event logs of the run (and funding still owed at the end). */
async function chainFees(
  sys: Awaited<ReturnType<typeof deploySystem>>,
  chain: LeveragedToken[],
  engine: EngineToken[],
  e: EngineSystem,
  symbols: string[],
  fromBlock: number,
  end: bigint,
): Promise<ChainFees[]> {
  const out: ChainFees[] = [];
  for (let i = 0; i < chain.length; i++) {
    const t = chain[i]!;
    const address = await t.getAddress();
    const market = engine[i]!.market;
    const fee: ChainFees = {
      symbol: symbols[i]!,
      managementShares: 0n,
      mintRedeemShares: 0n,
      tradingUsdt: 0n,
      fundingUsdt: 0n,
      bountyUsdt: 0n,
    };
    for (const ev of await t.queryFilter(t.filters.ManagementFeeAccrued(), fromBlock))
      fee.managementShares += ev.args.shares;
    // a mint, a redeem or a rebalance reports the management fee it accrued in its own event
    for (const ev of await t.queryFilter(t.filters.PositionResized(), fromBlock)) {
      fee.mintRedeemShares += ev.args.feeShares;
      fee.managementShares += ev.args.managementFeeShares;
    }
    for (const ev of await t.queryFilter(t.filters.Rebalanced(), fromBlock)) {
      fee.bountyUsdt += ev.args.bounty;
      fee.managementShares += ev.args.managementFeeShares;
    }
    const traded = await sys.vault.queryFilter(sys.vault.filters.Traded(market, address), fromBlock);
    for (const ev of traded) {
      fee.tradingUsdt += ev.args.cost;
      fee.fundingUsdt += ev.args.fundingPaid;
    }
    // funding accrued since the last trade, not yet settled: what the position owes now
    fee.fundingUsdt += e.vault.fundingOwed(market, address, end);
    // pending management fee shares not yet accrued by an explicit call are in the supply already
    fee.managementShares += engine[i]!.supplyNow(end) - engine[i]!.totalSupply();
    out.push(fee);
  }
  return out;
}
