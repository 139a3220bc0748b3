// What the soak watches while it runs: how long any token needs a rebalance while its prices are live
// (nobody can rebalance on a stale price), and a process's resident memory.
import { readFileSync } from "node:fs";
import type { Provider } from "ethers";
import type { AddressBook } from "../chain/addressBook.ts";
import { MARKETS } from "../common/params.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";

export interface NeedSpan {
  token: string;
  ms: number;
  /** Still open when the soak ended. */
  open?: boolean;
}

/** Samples every token's rebalanceNeeded(); tracks the longest span it stayed true with live prices. */
export class RebalanceWatch {
  private readonly provider: Provider;
  private readonly book: AddressBook;
  private readonly since = new Map<string, number>();
  longest: NeedSpan = { token: "", ms: 0 };
  samples = 0;
  staleSamples = 0;

  constructor(provider: Provider, book: AddressBook) {
    this.provider = provider;
    this.book = book;
  }

  /** Whether every feed's answer is within its heartbeat at the latest block. */
  private async pricesLive(): Promise<boolean> {
    const block = await this.provider.getBlock("latest");
    if (block === null) return false;
    for (const [market, address] of Object.entries(this.book.feeds)) {
      const heartbeat = MARKETS[market as keyof typeof MARKETS]?.heartbeat ?? 3600;
      const [, , , updatedAt] = await MockPriceFeed__factory.connect(
        address,
        this.provider,
      ).latestRoundData();
      if (BigInt(block.timestamp) - updatedAt > BigInt(heartbeat)) return false;
    }
    return true;
  }

  async sample(now = Date.now()): Promise<void> {
    this.samples++;
    if (!(await this.pricesLive())) {
      this.staleSamples++;
      this.since.clear();
      return;
    }
    for (const [symbol, address] of Object.entries(this.book.tokens)) {
      let needed = false;
      try {
        [needed] = await LeveragedToken__factory.connect(address, this.provider).rebalanceNeeded();
      } catch {
        needed = false; // a price that went stale between the reads: not live
      }
      const from = this.since.get(symbol);
      if (needed && from === undefined) this.since.set(symbol, now);
      if (!needed && from !== undefined) {
        this.record(symbol, now - from);
        this.since.delete(symbol);
      }
    }
  }

  /** Closes the spans still open at the end. */
  finish(now = Date.now()): void {
    for (const [symbol, from] of this.since) this.record(symbol, now - from, true);
    this.since.clear();
  }

  private record(token: string, ms: number, open = false): void {
    if (ms > this.longest.ms) this.longest = open ? { token, ms, open } : { token, ms };
  }
}

/** A process's resident memory in bytes (Linux /proc), or undefined where it cannot be read. */
export function residentBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}
