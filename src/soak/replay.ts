// The chain against the exact engine (src/engine): every transaction of the run, from the deployment
// on, replayed in the engine at its block's time (price pushes, mints, redeems, rebalances, fee
// accruals, and the token transfers that swaps make), each mint's and redeem's result compared with
// the chain's event, and at the end every token's NAV on chain against the engine's.
import { Interface, type JsonRpcProvider, toQuantity } from "ethers";
import type { AddressBook } from "../chain/addressBook.ts";
import { EXCHANGE, MARKETS, STANDARD_TOKENS, type MarketName } from "../common/params.ts";
import { EngineSystem, type SystemDeployment } from "../engine/system.ts";
import { isEngineRevert } from "../engine/index.ts";
import type { LeveragedToken as EngineToken } from "../engine/token.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { LeveragedTokenFactory__factory } from "../../types/ethers-contracts/factories/LeveragedTokenFactory__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";

export interface EngineCheck {
  /** Transactions replayed in the engine (to a token or a feed, or moving a token's shares). */
  replayed: number;
  /** Transactions that reverted on chain (not replayed). */
  revertedOnChain: number;
  tokens: { symbol: string; chainNav: string; engineNav: string; equal: boolean }[];
  mismatches: string[];
}

const ZERO = "0x0000000000000000000000000000000000000000";
const TOKEN = new Interface(LeveragedToken__factory.abi);
const FEED = new Interface(MockPriceFeed__factory.abi);
const MAX = 2n ** 256n - 1n;
/** The first round id of a feed (phase 1, aggregator round 1). */
const FIRST_ROUND = (1n << 64n) | 1n;

interface RawTx {
  hash: string;
  from: string;
  to: string | null;
  input: string;
}
interface RawLog {
  address: string;
  topics: string[];
  data: string;
}
interface RawReceipt {
  transactionHash: string;
  status: string;
  logs: RawLog[];
}

/** The engine's copy of the deployed system, from the deployment's own events and block times. */
async function engineOf(provider: JsonRpcProvider, book: AddressBook): Promise<EngineSystem> {
  const time = async (block: number) => BigInt((await provider.getBlock(block))!.timestamp);
  const vault = MockPerpVault__factory.connect(book.perpVault, provider);
  const factory = LeveragedTokenFactory__factory.connect(book.factory, provider);
  const added = await vault.queryFilter(vault.filters.MarketAdded());
  const created = await factory.queryFilter(factory.filters.TokenCreated());
  const admin = (await provider.getTransaction(created[0]!.transactionHash))!.from;
  const markets: SystemDeployment["markets"] = [];
  for (const [name, feed] of Object.entries(book.feeds)) {
    const params = MARKETS[name as MarketName];
    const event = added.find((e) => e.args.market === params.id);
    if (event === undefined) throw new Error(`the exchange never listed ${name}`);
    const [, , , feedTime] = await MockPriceFeed__factory.connect(feed, provider).getRoundData(FIRST_ROUND);
    markets.push({ params, feed, feedTime, addedAt: await time(event.blockNumber) });
  }
  const tokens: SystemDeployment["tokens"] = [];
  for (const [symbol, address] of Object.entries(book.tokens)) {
    const params = STANDARD_TOKENS.find((p) => p.symbol === symbol);
    const event = created.find((e) => e.args.token.toLowerCase() === address.toLowerCase());
    if (params === undefined || event === undefined) throw new Error(`${symbol} is not a standard token`);
    const treasury = await LeveragedToken__factory.connect(address, provider).treasury({
      blockTag: event.blockNumber,
    });
    tokens.push({
      params,
      address,
      deployTime: await time(event.blockNumber),
      treasury,
      admin,
      keeper: admin,
    });
  }
  return new EngineSystem({
    usdt: book.usdt,
    vault: book.perpVault,
    admin,
    markets,
    poolLiquidity: EXCHANGE.poolLiquidity,
    tokens,
  });
}

export async function engineReplay(
  provider: JsonRpcProvider,
  book: AddressBook,
  toBlock: number,
): Promise<EngineCheck> {
  const engine = await engineOf(provider, book);
  const tokenBy = new Map<string, { symbol: string; token: EngineToken }>();
  for (const [symbol, address] of Object.entries(book.tokens))
    tokenBy.set(address.toLowerCase(), { symbol, token: engine.token(symbol) });
  const feedBy = new Map<string, MarketName>();
  for (const [market, address] of Object.entries(book.feeds))
    feedBy.set(address.toLowerCase(), market as MarketName);
  const funded = new Set<string>();
  const check: EngineCheck = { replayed: 0, revertedOnChain: 0, tokens: [], mismatches: [] };

  for (let b = 0; b <= toBlock; b++) {
    const block = (await provider.send("eth_getBlockByNumber", [toQuantity(b), true])) as {
      timestamp: string;
      transactions: RawTx[];
    };
    if (block.transactions.length === 0) continue;
    const time = BigInt(block.timestamp);
    const receipts = (await provider.send("eth_getBlockReceipts", [toQuantity(b)])) as RawReceipt[];
    const receiptOf = new Map(receipts.map((r) => [r.transactionHash, r]));
    for (const tx of block.transactions) {
      const receipt = receiptOf.get(tx.hash);
      const to = tx.to?.toLowerCase() ?? "";
      const direct = tokenBy.get(to);
      const feed = feedBy.get(to);
      if (receipt === undefined || BigInt(receipt.status) !== 1n) {
        if (direct !== undefined || feed !== undefined) check.revertedOnChain++;
        continue;
      }
      try {
        if (feed !== undefined) {
          const call = FEED.parseTransaction({ data: tx.input });
          if (call?.name === "updateAnswer") {
            engine.feed(feed).updateAnswer({ from: tx.from, time }, call.args[0] as bigint);
            check.replayed++;
          }
        } else if (direct !== undefined) {
          if (replayTokenCall(engine, direct, tx, receipt, time, funded)) check.replayed++;
        } else {
          // swaps, pool seeding: the shares they moved, as transfers
          let moved = false;
          for (const log of receipt.logs) {
            const t = tokenBy.get(log.address.toLowerCase());
            if (t === undefined) continue;
            const parsed = TOKEN.parseLog(log);
            if (parsed?.name !== "Transfer") continue;
            const [from, dest, value] = parsed.args as unknown as [string, string, bigint];
            if (from === ZERO || dest === ZERO) {
              check.mismatches.push(`${tx.hash}: ${t.symbol} minted or burnt outside a call to the token`);
              continue;
            }
            t.token.transfer({ from, time }, dest, value);
            moved = true;
          }
          if (moved) check.replayed++;
        }
      } catch (e) {
        check.mismatches.push(
          `${tx.hash} (block ${b}): ${isEngineRevert(e) ? "the engine reverted " : ""}${(e as Error).message}`,
        );
        if (check.mismatches.length > 20) return check;
      }
    }
  }

  const end = BigInt((await provider.getBlock(toBlock))!.timestamp);
  for (const [address, { symbol, token }] of tokenBy) {
    const chain = await LeveragedToken__factory.connect(address, provider).nav({ blockTag: toBlock });
    const mine = token.nav(end);
    check.tokens.push({
      symbol,
      chainNav: chain.toString(),
      engineNav: mine.toString(),
      equal: chain === mine,
    });
  }
  return check;
}

/**
 * Replays one successful call to a token in the engine; a mint's or a redeem's result must equal the
 * chain's Deposit or Withdraw event. Returns false for calls with no effect the engine models.
 */
function replayTokenCall(
  engine: EngineSystem,
  t: { symbol: string; token: EngineToken },
  tx: RawTx,
  receipt: RawReceipt,
  time: bigint,
  funded: Set<string>,
): boolean {
  const call = TOKEN.parseTransaction({ data: tx.input });
  if (call === null) throw new Error(`an unknown call to ${t.symbol}`);
  const c = { from: tx.from, time };
  const a = call.args as unknown as (bigint & string)[];
  if (!funded.has(tx.from.toLowerCase())) {
    // the engine's USDT is not what is compared: every caller holds plenty and approves every token
    funded.add(tx.from.toLowerCase());
    engine.world.usdt.mint(tx.from, 10n ** 30n);
    for (const token of engine.tokens.values()) engine.world.usdt.approve(tx.from, token.address, MAX);
  }
  const event = (name: string, field: string): bigint => {
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== t.token.address.toLowerCase()) continue;
      const parsed = TOKEN.parseLog(log);
      if (parsed?.name === name) return parsed.args.getValue(field) as bigint;
    }
    throw new Error(`${t.symbol}.${call.name}: no ${name} event on chain`);
  };
  const same = (what: string, engineValue: bigint, chainValue: bigint) => {
    if (engineValue !== chainValue)
      throw new Error(
        `${t.symbol}.${call.signature}: the engine's ${what} ${engineValue}, the chain's ${chainValue}`,
      );
  };
  switch (call.signature) {
    case "deposit(uint256,address)":
    case "deposit(uint256,address,uint256)":
      same("shares", t.token.deposit(c, a[0]!, a[1]!, a[2] ?? 0n), event("Deposit", "shares"));
      return true;
    case "mint(uint256,address)":
    case "mint(uint256,address,uint256)":
      same("assets", t.token.mint(c, a[0]!, a[1]!, a[2] ?? MAX), event("Deposit", "assets"));
      return true;
    case "redeem(uint256,address,address)":
    case "redeem(uint256,address,address,uint256)":
      same("assets", t.token.redeem(c, a[0]!, a[1]!, a[2]!, a[3] ?? 0n), event("Withdraw", "assets"));
      return true;
    case "withdraw(uint256,address,address)":
    case "withdraw(uint256,address,address,uint256)":
      same("shares", t.token.withdraw(c, a[0]!, a[1]!, a[2]!, a[3] ?? MAX), event("Withdraw", "shares"));
      return true;
    case "rebalance()":
      t.token.rebalance(c);
      return true;
    case "accrueManagementFee()":
      t.token.accrueManagementFee(c);
      return true;
    case "transfer(address,uint256)":
      t.token.transfer(c, a[0]!, a[1]!);
      return true;
    case "transferFrom(address,address,uint256)":
      t.token.transfer({ from: a[0]!, time }, a[1]!, a[2]!);
      return true;
    case "settle()":
      t.token.settle(c);
      return true;
    case "approve(address,uint256)":
    case "grantRole(bytes32,address)":
      return false;
    default:
      throw new Error(`${t.symbol}.${call.signature} is not replayed by the soak`);
  }
}
