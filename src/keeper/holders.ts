// Every address that ever received a token, found from its Transfer events, scanned incrementally;
// not 0xdEaD (the locked shares) nor the accounts settleHolders skips (the token's desk, whose shares
// belong to its requesters).
import { getAddress, id, type Provider } from "ethers";

const TRANSFER = id("Transfer(address,address,uint256)");
const DEAD = "0x000000000000000000000000000000000000dEaD";
const ZERO = "0x0000000000000000000000000000000000000000";

export class HolderIndex {
  readonly holders = new Set<string>();
  /** Last block scanned. */
  cursor: number;

  readonly token: string;
  readonly startBlock: number;
  readonly chunk: number;

  /** Accounts settleHolders skips: never listed. */
  readonly skipped: ReadonlySet<string>;

  constructor(token: string, startBlock: number, chunk = 5000, skipped: readonly string[] = []) {
    this.token = token;
    this.skipped = new Set([ZERO, DEAD, ...skipped.map((a) => getAddress(a))]);
    this.startBlock = startBlock;
    this.chunk = chunk;
    this.cursor = startBlock - 1;
  }

  /** Scans Transfer logs up to `toBlock`; returns how many transfers it saw. */
  async update(provider: Provider, toBlock: number): Promise<number> {
    let seen = 0;
    while (this.cursor < toBlock) {
      const from = this.cursor + 1;
      const to = Math.min(toBlock, from + this.chunk - 1);
      const logs = await provider.getLogs({
        address: this.token,
        topics: [TRANSFER],
        fromBlock: from,
        toBlock: to,
      });
      seen += logs.length;
      for (const log of logs) {
        const topic = log.topics[2];
        if (topic === undefined) continue;
        const holder = getAddress("0x" + topic.slice(26));
        if (!this.skipped.has(holder)) this.holders.add(holder);
      }
      this.cursor = to;
    }
    return seen;
  }

  /** Forget everything (the chain was reset). */
  reset(): void {
    this.holders.clear();
    this.cursor = this.startBlock - 1;
  }
}
