// A float64 pre-check in front of the exact rebalanceNeeded(): it answers "no rebalance" only when
// the leverage it estimates is inside every threshold by more than a proven bound on its own error
// (float rounding plus the contract's unit roundings), and otherwise asks the exact BigInt twin. So
// its answer is always the exact one; it only makes the common "nothing to do" step cheap. Used to
// replay long price paths (benchmark, demo, backtest).
import type { Exchange, MarketState, PositionState } from "./exchange.ts";
import { REASON_NONE, TokenState, type LeveragedToken } from "./token.ts";

const FUNDING_DIVISOR = 8 * 3600 * 1e16;
const FUNDING_SCALE = 1e22;
const DAY = 86400;
/** Relative error allowed per term: far above float64's 1.1e-16 per operation. */
const REL = 1e-12;

export class RebalanceScreen {
  private readonly token: LeveragedToken;
  private readonly vault: Exchange;
  private readonly positionKey: string;
  private readonly min: number;
  private readonly max: number;
  private readonly ripcord: number;
  private readonly target: number;
  private readonly epsilon: number;
  private cachedMarkets: Map<string, MarketState> | undefined;
  private market: MarketState | undefined;
  // float copies of the position and market, refreshed when any of them changes
  private cachedPosition: Readonly<PositionState> | undefined;
  private cachedIndex = 0n;
  private cachedLast = 0n;
  private cachedRate = 0n;
  private size = 0;
  private openCost = 0;
  private margin = 0;
  private positionIndex = 0;
  private marketIndex = 0;
  private last = 0;
  private rate = 0;
  /** How many checks the float screen settled and how many went to the exact twin. */
  screened = 0;
  exact = 0;

  constructor(token: LeveragedToken, vault: Exchange) {
    this.token = token;
    this.vault = vault;
    this.positionKey = vault.positionKey(token.market, token.address);
    const wad = 1e18;
    this.min = Number(token.minLeverage) / wad;
    this.max = Number(token.maxLeverage) / wad;
    this.ripcord = Number(token.ripcordLeverage) / wad;
    this.target = Number(token.targetLeverage) / wad;
    this.epsilon = Number(token.rebalanceEpsilon) / wad;
  }

  /** rebalanceNeeded().reason at `time`, exactly. */
  reason(time: bigint): number {
    const st = this.token.st.status.state;
    if (st !== TokenState.Active && st !== TokenState.Delisting) return REASON_NONE;
    // the market object only changes when the exchange's state is replaced (a revert); it holds the
    // answer the feed pushed, which is what the exchange prices at
    const markets = this.vault.st.markets;
    if (markets !== this.cachedMarkets) {
      this.cachedMarkets = markets;
      this.market = this.vault.market(this.token.market);
    }
    const m = this.market!;
    const p = this.vault.positionByKey(this.positionKey);
    if (p.size === 0n) return this.exactReason(time);
    // timestamps are far below 2^53: compared as numbers, exactly and without allocating
    const t = Number(time);
    const updatedAt = Number(m.updatedAt);
    if (updatedAt > t || t - updatedAt > Number(m.heartbeat) || m.answer <= 0n) return this.exactReason(time);
    if (
      p !== this.cachedPosition ||
      m.fundingIndex !== this.cachedIndex ||
      m.updatedAt !== this.cachedLast ||
      m.fundingRate !== this.cachedRate
    ) {
      this.cachedPosition = p;
      this.cachedIndex = m.fundingIndex;
      this.cachedLast = m.updatedAt;
      this.cachedRate = m.fundingRate;
      this.size = Number(p.size);
      this.openCost = Number(p.openCost);
      this.margin = Number(p.margin);
      this.positionIndex = Number(p.fundingIndex);
      this.marketIndex = Number(m.fundingIndex);
      this.last = Number(m.updatedAt);
      this.rate = Number(m.fundingRate);
    }
    const price = Number(m.answer);
    const delta = (price * this.rate * (t - this.last)) / FUNDING_DIVISOR;
    const index = this.marketIndex + delta;
    const value = (this.size * price) / 1e20;
    const owedA = (this.size * index) / FUNDING_SCALE;
    const owedB = (this.size * this.positionIndex) / FUNDING_SCALE;
    const equity = this.margin + value - this.openCost - (owedA - owedB);
    // each term rounds by at most a unit in the contract and by REL of its size here; 1 unit for the
    // funding index truncation times size, plus one for each of valueDown, fundingOwedUp, notionalUp
    const err =
      8 +
      Math.abs(this.size) / FUNDING_SCALE +
      REL * (Math.abs(this.margin) + Math.abs(value) + Math.abs(this.openCost) + Math.abs(owedB)) +
      (REL * Math.abs(this.size) * (Math.abs(this.marketIndex) + Math.abs(delta))) / FUNDING_SCALE;
    if (!(equity > 2 * err)) return this.exactReason(time);
    const notional = Math.abs(value);
    const lev = notional / equity;
    const tol = lev * ((2 + REL * notional) / notional + (2 * err) / equity + REL) + REL;
    if (lev + tol >= this.ripcord || lev + tol > this.max || lev - tol < this.min)
      return this.exactReason(time);
    const today = t - (t % DAY);
    if (
      Number(this.token.st.status.lastRebalance) < today &&
      Math.abs(lev - this.target) + tol > this.epsilon
    ) {
      return this.exactReason(time);
    }
    this.screened++;
    return REASON_NONE;
  }

  private exactReason(time: bigint): number {
    this.exact++;
    return this.token.rebalanceNeeded(time).reason;
  }
}
