// The chain against the exact engine (src/engine): every transaction of the run, from the deployment
// on, replayed in the engine at its block's time (price pushes, the desks' requests, fills, claims and
// cancels, the token's own mints and redeems, rebalances, fee accruals, and the token transfers that
// swaps make), each desk call's events and each mint's and redeem's result compared with the chain's,
// and at the end every token's NAV, and every desk's USDT and shares, on chain against the engine's.
import { Interface, type JsonRpcProvider, toQuantity } from "ethers";
import type { AddressBook } from "../chain/addressBook.ts";
import { EXCHANGE, MARKETS, STANDARD_TOKENS, type MarketName } from "../common/params.ts";
import { ForwardDesk as EngineDesk } from "../engine/desk.ts";
import type { RevertArg } from "../engine/errors.ts";
import { EngineSystem, type SystemDeployment } from "../engine/system.ts";
import { isEngineRevert } from "../engine/index.ts";
import type { LeveragedToken as EngineToken } from "../engine/token.ts";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockUSDT__factory } from "../../types/ethers-contracts/factories/mocks/MockUSDT__factory.ts";
import { LeveragedTokenFactory__factory } from "../../types/ethers-contracts/factories/LeveragedTokenFactory__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";

export interface EngineCheck {
  /** Transactions replayed in the engine (to a desk, a token or a feed, or moving a token's shares). */
  replayed: number;
  /** Transactions that reverted on chain (not replayed). */
  revertedOnChain: number;
  tokens: { symbol: string; chainNav: string; engineNav: string; equal: boolean }[];
  mismatches: string[];
}

const ZERO = "0x0000000000000000000000000000000000000000";
const TOKEN = new Interface(LeveragedToken__factory.abi);
const DESK = new Interface(ForwardDesk__factory.abi);
const FEED = new Interface(MockPriceFeed__factory.abi);
const USDT_EVENTS = new Interface(MockUSDT__factory.abi);
const APPROVAL = USDT_EVENTS.getEvent("Approval")!.topicHash;
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

/** A token's desk in the engine, by the desk's address. */
interface ReplayDesk {
  symbol: string;
  desk: EngineDesk;
}

/** The engine's copy of the deployed system, from the deployment's own events and block times, with
 * a twin of every token's desk (its fill rules read from the desk). */
async function engineOf(
  provider: JsonRpcProvider,
  book: AddressBook,
): Promise<{ engine: EngineSystem; desks: Map<string, ReplayDesk> }> {
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
    const desk = book.desks?.[symbol];
    if (desk === undefined) throw new Error(`the address book has no desk for ${symbol}: redeploy`);
    tokens.push({
      params,
      address,
      desk,
      deployTime: await time(event.blockNumber),
      treasury,
      admin,
      keeper: admin,
    });
  }
  const engine = new EngineSystem({
    usdt: book.usdt,
    vault: book.perpVault,
    admin,
    markets,
    poolLiquidity: EXCHANGE.poolLiquidity,
    tokens,
  });
  const desks = new Map<string, ReplayDesk>();
  for (const [symbol, address] of Object.entries(book.desks ?? {})) {
    const chain = ForwardDesk__factory.connect(address, provider);
    const [fillDelay, fillBounty] = await Promise.all([chain.fillDelay(), chain.fillBounty()]);
    const desk = new EngineDesk(engine.world, engine.vault, engine.token(symbol), {
      address,
      fillDelay,
      fillBounty,
    });
    desks.set(address.toLowerCase(), { symbol, desk });
  }
  return { engine, desks };
}

export async function engineReplay(
  provider: JsonRpcProvider,
  book: AddressBook,
  toBlock: number,
): Promise<EngineCheck> {
  const { engine, desks } = await engineOf(provider, book);
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
      const desk = desks.get(to);
      if (receipt === undefined || BigInt(receipt.status) !== 1n) {
        if (direct !== undefined || feed !== undefined || desk !== undefined) check.revertedOnChain++;
        continue;
      }
      try {
        if (desk !== undefined) {
          fund(engine, tx.from, funded);
          replayDeskCall(engine, desk, tx, receipt, time);
          check.replayed++;
        } else if (feed !== undefined) {
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
  // every desk holds what it owes its requesters: the USDT and the shares, as in the engine
  const usdt = MockUSDT__factory.connect(book.usdt, provider);
  for (const [address, { symbol, desk }] of desks) {
    const shares = LeveragedToken__factory.connect(book.tokens[symbol]!, provider);
    const [chainUsdt, chainShares] = await Promise.all([
      usdt.balanceOf(address, { blockTag: toBlock }),
      shares.balanceOf(address, { blockTag: toBlock }),
    ]);
    const engineUsdt = engine.world.usdt.balanceOf(address);
    const engineShares = desk.token.balanceOf(address);
    if (chainUsdt !== engineUsdt)
      check.mismatches.push(
        `${symbol}'s desk holds ${chainUsdt} USDT units on chain, ${engineUsdt} in the engine`,
      );
    if (chainShares !== engineShares)
      check.mismatches.push(
        `${symbol}'s desk holds ${chainShares} shares on chain, ${engineShares} in the engine`,
      );
  }
  return check;
}

/** A caller's first call: the engine's USDT is not what is compared (every caller holds plenty and
 * lets every token and desk take its USDT, and every desk its shares). */
function fund(engine: EngineSystem, from: string, funded: Set<string>): void {
  if (funded.has(from.toLowerCase())) return;
  funded.add(from.toLowerCase());
  engine.world.usdt.mint(from, 10n ** 30n);
  for (const token of engine.tokens.values()) {
    engine.world.usdt.approve(from, token.address, MAX);
    if (token.desk !== ZERO) {
      engine.world.usdt.approve(from, token.desk, MAX);
      token.shares.approve(from, token.desk, MAX);
    }
  }
}

/** Whether `receipt` holds USDT's Approval of `desk` by `owner` (a permit that went through). */
function permitApproved(engine: EngineSystem, desk: string, owner: string, receipt: RawReceipt): boolean {
  const topic = (address: string) => "0x" + address.toLowerCase().slice(2).padStart(64, "0");
  return receipt.logs.some(
    (l) =>
      l.address.toLowerCase() === engine.world.usdt.address.toLowerCase() &&
      l.topics[0] === APPROVAL &&
      l.topics[1] === topic(owner) &&
      l.topics[2] === topic(desk),
  );
}

/** An event's arguments as comparable text (addresses in lower case). */
const argsText = (args: readonly unknown[]): string =>
  args.map((a) => (typeof a === "string" ? a.toLowerCase() : String(a))).join(",");

/**
 * Replays one successful call to a desk in the engine's desk; the desk's events on chain (requests,
 * fills with their amounts, claims, cancels) must be the engine's, in order, argument for argument.
 */
function replayDeskCall(
  engine: EngineSystem,
  d: ReplayDesk,
  tx: RawTx,
  receipt: RawReceipt,
  time: bigint,
): void {
  const call = DESK.parseTransaction({ data: tx.input });
  if (call === null) throw new Error(`an unknown call to ${d.symbol}'s desk`);
  const c = { from: tx.from, time };
  const a = call.args as unknown as (bigint & string & boolean)[];
  engine.world.log.clear(); // only this call's events are read: the log stays small over a long soak
  const mark = engine.world.log.events.length;
  const desk = d.desk;
  switch (call.signature) {
    case "requestDeposit(uint256,address,address)":
      desk.requestDeposit(c, a[0]!, a[1]!, a[2]!);
      break;
    case "requestDepositWithPermit(uint256,address,uint256,uint8,bytes32,bytes32)":
      // the permit went through when USDT logged the caller's approval of the desk in this transaction
      // (one that someone sent first did not, and the allowance it left paid for the request)
      desk.requestDepositWithPermit(c, a[0]!, a[1]!, permitApproved(engine, desk.address, tx.from, receipt));
      break;
    case "requestRedeem(uint256,address,address)":
      desk.requestRedeem(c, a[0]!, a[1]!, a[2]!);
      break;
    case "deposit(uint256,address)":
    case "deposit(uint256,address,address)":
      desk.deposit(c, a[0]!, a[1]!, a[2] ?? tx.from);
      break;
    case "mint(uint256,address)":
    case "mint(uint256,address,address)":
      desk.mint(c, a[0]!, a[1]!, a[2] ?? tx.from);
      break;
    case "redeem(uint256,address,address)":
      desk.redeem(c, a[0]!, a[1]!, a[2]!);
      break;
    case "withdraw(uint256,address,address)":
      desk.withdraw(c, a[0]!, a[1]!, a[2]!);
      break;
    case "cancelDepositRequest(address)":
      desk.cancelDepositRequest(c, a[0]!);
      break;
    case "cancelRedeemRequest(address)":
      desk.cancelRedeemRequest(c, a[0]!);
      break;
    case "setOperator(address,bool)":
      desk.setOperator(c, a[0]!, a[1]!);
      break;
    case "fill()":
      desk.fill(c);
      break;
    default:
      throw new Error(`${d.symbol}'s desk.${call.signature} is not replayed by the soak`);
  }
  const mine = engine.world.log
    .since(mark)
    .filter((e) => e.address === desk.address)
    .map((e) => `${e.name}(${argsText(e.args as RevertArg[])})`);
  const chain: string[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== desk.address) continue;
    const parsed = DESK.parseLog(log);
    if (parsed !== null) chain.push(`${parsed.name}(${argsText(parsed.args.toArray())})`);
  }
  if (mine.join(" ") !== chain.join(" "))
    throw new Error(
      `${d.symbol}'s desk.${call.signature}: the engine emitted ${mine.join(" ") || "nothing"}, the chain ${chain.join(" ") || "nothing"}`,
    );
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
  fund(engine, tx.from, funded);
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
    // only the desk deposits (inside its fills); holders call the token for a settled payout
    case "redeem(uint256,address,address)":
      same("assets", t.token.redeem(c, a[0]!, a[1]!, a[2]!), event("Withdraw", "assets"));
      return true;
    case "withdraw(uint256,address,address)":
      same("shares", t.token.withdraw(c, a[0]!, a[1]!, a[2]!), event("Withdraw", "shares"));
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
    case "grantRole(bytes32,address)":
    case "revokeRole(bytes32,address)": {
      // the engine has no entry point for roles: its token's role sets follow the chain's calls (the
      // deployment lends the admin KEEPER_ROLE for the pools' seed fills, then gives it to the keeper)
      const role = String(a[0]).toLowerCase();
      const holders = t.token.st.roles.get(role) ?? new Set<string>();
      if (call.name === "grantRole") holders.add(String(a[1]).toLowerCase());
      else holders.delete(String(a[1]).toLowerCase());
      t.token.st.roles.set(role, holders);
      return true;
    }
    case "approve(address,uint256)":
      return false;
    default:
      throw new Error(`${t.symbol}.${call.signature} is not replayed by the soak`);
  }
}
