// Twin of contracts/ForwardDesk.sol: forward pricing (ERC-7540 asynchronous deposits and redemptions)
// in front of one leveraged token. The same state (epochs, per-controller orders and claims,
// operators), the same checks in the same order with the same custom errors, the same events, and
// the same USDT and share movements, through the same ledgers. Every entry point reads like the
// contract's: checks, fold the controller's filled order into its claim, compute, write, emit,
// transfer last. (The contract's reentrancy guard has no twin: engine calls never re-enter.)
import { ZERO_ADDRESS, key, type Erc20Ledger } from "./erc20.ts";
import { EngineRevert, type RevertArg } from "./errors.ts";
import type { Exchange } from "./exchange.ts";
import {
  PANIC_OVERFLOW,
  UINT128_MAX,
  UINT256_MAX,
  WAD,
  feeUp,
  min,
  mulDivDown,
  mulDivUp,
  toAssetsDown,
  toSharesDown,
  toUint,
} from "./math.ts";
import { KEEPER_ROLE, TokenState, type LeveragedToken } from "./token.ts";
import type { FrozenLog, Tx, World } from "./world.ts";

const UINT40_MASK = (1n << 40n) - 1n;
const UINT64_MASK = (1n << 64n) - 1n;
/** The most epochs one fill takes (ForwardDesk.MAX_FILL_EPOCHS). */
export const MAX_FILL_EPOCHS = 64n;

/** What was requested (`given`: USDT for deposits, shares for redemptions) and what the fill gave for
 * it (`got`: shares, USDT); also a controller's claim. */
export interface DeskSide {
  given: bigint;
  got: bigint;
}

/** The requests placed in one price round; a fill writes `filledBy` (the batch: the last epoch it
 * filled) on each epoch it took, and the batch's totals and results on that last one. */
export interface DeskEpoch {
  round: bigint;
  placedAt: bigint;
  filledBy: bigint;
  depositRefused: boolean;
  redeemRefused: boolean;
  deposits: DeskSide;
  redemptions: DeskSide;
}

/** A controller's unfilled (or just filled, not yet folded) request: its epoch and amount. */
export interface DeskOrder {
  epoch: bigint;
  amount: bigint;
}

export interface DeskStorage {
  openEpoch: bigint;
  nextToFill: bigint;
  /** The epochs not yet filled; a filled epoch never changes again and moves to `filled`. */
  epochOf: Map<bigint, DeskEpoch>;
  depositOrder: Map<string, DeskOrder>;
  redeemOrder: Map<string, DeskOrder>;
  depositClaim: Map<string, DeskSide>;
  redeemClaim: Map<string, DeskSide>;
  /** isOperator, keyed `${controller}>${operator}` (lower case). */
  operators: Map<string, boolean>;
}

/** The constructor's arguments (the token is passed as its twin) and the desk's address. */
export interface DeskConfig {
  address: string;
  fillDelay: bigint;
  fillBounty: bigint;
}

export interface FillNeeded {
  needed: boolean;
  lateAt: bigint;
}

/** A storage slot never written reads as zero: what the views see for a missing map entry. */
function emptyEpoch(): DeskEpoch {
  return {
    round: 0n,
    placedAt: 0n,
    filledBy: 0n,
    depositRefused: false,
    redeemRefused: false,
    deposits: { given: 0n, got: 0n },
    redemptions: { given: 0n, got: 0n },
  };
}

/** A checked uint128 addition (Panic 0x11 past 2^128 - 1). */
function add128(a: bigint, b: bigint): bigint {
  if (a + b > UINT128_MAX) throw new EngineRevert("Panic", [PANIC_OVERFLOW]);
  return a + b;
}

/** A checked subtraction (Panic 0x11 below zero). */
function sub(a: bigint, b: bigint): bigint {
  if (b > a) throw new EngineRevert("Panic", [PANIC_OVERFLOW]);
  return a - b;
}

export class ForwardDesk {
  st: DeskStorage = {
    openEpoch: 0n,
    nextToFill: 1n,
    epochOf: new Map(),
    depositOrder: new Map(),
    redeemOrder: new Map(),
    depositClaim: new Map(),
    redeemClaim: new Map(),
    operators: new Map(),
  };

  readonly address: string;
  readonly token: LeveragedToken;
  readonly fillDelay: bigint;
  readonly fillBounty: bigint;

  /** Off only inside fillApart, a counterfactual: the contract always nets. */
  private netting = true;
  private readonly world: World;
  private readonly vault: Exchange;
  private readonly usdt: Erc20Ledger;
  private readonly market: string;
  /** The filled epochs: never written again, so kept out of the state `atomic` copies. */
  private readonly filled: FrozenLog<bigint, DeskEpoch>;

  constructor(world: World, vault: Exchange, token: LeveragedToken, c: DeskConfig) {
    this.world = world;
    this.filled = world.frozenLog();
    this.vault = vault;
    this.token = token;
    this.usdt = world.usdt;
    this.market = token.market;
    this.address = key(c.address);
    this.fillDelay = c.fillDelay;
    this.fillBounty = c.fillBounty;
    // the token takes a fill's deposit through its margin callback
    this.usdt.approve(this.address, token.address, UINT256_MAX);
    world.register(this);
  }

  /* REQUESTS */

  /** requestDeposit(assets, controller, owner): returns the request id (always 0). */
  requestDeposit(tx: Tx, assets: bigint, controller: string, owner: string): bigint {
    return this.world.atomic(() => {
      if (assets === 0n) throw new EngineRevert("ZeroAmount");
      if (key(controller) === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
      this.requireOperator(tx, owner);
      if (key(controller) !== key(owner)) this.requireOperator(tx, controller);
      const { state, mintPaused } = this.token.st.status;
      if (state !== TokenState.Active || mintPaused) {
        throw new EngineRevert("RequestClosed", [BigInt(state), mintPaused]);
      }
      const epoch = this.epochForRequest(tx);
      this.place(controller, epoch, assets, true);
      const e = this.epochRef(epoch);
      e.deposits.given = add128(e.deposits.given, toUint(128n, assets));
      this.emit("DepositRequest", [key(controller), key(owner), 0n, key(tx.from), assets]);
      this.usdt.transferFrom(this.address, owner, this.address, assets);
      return 0n;
    });
  }

  /**
   * requestDepositWithPermit(assets, controller, deadline, v, r, s). The twin checks no signature:
   * `permitValid` says whether USDT's permit went through (it sets the caller's allowance to the desk
   * to `assets`, with its Approval event); when it did not (a bad signature, a passed deadline, a
   * permit someone sent first), the allowance there is must cover `assets`, else PermitRejected.
   */
  requestDepositWithPermit(tx: Tx, assets: bigint, controller: string, permitValid: boolean): bigint {
    return this.world.atomic(() => {
      if (permitValid) {
        this.usdt.approve(tx.from, this.address, assets);
      } else {
        const allowance = this.usdt.allowance(tx.from, this.address);
        if (allowance < assets) throw new EngineRevert("PermitRejected", [key(tx.from), allowance, assets]);
      }
      return this.requestDeposit(tx, assets, controller, tx.from);
    });
  }

  /** requestRedeem(shares, controller, owner): the shares move with the owner's allowance to the desk. */
  requestRedeem(tx: Tx, shares: bigint, controller: string, owner: string): bigint {
    return this.world.atomic(() => {
      if (shares === 0n) throw new EngineRevert("ZeroAmount");
      if (key(controller) === ZERO_ADDRESS) throw new EngineRevert("ZeroAddress");
      this.requireOperator(tx, owner);
      if (key(controller) !== key(owner)) this.requireOperator(tx, controller);
      const state = this.token.state();
      if (state !== TokenState.Active && state !== TokenState.Delisting) {
        throw new EngineRevert("RequestClosed", [BigInt(state), false]);
      }
      const epoch = this.epochForRequest(tx);
      this.place(controller, epoch, shares, false);
      const e = this.epochRef(epoch);
      e.redemptions.given = add128(e.redemptions.given, toUint(128n, shares));
      this.emit("RedeemRequest", [key(controller), key(owner), 0n, key(tx.from), shares]);
      this.token.shares.transferFrom(this.address, owner, this.address, shares);
      return 0n;
    });
  }

  /** cancelDepositRequest(controller): the USDT returned to the controller. */
  cancelDepositRequest(tx: Tx, controller: string): bigint {
    return this.world.atomic(() => {
      this.requireOperator(tx, controller);
      const { epoch, amount } = this.cancel(controller, true);
      this.returnOrder(controller, epoch, amount, true);
      return amount;
    });
  }

  /** cancelRedeemRequest(controller): the shares returned to the controller. */
  cancelRedeemRequest(tx: Tx, controller: string): bigint {
    return this.world.atomic(() => {
      this.requireOperator(tx, controller);
      const { epoch, amount } = this.cancel(controller, false);
      this.returnOrder(controller, epoch, amount, false);
      return amount;
    });
  }

  /** setOperator(operator, approved): returns true. */
  setOperator(tx: Tx, operator: string, approved: boolean): boolean {
    return this.world.atomic(() => {
      this.st.operators.set(`${key(tx.from)}>${key(operator)}`, approved);
      this.emit("OperatorSet", [key(tx.from), key(operator), approved]);
      return true;
    });
  }

  /* FILLS */

  /**
   * fill(): every request placed before the current price round, in one batch at one NAV; returns the
   * batch id. The token's deposit and redeem run as the contract's try/catch: an EngineRevert from the
   * token twin refuses that side (its own atomic rollback has left the token, the exchange and the
   * ledgers as they were, as the EVM does for a reverted sub-call).
   *
   * The contract's `_requireNotStarved` (FillOutOfGas: a refusal that came from the caller's gas limit
   * reverts the fill instead) has no twin: the engine has no gas, so a refusal is always the token's.
   */
  fill(tx: Tx): bigint {
    return this.world.atomic(() => {
      const round = this.freshRound(tx.time);
      const first = this.st.nextToFill;
      const f = this.fillable(first, round);
      const batch = f.batch;
      const deposits: DeskSide = { given: toUint(128n, f.assets), got: 0n };
      const redemptions: DeskSide = { given: toUint(128n, f.shares), got: 0n };
      if (batch < first) throw new EngineRevert("NothingToFill", [round]);
      const keeper = this.token.hasRole(KEEPER_ROLE, tx.from);
      // epochs emptied by cancels hold nothing: anyone may clear them, at once and for nothing
      if (!keeper && f.placedAt !== 0n) {
        const lateAt = f.placedAt + this.fillDelay;
        if (tx.time < lateAt) throw new EngineRevert("FillNotLate", [lateAt]);
      }
      const { depositRefused, redeemRefused, bounty } = this.trade(tx, deposits, redemptions, keeper);
      // read `this.st` afresh: a refused side's rollback replaced every twin's state object
      for (let e = first; e <= batch; ++e) this.epochRef(e).filledBy = batch & UINT64_MASK;
      const last = this.epochRef(batch);
      last.depositRefused = depositRefused;
      last.redeemRefused = redeemRefused;
      last.deposits = { ...deposits };
      last.redemptions = { ...redemptions };
      this.st.nextToFill = (batch + 1n) & UINT64_MASK;
      for (let e = first; e <= batch; ++e) this.archive(e);
      this.emit("Filled", [
        batch,
        first,
        round,
        deposits.given,
        deposits.got,
        redemptions.given,
        redemptions.got,
        depositRefused,
        redeemRefused,
        key(tx.from),
        bounty,
      ]);
      if (bounty !== 0n) this.usdt.transfer(this.address, tx.from, bounty);
      return batch;
    });
  }

  /**
   * What fill() would do with the two sides traded apart, no netting: a counterfactual for measuring
   * netting's saving (the demo runs it inside an atomic block it rolls back); the contract always nets.
   */
  fillApart(tx: Tx): bigint {
    this.netting = false;
    try {
      return this.fill(tx);
    } finally {
      this.netting = true;
    }
  }

  /** fillNeeded(): whether a fill has work, and from when anyone may do it (0 when none). */
  fillNeeded(): FillNeeded {
    const first = this.st.nextToFill;
    const { batch, placedAt } = this.fillable(first, this.round());
    return { needed: batch >= first, lateAt: placedAt !== 0n ? placedAt + this.fillDelay : 0n };
  }

  /* CLAIMS */

  /** deposit(assets, receiver, controller): the shares `assets` of the claim bought, rounded down. */
  deposit(tx: Tx, assets: bigint, receiver: string, controller: string = tx.from): bigint {
    return this.world.atomic(() => {
      const claim = this.claimOf(tx, controller, true);
      const shares = this.take(claim, assets, false);
      this.emit("Deposit", [key(controller), key(receiver), assets, shares]);
      this.token.shares.transfer(this.address, receiver, shares);
      return shares;
    });
  }

  /** mint(shares, receiver, controller): the claim's USDT those shares cost, rounded up. */
  mint(tx: Tx, shares: bigint, receiver: string, controller: string = tx.from): bigint {
    return this.world.atomic(() => {
      const claim = this.claimOf(tx, controller, true);
      const assets = this.take(claim, shares, true);
      this.emit("Deposit", [key(controller), key(receiver), assets, shares]);
      this.token.shares.transfer(this.address, receiver, shares);
      return assets;
    });
  }

  /** redeem(shares, receiver, controller): the USDT those shares of the claim got, rounded down. */
  redeem(tx: Tx, shares: bigint, receiver: string, controller: string): bigint {
    return this.world.atomic(() => {
      const claim = this.claimOf(tx, controller, false);
      const assets = this.take(claim, shares, false);
      this.emit("Withdraw", [key(tx.from), key(receiver), key(controller), assets, shares]);
      this.usdt.transfer(this.address, receiver, assets);
      return assets;
    });
  }

  /** withdraw(assets, receiver, controller): the claim's shares that USDT took, rounded up. */
  withdraw(tx: Tx, assets: bigint, receiver: string, controller: string): bigint {
    return this.world.atomic(() => {
      const claim = this.claimOf(tx, controller, false);
      const shares = this.take(claim, assets, true);
      this.emit("Withdraw", [key(tx.from), key(receiver), key(controller), assets, shares]);
      this.usdt.transfer(this.address, receiver, assets);
      return shares;
    });
  }

  /* VIEWS */

  /** pendingDepositRequest(0, controller): USDT not yet filled. */
  pendingDepositRequest(controller: string): bigint {
    return this.pending(this.readOrder(this.st.depositOrder, controller));
  }

  /** claimableDepositRequest(0, controller): USDT filled and not yet claimed. */
  claimableDepositRequest(controller: string): bigint {
    return this.claimable(controller, true).given;
  }

  /** pendingRedeemRequest(0, controller): shares not yet filled. */
  pendingRedeemRequest(controller: string): bigint {
    return this.pending(this.readOrder(this.st.redeemOrder, controller));
  }

  /** claimableRedeemRequest(0, controller): shares filled and not yet claimed. */
  claimableRedeemRequest(controller: string): bigint {
    return this.claimable(controller, false).given;
  }

  /** refundable(controller): USDT and shares a fill refused, for the controller to cancel. */
  refundable(controller: string): { assets: bigint; shares: bigint } {
    return {
      assets: this.refused(this.readOrder(this.st.depositOrder, controller), true),
      shares: this.refused(this.readOrder(this.st.redeemOrder, controller), false),
    };
  }

  /** maxDeposit(controller): the USDT of the claimable deposits. */
  maxDeposit(controller: string): bigint {
    return this.claimable(controller, true).given;
  }

  /** maxMint(controller): the shares of the claimable deposits. */
  maxMint(controller: string): bigint {
    return this.claimable(controller, true).got;
  }

  /** maxWithdraw(controller): the USDT of the claimable redemptions. */
  maxWithdraw(controller: string): bigint {
    return this.claimable(controller, false).got;
  }

  /** maxRedeem(controller): the shares of the claimable redemptions. */
  maxRedeem(controller: string): bigint {
    return this.claimable(controller, false).given;
  }

  isOperator(controller: string, operator: string): boolean {
    return this.st.operators.get(`${key(controller)}>${key(operator)}`) ?? false;
  }

  /** currentRound(): the exchange's time of the market's last price. */
  currentRound(): bigint {
    return this.round();
  }

  /** epochs(): the epoch taking requests in the current round (0 before any) and the oldest unfilled. */
  epochs(): { open: bigint; next: bigint } {
    return { open: this.st.openEpoch, next: this.st.nextToFill };
  }

  /** The stored epoch `e` (all zero when never written): engine-only inspection, the contract keeps
   * its epochs internal. */
  epoch(e: bigint): Readonly<DeskEpoch> {
    return this.readEpoch(e);
  }

  asset(): string {
    return key(this.usdt.address);
  }

  share(): string {
    return this.token.address;
  }

  totalAssets(time: bigint): bigint {
    return this.token.totalAssets(time);
  }

  convertToShares(assets: bigint, time: bigint): bigint {
    return this.token.convertToShares(assets, time);
  }

  convertToAssets(shares: bigint, time: bigint): bigint {
    return this.token.convertToAssets(shares, time);
  }

  /** The four previews revert AsyncFlow: the price is a round not yet known (ERC-7540). */
  previewDeposit(assets: bigint): never {
    void assets;
    throw new EngineRevert("AsyncFlow");
  }

  previewMint(shares: bigint): never {
    void shares;
    throw new EngineRevert("AsyncFlow");
  }

  previewRedeem(shares: bigint): never {
    void shares;
    throw new EngineRevert("AsyncFlow");
  }

  previewWithdraw(assets: bigint): never {
    void assets;
    throw new EngineRevert("AsyncFlow");
  }

  /* INTERNAL */

  /**
   * _trade: the token's mint of the batch's USDT (less a late fill's bounty) and its redeem of the
   * batch's shares, at the price now; sets each side's `got`. The bounty is paid by the deposits, or
   * by the redemptions when no deposit was filled.
   */
  private trade(
    tx: Tx,
    deposits: DeskSide,
    redemptions: DeskSide,
    keeper: boolean,
  ): { depositRefused: boolean; redeemRefused: boolean; bounty: bigint } {
    const self: Tx = { from: this.address, time: tx.time };
    let bounty = keeper ? 0n : min(this.fillBounty, deposits.given / 100n);
    if (
      this.netting &&
      deposits.given !== 0n &&
      redemptions.given !== 0n &&
      this.net(self, deposits, redemptions, deposits.given - bounty)
    ) {
      return { depositRefused: false, redeemRefused: false, bounty };
    }
    let depositRefused = false;
    let redeemRefused = false;
    if (deposits.given !== 0n) {
      const shares = refusable(() => this.token.deposit(self, deposits.given - bounty, this.address));
      if (shares === undefined) {
        depositRefused = true;
        bounty = 0n;
      } else {
        deposits.got = toUint(128n, shares);
      }
    }
    if (redemptions.given !== 0n) {
      const assets = refusable(() => this.token.redeem(self, redemptions.given, this.address, this.address));
      if (assets === undefined) {
        redeemRefused = true;
      } else {
        const redeemBounty = keeper || deposits.got !== 0n ? 0n : min(this.fillBounty, assets / 100n);
        bounty += redeemBounty;
        redemptions.got = toUint(128n, assets - redeemBounty);
      }
    }
    return { depositRefused, redeemRefused, bounty };
  }

  /**
   * _net: the batch's deposits (`assets`, the bounty taken) against its redemptions. The redeemers'
   * shares pass to the depositors at the NAV a mint or a redeem prices against now (bookNow: after
   * the rebalance the rest's trade runs first when one is due; shares to USDT rounded down, USDT to
   * shares when the deposits are the smaller side), the redeem fee on the shares given and the mint fee on
   * those passed (both rounded up) go to the treasury, and only the rest of the larger side goes
   * through the token. False, nothing done, on a token that takes no mints, when nothing matches,
   * or when the token refuses the rest (the fill then trades the sides apart).
   */
  private net(self: Tx, deposits: DeskSide, redemptions: DeskSide, assets: bigint): boolean {
    const { state, mintPaused } = this.token.st.status;
    if (state !== TokenState.Active || mintPaused) return false;
    const { mintFee, redeemFee } = this.token.fees();
    let given = redemptions.given;
    let redeemFeeShares = feeUp(given, redeemFee);
    let shares = given - redeemFeeShares;
    const book = this.token.bookNow(self.time);
    let paid = toAssetsDown(shares, book.equity, book.supply);
    if (paid > assets) {
      // the deposits are the smaller side: all of them buy shares, the rest is redeemed
      paid = assets;
      shares = toSharesDown(assets, book.supply, book.equity);
      given = min(mulDivUp(shares, WAD, WAD - redeemFee), given);
      redeemFeeShares = given - shares;
    }
    if (shares === 0n) return false;
    const mintFeeShares = feeUp(shares, mintFee);
    let sharesOut = shares - mintFeeShares;
    let assetsOut = paid;
    if (assets > paid) {
      const minted = refusable(() => this.token.deposit(self, assets - paid, this.address));
      if (minted === undefined) return false;
      sharesOut += minted;
    } else if (redemptions.given > given) {
      const out = refusable(() =>
        this.token.redeem(self, redemptions.given - given, this.address, this.address),
      );
      if (out === undefined) return false;
      assetsOut += out;
    }
    deposits.got = toUint(128n, sharesOut);
    redemptions.got = toUint(128n, assetsOut);
    this.emit("Netted", [shares, paid, redeemFeeShares, mintFeeShares]);
    const feeShares = redeemFeeShares + mintFeeShares;
    if (feeShares !== 0n) this.token.transfer(self, this.token.treasury(), feeShares);
    return true;
  }

  /** _freshRound: the current price round; reverts StalePrice when that price is too old to trade at. */
  private freshRound(time: bigint): bigint {
    const m = this.vault.market(this.market);
    if (time > m.updatedAt + m.heartbeat) {
      throw new EngineRevert("StalePrice", [this.market, m.updatedAt, m.heartbeat]);
    }
    return m.updatedAt;
  }

  private round(): bigint {
    return this.vault.market(this.market).updatedAt;
  }

  /** _epochForRequest: the open epoch while its round is the current one, else a new one. */
  private epochForRequest(tx: Tx): bigint {
    const round = this.round();
    let epoch = this.st.openEpoch;
    if (epoch !== 0n && this.readEpoch(epoch).round === round) return epoch;
    epoch += 1n;
    this.st.openEpoch = epoch & UINT64_MASK;
    const e = this.epochRef(epoch);
    e.round = round & UINT40_MASK;
    e.placedAt = tx.time & UINT40_MASK;
    return epoch;
  }

  /**
   * _fillable: the last epoch a fill now takes (below `first` when none), the USDT and shares its
   * epochs hold, and when the oldest of them holding any was placed (0: all empty); at most
   * MAX_FILL_EPOCHS epochs.
   */
  private fillable(
    first: bigint,
    round: bigint,
  ): { batch: bigint; assets: bigint; shares: bigint; placedAt: bigint } {
    const open = this.st.openEpoch;
    const end = open < first - 1n + MAX_FILL_EPOCHS ? open : first - 1n + MAX_FILL_EPOCHS;
    let batch = first - 1n;
    let assets = 0n;
    let shares = 0n;
    let placedAt = 0n;
    while (batch < end) {
      const e = this.readEpoch(batch + 1n);
      if (e.round >= round) break;
      ++batch;
      if (placedAt === 0n && (e.deposits.given !== 0n || e.redemptions.given !== 0n)) placedAt = e.placedAt;
      assets += e.deposits.given;
      shares += e.redemptions.given;
    }
    return { batch, assets, shares, placedAt };
  }

  /**
   * _place: adds `amount` to the controller's order in `epoch`. An order of an earlier epoch is folded
   * first (into the claim once filled, back to the controller if refused); one still waiting for its
   * fill reverts RequestPending.
   */
  private place(controller: string, epoch: bigint, amount: bigint, isDeposit: boolean): void {
    const order = this.orderRef(controller, isDeposit);
    const placed = order.epoch;
    if (placed !== 0n && placed !== epoch) {
      const batch = this.readEpoch(placed).filledBy;
      if (batch === 0n) throw new EngineRevert("RequestPending", [placed]);
      if (this.refusedBy(batch, isDeposit)) {
        const refund = order.amount;
        order.amount = 0n;
        this.returnOrder(controller, placed, refund, isDeposit);
      } else {
        this.fold(order, this.claimRef(controller, isDeposit), batch, isDeposit);
      }
    }
    order.epoch = epoch & UINT64_MASK;
    order.amount = add128(order.amount, toUint(128n, amount));
  }

  /** _return: a refused or cancelled order goes back to its controller. */
  private returnOrder(controller: string, epoch: bigint, amount: bigint, isDeposit: boolean): void {
    if (isDeposit) {
      this.emit("DepositRequestCancelled", [key(controller), epoch, amount]);
      this.usdt.transfer(this.address, controller, amount);
    } else {
      this.emit("RedeemRequestCancelled", [key(controller), epoch, amount]);
      this.token.shares.transfer(this.address, controller, amount);
    }
  }

  /** _cancel: removes the order while its round is the current one (its epoch's total falls by it), or
   * once its fill refused it. */
  private cancel(controller: string, isDeposit: boolean): { epoch: bigint; amount: bigint } {
    const order = this.orderRef(controller, isDeposit);
    const { epoch, amount } = order;
    if (epoch === 0n || amount === 0n) throw new EngineRevert("NotCancellable", [0n]);
    const batch = this.readEpoch(epoch).filledBy;
    if (batch === 0n) {
      const e = this.epochRef(epoch);
      if (e.round !== this.round()) throw new EngineRevert("NotCancellable", [epoch]);
      if (isDeposit) e.deposits.given = sub(e.deposits.given, amount);
      else e.redemptions.given = sub(e.redemptions.given, amount);
    } else if (!this.refusedBy(batch, isDeposit)) {
      throw new EngineRevert("NotCancellable", [epoch]);
    }
    order.epoch = 0n;
    order.amount = 0n;
    return { epoch, amount };
  }

  /** _fold: a filled order moves into the claim, its pro-rata share of the batch's result rounded down. */
  private fold(order: DeskOrder, claim: DeskSide, batch: bigint, isDeposit: boolean): void {
    const given = order.amount;
    const e = this.readEpoch(batch);
    const result = isDeposit ? e.deposits : e.redemptions;
    const got = mulDivDown(given, result.got, result.given);
    claim.given = add128(claim.given, given);
    claim.got = add128(claim.got, toUint(128n, got));
    order.epoch = 0n;
    order.amount = 0n;
  }

  /** _claimOf: the controller's claim with its filled order folded in; caller: it or its operator. */
  private claimOf(tx: Tx, controller: string, isDeposit: boolean): DeskSide {
    this.requireOperator(tx, controller);
    const order = this.orderRef(controller, isDeposit);
    const claim = this.claimRef(controller, isDeposit);
    const placed = order.epoch;
    if (placed !== 0n) {
      const batch = this.readEpoch(placed).filledBy;
      if (batch !== 0n && !this.refusedBy(batch, isDeposit)) this.fold(order, claim, batch, isDeposit);
    }
    return claim;
  }

  /**
   * _take: takes `amount` of the claim's `given` (or of its `got` when `byGot`) and returns the other
   * side: the whole claim for all of it, else pro rata, rounded against the claimer.
   */
  private take(claim: DeskSide, amount: bigint, byGot: boolean): bigint {
    if (amount === 0n) throw new EngineRevert("ZeroAmount");
    const { given, got } = claim;
    let other: bigint;
    if (byGot) {
      if (amount > got) throw new EngineRevert("ExceedsClaimable", [amount, got]);
      other = amount === got ? given : mulDivUp(amount, given, got);
      claim.given = (given - other) & UINT128_MAX;
      claim.got = (got - amount) & UINT128_MAX;
    } else {
      if (amount > given) throw new EngineRevert("ExceedsClaimable", [amount, given]);
      other = amount === given ? got : mulDivDown(amount, got, given);
      claim.given = (given - amount) & UINT128_MAX;
      claim.got = (got - other) & UINT128_MAX;
    }
    return other;
  }

  private refusedBy(batch: bigint, isDeposit: boolean): boolean {
    const e = this.readEpoch(batch);
    return isDeposit ? e.depositRefused : e.redeemRefused;
  }

  private pending(order: DeskOrder): bigint {
    const placed = order.epoch;
    return placed !== 0n && this.readEpoch(placed).filledBy === 0n ? order.amount : 0n;
  }

  private refused(order: DeskOrder, isDeposit: boolean): bigint {
    const placed = order.epoch;
    if (placed === 0n) return 0n;
    const batch = this.readEpoch(placed).filledBy;
    return batch !== 0n && this.refusedBy(batch, isDeposit) ? order.amount : 0n;
  }

  /** _claimable: the claim with the filled order folded in, as _claimOf would leave it. */
  private claimable(controller: string, isDeposit: boolean): DeskSide {
    const claim = this.readClaim(isDeposit ? this.st.depositClaim : this.st.redeemClaim, controller);
    let { given, got } = claim;
    const order = this.readOrder(isDeposit ? this.st.depositOrder : this.st.redeemOrder, controller);
    const placed = order.epoch;
    if (placed === 0n) return { given, got };
    const batch = this.readEpoch(placed).filledBy;
    if (batch === 0n || this.refusedBy(batch, isDeposit)) return { given, got };
    const e = this.readEpoch(batch);
    const result = isDeposit ? e.deposits : e.redemptions;
    given += order.amount;
    got += mulDivDown(order.amount, result.got, result.given);
    return { given, got };
  }

  private requireOperator(tx: Tx, account: string): void {
    if (key(account) !== key(tx.from) && !this.isOperator(account, tx.from)) {
      throw new EngineRevert("NotOperator", [key(account), key(tx.from)]);
    }
  }

  /* STORAGE (read: a copy of zero for a slot never written; ref: the slot, written in place) */

  private readEpoch(e: bigint): Readonly<DeskEpoch> {
    return this.st.epochOf.get(e) ?? this.filled.get(e) ?? emptyEpoch();
  }

  /** An epoch not yet filled, to write (a filled one never changes: a write to it is a twin's bug). */
  private epochRef(e: bigint): DeskEpoch {
    if (this.filled.get(e) !== undefined) throw new Error(`ForwardDesk twin: epoch ${e} is filled`);
    let epoch = this.st.epochOf.get(e);
    if (epoch === undefined) {
      epoch = emptyEpoch();
      this.st.epochOf.set(e, epoch);
    }
    return epoch;
  }

  /** A filled epoch moves, frozen, out of the state `atomic` copies (an empty one is not kept). */
  private archive(e: bigint): void {
    const epoch = this.st.epochOf.get(e);
    if (epoch === undefined) return;
    this.st.epochOf.delete(e);
    Object.freeze(epoch.deposits);
    Object.freeze(epoch.redemptions);
    this.filled.add(e, epoch);
  }

  private readOrder(map: Map<string, DeskOrder>, controller: string): DeskOrder {
    return map.get(key(controller)) ?? { epoch: 0n, amount: 0n };
  }

  private orderRef(controller: string, isDeposit: boolean): DeskOrder {
    const map = isDeposit ? this.st.depositOrder : this.st.redeemOrder;
    let order = map.get(key(controller));
    if (order === undefined) {
      order = { epoch: 0n, amount: 0n };
      map.set(key(controller), order);
    }
    return order;
  }

  private readClaim(map: Map<string, DeskSide>, controller: string): DeskSide {
    return map.get(key(controller)) ?? { given: 0n, got: 0n };
  }

  private claimRef(controller: string, isDeposit: boolean): DeskSide {
    const map = isDeposit ? this.st.depositClaim : this.st.redeemClaim;
    let claim = map.get(key(controller));
    if (claim === undefined) {
      claim = { given: 0n, got: 0n };
      map.set(key(controller), claim);
    }
    return claim;
  }

  private emit(name: string, args: RevertArg[]): void {
    this.world.log.emit(this.address, name, args);
  }
}

/** A try/catch around a call to the token: its result, or undefined when the token twin reverted. */
function refusable(call: () => bigint): bigint | undefined {
  try {
    return call();
  } catch (e) {
    if (e instanceof EngineRevert) return undefined;
    throw e;
  }
}
