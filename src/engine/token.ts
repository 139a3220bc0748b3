// Twin of contracts/LeveragedToken.sol: the same state (shares, status, fees, settlement), the same
// quotes (one code path for previews and execution, as in the contract), the same "least input"
// search for mint-by-shares and withdraw, and the same checks, custom errors and events, in order.
import { id } from "ethers";
import { Erc20Ledger, ZERO_ADDRESS, key } from "./erc20.ts";
import { EngineRevert } from "./errors.ts";
import type { Exchange } from "./exchange.ts";
import {
  SIZE_PRICE_TO_USDT,
  WAD,
  INITIAL_SHARES_PER_UNIT,
  UINT128_MAX,
  UINT256_MAX,
  abs,
  feeUp,
  leverageDown,
  managementFeeSharesDown,
  min,
  mulDivDown,
  mulDivUp,
  notionalUp,
  targetSizeDown,
  toAssetsDown,
  toAssetsUp,
  toSharesDown,
  tradeCostTotalUp,
  tradeRoundingDown,
} from "./math.ts";
import type { Tx, World } from "./world.ts";
import type { RebalanceRules } from "../common/params.ts";

export type { RebalanceRules };

/** ILeveragedToken.State (a const object, not an enum: Node runs this file by stripping types). */
export const TokenState = { Active: 0, Delisting: 1, Settled: 2, Depleted: 3 } as const;
export type TokenState = (typeof TokenState)[keyof typeof TokenState];

export const REASON_NONE = 0;
export const REASON_BAND = 1;
export const REASON_DAILY = 2;
export const REASON_RIPCORD = 3;
export const REASON_DEPLETED = 4;
export const REASON_REOPEN = 5;

export const MINIMUM_SHARES = 10n ** 10n;
export const DEAD = "0x000000000000000000000000000000000000dead";
export const DEFAULT_ADMIN_ROLE = "0x" + "00".repeat(32);
export const KEEPER_ROLE = id("KEEPER_ROLE");
export const PAUSER_ROLE = id("PAUSER_ROLE");
const MIN_DELISTING_NOTICE = 3n * 86400n;
const MAX_MINT_FEE = 10n ** 16n;
const MAX_REDEEM_FEE = 10n ** 16n;
const MAX_MANAGEMENT_FEE = 5n * 10n ** 16n;
const MAX_BOUNTY = 100n * 10n ** 6n;
const UINT40_MAX = (1n << 40n) - 1n;
const DAY = 86400n;

export interface TokenFees {
  mintFee: bigint;
  redeemFee: bigint;
  managementFee: bigint; // WAD per year
  rebalanceBounty: bigint; // USDT
}

export interface TokenConfig extends TokenFees, RebalanceRules {
  address: string;
  market: string; // bytes32
  supplyCap: bigint;
  treasury: string;
  admin: string;
  keeper: string;
  /** The only account that may mint, and redeem before settlement (its ForwardDesk); zero: anyone. */
  desk: string;
  /** Block timestamp of the deployment (the first management fee accrual time). */
  deployTime: bigint;
}

/** The contract's Status slot: read once and written once by every entry point. */
export interface TokenStatus {
  lastFeeAccrual: bigint;
  lastRebalance: bigint;
  state: TokenState;
  mintPaused: boolean;
  /** A supply cap below the uint128 ceiling is set: only then does a mint read the cap. */
  supplyCapped: boolean;
  /** Fee shares owed to the treasury: in the supply and its balance, minted to it lazily. */
  pendingFeeShares: bigint;
  managementFee: bigint; // WAD per year
}

/** The contract's Limits slot (read by mints and redeems). */
export interface TokenLimits {
  mintFee: bigint;
  redeemFee: bigint;
  supplyCap: bigint;
}

/** The contract's Admin slot (read off the hot paths). */
export interface TokenAdmin {
  treasury: string;
  delistingTime: bigint;
  rebalanceBounty: bigint;
}

export interface TokenStorage {
  status: TokenStatus;
  limits: TokenLimits;
  admin: TokenAdmin;
  settledAssets: bigint;
  settledSupply: bigint;
  roles: Map<string, Set<string>>; // role -> accounts
}

/** What the exchange says now and the fees that apply (the contract's Book). */
export interface Book {
  supply: bigint;
  size: bigint;
  equity: bigint;
  price: bigint;
  takerFee: bigint;
  priceImpact: bigint;
  limits: TokenLimits;
  managementFeeShares: bigint; // accrued by this call
  /** The due rebalance a mint or a redeem runs first (size and equity above are after it), not traded
   * yet: `_tradeAfterRestore` sends it with the mint's or redeem's own trade. */
  restore?: Restore;
}

/** The contract's Book fields restoreDelta and equityBefore. */
export interface Restore {
  delta: bigint;
  equityBefore: bigint;
}

/** What one trade of `sizeDelta` will leave (the contract's Quote). */
export interface Quote {
  supply: bigint;
  price: bigint;
  sizeDelta: bigint;
  cost: bigint;
  equityAfter: bigint;
}

export interface DepositQuote {
  quote: Quote;
  shares: bigint;
  feeShares: bigint;
}

export interface RedeemQuote {
  quote: Quote;
  assets: bigint;
  feeShares: bigint;
}

export interface RebalanceCheck {
  needed: boolean;
  reason: number;
}

const UINT80_MAX = (1n << 80n) - 1n;
/** Mint and redeem fees are stored in pips (1e-6 = 1e12 WAD) in the contract's status slot. */
const FEE_PIP = 10n ** 12n;

export class LeveragedToken {
  st: TokenStorage;
  readonly shares: Erc20Ledger;
  readonly address: string;
  readonly market: string;
  readonly isLong: boolean;
  readonly targetLeverage: bigint;
  readonly minLeverage: bigint;
  readonly maxLeverage: bigint;
  readonly ripcordLeverage: bigint;
  readonly rebalanceEpsilon: bigint;
  /** The immutable `desk` (lower case; never the zero address). */
  readonly desk: string;

  private readonly world: World;
  private readonly vault: Exchange;

  constructor(world: World, vault: Exchange, c: TokenConfig) {
    this.world = world;
    this.vault = vault;
    this.address = key(c.address);
    this.market = c.market;
    this.isLong = c.isLong;
    this.targetLeverage = c.targetLeverage;
    this.minLeverage = c.minLeverage;
    this.maxLeverage = c.maxLeverage;
    this.ripcordLeverage = c.ripcordLeverage;
    this.rebalanceEpsilon = c.rebalanceEpsilon;
    this.desk = key(c.desk);
    if (this.desk === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
    if (c.targetLeverage === 0n || c.targetLeverage > vault.maxLeverage()) {
      throw new EngineRevert("InvalidParameter", ["targetLeverage", c.targetLeverage]);
    }
    if (c.minLeverage === 0n || c.minLeverage >= c.targetLeverage) {
      throw new EngineRevert("InvalidParameter", ["minLeverage", c.minLeverage]);
    }
    if (c.maxLeverage <= c.targetLeverage)
      throw new EngineRevert("InvalidParameter", ["maxLeverage", c.maxLeverage]);
    if (c.ripcordLeverage < c.maxLeverage || c.ripcordLeverage > vault.maxLeverage()) {
      throw new EngineRevert("InvalidParameter", ["ripcordLeverage", c.ripcordLeverage]);
    }
    if (c.rebalanceEpsilon === 0n || c.rebalanceEpsilon >= c.maxLeverage - c.targetLeverage) {
      throw new EngineRevert("InvalidParameter", ["rebalanceEpsilon", c.rebalanceEpsilon]);
    }
    vault.market(c.market);
    const roles = new Map<string, Set<string>>([
      [DEFAULT_ADMIN_ROLE, new Set([key(c.admin)])],
      [PAUSER_ROLE, new Set([key(c.admin)])],
      [KEEPER_ROLE, new Set(key(c.keeper) === ZERO_ADDRESS ? [] : [key(c.keeper)])],
    ]);
    this.st = {
      status: {
        lastFeeAccrual: c.deployTime,
        lastRebalance: 0n,
        state: TokenState.Active,
        mintPaused: false,
        supplyCapped: c.supplyCap < UINT128_MAX,
        pendingFeeShares: 0n,
        managementFee: 0n,
      },
      limits: { mintFee: 0n, redeemFee: 0n, supplyCap: c.supplyCap },
      admin: { treasury: key(c.treasury), delistingTime: 0n, rebalanceBounty: 0n },
      settledAssets: 0n,
      settledSupply: 0n,
      roles,
    };
    this.applyFees(c);
    // the contract's _update override: the treasury's pending fee shares are minted to it before
    // it spends more than it holds
    this.shares = new Erc20Ledger(this.address, world.log, (from, value) => {
      if (from !== ZERO_ADDRESS && value > this.shares.balanceOf(from) && from === this.st.admin.treasury) {
        this.claimFees();
      }
    });
    world.register(this);
    world.register(this.shares);
  }

  /* MINT */

  /** deposit(assets, receiver): only the desk; shares minted to `receiver`. */
  deposit(tx: Tx, assets: bigint, receiver: string): bigint {
    return this.world.atomic(() => {
      if (key(receiver) === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
      if (assets === 0n) throw new EngineRevert("ZeroAmount");
      const s = this.requireMintable(tx);
      const b = this.liveBook(tx, s);
      const d = this.quoteDeposit(b, assets);
      if (d.shares === 0n) throw new EngineRevert("DepositTooSmall", [assets]);
      this.mintAndTrade(tx, s, b, d.quote, receiver, assets, d.shares, d.feeShares);
      return d.shares;
    });
  }

  /** mint(shares, receiver): never (shares are bought with a desk request). */
  mint(): never {
    throw this.useTheDesk();
  }

  /* REDEEM */

  /** redeem(shares, receiver, owner): Settled, anyone at the frozen USDT per share; before, only the desk. */
  redeem(tx: Tx, shares: bigint, receiver: string, owner: string): bigint {
    return this.world.atomic(() => {
      if (key(receiver) === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
      if (shares === 0n) throw new EngineRevert("ZeroAmount");
      const s = { ...this.st.status };
      if (s.state === TokenState.Settled) {
        const assets = this.settledAssetsOf(shares);
        this.payFromSettlement(tx, owner, receiver, shares, assets);
        return assets;
      }
      this.requireRedeemable(tx, s);
      const b = this.liveBook(tx, s);
      const r = quoteRedeem(b, shares);
      if (r.assets === 0n) throw new EngineRevert("RedeemTooSmall", [shares]);
      this.burnAndTrade(tx, s, b, r.quote, owner, receiver, shares, r.assets, r.feeShares);
      return r.assets;
    });
  }

  /** withdraw(assets, receiver, owner): Settled only, the fewest shares paying `assets` (rounded up). */
  withdraw(tx: Tx, assets: bigint, receiver: string, owner: string): bigint {
    return this.world.atomic(() => {
      if (key(receiver) === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
      if (assets === 0n) throw new EngineRevert("ZeroAmount");
      if (this.st.status.state !== TokenState.Settled) throw this.useTheDesk();
      const shares = this.settledSharesFor(assets);
      this.payFromSettlement(tx, owner, receiver, shares, assets);
      return shares;
    });
  }

  /* SHARES AS AN ERC-20 */

  transfer(tx: Tx, to: string, value: bigint): void {
    this.world.atomic(() => this.shares.transfer(tx.from, to, value));
  }

  approve(tx: Tx, spender: string, value: bigint): void {
    this.world.atomic(() => this.shares.approve(tx.from, spender, value));
  }

  /** The contract's balanceOf: the treasury's includes the pending fee shares. */
  balanceOf(account: string): bigint {
    const balance = this.shares.balanceOf(account);
    return key(account) === this.st.admin.treasury ? balance + this.st.status.pendingFeeShares : balance;
  }

  /** The contract's totalSupply: minted shares plus the pending fee shares. */
  totalSupply(): bigint {
    return this.shares.st.totalSupply + this.st.status.pendingFeeShares;
  }

  /* REBALANCE */

  rebalanceNeeded(time: bigint): RebalanceCheck {
    const s = this.st.status;
    if (s.state !== TokenState.Active && s.state !== TokenState.Delisting)
      return { needed: false, reason: REASON_NONE };
    const { size, equity, price } = this.vault.snapshot(this.market, this.address, time);
    const reason = this.rebalanceReason(size, equity, price, time, this.shares.st.totalSupply !== 0n);
    return { needed: reason !== REASON_NONE, reason };
  }

  rebalance(tx: Tx): void {
    this.world.atomic(() => this.doRebalance(tx));
  }

  /** accrueManagementFee(): accrues, then mints every pending fee share to the treasury. */
  accrueManagementFee(tx: Tx): void {
    this.world.atomic(() => this.accrueAndClaimFees(tx.time));
  }

  /* LIFECYCLE */

  scheduleDelisting(tx: Tx, delistingTime: bigint): void {
    this.world.atomic(() => {
      this.checkRole(DEFAULT_ADMIN_ROLE, tx.from);
      const st = this.st.status.state;
      if (st !== TokenState.Active) throw new EngineRevert("InvalidState", [BigInt(st)]);
      const earliest = tx.time + MIN_DELISTING_NOTICE;
      if (delistingTime < earliest || delistingTime > UINT40_MAX) {
        throw new EngineRevert("DelistingTooSoon", [delistingTime, earliest]);
      }
      this.st.status = { ...this.st.status, state: TokenState.Delisting };
      this.st.admin = { ...this.st.admin, delistingTime };
      this.emit("DelistingScheduled", [delistingTime]);
    });
  }

  settle(tx: Tx): void {
    this.world.atomic(() => {
      const s = { ...this.st.status };
      if (s.state === TokenState.Delisting) {
        const due = this.st.admin.delistingTime;
        if (tx.time < due) throw new EngineRevert("DelistingNotReached", [due]);
      } else if (s.state !== TokenState.Depleted) {
        throw new EngineRevert("InvalidState", [BigInt(s.state)]);
      }
      const supply = this.accrueReported(s, tx.time);
      const closing = s.state === TokenState.Delisting;
      s.state = TokenState.Settled;
      this.st.status = s;
      this.claimFees();
      let assets = 0n;
      if (closing) {
        const b = this.readExchange(supply, tx.time);
        const q = quoteTrade(b, -b.size);
        if (q.equityAfter <= 0n) {
          // nothing left once the position is closed: settle at zero, the pool bears the rest
          this.emit("Depleted", [b.equity, b.price]);
          this.closeAll(tx, b.size);
        } else {
          assets = q.equityAfter;
          this.trade(tx, q.sizeDelta, -assets, this.address, 0n);
        }
      }
      this.st.settledAssets = assets;
      this.st.settledSupply = supply;
      this.emit("Settled", [assets, supply]);
    });
  }

  settleHolders(tx: Tx, holders: readonly string[]): void {
    void tx;
    this.world.atomic(() => {
      if (this.st.status.state !== TokenState.Settled) {
        throw new EngineRevert("InvalidState", [BigInt(this.st.status.state)]);
      }
      const { settledAssets: assets, settledSupply: supply } = this.st;
      for (const holder of holders) {
        const shares = this.shares.balanceOf(holder); // fee shares were minted at settlement
        if (shares === 0n || key(holder) === DEAD || key(holder) === this.desk) continue;
        const paid = toAssetsDown(shares, assets, supply);
        this.shares.burn(holder, shares);
        this.emit("HolderSettled", [key(holder), shares, paid]);
        if (paid !== 0n) this.world.usdt.transfer(this.address, holder, paid);
      }
    });
  }

  /* ADMIN */

  setFees(tx: Tx, fees: TokenFees): void {
    this.world.atomic(() => {
      this.checkRole(DEFAULT_ADMIN_ROLE, tx.from);
      this.accrueAndClaimFees(tx.time);
      this.applyFees(fees);
    });
  }

  setTreasury(tx: Tx, treasury: string): void {
    this.world.atomic(() => {
      this.checkRole(DEFAULT_ADMIN_ROLE, tx.from);
      if (key(treasury) === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
      this.accrueAndClaimFees(tx.time);
      this.st.admin = { ...this.st.admin, treasury: key(treasury) };
      this.emit("TreasurySet", [key(treasury)]);
    });
  }

  setMintPaused(tx: Tx, paused: boolean): void {
    this.world.atomic(() => {
      this.checkRole(PAUSER_ROLE, tx.from);
      this.st.status = { ...this.st.status, mintPaused: paused };
      this.emit("MintingPaused", [paused]);
    });
  }

  setSupplyCap(tx: Tx, cap: bigint): void {
    this.world.atomic(() => {
      this.checkRole(DEFAULT_ADMIN_ROLE, tx.from);
      this.st.limits = { ...this.st.limits, supplyCap: cap };
      this.st.status = { ...this.st.status, supplyCapped: cap < UINT128_MAX };
      this.emit("SupplyCapSet", [cap]);
    });
  }

  hasRole(role: string, account: string): boolean {
    return this.st.roles.get(role)?.has(key(account)) ?? false;
  }

  /* VIEWS */

  state(): TokenState {
    return this.st.status.state;
  }

  /** fees(): mint and redeem fees, management fee and ripcord bounty. */
  fees(): TokenFees {
    return {
      mintFee: this.st.limits.mintFee,
      redeemFee: this.st.limits.redeemFee,
      managementFee: this.st.status.managementFee,
      rebalanceBounty: this.st.admin.rebalanceBounty,
    };
  }

  treasury(): string {
    return this.st.admin.treasury;
  }

  delistingTime(): bigint {
    return this.st.admin.delistingTime;
  }

  supplyCap(): bigint {
    return this.st.limits.supplyCap;
  }

  lastRebalance(): bigint {
    return this.st.status.lastRebalance;
  }

  nav(time: bigint): bigint {
    const supply = this.supplyNow(time);
    if (supply === 0n) return 10n ** 6n;
    return mulDivDown(this.totalAssets(time), 10n ** 18n, supply);
  }

  /** At the last price the feed pushed, fresh or not: never reverts. */
  leverage(time: bigint): bigint {
    const { size, equity, price } = this.vault.lastSnapshot(this.market, this.address, time);
    return leverageOf(size, equity, price);
  }

  /** At the last price the feed pushed, fresh or not: never reverts (nor do nav and convertTo*). */
  totalAssets(time: bigint): bigint {
    const st = this.st.status.state;
    if (st === TokenState.Settled) return this.settledAssetsOf(this.totalSupply());
    if (st === TokenState.Depleted) return 0n;
    const { equity } = this.vault.lastSnapshot(this.market, this.address, time);
    return equity > 0n ? equity : 0n;
  }

  convertToShares(assets: bigint, time: bigint): bigint {
    const supply = this.supplyNow(time);
    const equity = this.totalAssets(time);
    if (supply === 0n || equity === 0n) return assets * INITIAL_SHARES_PER_UNIT;
    return toSharesDown(assets, supply, equity);
  }

  convertToAssets(shares: bigint, time: bigint): bigint {
    if (this.st.status.state === TokenState.Settled) return this.settledAssetsOf(shares);
    const supply = this.supplyNow(time);
    if (supply === 0n) return shares / INITIAL_SHARES_PER_UNIT;
    return toAssetsDown(shares, this.totalAssets(time), supply);
  }

  previewDeposit(assets: bigint, time: bigint): bigint {
    return this.quoteDeposit(this.liveBookNow(time), assets).shares;
  }

  /** Reverts as `mint` does. */
  previewMint(): never {
    throw this.useTheDesk();
  }

  previewRedeem(shares: bigint, time: bigint): bigint {
    if (this.st.status.state === TokenState.Settled) return this.settledAssetsOf(shares);
    return quoteRedeem(this.liveBookNow(time), shares).assets;
  }

  /** Settled only, as `withdraw`. */
  previewWithdraw(assets: bigint): bigint {
    if (this.st.status.state !== TokenState.Settled) throw this.useTheDesk();
    return this.settledSharesFor(assets);
  }

  /** 0 while minting is closed (a stale price too); else at most the exchange's capacity and the cap. */
  maxDeposit(time: bigint): bigint {
    const { open, room } = this.mintRoom(time);
    if (!open) return 0n;
    const b = this.liveBookNow(time);
    return this.maxDepositIn(b, room, this.depositCapacity(b));
  }

  /** 0: shares are never minted by amount (`mint` reverts). */
  maxMint(): bigint {
    return 0n;
  }

  /** _depositCapacity: the largest deposit the exchange's packed position fields can take, less 0.01%. */
  depositCapacity(b: Book): bigint {
    const c = this.vault.capacity(this.market, this.address);
    let sizeLimit = min(c.size, mulDivDown(c.openCost, SIZE_PRICE_TO_USDT, b.price));
    sizeLimit -= sizeLimit / 10_000n;
    if (sizeLimit < 2n || c.margin === 0n) return 0n;
    const assets =
      b.supply === 0n || b.size === 0n
        ? mulDivDown(sizeLimit - 2n, b.price * WAD, this.targetLeverage * SIZE_PRICE_TO_USDT)
        : mulDivDown(sizeLimit - 2n, b.equity, abs(b.size));
    return min(assets, c.margin);
  }

  maxRedeem(owner: string, time: bigint): bigint {
    return this.redeemOpen(time) ? this.balanceOf(owner) : 0n;
  }

  /** Settled only, as `withdraw`: the frozen USDT of the owner's shares. */
  maxWithdraw(owner: string): bigint {
    return this.st.status.state === TokenState.Settled ? this.settledAssetsOf(this.balanceOf(owner)) : 0n;
  }

  /** Supply with the management fee accrued to `time` (_supplyNow). */
  supplyNow(time: bigint): bigint {
    return this.supplyAfterAccrual(this.st.status, time);
  }

  /** _bookNow + the limits and the depletion check (_liveBookNow): what previews price against. */
  liveBookNow(time: bigint): Book {
    const s = this.st.status;
    const b = this.readExchange(this.supplyAfterAccrual(s, time), time);
    b.limits = { ...this.st.limits };
    return tradableBook(b, this, s.lastRebalance, time);
  }

  /** bookNow(): the supply and equity a mint or a redeem prices against now (what the desk nets at). */
  bookNow(time: bigint): { supply: bigint; equity: bigint } {
    const s = this.st.status;
    return bookNowOf(this.readExchange(this.supplyAfterAccrual(s, time), time), this, s.lastRebalance, time);
  }

  /** _quoteDeposit: shares for the receiver, fee shares for the treasury and the trade. */
  quoteDeposit(b: Book, assets: bigint): DepositQuote {
    return quoteDeposit(b, assets, this.targetLeverage, this.isLong);
  }

  /** _maxDepositIn: the largest deposit up to `limit` whose shares and fee shares fit in `room`. */
  maxDepositIn(b: Book, room: bigint, limit: bigint): bigint {
    const all = (bk: Book, x: bigint) => {
      const d = this.quoteDeposit(bk, x);
      return d.shares + d.feeShares;
    };
    if (room === UINT256_MAX || all(b, limit) <= room) return limit;
    return leastInput(b, room + 1n, mintGuess(b, room + 1n), limit, all).hi - 1n;
  }

  /**
   * _rebalanceReason at `time`, with the last rebalance from the status slot; `held`: the token has
   * holders (a token with holders and equity but no position reopens).
   */
  rebalanceReason(size: bigint, equity: bigint, price: bigint, time: bigint, held: boolean): number {
    return rebalanceReasonOf(this, size, equity, price, this.st.status.lastRebalance, time, held);
  }

  signed(size: bigint): bigint {
    return this.isLong ? size : -size;
  }

  /* INTERNAL */

  private emit(name: string, args: (bigint | string | boolean)[]): void {
    this.world.log.emit(this.address, name, args);
  }

  private checkRole(role: string, account: string): void {
    if (!this.hasRole(role, account))
      throw new EngineRevert("AccessControlUnauthorizedAccount", [key(account), role]);
  }

  private applyFees(f: TokenFees): void {
    if (f.mintFee > MAX_MINT_FEE || f.mintFee % FEE_PIP !== 0n)
      throw new EngineRevert("InvalidParameter", ["mintFee", f.mintFee]);
    if (f.redeemFee > MAX_REDEEM_FEE || f.redeemFee % FEE_PIP !== 0n)
      throw new EngineRevert("InvalidParameter", ["redeemFee", f.redeemFee]);
    if (f.managementFee > MAX_MANAGEMENT_FEE) {
      throw new EngineRevert("InvalidParameter", ["managementFee", f.managementFee]);
    }
    if (f.rebalanceBounty > MAX_BOUNTY) {
      throw new EngineRevert("InvalidParameter", ["rebalanceBounty", f.rebalanceBounty]);
    }
    this.st.limits = { ...this.st.limits, mintFee: f.mintFee, redeemFee: f.redeemFee };
    this.st.status = { ...this.st.status, managementFee: f.managementFee };
    this.st.admin = { ...this.st.admin, rebalanceBounty: f.rebalanceBounty };
    if (this.shares !== undefined)
      this.emit("FeesSet", [f.mintFee, f.redeemFee, f.managementFee, f.rebalanceBounty]);
  }

  /** _requireDesk: mints, and redeems at a live price, come from the desk. */
  private requireDesk(tx: Tx): void {
    if (key(tx.from) !== this.desk) throw new EngineRevert("OnlyDesk", [key(tx.from), this.desk]);
  }

  /** _useTheDesk: minting by shares, and withdrawing by USDT before settlement, go through the desk. */
  private useTheDesk(): EngineRevert {
    return new EngineRevert("UseTheDesk", [this.desk]);
  }

  /** _requireRedeemable: the desk gate first, then the state. */
  private requireRedeemable(tx: Tx, s: TokenStatus): void {
    this.requireDesk(tx);
    if (s.state === TokenState.Depleted) throw new EngineRevert("TokenDepleted");
    if (s.state !== TokenState.Active && s.state !== TokenState.Delisting) {
      throw new EngineRevert("InvalidState", [BigInt(s.state)]);
    }
  }

  private requireMintable(tx: Tx): TokenStatus {
    this.requireDesk(tx);
    const s = { ...this.st.status };
    if (s.state === TokenState.Depleted) throw new EngineRevert("TokenDepleted");
    if (s.state !== TokenState.Active) throw new EngineRevert("InvalidState", [BigInt(s.state)]);
    if (s.mintPaused) throw new EngineRevert("MintPaused");
    return s;
  }

  /** _supplyAfterAccrual: minted + pending + the management fee due at `time`. */
  private supplyAfterAccrual(s: TokenStatus, time: bigint): bigint {
    let supply = this.shares.st.totalSupply + s.pendingFeeShares;
    if (feeAccrues(s, supply))
      supply += managementFeeSharesDown(supply, s.managementFee, time - s.lastFeeAccrual);
    return supply;
  }

  /**
   * _accrue: adds the management fee shares due to the pending ones in `s` (the caller writes `s`);
   * returns the supply and the fee shares (the caller's event reports them).
   */
  private accrue(s: TokenStatus, time: bigint): { supply: bigint; feeShares: bigint } {
    let supply = this.shares.st.totalSupply + s.pendingFeeShares;
    if (s.lastFeeAccrual === time) return { supply, feeShares: 0n };
    let feeShares = 0n;
    if (feeAccrues(s, supply)) {
      feeShares = managementFeeSharesDown(supply, s.managementFee, time - s.lastFeeAccrual);
      if (feeShares !== 0n) {
        this.addPendingFeeShares(s, feeShares);
        supply += feeShares;
      }
    }
    s.lastFeeAccrual = time;
    return { supply, feeShares };
  }

  /** _accrueReported: _accrue for the entry points without an event of their own. */
  private accrueReported(s: TokenStatus, time: bigint): bigint {
    const elapsed = time - s.lastFeeAccrual;
    const { supply, feeShares } = this.accrue(s, time);
    if (feeShares !== 0n) this.emit("ManagementFeeAccrued", [feeShares, elapsed]);
    return supply;
  }

  /** _addPendingFeeShares: past 80 bits they are all minted to the treasury at once instead. */
  private addPendingFeeShares(s: TokenStatus, feeShares: bigint): void {
    let pending = s.pendingFeeShares + feeShares;
    if (pending > UINT80_MAX) {
      this.shares.mint(this.st.admin.treasury, pending);
      pending = 0n;
    }
    s.pendingFeeShares = pending;
  }

  /** _accrueAndClaimFees. */
  private accrueAndClaimFees(time: bigint): void {
    const s = { ...this.st.status };
    this.accrueReported(s, time);
    this.st.status = s;
    this.claimFees();
  }

  /** _claimFees: mints the pending fee shares to the treasury (already in the supply). */
  private claimFees(): void {
    const pending = this.st.status.pendingFeeShares;
    if (pending === 0n) return;
    this.st.status = { ...this.st.status, pendingFeeShares: 0n };
    this.shares.mint(this.st.admin.treasury, pending);
  }

  /** _book: accrues into `s`, then reads the exchange once. */
  private book(s: TokenStatus, time: bigint): Book {
    const { supply, feeShares } = this.accrue(s, time);
    const b = this.readExchange(supply, time);
    b.managementFeeShares = feeShares;
    return b;
  }

  /**
   * _liveBook: the book plus the limits; the token must have equity left. When a rebalance is due
   * (any reason but depletion) the book moves to after the trade back to target, priced at its own
   * cost (no bounty) and announced; the trade goes with the mint's or redeem's (tradeAfterRestore).
   */
  private liveBook(tx: Tx, s: TokenStatus): Book {
    const b = this.book(s, tx.time);
    b.limits = { ...this.st.limits };
    if (b.supply !== 0n && b.equity <= 0n) throw new EngineRevert("TokenDepleted");
    const { reason, before } = restore(b, this, s.lastRebalance, tx.time);
    if (reason === REASON_NONE || b.restore === undefined) return b;
    s.lastRebalance = tx.time;
    const delta = b.restore.delta;
    // the trade's cost, from the equity it left: equity after = before - cost + the trade's rounding
    const cost = b.restore.equityBefore - b.equity + tradeRoundingDown(b.size - delta, delta, b.price);
    this.emit("Rebalanced", [
      key(tx.from),
      BigInt(reason),
      before,
      leverageOf(b.size, b.equity, b.price),
      delta,
      b.price,
      cost,
      0n,
      0n,
    ]);
    return b;
  }

  /** _readExchange: tradingSnapshot (size, equity, price, taker fee, price impact). */
  private readExchange(supply: bigint, time: bigint): Book {
    const { size, equity, price } = this.vault.snapshot(this.market, this.address, time);
    const { takerFee, priceImpact } = this.vault.tradeCosts(this.market);
    return {
      supply,
      size,
      equity,
      price,
      takerFee,
      priceImpact,
      limits: { mintFee: 0n, redeemFee: 0n, supplyCap: 0n },
      managementFeeShares: 0n,
    };
  }

  private mintAndTrade(
    tx: Tx,
    s: TokenStatus,
    b: Book,
    q: Quote,
    receiver: string,
    assets: bigint,
    shares: bigint,
    feeShares: bigint,
  ): void {
    const cap = s.supplyCapped ? this.st.limits.supplyCap : UINT128_MAX;
    const supplyAfter = q.supply + shares + feeShares + (q.supply === 0n ? MINIMUM_SHARES : 0n);
    if (supplyAfter > cap) throw new EngineRevert("SupplyCapExceeded", [supplyAfter, cap]);
    this.addPendingFeeShares(s, feeShares);
    this.st.status = s;
    if (q.supply === 0n) this.shares.mint(DEAD, MINIMUM_SHARES);
    this.shares.mint(receiver, shares);
    this.emit("Deposit", [key(tx.from), key(receiver), assets, shares]);
    this.emit("PositionResized", [q.sizeDelta, q.price, q.cost, feeShares, b.managementFeeShares]);
    // the exchange asks for the USDT in payMargin, inside the trade, and credits what arrives
    this.tradeAfterRestore(tx, b, q, assets, ZERO_ADDRESS, q.equityAfter, (amount) =>
      this.world.usdt.transferFrom(this.address, tx.from, this.vault.address, amount),
    );
  }

  private burnAndTrade(
    tx: Tx,
    s: TokenStatus,
    b: Book,
    q: Quote,
    owner: string,
    receiver: string,
    shares: bigint,
    assets: bigint,
    feeShares: bigint,
  ): void {
    if (key(tx.from) !== key(owner)) this.shares.spendAllowance(owner, tx.from, shares);
    this.requireBalance(owner, shares);
    this.addPendingFeeShares(s, feeShares);
    this.st.status = s;
    this.shares.burn(owner, shares);
    this.emit("Withdraw", [key(tx.from), key(receiver), key(owner), assets, shares]);
    this.emit("PositionResized", [q.sizeDelta, q.price, q.cost, feeShares, b.managementFeeShares]);
    this.tradeAfterRestore(tx, b, q, -assets, receiver, q.equityAfter - assets);
  }

  /**
   * _tradeAfterRestore: the trade of a mint or a redeem (`q`, priced on `b` after its restore) with the
   * restore liveBook priced but did not send: one exchange trade for both when that leaves the token
   * at least the equity the two apart would (the holders keep the saving: TradesJoined), else the
   * restore and then the trade.
   */
  private tradeAfterRestore(
    tx: Tx,
    b: Book,
    q: Quote,
    marginDelta: bigint,
    to: string,
    expectedEquity: bigint,
    payMargin?: (amount: bigint) => void,
  ): void {
    const r = b.restore;
    if (r !== undefined) {
      const joined = quoteTrade(
        { ...b, size: b.size - r.delta, equity: r.equityBefore },
        r.delta + q.sizeDelta,
      );
      // the equity the joined trade leaves against what the two apart would
      const saved = joined.equityAfter + marginDelta - expectedEquity;
      if (saved >= 0n) {
        this.emit("TradesJoined", [joined.sizeDelta, joined.cost, saved]);
        this.trade(tx, joined.sizeDelta, marginDelta, to, expectedEquity + saved, payMargin);
        return;
      }
      this.trade(tx, r.delta, 0n, ZERO_ADDRESS, b.equity);
    }
    this.trade(tx, q.sizeDelta, marginDelta, to, expectedEquity, payMargin);
  }

  /** _requireBalance: ExceedsBalance unless `owner` holds `shares`, pending fee shares included. */
  private requireBalance(owner: string, shares: bigint): void {
    if (shares > this.shares.balanceOf(owner)) {
      const balance = this.balanceOf(owner);
      if (shares > balance) throw new EngineRevert("ExceedsBalance", [shares, balance]);
    }
  }

  /**
   * One exchange call as the token; reverts if the exchange's equity differs from the quote. `payMargin`:
   * the token's callback paying a positive margin (the minter's USDT, transferred by the token).
   */
  private trade(
    tx: Tx,
    sizeDelta: bigint,
    marginDelta: bigint,
    to: string,
    expectedEquity: bigint,
    payMargin?: (amount: bigint) => void,
  ): void {
    const r = this.vault.trade(
      { from: this.address, time: tx.time },
      this.market,
      sizeDelta,
      marginDelta,
      to,
      payMargin,
    );
    if (r.equity !== expectedEquity) throw new EngineRevert("ExchangeMismatch", [expectedEquity, r.equity]);
  }

  private doRebalance(tx: Tx): void {
    const s = { ...this.st.status };
    if (s.state !== TokenState.Active && s.state !== TokenState.Delisting) {
      throw new EngineRevert("InvalidState", [BigInt(s.state)]);
    }
    const b = this.book(s, tx.time);
    const reason = this.rebalanceReason(b.size, b.equity, b.price, tx.time, b.supply !== 0n);
    const before = leverageOf(b.size, b.equity, b.price);
    if (reason === REASON_NONE) throw new EngineRevert("RebalanceNotNeeded", [before]);
    const keeper = this.hasRole(KEEPER_ROLE, tx.from);
    if (!keeper && reason < REASON_RIPCORD) {
      throw new EngineRevert("AccessControlUnauthorizedAccount", [key(tx.from), KEEPER_ROLE]);
    }
    let target = 0n;
    let q: Quote = { supply: 0n, price: 0n, sizeDelta: 0n, cost: 0n, equityAfter: 0n };
    if (reason !== REASON_DEPLETED) {
      target = this.signed(targetSizeDown(b.equity, this.targetLeverage, b.price));
      q = quoteTrade(b, target - b.size);
    }
    // equity gone, or too little left to pay for the trade back to target: depleted
    if (reason === REASON_DEPLETED || q.equityAfter <= 0n) {
      s.state = TokenState.Depleted;
      this.st.status = s;
      this.emit("Depleted", [b.equity, b.price]);
      this.closeAll(tx, b.size);
      return;
    }
    // the ripcord bounty, at most 1% of the equity left
    let bounty = keeper ? 0n : min(this.st.admin.rebalanceBounty, q.equityAfter / 100n);
    // none when the trade's cost leaves the token at or past the exchange's 10x (its margin rule)
    if (bounty !== 0n && leverageOf(target, q.equityAfter - bounty, b.price) >= this.vault.maxLeverage()) {
      bounty = 0n;
    }
    s.lastRebalance = tx.time;
    this.st.status = s;
    this.emit("Rebalanced", [
      key(tx.from),
      BigInt(reason),
      before,
      leverageOf(target, q.equityAfter - bounty, b.price),
      q.sizeDelta,
      b.price,
      q.cost,
      bounty,
      b.managementFeeShares,
    ]);
    this.trade(tx, q.sizeDelta, -bounty, tx.from, q.equityAfter - bounty);
  }

  /** _closeAll: equity is gone; the exchange's pool bears the loss beyond the margin. */
  private closeAll(tx: Tx, size: bigint): void {
    if (size !== 0n)
      this.vault.trade({ from: this.address, time: tx.time }, this.market, -size, 0n, ZERO_ADDRESS);
  }

  private mintRoom(time: bigint): { open: boolean; room: bigint } {
    const s = this.st.status;
    if (s.state !== TokenState.Active || s.mintPaused) return { open: false, room: 0n };
    const supply = this.supplyNow(time);
    const { equity, fresh } = this.vault.lastSnapshot(this.market, this.address, time);
    if (!fresh || (supply !== 0n && equity <= 0n)) return { open: false, room: 0n };
    const cap = s.supplyCapped ? this.st.limits.supplyCap : UINT128_MAX;
    const reserve = supply === 0n ? MINIMUM_SHARES : 0n;
    if (supply + reserve >= cap) return { open: false, room: 0n };
    return { open: true, room: cap === UINT128_MAX ? UINT256_MAX : cap - supply - reserve };
  }

  private redeemOpen(time: bigint): boolean {
    const st = this.st.status.state;
    if (st === TokenState.Settled) return true;
    if (st !== TokenState.Active && st !== TokenState.Delisting) return false;
    const { equity, fresh } = this.vault.lastSnapshot(this.market, this.address, time);
    return fresh && equity > 0n;
  }

  private settledAssetsOf(shares: bigint): bigint {
    const supply = this.st.settledSupply;
    return supply === 0n ? 0n : toAssetsDown(shares, this.st.settledAssets, supply);
  }

  private settledSharesFor(assets: bigint): bigint {
    if (assets === 0n) throw new EngineRevert("ZeroAmount");
    const held = this.st.settledAssets;
    if (held === 0n) throw new EngineRevert("AmountUnreachable", [assets, 0n]);
    return mulDivUp(assets, this.st.settledSupply, held);
  }

  private payFromSettlement(tx: Tx, owner: string, receiver: string, shares: bigint, assets: bigint): void {
    if (shares === 0n) throw new EngineRevert("ZeroAmount");
    if (key(tx.from) !== key(owner)) this.shares.spendAllowance(owner, tx.from, shares);
    this.requireBalance(owner, shares);
    this.shares.burn(owner, shares);
    this.emit("Withdraw", [key(tx.from), key(receiver), key(owner), assets, shares]);
    if (assets !== 0n) this.world.usdt.transfer(this.address, receiver, assets);
  }
}

/* PURE QUOTES (the contract's internal pure functions) */

/** _quoteTrade: the exchange equity after trading `sizeDelta` now. */
export function quoteTrade(b: Book, sizeDelta: bigint): Quote {
  const q: Quote = {
    supply: b.supply,
    price: b.price,
    sizeDelta,
    cost: 0n,
    equityAfter: b.equity,
  };
  if (sizeDelta === 0n) return q;
  q.cost = tradeCostTotalUp(notionalUp(sizeDelta, b.price), b.takerFee, b.priceImpact);
  q.equityAfter = b.equity - q.cost + tradeRoundingDown(b.size, sizeDelta, b.price);
  return q;
}

/**
 * _quoteDeposit: all of `assets` becomes margin, the position grows by size x assets / equity (target
 * leverage on the first mint), shares price the equity really added; the fee is ceil(shares x fee).
 */
export function quoteDeposit(b: Book, assets: bigint, targetLeverage: bigint, isLong: boolean): DepositQuote {
  const first = targetSizeDown(assets, targetLeverage, b.price);
  const sizeDelta = b.supply === 0n ? (isLong ? first : -first) : scaleSize(b.size, assets, b.equity);
  const q = quoteTrade(b, sizeDelta);
  q.equityAfter += assets;
  const added = q.equityAfter - b.equity;
  if (added <= 0n) return { quote: q, shares: 0n, feeShares: 0n };
  let total: bigint;
  if (b.supply !== 0n) {
    total = toSharesDown(added, b.supply, b.equity);
  } else {
    total = added * INITIAL_SHARES_PER_UNIT;
    total = total > MINIMUM_SHARES ? total - MINIMUM_SHARES : 0n;
  }
  const feeShares = feeUp(total, b.limits.mintFee);
  return { quote: q, shares: total - feeShares, feeShares };
}

/** _quoteRedeem: USDT a redemption of `shares` pays and the redeem fee in shares. */
export function quoteRedeem(b: Book, shares: bigint): RedeemQuote {
  if (shares > b.supply) throw new EngineRevert("ExceedsBalance", [shares, b.supply]);
  const feeShares = feeUp(shares, b.limits.redeemFee);
  const burnt = shares - feeShares;
  const q = quoteTrade(b, -scaleSize(b.size, burnt, b.supply));
  const released = q.equityAfter - toAssetsUp(b.supply - burnt, b.equity, b.supply);
  return { quote: q, assets: released > 0n ? released : 0n, feeShares };
}

/**
 * _quoteMint over a book (previewMint's twin): the least USDT whose deposit mints at least `shares`
 * for a token of `targetLeverage` on the `isLong` side, searched as the contract searches.
 */
export function quoteMintAssets(b: Book, shares: bigint, targetLeverage: bigint, isLong: boolean): bigint {
  return leastInput(
    b,
    shares,
    mintGuess(b, shares),
    UINT128_MAX,
    (bk, x) => quoteDeposit(bk, x, targetLeverage, isLong).shares,
  ).hi;
}

/** _mintGuess: an underestimate of the USDT that mints `shares`, where a search starts. */
export function mintGuess(b: Book, shares: bigint): bigint {
  return b.supply === 0n
    ? (shares + MINIMUM_SHARES) / INITIAL_SHARES_PER_UNIT
    : mulDivDown(shares, b.equity, b.supply);
}

/**
 * _leastInput: the least input whose `output` reaches `target`; steps up from `guess` by the
 * observed rate, then bisects between the last miss and the first hit. Reverts AmountUnreachable when the
 * target cannot be reached within `limit` or 64 steps.
 */
export function leastInput(
  b: Book,
  target: bigint,
  guess: bigint,
  limit: bigint,
  output: (b: Book, input: bigint) => bigint,
): { lo: bigint; hi: bigint } {
  let lo = 0n;
  let hi = min(guess, limit);
  for (let i = 0; ; ++i) {
    const got = hi === 0n ? 0n : output(b, hi);
    if (got >= target) break;
    if (hi === limit || i === 64) throw new EngineRevert("AmountUnreachable", [target, limit]);
    lo = hi;
    hi = min(got === 0n ? hi * 2n + 1n : hi + mulDivDown(target - got, hi, got) + 1n, limit);
  }
  while (hi - lo > 1n) {
    const mid = lo + (hi - lo) / 2n;
    if (output(b, mid) >= target) hi = mid;
    else lo = mid;
  }
  return { lo, hi };
}

/** _rebalanceReason: why a rebalance is due (REASON_*); `held`: the token has holders. */
export function rebalanceReasonOf(
  r: RebalanceRules,
  size: bigint,
  equity: bigint,
  price: bigint,
  lastRebalance: bigint,
  time: bigint,
  held: boolean,
): number {
  if (size === 0n) return held && equity > 0n ? REASON_REOPEN : REASON_NONE;
  if (equity <= 0n) return REASON_DEPLETED;
  const lev = leverageOf(size, equity, price);
  if (lev >= r.ripcordLeverage) return REASON_RIPCORD;
  if (lev > r.maxLeverage || lev < r.minLeverage) return REASON_BAND;
  // the daily check, once a day (the date first, as the contract)
  if (lastRebalance >= time - (time % DAY)) return REASON_NONE;
  const off = lev > r.targetLeverage ? lev - r.targetLeverage : r.targetLeverage - lev;
  return off > r.rebalanceEpsilon ? REASON_DAILY : REASON_NONE;
}

/**
 * _restore: moves `b` to after the rebalance to target a mint or a redeem on it runs first when one is
 * due, keeping what it was (`b.restore`); returns why (REASON_NONE when no trade is made: none is due,
 * the equity is gone, or it would cost all the equity left) and the leverage judged.
 */
export function restore(
  b: Book,
  r: RebalanceRules,
  lastRebalance: bigint,
  time: bigint,
): { reason: number; before: bigint } {
  const reason = rebalanceReasonOf(r, b.size, b.equity, b.price, lastRebalance, time, b.supply !== 0n);
  const before = leverageOf(b.size, b.equity, b.price);
  if (reason === REASON_NONE || reason === REASON_DEPLETED) return { reason: REASON_NONE, before };
  const size = targetSizeDown(b.equity, r.targetLeverage, b.price);
  const target = r.isLong ? size : -size;
  const q = quoteTrade(b, target - b.size);
  if (q.sizeDelta === 0n || q.equityAfter <= 0n) return { reason: REASON_NONE, before };
  b.restore = { delta: q.sizeDelta, equityBefore: b.equity };
  b.size = target;
  b.equity = q.equityAfter;
  return { reason, before };
}

/**
 * The book a mint or a redeem prices against (`_liveBookNow`): after the rebalance it runs first when
 * one is due (`lastRebalance` from the status slot, at `time`).
 */
export function tradableBook(b: Book, r: RebalanceRules, lastRebalance: bigint, time: bigint): Book {
  if (b.supply !== 0n && b.equity <= 0n) throw new EngineRevert("TokenDepleted");
  const out = { ...b };
  restore(out, r, lastRebalance, time);
  return out;
}

/** bookNow(): the supply and the equity (floored at 0) after the restore a mint or a redeem runs first. */
export function bookNowOf(
  b: Book,
  r: RebalanceRules,
  lastRebalance: bigint,
  time: bigint,
): { supply: bigint; equity: bigint } {
  const out = { ...b };
  restore(out, r, lastRebalance, time);
  return { supply: out.supply, equity: out.equity > 0n ? out.equity : 0n };
}

/** _leverage: |size| x price / equity, rounded down; max when equity is gone. */
export function leverageOf(size: bigint, equity: bigint, price: bigint): bigint {
  if (size === 0n) return 0n;
  if (equity <= 0n) return UINT256_MAX;
  return leverageDown(notionalUp(size, price), equity);
}

/** _scaleSize: size x numerator / denominator, rounded toward zero. */
export function scaleSize(size: bigint, numerator: bigint, denominator: bigint): bigint {
  const scaled = mulDivDown(abs(size), numerator, denominator);
  return size >= 0n ? scaled : -scaled;
}

function feeAccrues(s: TokenStatus, supply: bigint): boolean {
  return supply !== 0n && (s.state === TokenState.Active || s.state === TokenState.Delisting);
}
