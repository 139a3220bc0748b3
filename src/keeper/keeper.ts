// The keeper: watches every token of an address book, fills its ForwardDesk's waiting requests when
// fillNeeded() says so (before anything else for the token), rebalances when rebalanceNeeded() says so,
// accrues the management fee on a schedule, settles delisted (or depleted) tokens and pays their
// holders, and settles a losing token's loss into the exchange's pool when the pool is short of
// what winners are owed. One nonce manager for all its transactions, gas limits from estimates, retries with
// backoff while the RPC is away, and idempotent when another keeper acted first (it re-checks
// right before sending and treats "already done" reverts as a no-op).
import {
  formatUnits,
  ZeroAddress,
  NonceManager,
  type ContractTransactionResponse,
  type Provider,
  type Signer,
  type TransactionReceipt,
  type TransactionRequest,
  type TransactionResponse,
} from "ethers";
import type { ForwardDesk } from "../../types/ethers-contracts/ForwardDesk.sol/ForwardDesk.ts";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { LeveragedTokenFactory__factory } from "../../types/ethers-contracts/factories/LeveragedTokenFactory__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import type { AddressBook } from "../chain/addressBook.ts";
import { valueDown } from "../engine/math.ts";
import {
  batches,
  decide,
  decideFill,
  formatLeverage,
  REASON_NAMES,
  STATE_NAMES,
  TokenState,
  type Action,
} from "./decide.ts";
import { gasLimitFrom, mintRedeemGasLimit } from "../chain/gas.ts";
import { HolderIndex } from "./holders.ts";
import { describe, revertName } from "../common/revert.ts";
import type { Logger } from "../common/log.ts";
import { backoffMs, isTransient, sleep } from "../common/retry.ts";

export interface KeeperOptions {
  /** Poll interval (ms): each poll looks at the latest block and acts when it is new. */
  intervalMs: number;
  /** One pass over every token, then return. */
  once: boolean;
  /** Decide and log, never send. */
  dryRun: boolean;
  /** Management fee accrual schedule, seconds of chain time since the last accrual (0 = never). */
  feeIntervalSeconds: number;
  /** Holders paid per settleHolders transaction. */
  holderBatch: number;
  /** Only these symbols (default: every token in the address book). */
  symbols?: string[];
  /** Longest wait between attempts while the RPC is unreachable. */
  maxBackoffMs: number;
  /** With `once`: attempts before giving up on an unreachable RPC. */
  onceAttempts: number;
  /** Re-evaluate at least this often even without a new block. */
  forceEveryMs: number;
  /** How long to wait for a receipt before resending with a higher fee (same nonce). */
  txTimeoutMs: number;
  /** Resends of one stuck transaction before giving up on it (the next poll decides afresh). */
  maxReplacements: number;
  /**
   * Re-read the factory's token list (`allTokens()`) every this many polls, so a token created while
   * the keeper runs (`lt admin create`) is watched from then on (0 = only at the start). Not with
   * `symbols`: an explicit list stays as given.
   */
  tokenRefreshPolls: number;
}

export const DEFAULT_KEEPER_OPTIONS: KeeperOptions = {
  intervalMs: 2000,
  once: false,
  dryRun: false,
  feeIntervalSeconds: 86_400,
  holderBatch: 50,
  maxBackoffMs: 30_000,
  onceAttempts: 5,
  forceEveryMs: 30_000,
  txTimeoutMs: 120_000,
  maxReplacements: 3,
  tokenRefreshPolls: 5,
};

/** A replacement pays at least this much more than the transaction it replaces (nodes ask 10%). */
const REPLACEMENT_BUMP_PERMILLE = 1125n;

interface Watched {
  symbol: string;
  address: string;
  token: LeveragedToken;
  /** The token's ForwardDesk, when it has one. */
  desk?: ForwardDesk;
  holders: HolderIndex;
  allPaidLogged: boolean;
  /** Whether this keeper holds KEEPER_ROLE on the token (asked once). */
  isKeeper?: boolean;
}

/** Errors that mean "someone else already did it" (or "not any more"): a no-op, not a failure. */
const ALREADY_DONE: Record<Action["kind"], string[]> = {
  fill: ["NothingToFill"],
  rebalance: ["RebalanceNotNeeded", "InvalidState"],
  settle: ["InvalidState", "DelistingNotReached"],
  settleHolders: ["InvalidState"],
  settlePnl: [],
  accrueFee: [],
};

/**
 * Why a decided action can be done already when it is sent. Not "another keeper": with one keeper, a
 * fill it sent (or anyone's mint or redeem) may have rebalanced the token first.
 */
const DONE_SINCE =
  "something since this pass read the token did it (a fill, a mint or a redeem that rebalanced first, or another keeper)";

/** A fill runs a mint and a redeem: room for the second one's ripcord rebalance too. */
const RIPCORD_MARGIN_FOR_SECOND_SIDE = 100_000n;

/** rebalanceNeeded() reason from which anyone may rebalance (for the bounty). */
const REASON_RIPCORD = 3;

export interface TickSummary {
  block: number;
  evaluated: boolean;
  sent: number;
  errors: number;
}

export class Keeper {
  readonly options: KeeperOptions;
  /** A NonceManager over a private key, or a node account (whose node hands out the nonces). */
  private readonly signer: Signer;
  private readonly watched: Watched[];
  private readonly startBlock: number;
  /** Polls since the start (the token list is re-read every `tokenRefreshPolls`). */
  private polls = 0;
  private readonly abort = new AbortController();
  private stopping = false;
  /**
   * Token errors met since the start, whether the pass went on past them or not (a stale price that
   * blocked a rebalance or a fill while the fee was still accrued counts): a `--once` run with any
   * exits non-zero.
   */
  errorCount = 0;
  /** The first of those errors, by token (at most 20 kept), for a `--once` run's closing sentence. */
  readonly errorsMet: { token: string; message: string }[] = [];
  private last: { number: number; hash: string; at: number } | undefined;
  private readonly lastError = new Map<string, { message: string; at: number }>();
  /** Tokens whose error was reported (or held back) in the current tick: their memory stays. */
  private readonly erredThisTick = new Set<string>();
  private address = "";
  private afterOutage = false;
  private readonly provider: Provider;
  private readonly book: AddressBook;
  private readonly log: Logger;

  constructor(
    provider: Provider,
    signer: Signer,
    book: AddressBook,
    log: Logger,
    options: Partial<KeeperOptions> = {},
  ) {
    this.provider = provider;
    this.book = book;
    this.log = log;
    this.options = { ...DEFAULT_KEEPER_OPTIONS, ...options };
    this.signer = signer;
    const symbols = this.options.symbols ?? Object.keys(book.tokens);
    this.startBlock = typeof book.startBlock === "number" ? book.startBlock : 0;
    this.watched = symbols.map((symbol) => {
      const address = book.tokens[symbol];
      if (address === undefined) {
        throw new Error(
          `token ${symbol} is not in the address book (known: ${Object.keys(book.tokens).join(", ")})`,
        );
      }
      return this.watch(symbol, address, book.desks?.[symbol]);
    });
  }

  /** What the keeper keeps per token: the contracts, the holder index. */
  private watch(symbol: string, address: string, desk: string | undefined): Watched {
    return {
      symbol,
      address,
      token: LeveragedToken__factory.connect(address, this.signer),
      ...(desk === undefined ? {} : { desk: ForwardDesk__factory.connect(desk, this.signer) }),
      holders: new HolderIndex(address, this.startBlock, undefined, desk === undefined ? [] : [desk]),
      allPaidLogged: false,
    };
  }

  /** The symbols watched now (the start's list and every token added since). */
  get symbols(): string[] {
    return this.watched.map((w) => w.symbol);
  }

  /**
   * Reads the factory's `allTokens()` and starts watching every token it lists that is not watched
   * yet (with its desk, when it has one), logging `token-added`; returns how many were added. Does
   * nothing when the keeper was given an explicit list of symbols.
   */
  async refreshTokens(): Promise<number> {
    if (this.options.symbols !== undefined) return 0;
    const factory = LeveragedTokenFactory__factory.connect(this.book.factory, this.provider);
    const addresses = await factory.allTokens();
    const known = new Set(this.watched.map((w) => w.address.toLowerCase()));
    let added = 0;
    for (const address of addresses) {
      if (known.has(address.toLowerCase())) continue;
      const token = LeveragedToken__factory.connect(address, this.provider);
      const [symbol, desk] = await Promise.all([token.symbol(), token.desk()]);
      const deskAddress = desk === ZeroAddress ? undefined : desk;
      this.watched.push(this.watch(symbol, address, deskAddress));
      known.add(address.toLowerCase());
      added++;
      this.log("token-added", { token: symbol, address, desk: deskAddress ?? null });
    }
    return added;
  }

  /** Ask the loop to stop after the current tick. */
  stop(): void {
    this.stopping = true;
    this.abort.abort();
  }

  /** Polls until stopped (or one pass with `once`); never throws for RPC outages while looping. */
  async run(): Promise<void> {
    const o = this.options;
    this.address = await this.signer.getAddress();
    this.log("started", {
      keeper: this.address,
      chainId: this.book.chainId,
      tokens: this.watched.map((w) => w.symbol),
      intervalMs: o.intervalMs,
      dryRun: o.dryRun,
      once: o.once,
    });
    let attempt = 0;
    let downSince: number | undefined;
    while (!this.stopping) {
      try {
        await this.tick();
        if (downSince !== undefined) {
          this.log("rpc-recovered", { downMs: Date.now() - downSince });
          downSince = undefined;
        }
        attempt = 0;
        if (o.once) break;
        await sleep(o.intervalMs, this.abort.signal);
      } catch (e) {
        if (!isTransient(e)) {
          // not the RPC: report and keep going (a keeper must not die on one bad answer)
          this.log("error", { message: describe(e) });
          if (o.once) throw e;
          await sleep(o.intervalMs, this.abort.signal);
          continue;
        }
        this.resetNonce();
        this.afterOutage = true;
        if (downSince === undefined) {
          downSince = Date.now();
          this.log("rpc-unavailable", { message: describe(e) });
        }
        if (o.once && attempt + 1 >= o.onceAttempts) {
          throw new Error(`the RPC is unreachable after ${attempt + 1} attempts: ${describe(e)}`);
        }
        const delay = backoffMs(attempt++, o.intervalMs, o.maxBackoffMs);
        this.log("retrying", { attempt, delayMs: delay });
        await sleep(delay, this.abort.signal);
      }
    }
    this.log("stopped", { keeper: this.address });
  }

  /** One pass: look at the latest block; when it is new, decide and act for every token. */
  async tick(): Promise<TickSummary> {
    this.polls++;
    const every = this.options.tokenRefreshPolls;
    if (every > 0 && this.polls > 1 && (this.polls - 1) % every === 0) await this.refreshTokens();
    const block = await this.provider.getBlock("latest");
    if (block === null || block.hash === null) throw new Error("the node returned no latest block");
    const now = Date.now();
    const previous = this.last;
    if (previous !== undefined && (await this.chainWasReset(previous, block.number, block.hash))) {
      this.log("chain-reset", { block: block.number, previousBlock: previous.number });
      for (const w of this.watched) {
        w.holders.reset();
        w.allPaidLogged = false;
      }
      this.resetNonce();
    }
    const fresh =
      previous === undefined ||
      block.number !== previous.number ||
      block.hash !== previous.hash ||
      now - previous.at >= this.options.forceEveryMs;
    if (!fresh) return { block: block.number, evaluated: false, sent: 0, errors: 0 };
    this.last = { number: block.number, hash: block.hash, at: now };
    const summary: TickSummary = { block: block.number, evaluated: true, sent: 0, errors: 0 };
    this.erredThisTick.clear();
    for (const w of this.watched) {
      if (this.stopping && !this.options.once) break;
      try {
        summary.sent += await this.handle(w, block.number, block.timestamp);
        // a clean pass forgets the last error (so its return is reported at once); a pass that met
        // one it handled (a stale price, with the fee still accrued) keeps it, or it would flood
        if (!this.erredThisTick.has(w.symbol)) this.lastError.delete(w.symbol);
      } catch (e) {
        if (isTransient(e)) throw e;
        summary.errors++;
        this.reportError(w, e);
      }
    }
    return summary;
  }

  private async handle(w: Watched, blockNumber: number, now: number): Promise<number> {
    // the desk's fill first: the token's own action then sees the book the fill left
    const filled = w.desk === undefined ? 0 : await this.maybeFill(w, w.desk, now);
    return filled + (await this.act(w, blockNumber, now));
  }

  /** Fills the desk when fillNeeded() says so and this keeper may (KEEPER_ROLE, or the fill is late). */
  private async maybeFill(w: Watched, desk: ForwardDesk, now: number): Promise<number> {
    let needed: boolean;
    let lateAt: bigint;
    try {
      [needed, lateAt] = await desk.fillNeeded();
    } catch (e) {
      if (isTransient(e) || revertName(e) === undefined) throw e;
      this.reportError(w, e);
      return 0;
    }
    if (!needed) return 0;
    const isKeeper = now >= Number(lateAt) || (await this.holdsKeeperRole(w));
    if (!decideFill({ needed, lateAt: Number(lateAt), now, isKeeper })) return 0;
    try {
      return await this.fill(w, desk);
    } catch (e) {
      // e.g. a stale price: report it, and still do the token's own action (the fee accrual)
      if (isTransient(e) || revertName(e) === undefined) throw e;
      this.reportError(w, e);
      return 0;
    }
  }

  /** One fill of every request placed before the current price round, logged with the batch's numbers. */
  private async fill(w: Watched, desk: ForwardDesk): Promise<number> {
    const base = { token: w.symbol };
    const receipt = await this.send(
      w,
      "fill",
      base,
      (o) => desk.fill(o),
      () => desk.fill.estimateGas(),
      // the fill mints and redeems through the token: either may rebalance first when one is due
      (gas) => mintRedeemGasLimit(gas) + RIPCORD_MARGIN_FOR_SECOND_SIDE,
    );
    if (receipt === undefined) return 0;
    const deskAddress = (await desk.getAddress()).toLowerCase();
    const tokenAddress = (await w.token.getAddress()).toLowerCase();
    const fields: Record<string, unknown> = { ...base };
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() === tokenAddress) {
        // a due rebalance the fill's mint or redeem ran first, in the fill's own trade when joined
        const t = w.token.interface.parseLog(log);
        if (t?.name === "Rebalanced") {
          fields.rebalanced = REASON_NAMES[Number(t.args.reason)] ?? String(t.args.reason);
          fields.leverageAfter = formatLeverage(t.args.leverageAfter as bigint);
        }
        if (t?.name === "TradesJoined") fields.joinedSaving = formatUnits(t.args.saved as bigint, 6);
        continue;
      }
      if (log.address.toLowerCase() !== deskAddress) continue;
      const parsed = desk.interface.parseLog(log);
      if (parsed?.name !== "Filled") continue;
      const a = parsed.args;
      fields.batch = a.batch as bigint;
      fields.firstEpoch = a.firstEpoch as bigint;
      fields.round = a.round as bigint;
      fields.usdtIn = formatUnits(a.assetsIn as bigint, 6);
      fields.sharesOut = formatUnits(a.sharesOut as bigint, 18);
      fields.sharesIn = formatUnits(a.sharesIn as bigint, 18);
      fields.usdtOut = formatUnits(a.assetsOut as bigint, 6);
      fields.depositRefused = a.depositRefused as boolean;
      fields.redeemRefused = a.redeemRefused as boolean;
      fields.bounty = formatUnits(a.bounty as bigint, 6);
    }
    this.log("filled", { ...fields, ...receiptFields(receipt) });
    return 1;
  }

  private async act(w: Watched, blockNumber: number, now: number): Promise<number> {
    const status = await w.token.status();
    const state = Number(status.state);
    const delistingTime = state === TokenState.Delisting ? Number(await w.token.delistingTime()) : 0;
    const settleDue =
      state === TokenState.Depleted || (state === TokenState.Delisting && now >= delistingTime);
    const live = (state === TokenState.Active || state === TokenState.Delisting) && !settleDue;
    let [needed, reason] = [false, 0n];
    if (live) {
      try {
        [needed, reason] = await w.token.rebalanceNeeded();
      } catch (e) {
        // e.g. a stale feed: report it, and still do what needs no price (the fee accrual)
        if (isTransient(e) || revertName(e) === undefined) throw e;
        this.reportError(w, e);
      }
    }
    const supply = live ? await w.token.totalSupply() : 0n;
    const pool = live ? await this.poolCover(w) : { poolShort: false, atLoss: false };
    const action = decide(
      {
        state,
        needed,
        reason: Number(reason),
        supply,
        lastFeeAccrual: Number(status.lastFeeAccrual),
        delistingTime,
        now,
        ...pool,
      },
      { feeIntervalSeconds: this.options.feeIntervalSeconds },
    );
    if (action === undefined) return 0;
    switch (action.kind) {
      case "fill":
        return 0; // decide() never picks it: handle() fills first
      case "rebalance":
        if (action.reason < REASON_RIPCORD && !(await this.holdsKeeperRole(w))) return 0;
        return this.rebalance(w);
      case "accrueFee":
        return this.accrueFee(w, action.elapsed);
      case "settle": {
        const sent = await this.settle(w, state);
        if (sent === 0 || this.options.dryRun) return sent;
        return sent + (await this.payHolders(w, await this.provider.getBlockNumber()));
      }
      case "settleHolders":
        return this.payHolders(w, blockNumber);
      case "settlePnl":
        return this.settlePnl(w);
    }
  }

  /** Whether the exchange's pool is short of what winners are owed, and this token's position at a loss. */
  private async poolCover(w: Watched): Promise<{ poolShort: boolean; atLoss: boolean }> {
    const vault = MockPerpVault__factory.connect(await w.token.vault(), this.provider);
    try {
      const [cash, , reserved] = await vault.liquidity();
      if (cash >= reserved) return { poolShort: false, atLoss: false };
      const market = await w.token.market();
      const [[size, openCost, margin], price] = await Promise.all([
        vault.positionOf(market, w.address),
        vault.markPrice(market),
      ]);
      return { poolShort: true, atLoss: margin > 0n && openCost > valueDown(size, price) };
    } catch (e) {
      if (isTransient(e) || revertName(e) === undefined) throw e;
      return { poolShort: false, atLoss: false }; // a stale price: nothing can trade, nothing to cover
    }
  }

  /** Moves the token's unrealized loss into the exchange's pool (its equity does not change). */
  private async settlePnl(w: Watched): Promise<number> {
    const vault = MockPerpVault__factory.connect(await w.token.vault(), this.signer);
    const market = await w.token.market();
    const receipt = await this.send(
      w,
      "settlePnl",
      { token: w.symbol },
      (o) => vault.settlePnl(market, w.address, o),
      () => vault.settlePnl.estimateGas(market, w.address),
    );
    if (receipt === undefined) return 0;
    const settled = receipt.logs
      .map((l) => vault.interface.parseLog(l))
      .find((p) => p?.name === "PnlSettled");
    this.log("pnl-settled", {
      token: w.symbol,
      amount: formatUnits(
        settled === undefined || settled === null ? 0n : (settled.args.amount as bigint),
        6,
      ),
      tx: receipt.hash,
    });
    return 1;
  }

  private async rebalance(w: Watched): Promise<number> {
    // re-check right before sending: another keeper may have acted since the snapshot
    const [needed, reason] = await w.token.rebalanceNeeded();
    const leverage = await w.token.leverage();
    if (!needed) {
      this.log("skipped", {
        token: w.symbol,
        action: "rebalance",
        why: `no longer needed when re-checked, ${DONE_SINCE}`,
      });
      return 0;
    }
    const base = {
      token: w.symbol,
      reason: REASON_NAMES[Number(reason)] ?? String(reason),
      leverage: formatLeverage(leverage),
    };
    const receipt = await this.send(
      w,
      "rebalance",
      base,
      (o) => w.token.rebalance(o),
      () => w.token.rebalance.estimateGas(),
    );
    if (receipt === undefined) return 0;
    const fields: Record<string, unknown> = { ...base };
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== w.address.toLowerCase()) continue;
      const parsed = w.token.interface.parseLog(log);
      if (parsed?.name !== "Rebalanced") continue;
      fields.reason = REASON_NAMES[Number(parsed.args.reason)] ?? String(parsed.args.reason);
      fields.leverageBefore = formatLeverage(parsed.args.leverageBefore as bigint);
      fields.leverageAfter = formatLeverage(parsed.args.leverageAfter as bigint);
      fields.sizeDelta = parsed.args.sizeDelta as bigint;
      fields.price = parsed.args.price as bigint;
      fields.cost = parsed.args.cost as bigint;
    }
    delete fields.leverage;
    this.log("rebalanced", { ...fields, ...receiptFields(receipt) });
    return 1;
  }

  private async accrueFee(w: Watched, elapsed: number): Promise<number> {
    const base = { token: w.symbol, elapsed };
    const receipt = await this.send(
      w,
      "accrueFee",
      base,
      (o) => w.token.accrueManagementFee(o),
      () => w.token.accrueManagementFee.estimateGas(),
    );
    if (receipt === undefined) return 0;
    let shares = 0n;
    for (const log of receipt.logs) {
      const parsed =
        log.address.toLowerCase() === w.address.toLowerCase() ? w.token.interface.parseLog(log) : null;
      if (parsed?.name === "ManagementFeeAccrued") shares += parsed.args.shares as bigint;
    }
    this.log("fee-accrued", { ...base, shares, ...receiptFields(receipt) });
    return 1;
  }

  private async settle(w: Watched, state: number): Promise<number> {
    const base = { token: w.symbol, from: STATE_NAMES[state] ?? String(state) };
    const receipt = await this.send(
      w,
      "settle",
      base,
      (o) => w.token.settle(o),
      () => w.token.settle.estimateGas(),
    );
    if (receipt === undefined) return 0;
    const fields: Record<string, unknown> = { ...base };
    for (const log of receipt.logs) {
      const parsed =
        log.address.toLowerCase() === w.address.toLowerCase() ? w.token.interface.parseLog(log) : null;
      if (parsed?.name === "Settled") {
        fields.assets = parsed.args.assets as bigint;
        fields.supply = parsed.args.supply as bigint;
      }
    }
    this.log("settled", { ...fields, ...receiptFields(receipt) });
    return 1;
  }

  /** Pays every holder still holding shares of a settled token, in batches. */
  private async payHolders(w: Watched, toBlock: number): Promise<number> {
    const transfers = await w.holders.update(this.provider, toBlock);
    if (w.allPaidLogged && transfers === 0) return 0; // nobody paid has received shares since
    const unpaid: string[] = [];
    for (const holder of w.holders.holders) {
      if ((await w.token.balanceOf(holder)) > 0n) unpaid.push(holder);
    }
    if (unpaid.length === 0) {
      if (!w.allPaidLogged) this.log("holders-done", { token: w.symbol, holders: w.holders.holders.size });
      w.allPaidLogged = true;
      return 0;
    }
    w.allPaidLogged = false;
    let sent = 0;
    for (const batch of batches(unpaid, this.options.holderBatch)) {
      const base = { token: w.symbol, holders: batch.length };
      const receipt = await this.send(
        w,
        "settleHolders",
        base,
        (o) => w.token.settleHolders(batch, o),
        () => w.token.settleHolders.estimateGas(batch),
      );
      if (receipt === undefined) continue;
      let paid = 0;
      let assets = 0n;
      for (const log of receipt.logs) {
        const parsed =
          log.address.toLowerCase() === w.address.toLowerCase() ? w.token.interface.parseLog(log) : null;
        if (parsed?.name === "HolderSettled") {
          paid++;
          assets += parsed.args.assets as bigint;
        }
      }
      this.log("holders-paid", { ...base, paid, assets, ...receiptFields(receipt) });
      sent++;
    }
    return sent;
  }

  /**
   * Estimates (which re-runs every check of the call at the latest state), sends with a gas limit of
   * estimate + 20%, and waits for the receipt. Returns undefined when there is nothing to send: a
   * dry run, or a revert that means another keeper acted first.
   */
  private async send(
    w: Watched,
    kind: Action["kind"],
    fields: Record<string, unknown>,
    exec: (overrides: { gasLimit: bigint }) => Promise<ContractTransactionResponse>,
    estimate: () => Promise<bigint>,
    limitOf: (estimate: bigint) => bigint = gasLimitFrom,
  ): Promise<TransactionReceipt | undefined> {
    let gas: bigint;
    try {
      gas = await estimate();
    } catch (e) {
      if (this.skippedAsDone(e, kind, fields)) return undefined;
      throw e;
    }
    const gasLimit = limitOf(gas);
    if (this.options.dryRun) {
      this.log(`would-${kind}`, { ...fields, gasEstimate: gas });
      return undefined;
    }
    let tx: ContractTransactionResponse;
    try {
      tx = await exec({ gasLimit });
    } catch (e) {
      this.resetNonce(); // the nonce may or may not be used: ask the node again next time
      if (this.skippedAsDone(e, kind, fields)) return undefined;
      throw e;
    }
    let sent: TransactionResponse = tx;
    for (let replacements = 0; ; replacements++) {
      try {
        const receipt = await sent.wait(1, this.options.txTimeoutMs);
        if (receipt === null) throw new Error(`no receipt for ${sent.hash}`);
        return receipt;
      } catch (e) {
        const mined = repricedReceipt(e);
        if (mined !== undefined) return mined; // an earlier send of this same call was mined
        if (isWaitTimeout(e)) {
          if (replacements === this.options.maxReplacements) {
            this.resetNonce();
            throw new Error(
              `${kind}: ${sent.hash} not mined after ${replacements} replacements at higher fees`,
            );
          }
          try {
            sent = await this.replace(sent, { ...fields, action: kind }, replacements + 1);
          } catch (re) {
            // e.g. "nonce too low": the one stuck was mined meanwhile
            const receipt = await this.provider.getTransactionReceipt(sent.hash);
            if (receipt?.status === 1) return receipt;
            this.resetNonce();
            throw re;
          }
          continue;
        }
        this.resetNonce();
        // mined but reverted: both keepers estimated before either was mined; not retried
        if (this.skippedAsDone(e, kind, fields, sent.hash)) return undefined;
        throw e;
      }
    }
  }

  /** Logs `skipped` and returns true when `e` is a revert that means the action was done already. */
  private skippedAsDone(
    e: unknown,
    kind: Action["kind"],
    fields: Record<string, unknown>,
    tx?: string,
  ): boolean {
    const name = revertName(e);
    if (name === undefined || !ALREADY_DONE[kind].includes(name)) return false;
    const why = `${name}: already done, ${DONE_SINCE}`;
    this.log(
      "skipped",
      tx === undefined ? { ...fields, action: kind, why } : { ...fields, action: kind, why, tx },
    );
    return true;
  }

  /**
   * Sends `stuck` again with the same nonce and a higher fee: the current fee estimate, and at least
   * 12.5% above what `stuck` offered (a node refuses a replacement that pays less than 10% more).
   * Whichever of the two is mined, the call happens once.
   */
  private async replace(
    stuck: TransactionResponse,
    fields: Record<string, unknown>,
    attempt: number,
  ): Promise<TransactionResponse> {
    const now = await this.provider.getFeeData();
    const bump = (old: bigint | null, current: bigint | null): bigint => {
      const raised = ((old ?? 0n) * REPLACEMENT_BUMP_PERMILLE + 999n) / 1000n;
      return current !== null && current > raised ? current : raised;
    };
    const request: TransactionRequest = {
      to: stuck.to,
      data: stuck.data,
      value: stuck.value,
      nonce: stuck.nonce,
      gasLimit: stuck.gasLimit,
      chainId: stuck.chainId,
    };
    if (stuck.maxFeePerGas !== null) {
      request.maxFeePerGas = bump(stuck.maxFeePerGas, now.maxFeePerGas);
      request.maxPriorityFeePerGas = bump(stuck.maxPriorityFeePerGas, now.maxPriorityFeePerGas);
    } else {
      request.gasPrice = bump(stuck.gasPrice, now.gasPrice);
    }
    // a nonce manager would hand out a fresh nonce: the replacement goes through the signer beneath it
    const signer = this.signer instanceof NonceManager ? this.signer.signer : this.signer;
    const replacement = await signer.sendTransaction(request);
    this.log("replaced", {
      ...fields,
      attempt,
      stuck: stuck.hash,
      tx: replacement.hash,
      nonce: stuck.nonce,
      maxFeePerGas: request.maxFeePerGas ?? request.gasPrice,
    });
    return replacement;
  }

  /**
   * The chain this keeper saw is gone (a restarted local node, a deep reorg): the block it last saw
   * is no longer there or has another hash. Checked every tick the head did not simply move on, and
   * after every RPC outage (a restarted node may already be past the old height).
   */
  private async chainWasReset(
    previous: { number: number; hash: string },
    number: number,
    hash: string,
  ): Promise<boolean> {
    if (number === previous.number) return hash !== previous.hash;
    if (number > previous.number && !this.afterOutage) return false;
    this.afterOutage = false;
    if (number < previous.number) return true;
    const then = await this.provider.getBlock(previous.number);
    return then === null || then.hash !== previous.hash;
  }

  /** Without KEEPER_ROLE only the ripcord (for the bounty), settlement and fees are open to us. */
  private async holdsKeeperRole(w: Watched): Promise<boolean> {
    if (w.isKeeper === undefined) {
      w.isKeeper = await w.token.hasRole(
        await w.token.KEEPER_ROLE(),
        this.address || (await this.signer.getAddress()),
      );
      if (!w.isKeeper) {
        this.log("not-keeper", {
          token: w.symbol,
          keeper: this.address,
          message:
            "no KEEPER_ROLE: band and daily rebalances are left to the token's keepers; ripcord, settlement and fees still run",
        });
      }
    }
    return w.isKeeper;
  }

  /** After a failed or uncertain send, ask the node for the nonce again. */
  private resetNonce(): void {
    if (this.signer instanceof NonceManager) this.signer.reset();
  }

  /** Logs a token's error, once per distinct message per minute (a stale feed must not flood the log). */
  private reportError(w: Watched, e: unknown): void {
    const message = describe(e, w.address);
    this.errorCount++;
    if (this.errorsMet.length < 20) this.errorsMet.push({ token: w.symbol, message });
    this.erredThisTick.add(w.symbol);
    const seen = this.lastError.get(w.symbol);
    const now = Date.now();
    if (seen !== undefined && seen.message === message && now - seen.at < 60_000) return;
    this.lastError.set(w.symbol, { message, at: now });
    this.log("error", { token: w.symbol, message });
  }
}

function receiptFields(r: TransactionReceipt): Record<string, unknown> {
  return { gasUsed: r.gasUsed, tx: r.hash, block: r.blockNumber };
}

/** ethers' "wait for transaction timeout": the transaction is neither mined nor dropped yet. */
function isWaitTimeout(e: unknown): boolean {
  return (e as { code?: unknown })?.code === "TIMEOUT";
}

/**
 * The receipt when the transaction waited on was superseded by another send of the same call with the
 * same nonce (ethers' TRANSACTION_REPLACED, reason "repriced") that succeeded.
 */
function repricedReceipt(e: unknown): TransactionReceipt | undefined {
  const err = e as { code?: unknown; reason?: unknown; receipt?: TransactionReceipt | null };
  if (err?.code !== "TRANSACTION_REPLACED" || err.reason !== "repriced") return undefined;
  return err.receipt?.status === 1 ? err.receipt : undefined;
}
