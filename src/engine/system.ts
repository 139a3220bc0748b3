// The engine's copy of a deployed system (what src/chain/deploy.ts deploySystem builds on chain):
// USDT, one feed and one market per underlying, the exchange's pool and the tokens. Its inputs are
// the addresses and the block times of the deployment, never the contracts' computed state.
import { EXCHANGE, MARKETS, type MarketName, type MarketParams, type TokenParams } from "../common/params.ts";
import { key } from "./erc20.ts";
import { Exchange, type ExchangeParams } from "./exchange.ts";
import { PriceFeed } from "./feed.ts";
import { LeveragedToken } from "./token.ts";
import { World } from "./world.ts";

export interface MarketDeployment {
  params: MarketParams;
  feed: string;
  /** Block time of the feed's first answer and of addMarket. */
  feedTime: bigint;
  addedAt: bigint;
}

export interface TokenDeployment {
  params: TokenParams;
  address: string;
  deployTime: bigint;
  treasury: string;
  admin: string;
  keeper: string;
  /** The token's immutable `desk`: its ForwardDesk (or, in engine-only systems and the token's unit
   * tests, whatever account stands for one). */
  desk: string;
}

export interface SystemDeployment {
  usdt: string;
  vault: string;
  admin: string;
  exchangeParams?: ExchangeParams;
  markets: MarketDeployment[];
  poolLiquidity: bigint;
  tokens: TokenDeployment[];
}

export interface DeploymentRoles {
  admin: string;
  treasury: string;
  keeper: string;
}

export class EngineSystem {
  readonly world: World;
  readonly vault: Exchange;
  readonly feeds = new Map<MarketName, PriceFeed>();
  readonly marketIds = new Map<MarketName, string>();
  readonly tokens = new Map<string, LeveragedToken>();

  constructor(d: SystemDeployment) {
    this.world = new World(d.usdt);
    this.vault = new Exchange(this.world, d.vault, d.exchangeParams);
    for (const m of d.markets) {
      const feed = new PriceFeed(m.feed, m.params.initialPrice, m.feedTime);
      this.world.register(feed);
      this.feeds.set(m.params.name, feed);
      this.marketIds.set(m.params.name, m.params.id);
      this.vault.addMarket(
        { from: d.admin, time: m.addedAt },
        m.params.id,
        feed,
        BigInt(m.params.heartbeat),
        m.params.fundingRate,
        m.params.priceImpact,
      );
    }
    if (d.poolLiquidity > 0n) {
      this.world.usdt.mint(d.admin, d.poolLiquidity);
      this.world.usdt.approve(d.admin, d.vault, d.poolLiquidity);
      this.vault.addLiquidity({ from: d.admin, time: 0n }, d.poolLiquidity);
    }
    for (const t of d.tokens) {
      const p = t.params;
      const token = new LeveragedToken(this.world, this.vault, {
        ...p,
        address: t.address,
        market: p.market === "BTC" || p.market === "ETH" ? this.marketId(p.market) : p.market,
        treasury: t.treasury,
        admin: t.admin,
        keeper: t.keeper,
        desk: t.desk,
        deployTime: t.deployTime,
      });
      this.tokens.set(p.symbol, token);
    }
    this.world.log.clear();
  }

  marketId(name: MarketName): string {
    const id = this.marketIds.get(name);
    if (id === undefined) throw new Error(`market ${name} is not part of this engine`);
    return id;
  }

  feed(name: MarketName): PriceFeed {
    const f = this.feeds.get(name);
    if (f === undefined) throw new Error(`market ${name} is not part of this engine`);
    return f;
  }

  token(symbol: string): LeveragedToken {
    const t = this.tokens.get(symbol);
    if (t === undefined) throw new Error(`token ${symbol} is not part of this engine`);
    return t;
  }

  usdtBalance(account: string): bigint {
    return this.world.usdt.balanceOf(key(account));
  }
}

/** A synthetic address for engine-only use (backtests, benchmarks, tests): 0x00..0n. */
export function syntheticAddress(n: number): string {
  return "0x" + n.toString(16).padStart(40, "0");
}

export interface LocalOptions {
  markets: MarketParams[];
  tokens: TokenParams[];
  /** Block time of the deployment (feeds, markets and tokens all at this second). */
  time: bigint;
  poolLiquidity: bigint;
}

/**
 * An engine-only system with synthetic addresses: admin (keeper) 0x..1, treasury 0x..2, USDT
 * 0x..10, exchange 0x..11, feeds from 0x..20, tokens from 0x..40, their desks from 0x..60 (the only
 * accounts that deposit into and redeem from a token before settlement: act as the desk to mint).
 */
export function localSystem(o: LocalOptions): EngineSystem {
  const admin = syntheticAddress(1);
  return new EngineSystem({
    usdt: syntheticAddress(0x10),
    vault: syntheticAddress(0x11),
    admin,
    markets: o.markets.map((params, i) => ({
      params,
      feed: syntheticAddress(0x20 + i),
      feedTime: o.time,
      addedAt: o.time,
    })),
    poolLiquidity: o.poolLiquidity,
    tokens: o.tokens.map((params, i) => ({
      params,
      address: syntheticAddress(0x40 + i),
      desk: syntheticAddress(0x60 + i),
      deployTime: o.time,
      treasury: syntheticAddress(2),
      admin,
      keeper: admin,
    })),
  });
}
