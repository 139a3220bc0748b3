// Twin of contracts/mocks/MockPerpVault.sol: markets with a per-second funding index charged at
// every price update, each side's open interest, isolated positions (size, open cost, funding
// index, margin), the liquidity pool priced net of open positions, and every check, rounding step
// and custom error of the contract, in the same order. Amounts are BigInt in contract units.
import { key } from "./erc20.ts";
import { EngineRevert } from "./errors.ts";
import type { PriceFeed, PriceListener } from "./feed.ts";
import {
  WAD,
  abs,
  closedCostUp,
  costUp,
  fundingIndexDelta,
  fundingOwedDown,
  fundingOwedUp,
  liquidationSizeUp,
  min,
  mulDivDown,
  notionalUp,
  OPEN_INTEREST_UNIT,
  openInterestUnits,
  toInt,
  toUint,
  addUint64,
  toUint64,
  tradeCostTotalUp,
  valueDown,
  wadMulUp,
} from "./math.ts";
import type { Tx, World } from "./world.ts";

export interface MarketState {
  answer: bigint; // the feed's latest answer, as it pushed it
  updatedAt: bigint;
  feed: string; // feed address, lower case
  heartbeat: bigint;
  priceImpact: bigint; // WAD per 1,000,000 USDT (a multiple of IMPACT_UNIT)
  fundingIndex: bigint; // as of `updatedAt`
  fundingRate: bigint; // WAD per 8 h (a multiple of RATE_UNIT)
  openInterest: OpenInterest;
}

/** Each side's positions summed (MockPerpVault.OpenInterest): sizes in OPEN_INTEREST_UNIT. */
export interface OpenInterest {
  longSize: bigint;
  longCost: bigint;
  shortSize: bigint;
  shortCost: bigint;
}

/** The pool: cash, value net of open positions, and the cash reserved for sides in profit. */
export interface Liquidity {
  cash: bigint;
  value: bigint;
  reserved: bigint;
}

export interface PositionState {
  size: bigint;
  openCost: bigint;
  fundingIndex: bigint;
  margin: bigint;
}

export interface ExchangeParams {
  takerFee: bigint;
  initialMarginRatio: bigint;
  maintenanceMarginRatio: bigint;
  liquidationReward: bigint; // USDT, flat
}

export interface ExchangeState {
  params: ExchangeParams;
  pool: bigint;
  accounted: bigint;
  totalLiquidityShares: bigint;
  liquiditySharesOf: Map<string, bigint>;
  markets: Map<string, MarketState>;
  positions: Map<string, PositionState>; // key `${market}:${account}`
}

export interface TradeResult {
  price: bigint;
  cost: bigint;
  realizedPnl: bigint;
  fundingPaid: bigint;
  equity: bigint;
}

export interface Snapshot {
  size: bigint;
  equity: bigint;
  price: bigint;
}

interface Pool {
  pool: bigint;
  accounted: bigint;
}

const EMPTY_POSITION: PositionState = Object.freeze({ size: 0n, openCost: 0n, fundingIndex: 0n, margin: 0n });
const ZERO = "0x0000000000000000000000000000000000000000";
const MAX_TAKER_FEE = 10n ** 16n;
const MAX_LIQUIDATION_REWARD = 100_000_000n;
const MAX_INITIAL_MARGIN_RATIO = 10n ** 17n;
/** MockPerpVault.MINIMUM_LIQUIDITY: pool shares locked at the first deposit. */
export const MINIMUM_LIQUIDITY = 1_000_000n;
const DEAD = "0x000000000000000000000000000000000000dead";
const MAX_FUNDING_RATE = 10n ** 16n;
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const INT128_MAX = (1n << 127n) - 1n;
const MAX_PRICE_IMPACT = WAD;
const MIN_HEARTBEAT = 60n;
const MAX_HEARTBEAT = 7n * 86400n;
const IMPACT_UNIT = 10n ** 9n;
const RATE_UNIT = 10n ** 6n;
const MAX_MARKETS = 32n;
const RESERVE_ROUNDING = 2n;

export const DEFAULT_EXCHANGE_PARAMS: ExchangeParams = {
  takerFee: 5n * 10n ** 14n,
  initialMarginRatio: 10n ** 17n,
  maintenanceMarginRatio: 3n * 10n ** 16n,
  liquidationReward: 5_000_000n,
};

export class Exchange implements PriceListener {
  st: ExchangeState;
  readonly address: string;

  private readonly world: World;

  constructor(world: World, address: string, params: ExchangeParams = DEFAULT_EXCHANGE_PARAMS) {
    this.world = world;
    this.address = key(address);
    this.st = {
      params: { ...params },
      pool: 0n,
      accounted: 0n,
      totalLiquidityShares: 0n,
      liquiditySharesOf: new Map(),
      markets: new Map(),
      positions: new Map(),
    };
    world.register(this);
  }

  /* ADMIN (the caller's role is not modelled) */

  addMarket(
    tx: Tx,
    market: string,
    feed: PriceFeed,
    heartbeat: bigint,
    fundingRate: bigint,
    priceImpact: bigint,
  ) {
    if (this.st.markets.has(market)) throw new EngineRevert("MarketExists", [market]);
    if (BigInt(this.st.markets.size) === MAX_MARKETS)
      throw new EngineRevert("InvalidParameter", ["markets", MAX_MARKETS]);
    checkHeartbeat(heartbeat);
    checkFundingRate(fundingRate);
    checkPriceImpact(priceImpact);
    feed.listening = { listener: this, key: market }; // setListener, before addMarket on chain
    const m: MarketState = {
      answer: 0n,
      updatedAt: 0n,
      feed: key(feed.address),
      heartbeat,
      priceImpact,
      fundingIndex: 0n,
      fundingRate,
      openInterest: { longSize: 0n, longCost: 0n, shortSize: 0n, shortCost: 0n },
    };
    this.st.markets.set(market, m);
    this.storeAnswer(m, market, feed.st.answer, feed.st.updatedAt, tx.time);
  }

  /* PRICES */

  /** onPriceUpdate: the market's feed pushes its answer (MockPriceFeed only publishes what fits). */
  onPriceUpdate(market: string, answer: bigint, updatedAt: bigint): void {
    // the feed stamps its answer with the block time, so `updatedAt` is the transaction's time
    this.storeAnswer(this.market(market), market, answer, updatedAt, updatedAt);
  }

  /** _storeAnswer: charges the replaced answer's interval of funding, then keeps the answer. */
  private storeAnswer(m: MarketState, market: string, answer: bigint, updatedAt: bigint, time: bigint): void {
    if (answer > INT64_MAX || answer < -INT64_MAX - 1n)
      throw new EngineRevert("InvalidPrice", [market, answer]);
    const last = m.updatedAt;
    if (updatedAt < last || updatedAt > time)
      throw new EngineRevert("StalePrice", [market, updatedAt, m.heartbeat]);
    if (m.answer > 0n) this.moveFundingIndex(m, fundingIndexDelta(m.answer, m.fundingRate, updatedAt - last));
    m.answer = answer;
    m.updatedAt = updatedAt;
    this.emit("PriceUpdated", [market, answer, updatedAt]);
  }

  setFundingRate(tx: Tx, market: string, fundingRate: bigint): void {
    checkFundingRate(fundingRate);
    const m = this.market(market);
    const price = this.price(m, market, tx.time);
    const elapsed = tx.time - m.updatedAt;
    const move =
      fundingIndexDelta(price, m.fundingRate, elapsed) - fundingIndexDelta(price, fundingRate, elapsed);
    this.moveFundingIndex(m, move);
    m.fundingRate = fundingRate;
    this.emit("FundingRateSet", [market, fundingRate]);
  }

  setPriceImpact(market: string, priceImpact: bigint): void {
    checkPriceImpact(priceImpact);
    this.market(market).priceImpact = priceImpact;
    this.emit("PriceImpactSet", [market, priceImpact]);
  }

  setHeartbeat(market: string, heartbeat: bigint): void {
    checkHeartbeat(heartbeat);
    this.market(market).heartbeat = heartbeat;
    this.emit("HeartbeatSet", [market, heartbeat]);
  }

  setFees(takerFee: bigint, liquidationReward: bigint): void {
    if (takerFee > MAX_TAKER_FEE) throw new EngineRevert("InvalidParameter", ["takerFee", takerFee]);
    if (liquidationReward > MAX_LIQUIDATION_REWARD) {
      throw new EngineRevert("InvalidParameter", ["liquidationReward", liquidationReward]);
    }
    this.st.params = { ...this.st.params, takerFee, liquidationReward };
    this.emit("FeesSet", [takerFee, liquidationReward]);
  }

  setMarginRatios(initialMarginRatio: bigint, maintenanceMarginRatio: bigint): void {
    if (initialMarginRatio > MAX_INITIAL_MARGIN_RATIO)
      throw new EngineRevert("InvalidParameter", ["initialMarginRatio", initialMarginRatio]);
    if (maintenanceMarginRatio === 0n || maintenanceMarginRatio >= initialMarginRatio) {
      throw new EngineRevert("InvalidParameter", ["maintenanceMarginRatio", maintenanceMarginRatio]);
    }
    this.st.params = { ...this.st.params, initialMarginRatio, maintenanceMarginRatio };
    this.emit("MarginRatiosSet", [initialMarginRatio, maintenanceMarginRatio]);
  }

  /* MARGIN */

  deposit(tx: Tx, market: string, account: string, amount: bigint): void {
    if (amount === 0n) throw new EngineRevert("ZeroAmount");
    if (key(account) === ZERO) throw new EngineRevert("ZeroAddress");
    this.market(market);
    const credited = toUint64(amount);
    const p = { ...this.position(market, account) };
    p.margin += amount;
    this.st.positions.set(`${market}:${key(account)}`, checkFields(p));
    this.st.accounted = addUint64(this.st.accounted, credited);
    this.emit("MarginDeposited", [market, key(account), key(tx.from), amount]);
    this.world.usdt.transferFrom(this.address, tx.from, this.address, amount);
  }

  withdraw(tx: Tx, market: string, amount: bigint, to: string): void {
    if (amount === 0n) throw new EngineRevert("ZeroAmount");
    if (key(to) === ZERO) throw new EngineRevert("ZeroAddress");
    const m = this.market(market);
    const price = this.price(m, market, tx.time);
    const p = { ...this.position(market, tx.from) };
    const b = { pool: this.st.pool, accounted: this.st.accounted };
    const storedIndex = m.fundingIndex;
    const old = share(p, storedIndex);
    const funding = this.settleFunding(market, tx.from, p, b, this.currentIndex(m, price, tx.time), price);
    if (funding !== 0n) this.emit("FundingSettled", [market, key(tx.from), funding]);
    realizeProfitFor(p, b, amount, price);
    p.margin -= amount;
    b.accounted -= amount;
    this.requireInitialMargin(p, price);
    m.openInterest = recount(m.openInterest, old, p, storedIndex);
    this.commit(market, tx.from, p, b);
    this.emit("MarginWithdrawn", [market, key(tx.from), key(to), amount]);
    this.world.usdt.transfer(this.address, to, amount);
  }

  /* TRADING */

  /**
   * trade(market, sizeDelta, marginDelta, to) called by `tx.from`; a positive `marginDelta` is asked
   * for with `payMargin` (the caller's IMarginPayer callback: `pay`) and only what arrives is credited.
   */
  trade(
    tx: Tx,
    market: string,
    sizeDelta: bigint,
    marginDelta: bigint,
    to: string,
    pay?: (amount: bigint) => void,
  ): TradeResult {
    const m = this.market(market);
    const price = this.price(m, market, tx.time);
    const p = { ...this.position(market, tx.from) };
    const b = { pool: this.st.pool, accounted: this.st.accounted };
    const storedIndex = m.fundingIndex;
    const old = share(p, storedIndex);
    const r: TradeResult = { price, cost: 0n, realizedPnl: 0n, fundingPaid: 0n, equity: 0n };
    r.fundingPaid = this.settleFunding(market, tx.from, p, b, this.currentIndex(m, price, tx.time), price);

    if (marginDelta > 0n) {
      const amount = marginDelta;
      if (pay === undefined) throw new Error("a trade that adds margin needs the caller's payMargin");
      const before = this.world.usdt.balanceOf(this.address);
      pay(amount);
      const received = this.world.usdt.balanceOf(this.address) - before;
      if (received < amount) throw new EngineRevert("MarginNotReceived", [amount, received]);
      b.accounted = addUint64(b.accounted, toUint64(amount));
      p.margin += amount;
    }

    const oldSize = p.size;
    if (sizeDelta !== 0n) {
      const t = this.applyTrade(market, tx.from, m, p, b, sizeDelta, price);
      r.realizedPnl = t.realized;
      r.cost = t.cost;
    }

    let payout = 0n;
    if (marginDelta < 0n) {
      if (key(to) === ZERO) throw new EngineRevert("ZeroAddress");
      payout = -marginDelta;
      realizeProfitFor(p, b, payout, price);
      p.margin -= payout;
      b.accounted -= payout;
    }

    if (marginDelta < 0n || addsExposure(oldSize, p.size)) this.requireInitialMargin(p, price);
    r.equity = equityOf(p, price);

    m.openInterest = recount(m.openInterest, old, p, storedIndex);
    this.commit(market, tx.from, p, b);
    // one event per trade: funding settled, margin in or out, the fill and the size after
    this.emit("Traded", [
      market,
      key(tx.from),
      sizeDelta,
      price,
      r.cost,
      r.realizedPnl,
      r.fundingPaid,
      marginDelta,
      p.size,
    ]);
    if (payout !== 0n) this.world.usdt.transfer(this.address, to, payout);
    return r;
  }

  /** settlePnl: moves the position's unrealized loss (at most its margin) to the pool, equity unchanged. */
  settlePnl(tx: Tx, market: string, account: string): bigint {
    const m = this.market(market);
    const price = this.price(m, market, tx.time);
    const p = { ...this.position(market, account) };
    const b = { pool: this.st.pool, accounted: this.st.accounted };
    const storedIndex = m.fundingIndex;
    const old = share(p, storedIndex);
    const funding = this.settleFunding(market, account, p, b, this.currentIndex(m, price, tx.time), price);
    const loss = p.openCost - valueDown(p.size, price);
    let amount = 0n;
    if (loss > 0n) {
      amount = min(loss, p.margin);
      p.margin -= amount;
      p.openCost -= amount;
      b.pool += amount;
    }
    m.openInterest = recount(m.openInterest, old, p, storedIndex);
    this.commit(market, account, p, b);
    this.emit("PnlSettled", [market, key(account), funding, amount]);
    return amount;
  }

  liquidate(tx: Tx, market: string, account: string): bigint {
    const m = this.market(market);
    const price = this.price(m, market, tx.time);
    const p = { ...this.position(market, account) };
    const b = { pool: this.st.pool, accounted: this.st.accounted };
    const storedIndex = m.fundingIndex;
    const old = share(p, storedIndex);
    const funding = this.settleFunding(market, account, p, b, this.currentIndex(m, price, tx.time), price);
    const params = this.st.params;
    const maintenance = wadMulUp(notionalUp(p.size, price), params.maintenanceMarginRatio);
    const eq = equityOf(p, price);
    if (p.size === 0n || eq >= maintenance) throw new EngineRevert("NotLiquidatable", [eq, maintenance]);
    const closed = liquidationSizeUp(
      p.size,
      eq,
      price,
      params.liquidationReward,
      params.initialMarginRatio,
      params.takerFee,
    );
    const t = this.applyTrade(market, account, m, p, b, -closed, price);
    this.emit("Traded", [market, key(account), -closed, price, t.cost, t.realized, funding, 0n, p.size]);
    const reward = min(params.liquidationReward, p.margin);
    p.margin -= reward;
    b.accounted -= reward;
    m.openInterest = recount(m.openInterest, old, p, storedIndex);
    this.commit(market, account, p, b);
    this.emit("Liquidated", [market, key(account), key(tx.from), closed, price, reward]);
    if (reward !== 0n) this.world.usdt.transfer(this.address, tx.from, reward);
    return reward;
  }

  /* LIQUIDITY */

  addLiquidity(tx: Tx, amount: bigint): bigint {
    if (amount === 0n) throw new EngineRevert("ZeroAmount");
    const supply = this.st.totalLiquidityShares;
    let shares: bigint;
    let locked = 0n;
    if (supply === 0n) {
      if (amount <= MINIMUM_LIQUIDITY)
        throw new EngineRevert("InsufficientLiquidity", [amount, MINIMUM_LIQUIDITY + 1n]);
      shares = amount - MINIMUM_LIQUIDITY;
      locked = MINIMUM_LIQUIDITY;
      this.st.liquiditySharesOf.set(DEAD, locked);
    } else {
      const { value } = this.liquidity(tx.time);
      shares = mulDivDown(amount, supply, value > 1n ? value : 1n);
    }
    if (shares === 0n) throw new EngineRevert("ZeroAmount");
    this.st.totalLiquidityShares = supply + shares + locked;
    const lp = key(tx.from);
    this.st.liquiditySharesOf.set(lp, (this.st.liquiditySharesOf.get(lp) ?? 0n) + shares);
    const added = toUint64(amount);
    this.st.pool = addUint64(this.st.pool, added);
    this.st.accounted = addUint64(this.st.accounted, added);
    this.emit("LiquidityAdded", [lp, amount, shares]);
    this.world.usdt.transferFrom(this.address, tx.from, this.address, amount);
    return shares;
  }

  removeLiquidity(tx: Tx, shares: bigint, to: string): bigint {
    if (shares === 0n) throw new EngineRevert("ZeroAmount");
    if (key(to) === ZERO) throw new EngineRevert("ZeroAddress");
    const lp = key(tx.from);
    const owned = this.st.liquiditySharesOf.get(lp) ?? 0n;
    if (shares > owned) throw new EngineRevert("InsufficientLiquidity", [shares, owned]);
    const supply = this.st.totalLiquidityShares;
    const { cash, value, reserved } = this.liquidity(tx.time);
    if (value === 0n) throw new EngineRevert("ZeroAmount");
    const amount = mulDivDown(shares, value, supply);
    const free = cash > reserved ? cash - reserved : 0n;
    if (amount > free) throw new EngineRevert("LiquidityReserved", [amount, free]);
    this.st.liquiditySharesOf.set(lp, owned - shares);
    this.st.totalLiquidityShares = supply - shares;
    this.st.pool -= amount;
    this.st.accounted -= amount;
    this.emit("LiquidityRemoved", [lp, key(to), amount, shares]);
    this.world.usdt.transfer(this.address, to, amount);
    return amount;
  }

  /* VIEWS */

  /** liquidity(): the pool priced over every market at its checked price (reverts StalePrice). */
  liquidity(time: bigint): Liquidity {
    let owedToTraders = 0n;
    let reserved = 0n;
    for (const [id, m] of this.st.markets) {
      const price = this.price(m, id, time);
      const move = this.currentIndex(m, price, time) - m.fundingIndex;
      const oi = m.openInterest;
      const { longSize, shortSize } = sideSizes(oi);
      const longProfit = valueDown(longSize, price) - oi.longCost - fundingOwedDown(longSize, move);
      const shortProfit = valueDown(shortSize, price) - oi.shortCost - fundingOwedDown(shortSize, move);
      owedToTraders += longProfit + shortProfit;
      if (longProfit > 0n) reserved += longProfit + RESERVE_ROUNDING;
      if (shortProfit > 0n) reserved += shortProfit + RESERVE_ROUNDING;
    }
    const net = this.st.pool - owedToTraders;
    const value = net <= 0n ? 0n : min(net, this.st.accounted);
    return { cash: this.st.pool, value, reserved };
  }

  /** openInterest(): each side's summed size, 18 decimals (longs rounded up, shorts down, to 1e-8). */
  openInterest(market: string): { longSize: bigint; shortSize: bigint } {
    const { longSize, shortSize } = sideSizes(this.market(market).openInterest);
    return { longSize, shortSize: -shortSize };
  }

  markPrice(market: string, time: bigint): bigint {
    return this.price(this.market(market), market, time);
  }

  positionOf(market: string, account: string): PositionState {
    return { ...this.position(market, account) };
  }

  snapshot(market: string, account: string, time: bigint): Snapshot {
    const m = this.market(market);
    return this.snapshotAtPrice(market, account, time, this.price(m, market, time));
  }

  /**
   * lastSnapshot: as snapshot() at the last answer the feed pushed, and whether it is fresh; never
   * reverts (an unlisted market reads as zeros, not fresh).
   */
  lastSnapshot(market: string, account: string, time: bigint): Snapshot & { fresh: boolean } {
    const m = this.st.markets.get(market);
    if (m === undefined) return { size: 0n, equity: 0n, price: 0n, fresh: false };
    const price = m.answer > 0n ? m.answer : 0n;
    const fresh = price !== 0n && m.updatedAt <= time && time - m.updatedAt <= m.heartbeat;
    return { ...this.snapshotAtPrice(market, account, time, price), fresh };
  }

  /**
   * capacity: room left for the position to grow. Its own fields (128-bit size and open cost, 64-bit
   * margin) hold more than the exchange's sums, so the room is what those have left: the USDT owed in
   * all, the open cost and size of the position's side (both sides' least for an empty position, one
   * open-interest unit kept back for rounding), or the position's own fields' room if less.
   */
  capacity(market: string, account: string): { margin: bigint; openCost: bigint; size: bigint } {
    const p = this.position(market, account);
    const oi = this.st.markets.get(market)?.openInterest ?? {
      longSize: 0n,
      longCost: 0n,
      shortSize: 0n,
      shortCost: 0n,
    };
    const longCost = INT64_MAX - oi.longCost;
    const shortCost = oi.shortCost + INT64_MAX + 1n;
    const longUnits = UINT64_MAX - oi.longSize;
    const shortUnits = UINT64_MAX - oi.shortSize;
    let [openCost, units] =
      p.size > 0n
        ? [longCost, longUnits]
        : p.size < 0n
          ? [shortCost, shortUnits]
          : [min(longCost, shortCost), min(longUnits, shortUnits)];
    let size = units === 0n ? 0n : (units - 1n) * OPEN_INTEREST_UNIT;
    openCost = min(openCost, INT128_MAX - abs(p.openCost));
    size = min(size, INT128_MAX - abs(p.size));
    return { margin: UINT64_MAX - this.st.accounted, openCost, size };
  }

  /** What snapshot() would return at `time` if the oracle said `price` (for what-if quotes). */
  snapshotAtPrice(market: string, account: string, time: bigint, price: bigint): Snapshot {
    const m = this.market(market);
    const p = this.position(market, account);
    const equity =
      equityOf(p, price) - fundingOwedUp(p.size, this.currentIndex(m, price, time) - p.fundingIndex);
    return { size: p.size, equity, price };
  }

  fundingIndex(market: string, time: bigint): bigint {
    const m = this.market(market);
    return this.currentIndex(m, this.price(m, market, time), time);
  }

  fundingOwed(market: string, account: string, time: bigint): bigint {
    const m = this.market(market);
    const p = this.position(market, account);
    return fundingOwedUp(p.size, this.currentIndex(m, this.price(m, market, time), time) - p.fundingIndex);
  }

  /** The size liquidate() would close at `time` (0 when it would revert). */
  liquidationSize(market: string, account: string, time: bigint): bigint {
    const s = this.snapshot(market, account, time);
    const params = this.st.params;
    if (s.size === 0n || s.equity >= wadMulUp(notionalUp(s.size, s.price), params.maintenanceMarginRatio))
      return 0n;
    return liquidationSizeUp(
      s.size,
      s.equity,
      s.price,
      params.liquidationReward,
      params.initialMarginRatio,
      params.takerFee,
    );
  }

  isLiquidatable(market: string, account: string, time: bigint): boolean {
    const s = this.snapshot(market, account, time);
    return (
      s.size !== 0n && s.equity < wadMulUp(notionalUp(s.size, s.price), this.st.params.maintenanceMarginRatio)
    );
  }

  maxLeverage(): bigint {
    return mulDivDown(WAD, WAD, this.st.params.initialMarginRatio);
  }

  poolBalance(): bigint {
    return this.st.pool;
  }

  accountedBalance(): bigint {
    return this.st.accounted;
  }

  tradeCosts(market: string): { takerFee: bigint; priceImpact: bigint } {
    return { takerFee: this.st.params.takerFee, priceImpact: this.market(market).priceImpact };
  }

  /* INTERNAL */

  /** Storage pointer to the market (reverts UnknownMarket). */
  market(market: string): MarketState {
    const m = this.st.markets.get(market);
    if (m === undefined) throw new EngineRevert("UnknownMarket", [market]);
    return m;
  }

  /** The stored position under a key from positionKey(), without a copy (read only). */
  positionByKey(k: string): Readonly<PositionState> {
    return this.st.positions.get(k) ?? EMPTY_POSITION;
  }

  positionKey(market: string, account: string): string {
    return `${market}:${key(account)}`;
  }

  /** The stored position (read only: callers copy it, change the copy and commit it). */
  private position(market: string, account: string): PositionState {
    return this.st.positions.get(`${market}:${key(account)}`) ?? EMPTY_POSITION;
  }

  private commit(market: string, account: string, p: PositionState, b: Pool): void {
    this.st.positions.set(`${market}:${key(account)}`, checkFields(p));
    this.st.pool = b.pool;
    this.st.accounted = b.accounted;
  }

  /** Oracle read with Chainlink's checks, on the answer the feed pushed: positive, updated within
   * the heartbeat. */
  price(m: MarketState, market: string, time: bigint): bigint {
    const { answer, updatedAt } = m;
    if (answer <= 0n) throw new EngineRevert("InvalidPrice", [market, answer]);
    if (updatedAt > time || time - updatedAt > m.heartbeat) {
      throw new EngineRevert("StalePrice", [market, updatedAt, m.heartbeat]);
    }
    return answer;
  }

  /** The funding index now: the stored one plus the answer's price x rate since the answer. */
  private currentIndex(m: MarketState, price: bigint, time: bigint): bigint {
    const elapsed = time > m.updatedAt ? time - m.updatedAt : 0n;
    return m.fundingIndex + fundingIndexDelta(price, m.fundingRate, elapsed);
  }

  /** _moveFundingIndex: the stored index moves, and each side's cost by its funding, rounded down. */
  private moveFundingIndex(m: MarketState, move: bigint): void {
    if (move === 0n) return;
    m.fundingIndex = toInt(56n, m.fundingIndex + move);
    const oi = m.openInterest;
    if (oi.longSize === 0n && oi.shortSize === 0n) return;
    const { longSize, shortSize } = sideSizes(oi);
    m.openInterest = {
      ...oi,
      longCost: toInt(64n, oi.longCost + fundingOwedDown(longSize, move)),
      shortCost: toInt(64n, oi.shortCost + fundingOwedDown(shortSize, move)),
    };
  }

  private settleFunding(
    market: string,
    account: string,
    p: PositionState,
    b: Pool,
    index: bigint,
    price: bigint,
  ): bigint {
    const owed = fundingOwedUp(p.size, index - p.fundingIndex);
    p.fundingIndex = toInt(56n, index);
    if (owed !== 0n) this.moveToPool(market, account, p, b, owed, price);
    return owed;
  }

  private emit(name: string, args: (bigint | string | boolean)[]): void {
    this.world.log.emit(this.address, name, args);
  }

  /** _moveToPool: a debit beyond the margin is covered out of unrealized profit, the rest is bad debt. */
  private moveToPool(
    market: string,
    account: string,
    p: PositionState,
    b: Pool,
    amount: bigint,
    price: bigint,
  ): void {
    if (amount > 0n) {
      const due = amount;
      const paid = min(due, p.margin);
      p.margin -= paid;
      b.pool += paid;
      if (due > paid) {
        const profit = valueDown(p.size, price) - p.openCost;
        const covered = profit > 0n ? min(due - paid, profit) : 0n;
        p.openCost += covered;
        if (due > paid + covered) this.emit("BadDebt", [market, key(account), due - paid - covered]);
      }
    } else if (amount < 0n) {
      const due = -amount;
      let paid = due;
      if (due > b.pool) {
        // booked in the open cost of a position that stays open, paid in cash when it closes
        if (p.size === 0n) throw new EngineRevert("InsufficientLiquidity", [due, b.pool]);
        paid = b.pool;
        p.openCost -= due - paid;
      }
      b.pool -= paid;
      p.margin += paid;
    }
  }

  private applyTrade(
    market: string,
    account: string,
    m: MarketState,
    p: PositionState,
    b: Pool,
    sizeDelta: bigint,
    price: bigint,
  ): { realized: bigint; cost: bigint } {
    const size = p.size;
    let opened = sizeDelta;
    let realized = 0n;
    if (size !== 0n && size > 0n !== sizeDelta > 0n) {
      const closed = abs(sizeDelta) >= abs(size) ? size : -sizeDelta;
      const closedCost = closedCostUp(p.openCost, closed, size);
      realized = valueDown(closed, price) - closedCost;
      p.openCost -= closedCost;
      opened = sizeDelta + closed;
    }
    if (opened !== 0n) p.openCost += costUp(opened, price);
    p.size = size + sizeDelta;
    const cost = tradeCostTotalUp(notionalUp(sizeDelta, price), this.st.params.takerFee, m.priceImpact);
    this.moveToPool(market, account, p, b, cost - realized, price);
    return { realized, cost };
  }

  private requireInitialMargin(p: PositionState, price: bigint): void {
    const required = wadMulUp(notionalUp(p.size, price), this.st.params.initialMarginRatio);
    const equity = equityOf(p, price);
    if (equity < required) throw new EngineRevert("BelowInitialMargin", [equity, required]);
  }
}

interface Share {
  long: boolean;
  units: bigint;
  cost: bigint;
}

/** _share: a position's side, size in OPEN_INTEREST_UNIT, and open cost plus funding owed to the stored index. */
function share(p: PositionState, storedIndex: bigint): Share {
  return {
    long: p.size >= 0n,
    units: openInterestUnits(p.size),
    cost: p.openCost + fundingOwedUp(p.size, storedIndex - p.fundingIndex),
  };
}

/** _recount: the open interest with a position's part moved from `old` to what it is now. */
function recount(oi: OpenInterest, old: Share, p: PositionState, storedIndex: bigint): OpenInterest {
  const now = share(p, storedIndex);
  let { longSize, longCost, shortSize, shortCost } = oi;
  if (old.long) [longSize, longCost] = [subUint(longSize, old.units), longCost - old.cost];
  else [shortSize, shortCost] = [subUint(shortSize, old.units), shortCost - old.cost];
  if (now.long) [longSize, longCost] = [longSize + now.units, longCost + now.cost];
  else [shortSize, shortCost] = [shortSize + now.units, shortCost + now.cost];
  if (longSize === 0n) longCost = 0n;
  if (shortSize === 0n) shortCost = 0n;
  return {
    longSize: toUint(64n, longSize),
    longCost: toInt(64n, longCost),
    shortSize: toUint(64n, shortSize),
    shortCost: toInt(64n, shortCost),
  };
}

/**
 * _writePosition's only check of a position's fields: one that outgrows the narrow slot is stored
 * wide, where a size or an open cost past 128 bits or a margin past 64 reverts (SafeCast, in that order).
 */
function checkFields(p: PositionState): PositionState {
  toInt(128n, p.size);
  toInt(128n, p.openCost);
  toUint(64n, p.margin);
  return p;
}

/** Checked uint subtraction (Solidity's panic 0x11 on underflow). */
function subUint(a: bigint, b: bigint): bigint {
  if (b > a) throw new EngineRevert("Panic", [0x11n]);
  return a - b;
}

function sideSizes(oi: OpenInterest): { longSize: bigint; shortSize: bigint } {
  return { longSize: oi.longSize * OPEN_INTEREST_UNIT, shortSize: -oi.shortSize * OPEN_INTEREST_UNIT };
}

/** Equity with funding already settled: margin + value at `price` - open cost. */
export function equityOf(p: PositionState, price: bigint): bigint {
  return p.margin + valueDown(p.size, price) - p.openCost;
}

/** _realizeProfitFor: makes `amount` of cash margin available out of unrealized profit. */
function realizeProfitFor(p: PositionState, b: Pool, amount: bigint, price: bigint): void {
  if (amount <= p.margin) return;
  const need = amount - p.margin;
  const profit = valueDown(p.size, price) - p.openCost;
  const available = profit > 0n ? profit : 0n;
  if (need > available) throw new EngineRevert("InsufficientMargin", [amount, p.margin + available]);
  if (need > b.pool) throw new EngineRevert("InsufficientLiquidity", [need, b.pool]);
  b.pool -= need;
  p.margin += need;
  p.openCost += need;
}

function addsExposure(oldSize: bigint, newSize: bigint): boolean {
  if (newSize === 0n) return false;
  if (oldSize === 0n || oldSize > 0n !== newSize > 0n) return true;
  return abs(newSize) > abs(oldSize);
}

function checkHeartbeat(heartbeat: bigint): void {
  if (heartbeat < MIN_HEARTBEAT || heartbeat > MAX_HEARTBEAT) {
    throw new EngineRevert("InvalidParameter", ["heartbeat", heartbeat]);
  }
}

function checkFundingRate(rate: bigint): void {
  if (abs(rate) > MAX_FUNDING_RATE || rate % RATE_UNIT !== 0n)
    throw new EngineRevert("InvalidParameter", ["fundingRate", rate]);
}

function checkPriceImpact(impact: bigint): void {
  if (impact > MAX_PRICE_IMPACT || impact % IMPACT_UNIT !== 0n)
    throw new EngineRevert("InvalidParameter", ["priceImpact", impact]);
}
