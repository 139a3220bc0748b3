// Pushes a plan of prices into the feeds. Real time: each step when its time comes (scaled by
// `speed`). Fast (local nodes only): block time jumps to each step's time and every feed is updated
// in that same block, so no feed is ever older than its heartbeat when the exchange reads it.
import { formatUnits, NonceManager, type Provider, type Signer, type TransactionResponse } from "ethers";
import type { MockPriceFeed } from "../../types/ethers-contracts/index.js";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";
import { gasLimitFrom } from "../chain/gas.ts";
import type { Logger } from "../common/log.ts";
import { sleep } from "../common/retry.ts";
import type { FeedStep, MarketName } from "./plan.ts";

/** Any ethers provider that also passes raw JSON-RPC calls (JsonRpcProvider, Hardhat's provider). */
export type RpcProvider = Provider & { send(method: string, params: unknown[]): Promise<unknown> };

export interface FeederOptions {
  fast: boolean;
  /** Real time only: 60 = a minute of the plan per second. */
  speed: number;
  /** Markets listed while the feeder runs (absent: the feeds it was given, and no others). */
  refresh?: MarketRefresh;
}

/**
 * How the feeder finds markets listed after it started (`lt admin market SOL 150`): every `every`
 * pushed steps it re-reads the list and feeds the new markets from then on (fast mode pushes every
 * feed at every step; `join` gives a new market its own path on the plan's remaining steps).
 */
export interface MarketRefresh {
  /** Re-read the list every this many pushed steps (0: never). */
  every: number;
  /** Every listed market's feed now (listedFeeds). */
  list: () => Promise<Record<MarketName, string>>;
  /** A path for `market` joining after `done` steps, from its price `start` (GBM); absent: none. */
  join?: (market: MarketName, start: bigint, done: number) => FeedStep[];
}

export class Feeder {
  private readonly provider: RpcProvider;
  private readonly signer: Signer;
  private readonly feeds: Partial<Record<MarketName, MockPriceFeed>>;
  private readonly log: Logger;
  private readonly options: FeederOptions;
  private readonly abort = new AbortController();
  private stopping = false;
  private readonly gas = new Map<MarketName, bigint>();
  /** Listed markets this account may not update (logged once, never fed). */
  private readonly skipped = new Set<MarketName>();
  /** Fast mode: the last block time this feeder set. */
  private lastTime = 0;

  constructor(
    provider: RpcProvider,
    signer: Signer,
    feeds: Record<string, string>,
    log: Logger,
    options: FeederOptions,
  ) {
    this.provider = provider;
    this.signer = signer;
    this.log = log;
    this.options = options;
    this.feeds = {};
    for (const [market, address] of Object.entries(feeds)) {
      this.feeds[market as MarketName] = MockPriceFeed__factory.connect(address, signer);
    }
  }

  stop(): void {
    this.stopping = true;
    this.abort.abort();
  }

  /** Each feed's latest answer (8 decimals). */
  async currentPrices(): Promise<Partial<Record<MarketName, bigint>>> {
    const out: Partial<Record<MarketName, bigint>> = {};
    for (const [market, feed] of Object.entries(this.feeds) as [MarketName, MockPriceFeed][]) {
      out[market] = (await feed.latestRoundData())[1];
    }
    return out;
  }

  /** The markets this feeder pushes (every feed it was given). */
  get markets(): MarketName[] {
    return Object.keys(this.feeds);
  }

  /**
   * Throws one plain sentence unless the signing account may update every feed in `markets`
   * (MockPriceFeed's UPDATER_ROLE): which account, which feed, who may, and how to sign as them.
   */
  async checkUpdater(markets: readonly MarketName[] = this.markets): Promise<void> {
    const account = await this.signer.getAddress();
    for (const market of markets) {
      const feed = this.feeds[market];
      if (feed === undefined) continue;
      const role = await feed.UPDATER_ROLE();
      if (await feed.hasRole(role, account)) continue;
      throw new Error(
        `the feeder signs as ${account}, which may not update the ${market} feed at ${await feed.getAddress()} (it lacks UPDATER_ROLE): sign with the feed's updater (--key or FEEDER_KEY), or have the feed's admin grant ${account} the role`,
      );
    }
  }

  /** Pushes every step of `plan`; returns how many steps were pushed (fewer if stopped). */
  async run(plan: readonly FeedStep[]): Promise<number> {
    if (plan.length === 0) return 0;
    const planned = [...new Set(plan.flatMap((s) => Object.keys(s.prices)))];
    for (const market of planned) {
      if (this.feeds[market] === undefined) {
        throw new Error(`there is no ${market} feed (the feeder knows ${this.markets.join(", ")})`);
      }
    }
    // fast mode pushes every feed at every step; real time only the planned ones
    await this.checkUpdater(this.options.fast ? this.markets : planned);
    const latest = await this.provider.getBlock("latest");
    if (latest === null) throw new Error("the node returned no latest block");
    const chainStart = latest.timestamp;
    this.lastTime = chainStart;
    const wallStart = Date.now();
    const first = plan[0]!.t;
    const current = await this.currentPrices();
    if (this.options.fast) await this.checkLocal();
    // a copy: markets listed while it runs join the steps still to come
    const steps = plan.map((p) => ({ t: p.t, prices: { ...p.prices } }));
    const every = this.options.refresh?.every ?? 0;
    let done = 0;
    for (const [k, step] of steps.entries()) {
      if (this.stopping) break;
      if (this.options.fast) {
        // every feed is pushed at every step, so none goes stale while time jumps
        const prices = { ...current, ...step.prices };
        const time = chainStart + step.t + (first === 0 ? 1 : 0);
        const block = await this.pushInOneBlock(prices, time);
        Object.assign(current, step.prices);
        this.logStep(k, plan.length, prices, block);
      } else {
        const due = wallStart + ((step.t - first) * 1000) / this.options.speed;
        if (due > Date.now()) await sleep(due - Date.now(), this.abort.signal);
        if (this.stopping) break;
        const block = await this.pushNow(step.prices);
        Object.assign(current, step.prices);
        this.logStep(k, plan.length, step.prices, block);
      }
      done++;
      if (every > 0 && done % every === 0 && done < steps.length && !this.stopping) {
        for (const [market, price] of Object.entries(await this.refreshMarkets(steps, done))) {
          current[market] = price;
        }
      }
    }
    this.log("done", { steps: done, of: plan.length });
    return done;
  }

  /**
   * Re-reads the listed markets (options.refresh) and starts feeding every one it did not have whose
   * feed this account may update: logs `feeder-markets-added`, adds each one's path to the steps after
   * `done` (refresh.join), and returns their current prices. A market it may not update is logged
   * `feeder-market-skipped` (once) and a failed read `feeder-markets-unread`; neither stops the feeder.
   */
  async refreshMarkets(steps: FeedStep[] = [], done = 0): Promise<Partial<Record<MarketName, bigint>>> {
    const refresh = this.options.refresh;
    if (refresh === undefined) return {};
    let listed: Record<MarketName, string>;
    try {
      listed = await refresh.list();
    } catch (e) {
      this.log("feeder-markets-unread", { message: (e as Error).message });
      return {};
    }
    const added: Record<MarketName, string> = {};
    const prices: Partial<Record<MarketName, bigint>> = {};
    for (const [market, address] of Object.entries(listed)) {
      if (this.feeds[market] !== undefined || this.skipped.has(market)) continue;
      this.feeds[market] = MockPriceFeed__factory.connect(address, this.signer);
      try {
        await this.checkUpdater([market]);
        prices[market] = (await this.feeds[market].latestRoundData())[1];
      } catch (e) {
        delete this.feeds[market];
        this.skipped.add(market);
        this.log("feeder-market-skipped", { market, feed: address, message: (e as Error).message });
        continue;
      }
      added[market] = address;
    }
    const markets = Object.keys(added);
    if (markets.length === 0) return {};
    const byTime = new Map(steps.slice(done).map((step) => [step.t, step]));
    for (const market of markets) {
      for (const joined of refresh.join?.(market, prices[market]!, done) ?? []) {
        const step = byTime.get(joined.t);
        if (step !== undefined) Object.assign(step.prices, joined.prices);
      }
    }
    this.log("feeder-markets-added", { markets, feeds: added, afterStep: done });
    return prices;
  }

  private logStep(
    k: number,
    n: number,
    prices: Partial<Record<MarketName, bigint>>,
    block: { number: number; timestamp: number },
  ) {
    const shown: Record<string, string> = {};
    for (const [m, p] of Object.entries(prices)) if (p !== undefined) shown[m] = formatUnits(p, 8);
    this.log("prices", {
      step: k + 1,
      of: n,
      block: block.number,
      timestamp: block.timestamp,
      prices: shown,
    });
  }

  private async checkLocal(): Promise<void> {
    try {
      await this.provider.send("evm_setAutomine", [true]);
    } catch {
      throw new Error(
        "--fast needs a local node (hardhat node or anvil) that lets the feeder move block time",
      );
    }
  }

  private async gasFor(market: MarketName, feed: MockPriceFeed, price: bigint): Promise<bigint> {
    let gas = this.gas.get(market);
    if (gas === undefined) {
      gas = gasLimitFrom(await feed.updateAnswer.estimateGas(price));
      this.gas.set(market, gas);
    }
    return gas;
  }

  /** Real time: one update per changed market, each mined as it comes. */
  private async pushNow(
    prices: Partial<Record<MarketName, bigint>>,
  ): Promise<{ number: number; timestamp: number }> {
    const sent: TransactionResponse[] = [];
    for (const [market, price] of Object.entries(prices) as [MarketName, bigint][]) {
      const feed = this.feeds[market]!;
      sent.push(await this.sendUpdate(feed, price, await this.gasFor(market, feed, price)));
    }
    return this.lastReceiptBlock(sent);
  }

  /**
   * Fast: automine off, send every update, mine one block at `time`, automine back on (always, even
   * when something fails), then check every update succeeded.
   */
  private async pushInOneBlock(
    prices: Partial<Record<MarketName, bigint>>,
    time: number,
  ): Promise<{ number: number; timestamp: number }> {
    const entries = Object.entries(prices) as [MarketName, bigint][];
    const gas: bigint[] = [];
    for (const [market, price] of entries) gas.push(await this.gasFor(market, this.feeds[market]!, price));
    const at = Math.max(time, this.lastTime + 1);
    const sent: TransactionResponse[] = [];
    await this.provider.send("evm_setAutomine", [false]);
    try {
      for (const [i, [market, price]] of entries.entries()) {
        sent.push(await this.sendUpdate(this.feeds[market]!, price, gas[i]!));
      }
      await this.provider.send("evm_setNextBlockTimestamp", [at]);
      await this.provider.send("evm_mine", []);
    } finally {
      await this.provider.send("evm_setAutomine", [true]);
      await this.mineStranded();
    }
    let number = 0;
    for (const tx of sent) {
      const receipt = await this.provider.getTransactionReceipt(tx.hash);
      if (receipt === null || receipt.status !== 1) throw new Error(`price update ${tx.hash} failed`);
      number = Math.max(number, receipt.blockNumber);
    }
    this.lastTime = Math.max(this.lastTime, at);
    return { number, timestamp: at };
  }

  /**
   * A transaction someone else (a keeper, a wallet) sent between our evm_mine and automine coming
   * back on sits in the mempool: turning automine on does not mine it, and its sender would wait for
   * a receipt until the next transaction arrives. Mine it now, in a block of its own.
   */
  private async mineStranded(): Promise<void> {
    const pending = (await this.provider.send("eth_getBlockByNumber", ["pending", false])) as {
      transactions?: unknown[];
    } | null;
    if ((pending?.transactions?.length ?? 0) === 0) return;
    await this.provider.send("evm_mine", []);
    const mined = await this.provider.getBlock("latest");
    // the next step's block must come after this one
    if (mined !== null) this.lastTime = Math.max(this.lastTime, mined.timestamp);
  }

  private async sendUpdate(
    feed: MockPriceFeed,
    price: bigint,
    gasLimit: bigint,
  ): Promise<TransactionResponse> {
    try {
      return await feed.updateAnswer(price, { gasLimit });
    } catch (e) {
      if (this.signer instanceof NonceManager) this.signer.reset();
      throw e;
    }
  }

  private async lastReceiptBlock(
    sent: TransactionResponse[],
  ): Promise<{ number: number; timestamp: number }> {
    let number = 0;
    for (const tx of sent) {
      const receipt = await tx.wait(1, 60_000);
      if (receipt === null || receipt.status !== 1) throw new Error(`price update ${tx.hash} failed`);
      number = Math.max(number, receipt.blockNumber);
    }
    const block = await this.provider.getBlock(number);
    return { number, timestamp: block?.timestamp ?? 0 };
  }
}
