// Twin of contracts/LeveragedToken.sol: the same state (shares, status, fees, settlement), the same
// quotes (one code path for previews and execution, as in the contract), the same "least input"
// search for mint-by-shares and withdraw, and the same checks, custom errors and events, in order.
import { id } from "ethers";
import { Erc20Ledger, ZERO_ADDRESS, key } from "./erc20.ts";
import { EngineRevert } from "./errors.ts";
import type { Exchange } from "./exchange.ts";
import {
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

/** ILeveragedToken.State (a const object, not an enum: Node runs this file by stripping types). */
export const TokenState = { Active: 0, Delisting: 1, Settled: 2, Depleted: 3 } as const;
export type TokenState = (typeof TokenState)[keyof typeof TokenState];

export const REASON_NONE = 0;
export const REASON_BAND = 1;
export const REASON_DAILY = 2;
export const REASON_RIPCORD = 3;
export const REASON_DEPLETED = 4;

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

export interface TokenConfig extends TokenFees {
  address: string;
  market: string; // bytes32
  isLong: boolean;
  targetLeverage: bigint;
  minLeverage: bigint;
  maxLeverage: bigint;
  ripcordLeverage: bigint;
  rebalanceEpsilon: bigint;
  supplyCap: bigint;
  treasury: string;
  admin: string;
  keeper: string;
  /** Block timestamp of the deployment (the first management fee accrual time). */
  deployTime: bigint;
}

export interface TokenStatus {
  treasury: string;
  lastFeeAccrual: bigint;
  state: TokenState;
  delistingTime: bigint;
  mintPaused: boolean;
}

export interface TokenStorage {
  status: TokenStatus;
  fees: TokenFees;
  supplyCap: bigint;
  lastRebalance: bigint;
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
  fees: TokenFees;
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
        treasury: key(c.treasury),
        lastFeeAccrual: c.deployTime,
        state: TokenState.Active,
        delistingTime: 0n,
        mintPaused: false,
      },
      fees: { mintFee: 0n, redeemFee: 0n, managementFee: 0n, rebalanceBounty: 0n },
      supplyCap: c.supplyCap,
      lastRebalance: 0n,
      settledAssets: 0n,
      settledSupply: 0n,
      roles,
    };
    this.applyFees(c);
    this.shares = new Erc20Ledger(this.address, world.log);
    world.register(this);
    world.register(this.shares);
  }

  /* MINT */

  /** deposit(assets, receiver, minShares): shares minted to `receiver`. */
  deposit(tx: Tx, assets: bigint, receiver: string, minShares = 0n): bigint {
    return this.world.atomic(() => {
      if (key(receiver) === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
      if (assets === 0n) throw new EngineRevert("ZeroAmount");
      const s = this.requireMintable();
      const b = this.liveBook(this.accrueFee(s, tx.time), tx.time);
      const d = this.quoteDeposit(b, assets);
      if (d.shares === 0n) throw new EngineRevert("DepositTooSmall", [assets]);
      if (d.shares < minShares) throw new EngineRevert("SlippageExceeded", [d.shares, minShares]);
      this.mintAndTrade(tx, s, d.quote, receiver, assets, d.shares, d.feeShares);
      return d.shares;
    });
  }

  /** mint(shares, receiver, maxAssets): the least USDT that mints `shares`, which it takes. */
  mint(tx: Tx, shares: bigint, receiver: string, maxAssets = UINT256_MAX): bigint {
    return this.world.atomic(() => {
      if (key(receiver) === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
      if (shares === 0n) throw new EngineRevert("ZeroAmount");
      const s = this.requireMintable();
      const b = this.liveBook(this.accrueFee(s, tx.time), tx.time);
      const assets = this.quoteMint(b, shares);
      if (assets > maxAssets) throw new EngineRevert("SlippageExceeded", [assets, maxAssets]);
      const d = this.quoteDeposit(b, assets);
      this.mintAndTrade(tx, s, d.quote, receiver, assets, shares, d.feeShares);
      return assets;
    });
  }

  /* REDEEM */

  /** redeem(shares, receiver, owner, minAssets): USDT paid to `receiver`. */
  redeem(tx: Tx, shares: bigint, receiver: string, owner: string, minAssets = 0n): bigint {
    return this.world.atomic(() => {
      if (key(receiver) === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
      if (shares === 0n) throw new EngineRevert("ZeroAmount");
      const s = { ...this.st.status };
      if (s.state === TokenState.Settled) {
        const assets = this.settledAssetsOf(shares);
        if (assets < minAssets) throw new EngineRevert("SlippageExceeded", [assets, minAssets]);
        this.payFromSettlement(tx, owner, receiver, shares, assets);
        return assets;
      }
      requireRedeemable(s);
      const b = this.liveBook(this.accrueFee(s, tx.time), tx.time);
      const r = quoteRedeem(b, shares);
      if (r.assets < minAssets) throw new EngineRevert("SlippageExceeded", [r.assets, minAssets]);
      this.burnAndTrade(tx, s, r.quote, owner, receiver, shares, r.assets, r.feeShares);
      return r.assets;
    });
  }

  /** withdraw(assets, receiver, owner, maxShares): the fewest shares that pay `assets`, which it burns. */
  withdraw(tx: Tx, assets: bigint, receiver: string, owner: string, maxShares = UINT256_MAX): bigint {
    return this.world.atomic(() => {
      if (key(receiver) === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
      if (assets === 0n) throw new EngineRevert("ZeroAmount");
      const s = { ...this.st.status };
      if (s.state === TokenState.Settled) {
        const shares = this.settledSharesFor(assets);
        if (shares > maxShares) throw new EngineRevert("SlippageExceeded", [shares, maxShares]);
        this.payFromSettlement(tx, owner, receiver, shares, assets);
        return shares;
      }
      requireRedeemable(s);
      const b = this.liveBook(this.accrueFee(s, tx.time), tx.time);
      const shares = quoteWithdraw(b, assets);
      if (shares > maxShares) throw new EngineRevert("SlippageExceeded", [shares, maxShares]);
      const r = quoteRedeem(b, shares);
      this.burnAndTrade(tx, s, r.quote, owner, receiver, shares, assets, r.feeShares);
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

  balanceOf(account: string): bigint {
    return this.shares.balanceOf(account);
  }

  totalSupply(): bigint {
    return this.shares.st.totalSupply;
  }

  /* REBALANCE */

  rebalanceNeeded(time: bigint): RebalanceCheck {
    const st = this.st.status.state;
    if (st !== TokenState.Active && st !== TokenState.Delisting)
      return { needed: false, reason: REASON_NONE };
    const { size, equity, price } = this.vault.snapshot(this.market, this.address, time);
    const reason = this.rebalanceReason(size, equity, price, time);
    return { needed: reason !== REASON_NONE, reason };
  }

  rebalance(tx: Tx): void {
    this.world.atomic(() => this.doRebalance(tx));
  }

  accrueManagementFee(tx: Tx): void {
    this.world.atomic(() => {
      this.accrueFee({ ...this.st.status }, tx.time);
    });
  }

  /* LIFECYCLE */

  scheduleDelisting(tx: Tx, delistingTime: bigint): void {
    this.world.atomic(() => {
      this.checkRole(DEFAULT_ADMIN_ROLE, tx.from);
      const s = { ...this.st.status };
      if (s.state !== TokenState.Active) throw new EngineRevert("InvalidState", [BigInt(s.state)]);
      const earliest = tx.time + MIN_DELISTING_NOTICE;
      if (delistingTime < earliest || delistingTime > UINT40_MAX) {
        throw new EngineRevert("DelistingTooSoon", [delistingTime, earliest]);
      }
      s.state = TokenState.Delisting;
      s.delistingTime = delistingTime;
      this.st.status = s;
      this.emit("DelistingScheduled", [delistingTime]);
    });
  }

  settle(tx: Tx): void {
    this.world.atomic(() => {
      const s = { ...this.st.status };
      if (s.state === TokenState.Delisting) {
        if (tx.time < s.delistingTime) throw new EngineRevert("DelistingNotReached", [s.delistingTime]);
      } else if (s.state !== TokenState.Depleted) {
        throw new EngineRevert("InvalidState", [BigInt(s.state)]);
      }
      const supply = this.accrueFee(s, tx.time);
      let assets = 0n;
      if (s.state === TokenState.Delisting) {
        const b = this.book(supply, tx.time);
        if (b.equity <= 0n) {
          this.deplete(tx, s, b.size, b.equity, b.price);
        } else {
          const q = quoteTrade(b, -b.size);
          if (q.equityAfter > 0n) assets = q.equityAfter;
          this.trade(tx, q, -assets, this.address, q.equityAfter - assets);
        }
      }
      s.state = TokenState.Settled;
      this.st.status = s;
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
        const shares = this.shares.balanceOf(holder);
        if (shares === 0n || key(holder) === DEAD) continue;
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
      this.accrueFee({ ...this.st.status }, tx.time);
      this.applyFees(fees);
    });
  }

  setTreasury(tx: Tx, treasury: string): void {
    this.world.atomic(() => {
      this.checkRole(DEFAULT_ADMIN_ROLE, tx.from);
      if (key(treasury) === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
      this.accrueFee({ ...this.st.status }, tx.time);
      this.st.status.treasury = key(treasury);
      this.emit("TreasurySet", [key(treasury)]);
    });
  }

  setMintPaused(tx: Tx, paused: boolean): void {
    this.world.atomic(() => {
      this.checkRole(PAUSER_ROLE, tx.from);
      this.st.status.mintPaused = paused;
      this.emit("MintingPaused", [paused]);
    });
  }

  setSupplyCap(tx: Tx, cap: bigint): void {
    this.world.atomic(() => {
      this.checkRole(DEFAULT_ADMIN_ROLE, tx.from);
      this.st.supplyCap = cap;
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

  nav(time: bigint): bigint {
    const supply = this.supplyNow(time);
    if (supply === 0n) return 10n ** 6n;
    return mulDivDown(this.totalAssets(time), 10n ** 18n, supply);
  }

  leverage(time: bigint): bigint {
    const { size, equity, price } = this.vault.snapshot(this.market, this.address, time);
    return leverageOf(size, equity, price);
  }

  totalAssets(time: bigint): bigint {
    const st = this.st.status.state;
    if (st === TokenState.Settled) {
      return toAssetsDown(this.totalSupply(), this.st.settledAssets, this.st.settledSupply);
    }
    if (st === TokenState.Depleted) return 0n;
    const { equity } = this.vault.snapshot(this.market, this.address, time);
    return equity > 0n ? equity : 0n;
  }

  convertToShares(assets: bigint, time: bigint): bigint {
    const supply = this.supplyNow(time);
    const equity = this.totalAssets(time);
    if (supply === 0n || equity === 0n) return assets * INITIAL_SHARES_PER_UNIT;
    return toSharesDown(assets, supply, equity);
  }

  convertToAssets(shares: bigint, time: bigint): bigint {
    const supply = this.supplyNow(time);
    if (supply === 0n) return shares / INITIAL_SHARES_PER_UNIT;
    return toAssetsDown(shares, this.totalAssets(time), supply);
  }

  previewDeposit(assets: bigint, time: bigint): bigint {
    return this.quoteDeposit(this.liveBook(this.supplyNow(time), time), assets).shares;
  }

  previewMint(shares: bigint, time: bigint): bigint {
    return this.quoteMint(this.liveBook(this.supplyNow(time), time), shares);
  }

  previewRedeem(shares: bigint, time: bigint): bigint {
    if (this.st.status.state === TokenState.Settled) return this.settledAssetsOf(shares);
    return quoteRedeem(this.liveBook(this.supplyNow(time), time), shares).assets;
  }

  previewWithdraw(assets: bigint, time: bigint): bigint {
    if (this.st.status.state === TokenState.Settled) return this.settledSharesFor(assets);
    return quoteWithdraw(this.liveBook(this.supplyNow(time), time), assets);
  }

  maxDeposit(time: bigint): bigint {
    const { open, room } = this.mintRoom(time);
    if (!open) return 0n;
    if (room === UINT256_MAX) return UINT256_MAX;
    return this.quoteMint(this.liveBook(this.supplyNow(time), time), room + 1n) - 1n;
  }

  maxMint(time: bigint): bigint {
    const { open, room } = this.mintRoom(time);
    return open ? room : 0n;
  }

  maxRedeem(owner: string, time: bigint): bigint {
    return this.redeemOpen(time) ? this.balanceOf(owner) : 0n;
  }

  maxWithdraw(owner: string, time: bigint): bigint {
    return this.redeemOpen(time) ? this.previewRedeem(this.balanceOf(owner), time) : 0n;
  }

  /** Supply with the management fee accrued to `time`. */
  supplyNow(time: bigint): bigint {
    const s = this.st.status;
    let supply = this.totalSupply();
    if (feeAccrues(s, supply)) {
      supply += managementFeeSharesDown(supply, this.st.fees.managementFee, time - s.lastFeeAccrual);
    }
    return supply;
  }

  /** Reads the exchange once (the contract's _book). */
  book(supply: bigint, time: bigint): Book {
    const { size, equity, price } = this.vault.snapshot(this.market, this.address, time);
    const { takerFee, priceImpact } = this.vault.tradeCosts(this.market);
    return { supply, size, equity, price, takerFee, priceImpact, fees: { ...this.st.fees } };
  }

  /** _liveBook: the token must have equity left to price anything against it. */
  liveBook(supply: bigint, time: bigint): Book {
    const b = this.book(supply, time);
    if (supply !== 0n && b.equity <= 0n) throw new EngineRevert("TokenDepleted");
    return b;
  }

  /** _quoteDeposit: shares for the receiver, fee shares for the treasury and the trade. */
  quoteDeposit(b: Book, assets: bigint): DepositQuote {
    const sizeDelta =
      b.supply === 0n
        ? this.signed(targetSizeDown(assets, this.targetLeverage, b.price))
        : scaleSize(b.size, assets, b.equity);
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
    const feeShares = feeUp(total, b.fees.mintFee);
    return { quote: q, shares: total - feeShares, feeShares };
  }

  /** _quoteMint: the least USDT whose deposit mints at least `shares`. */
  quoteMint(b: Book, shares: bigint): bigint {
    const guess =
      b.supply === 0n
        ? (shares + MINIMUM_SHARES) / INITIAL_SHARES_PER_UNIT
        : mulDivDown(shares, b.equity, b.supply);
    return leastInput(b, shares, guess, UINT128_MAX, (bk, x) => this.quoteDeposit(bk, x).shares).hi;
  }

  /** _rebalanceReason at `time`. */
  rebalanceReason(size: bigint, equity: bigint, price: bigint, time: bigint): number {
    if (size === 0n) return REASON_NONE;
    if (equity <= 0n) return REASON_DEPLETED;
    const lev = leverageOf(size, equity, price);
    if (lev >= this.ripcordLeverage) return REASON_RIPCORD;
    if (lev > this.maxLeverage || lev < this.minLeverage) return REASON_BAND;
    const today = time - (time % DAY);
    const off = lev > this.targetLeverage ? lev - this.targetLeverage : this.targetLeverage - lev;
    if (this.st.lastRebalance < today && off > this.rebalanceEpsilon) return REASON_DAILY;
    return REASON_NONE;
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
    if (f.mintFee > MAX_MINT_FEE) throw new EngineRevert("InvalidParameter", ["mintFee", f.mintFee]);
    if (f.redeemFee > MAX_REDEEM_FEE) throw new EngineRevert("InvalidParameter", ["redeemFee", f.redeemFee]);
    if (f.managementFee > MAX_MANAGEMENT_FEE) {
      throw new EngineRevert("InvalidParameter", ["managementFee", f.managementFee]);
    }
    if (f.rebalanceBounty > MAX_BOUNTY) {
      throw new EngineRevert("InvalidParameter", ["rebalanceBounty", f.rebalanceBounty]);
    }
    this.st.fees = {
      mintFee: f.mintFee,
      redeemFee: f.redeemFee,
      managementFee: f.managementFee,
      rebalanceBounty: f.rebalanceBounty,
    };
    if (this.shares !== undefined)
      this.emit("FeesSet", [f.mintFee, f.redeemFee, f.managementFee, f.rebalanceBounty]);
  }

  private requireMintable(): TokenStatus {
    const s = { ...this.st.status };
    if (s.state === TokenState.Depleted) throw new EngineRevert("TokenDepleted");
    if (s.state !== TokenState.Active) throw new EngineRevert("InvalidState", [BigInt(s.state)]);
    if (s.mintPaused) throw new EngineRevert("MintPaused");
    return s;
  }

  /** _accrueManagementFee: mints the fee shares due; returns the new supply. */
  private accrueFee(s: TokenStatus, time: bigint): bigint {
    let supply = this.totalSupply();
    if (s.lastFeeAccrual === time) return supply;
    if (feeAccrues(s, supply)) {
      const elapsed = time - s.lastFeeAccrual;
      const feeShares = managementFeeSharesDown(supply, this.st.fees.managementFee, elapsed);
      if (feeShares !== 0n) {
        this.shares.mint(s.treasury, feeShares);
        supply += feeShares;
        this.emit("ManagementFeeAccrued", [feeShares, elapsed]);
      }
    }
    s.lastFeeAccrual = time;
    this.st.status.lastFeeAccrual = time;
    return supply;
  }

  private mintAndTrade(
    tx: Tx,
    s: TokenStatus,
    q: Quote,
    receiver: string,
    assets: bigint,
    shares: bigint,
    feeShares: bigint,
  ): void {
    const cap = this.st.supplyCap;
    const supplyAfter = q.supply + shares + feeShares + (q.supply === 0n ? MINIMUM_SHARES : 0n);
    if (supplyAfter > cap) throw new EngineRevert("SupplyCapExceeded", [supplyAfter, cap]);
    this.world.usdt.transferFrom(this.address, tx.from, this.vault.address, assets);
    this.trade(tx, q, assets, ZERO_ADDRESS, q.equityAfter);
    if (q.supply === 0n) this.shares.mint(DEAD, MINIMUM_SHARES);
    this.shares.mint(receiver, shares);
    if (feeShares !== 0n) this.shares.mint(s.treasury, feeShares);
    this.emit("Deposit", [key(tx.from), key(receiver), assets, shares]);
    this.emit("PositionResized", [q.sizeDelta, q.price, q.cost, feeShares]);
  }

  private burnAndTrade(
    tx: Tx,
    s: TokenStatus,
    q: Quote,
    owner: string,
    receiver: string,
    shares: bigint,
    assets: bigint,
    feeShares: bigint,
  ): void {
    if (key(tx.from) !== key(owner)) this.shares.spendAllowance(owner, tx.from, shares);
    const balance = this.shares.balanceOf(owner);
    if (shares > balance) throw new EngineRevert("ExceedsBalance", [shares, balance]);
    this.shares.burn(owner, shares - feeShares);
    if (feeShares !== 0n) this.shares.transfer(owner, s.treasury, feeShares);
    this.emit("Withdraw", [key(tx.from), key(receiver), key(owner), assets, shares]);
    this.emit("PositionResized", [q.sizeDelta, q.price, q.cost, feeShares]);
    this.trade(tx, q, -assets, receiver, q.equityAfter - assets);
  }

  /** One exchange call as the token; reverts if the exchange's equity differs from the quote. */
  private trade(tx: Tx, q: Quote, marginDelta: bigint, to: string, expectedEquity: bigint): void {
    const r = this.vault.trade(
      { from: this.address, time: tx.time },
      this.market,
      q.sizeDelta,
      marginDelta,
      to,
    );
    if (r.equity !== expectedEquity) throw new EngineRevert("ExchangeMismatch", [expectedEquity, r.equity]);
  }

  private doRebalance(tx: Tx): void {
    const s = { ...this.st.status };
    if (s.state !== TokenState.Active && s.state !== TokenState.Delisting) {
      throw new EngineRevert("InvalidState", [BigInt(s.state)]);
    }
    const b = this.book(this.accrueFee(s, tx.time), tx.time);
    const reason = this.rebalanceReason(b.size, b.equity, b.price, tx.time);
    const before = leverageOf(b.size, b.equity, b.price);
    if (reason === REASON_NONE) throw new EngineRevert("RebalanceNotNeeded", [before]);
    const keeper = this.hasRole(KEEPER_ROLE, tx.from);
    if (!keeper && reason < REASON_RIPCORD) {
      throw new EngineRevert("AccessControlUnauthorizedAccount", [key(tx.from), KEEPER_ROLE]);
    }
    if (reason === REASON_DEPLETED) {
      this.deplete(tx, s, b.size, b.equity, b.price);
      this.st.status = s;
      return;
    }
    const target = this.signed(targetSizeDown(b.equity, this.targetLeverage, b.price));
    const q = quoteTrade(b, target - b.size);
    let bounty = keeper ? 0n : min(this.st.fees.rebalanceBounty, MAX_BOUNTY);
    if (q.equityAfter <= bounty) bounty = 0n;
    this.st.lastRebalance = tx.time;
    this.emit("Rebalanced", [
      key(tx.from),
      BigInt(reason),
      before,
      leverageOf(target, q.equityAfter - bounty, b.price),
      q.sizeDelta,
      b.price,
      q.cost,
      bounty,
    ]);
    this.trade(tx, q, -bounty, tx.from, q.equityAfter - bounty);
  }

  private deplete(tx: Tx, s: TokenStatus, size: bigint, equity: bigint, price: bigint): void {
    s.state = TokenState.Depleted;
    this.emit("Depleted", [equity, price]);
    if (size !== 0n)
      this.vault.trade({ from: this.address, time: tx.time }, this.market, -size, 0n, ZERO_ADDRESS);
  }

  private mintRoom(time: bigint): { open: boolean; room: bigint } {
    const s = this.st.status;
    if (s.state !== TokenState.Active || s.mintPaused) return { open: false, room: 0n };
    const supply = this.supplyNow(time);
    if (supply !== 0n) {
      const { equity } = this.vault.snapshot(this.market, this.address, time);
      if (equity <= 0n) return { open: false, room: 0n };
    }
    const cap = this.st.supplyCap;
    const reserve = supply === 0n ? MINIMUM_SHARES : 0n;
    if (supply + reserve >= cap) return { open: false, room: 0n };
    return { open: true, room: cap === UINT128_MAX ? UINT256_MAX : cap - supply - reserve };
  }

  private redeemOpen(time: bigint): boolean {
    const st = this.st.status.state;
    if (st === TokenState.Settled) return true;
    if (st !== TokenState.Active && st !== TokenState.Delisting) return false;
    return this.vault.snapshot(this.market, this.address, time).equity > 0n;
  }

  private settledAssetsOf(shares: bigint): bigint {
    return toAssetsDown(shares, this.st.settledAssets, this.st.settledSupply);
  }

  private settledSharesFor(assets: bigint): bigint {
    if (assets === 0n) throw new EngineRevert("ZeroAmount");
    return mulDivUp(assets, this.st.settledSupply, this.st.settledAssets);
  }

  private payFromSettlement(tx: Tx, owner: string, receiver: string, shares: bigint, assets: bigint): void {
    if (shares === 0n) throw new EngineRevert("ZeroAmount");
    if (key(tx.from) !== key(owner)) this.shares.spendAllowance(owner, tx.from, shares);
    const balance = this.shares.balanceOf(owner);
    if (shares > balance) throw new EngineRevert("ExceedsBalance", [shares, balance]);
    this.shares.burn(owner, shares);
    this.emit("Withdraw", [key(tx.from), key(receiver), key(owner), assets, shares]);
    if (assets !== 0n) this.world.usdt.transfer(this.address, receiver, assets);
  }
}

/* PURE QUOTES (the contract's internal pure functions) */

/** _quoteTrade: the exchange equity after trading `sizeDelta` now. */
export function quoteTrade(b: Book, sizeDelta: bigint): Quote {
  const q: Quote = { supply: b.supply, price: b.price, sizeDelta, cost: 0n, equityAfter: b.equity };
  if (sizeDelta === 0n) return q;
  q.cost = tradeCostTotalUp(notionalUp(sizeDelta, b.price), b.takerFee, b.priceImpact);
  q.equityAfter = b.equity - q.cost + tradeRoundingDown(b.size, sizeDelta, b.price);
  return q;
}

/** _quoteRedeem: USDT a redemption of `shares` pays and the redeem fee in shares. */
export function quoteRedeem(b: Book, shares: bigint): RedeemQuote {
  if (shares > b.supply) throw new EngineRevert("ExceedsBalance", [shares, b.supply]);
  const feeShares = feeUp(shares, b.fees.redeemFee);
  const burnt = shares - feeShares;
  const q = quoteTrade(b, -scaleSize(b.size, burnt, b.supply));
  const released = q.equityAfter - toAssetsUp(b.supply - burnt, b.equity, b.supply);
  return { quote: q, assets: released > 0n ? released : 0n, feeShares };
}

/** _quoteWithdraw: the fewest shares whose redemption pays at least `assets`. */
export function quoteWithdraw(b: Book, assets: bigint): bigint {
  return leastInput(
    b,
    assets,
    mulDivDown(assets, b.supply, b.equity),
    b.supply,
    (bk, x) => quoteRedeem(bk, x).assets,
  ).hi;
}

/**
 * _leastInput: the least input whose `output` reaches `target`; steps up from `guess` by the
 * observed rate, then bisects between the last miss and the first hit. Reverts ZeroAmount when the
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
    if (hi === limit || i === 64) throw new EngineRevert("ZeroAmount");
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

function requireRedeemable(s: TokenStatus): void {
  if (s.state === TokenState.Depleted) throw new EngineRevert("TokenDepleted");
  if (s.state !== TokenState.Active && s.state !== TokenState.Delisting) {
    throw new EngineRevert("InvalidState", [BigInt(s.state)]);
  }
}
