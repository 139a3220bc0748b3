// Shared fixtures and helpers for the LeveragedToken / LeveragedTokenFactory tests. Every test file
// imports the one network connection below, so networkHelpers.loadFixture deploys each fixture once
// per run and later tests start from an EVM snapshot.
//
// Previews versus execution, in the same block: `eth_call` against "latest" runs at the latest
// block's timestamp, not at the next one's, and the token's quotes depend on the time (management
// fee accrued to the second, funding accrued to the second). So every exact comparison here fixes
// the next block's timestamp with `time.setNextBlockTimestamp(t)` and then reads with
// `{ blockTag: "pending" }`: EDR evaluates a pending-block call at that timestamp on the current
// state, which is exactly the context the next transaction runs in. The transaction is then sent
// and mined at `t` (asserted by `sendAt`), so a preview and the call it predicts see the same
// state, the same price and the same second.
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";
import type { InstantDesk, LeveragedToken, MockPerpVault } from "../../types/ethers-contracts/index.js";
import { deploySystem, type System } from "../../src/chain/deploy.ts";
import { MARKETS, USDT, type MarketName } from "../../src/common/params.ts";
import { managementFeeSharesDown, type Book } from "./model.ts";

export const { ethers, networkHelpers } = await network.create();
export const { time } = networkHelpers;

export const PENDING = { blockTag: "pending" } as const;
export const DAY = 86_400;
export const MAX_UINT = 2n ** 256n - 1n;
export const DEAD = "0x000000000000000000000000000000000000dEaD";
export const KEEPER_ROLE = ethers.id("KEEPER_ROLE");
export const PAUSER_ROLE = ethers.id("PAUSER_ROLE");
export const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;

/** LeveragedToken.State */
export const State = { Active: 0n, Delisting: 1n, Settled: 2n, Depleted: 3n } as const;
/** rebalanceNeeded() reasons */
export const Reason = { None: 0n, Band: 1n, Daily: 2n, Ripcord: 3n, Depleted: 4n, Reopen: 5n } as const;

export interface Actors {
  admin: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  treasury: HardhatEthersSigner;
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner;
  attacker: HardhatEthersSigner;
  anyone: HardhatEthersSigner;
}

export interface Deployed extends Actors {
  sys: System;
  btc3l: LeveragedToken;
  btc3s: LeveragedToken;
  eth3l: LeveragedToken;
  eth3s: LeveragedToken;
}

export const FUNDS = 10_000_000n * USDT;

const instantDesks = new Map<string, InstantDesk>();

/**
 * The token's InstantDesk (contracts/mocks): the only account a token mints for, and redeems for
 * before settlement, is its desk; these tests price one deposit or redeem at a time against a preview
 * read in the same block, so they go through this pass-through desk rather than a ForwardDesk. Users
 * approve it for USDT and for their shares in the fixture.
 */
export function instant(token: LeveragedToken): InstantDesk {
  const d = instantDesks.get(String(token.target));
  if (d === undefined) throw new Error(`no InstantDesk for the token at ${String(token.target)}`);
  return d;
}

function signer(list: HardhatEthersSigner[], i: number): HardhatEthersSigner {
  const s = list[i];
  if (!s) throw new Error(`signer ${i} is missing`);
  return s;
}

/** The standard system (BTC3L, BTC3S, ETH3L, ETH3S), a separate keeper and treasury, funded users. */
export async function deployFixture(): Promise<Deployed> {
  const list = await ethers.getSigners();
  const actors: Actors = {
    admin: signer(list, 0),
    keeper: signer(list, 1),
    treasury: signer(list, 2),
    alice: signer(list, 3),
    bob: signer(list, 4),
    carol: signer(list, 5),
    attacker: signer(list, 6),
    anyone: signer(list, 7),
  };
  const sys = await deploySystem(ethers, {
    treasury: actors.treasury.address,
    keeper: actors.keeper.address,
    desk: "instant",
  });
  const tokenOf = (symbol: string): LeveragedToken => {
    const t = sys.tokens[symbol];
    if (!t) throw new Error(`${symbol} was not deployed`);
    return t;
  };
  for (const [symbol, d] of Object.entries(sys.instantDesks))
    instantDesks.set(String(tokenOf(symbol).target), d);
  const spenders = [
    await sys.vault.getAddress(),
    ...Object.values(sys.instantDesks).map((d) => String(d.target)),
  ];
  for (const s of [actors.alice, actors.bob, actors.carol, actors.attacker, actors.anyone]) {
    await sys.usdt.mint(s.address, FUNDS);
    for (const spender of spenders) await sys.usdt.connect(s).approve(spender, ethers.MaxUint256);
    for (const [symbol, d] of Object.entries(sys.instantDesks))
      await tokenOf(symbol).connect(s).approve(d.target, ethers.MaxUint256);
  }
  return {
    ...actors,
    sys,
    btc3l: tokenOf("BTC3L"),
    btc3s: tokenOf("BTC3S"),
    eth3l: tokenOf("ETH3L"),
    eth3s: tokenOf("ETH3S"),
  };
}

export const SEED = 10_000n * USDT;

/** deployFixture, then alice has minted SEED USDT of each standard token. */
export async function seededFixture(): Promise<Deployed> {
  const d = await deployFixture();
  for (const t of [d.btc3l, d.btc3s, d.eth3l, d.eth3s])
    await instant(t).connect(d.alice).deposit(SEED, d.alice.address);
  return d;
}

/** Fixes the next block's timestamp (default: one second after the latest) and returns it. */
export async function nextTimestamp(at?: number): Promise<number> {
  const t = at ?? (await time.latest()) + 1;
  await time.setNextBlockTimestamp(t);
  return t;
}

/** Sends a transaction and checks it was mined at `t`, the timestamp the previews were read at. */
export async function sendAt(
  t: number,
  tx: Promise<ContractTransactionResponse>,
): Promise<ContractTransactionResponse> {
  const response = await tx;
  const receipt = await response.wait();
  const block = receipt ? await ethers.provider.getBlock(receipt.blockNumber) : null;
  if (!block || block.timestamp !== t) {
    throw new Error(`transaction mined at ${block?.timestamp}, previews were read at ${t}`);
  }
  return response;
}

/** The book the token will see in the next block (at timestamp `t`, already fixed with nextTimestamp). */
export async function readBook(token: LeveragedToken, vault: MockPerpVault, t: number): Promise<Book> {
  const market = await token.market();
  const [totalSupply, status, fees, snap, costs, targetLeverage, isLong] = await Promise.all([
    token.totalSupply(PENDING),
    token.status(PENDING),
    token.fees(PENDING),
    vault.snapshot(market, await token.getAddress(), PENDING),
    vault.tradeCosts(market, PENDING),
    token.targetLeverage(),
    token.isLong(),
  ]);
  const accrues = totalSupply !== 0n && (status.state === State.Active || status.state === State.Delisting);
  const supply =
    totalSupply +
    (accrues
      ? managementFeeSharesDown(totalSupply, fees.managementFee, BigInt(t) - status.lastFeeAccrual)
      : 0n);
  return {
    supply,
    managementFeeShares: supply - totalSupply,
    size: snap.size,
    equity: snap.equity,
    price: snap.price,
    takerFee: costs.takerFee,
    priceImpact: costs.priceImpact,
    mintFee: fees.mintFee,
    redeemFee: fees.redeemFee,
    targetLeverage,
    isLong,
  };
}

/** Supply with the management fee accrued to the latest block, as the token's views price it. */
export async function supplyNow(token: LeveragedToken): Promise<bigint> {
  const [supply, status, fees] = await Promise.all([token.totalSupply(), token.status(), token.fees()]);
  if (supply === 0n || (status.state !== State.Active && status.state !== State.Delisting)) return supply;
  const elapsed = BigInt(await time.latest()) - status.lastFeeAccrual;
  return supply + managementFeeSharesDown(supply, fees.managementFee, elapsed);
}

/** Current oracle answer of a market's feed. */
export async function priceOf(sys: System, market: MarketName): Promise<bigint> {
  return (await sys.feeds[market].latestRoundData())[1];
}

/** Publishes a new price (8 decimals) for `market`. */
export async function setPrice(sys: System, market: MarketName, price: bigint): Promise<void> {
  await (await sys.feeds[market].updateAnswer(price)).wait();
}

/** Moves the price of `market` by `bps` basis points (negative: down), rounded down. */
export async function movePrice(sys: System, market: MarketName, bps: bigint): Promise<bigint> {
  const p = ((await priceOf(sys, market)) * (10_000n + bps)) / 10_000n;
  await setPrice(sys, market, p);
  return p;
}

/** Lets `seconds` pass (0: none) and republishes every feed's price, so nothing is stale. */
export async function advance(sys: System, seconds: number): Promise<void> {
  if (seconds > 0) await time.increase(seconds);
  for (const m of Object.keys(MARKETS) as MarketName[]) await setPrice(sys, m, await priceOf(sys, m));
}

/** Lets time pass to `hour`:00 UTC of the next day and republishes the prices. */
export async function advanceToNextDay(sys: System, secondsPastMidnight = 60): Promise<number> {
  const now = await time.latest();
  const target = now - (now % DAY) + DAY + secondsPastMidnight;
  await time.increaseTo(target);
  for (const m of Object.keys(MARKETS) as MarketName[]) await setPrice(sys, m, await priceOf(sys, m));
  return target;
}

/** Every address that ever received `token` shares, from its Transfer events. */
export async function holdersOf(token: LeveragedToken): Promise<string[]> {
  const events = await token.queryFilter(token.filters.Transfer(), 0, "latest");
  const seen = new Set<string>();
  for (const e of events) if (e.args.to !== ethers.ZeroAddress) seen.add(e.args.to);
  return [...seen];
}

/** Token equity on the exchange (may be negative), at the latest block. */
export async function equityOf(sys: System, token: LeveragedToken): Promise<bigint> {
  return sys.vault.equityOf(await token.market(), await token.getAddress());
}

/** Token position size on the exchange. */
export async function sizeOf(sys: System, token: LeveragedToken): Promise<bigint> {
  return (await sys.vault.positionOf(await token.market(), await token.getAddress())).size;
}
