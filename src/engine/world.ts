// The engine's chain: a clock-free container of contracts (USDT, feeds, the exchange, tokens) whose
// operations take the caller and the block timestamp explicitly, revert atomically (all state back
// as it was, like an EVM revert) and log the events they expect the contracts to emit.
import { Erc20Ledger, key } from "./erc20.ts";
import { EventLog } from "./events.ts";

/** msg.sender and block.timestamp of one call. */
export interface Tx {
  from: string;
  time: bigint;
}

/** A contract twin: all of its state in one plain object `st`, so it can be saved and restored. */
export interface Stateful {
  st: object;
}

export class World {
  readonly log = new EventLog();
  readonly usdt: Erc20Ledger;
  private readonly parts: Stateful[] = [];

  constructor(usdtAddress: string) {
    this.usdt = new Erc20Ledger(usdtAddress, this.log);
    this.register(this.usdt);
  }

  register(part: Stateful): void {
    this.parts.push(part);
  }

  /** Runs `fn` as one transaction: if it throws, every contract's state is restored and it rethrows. */
  atomic<T>(fn: () => T): T {
    const saved = this.parts.map((p) => structuredClone(p.st));
    const mark = this.log.events.length;
    try {
      return fn();
    } catch (e) {
      this.parts.forEach((p, i) => {
        p.st = saved[i]!;
      });
      this.log.events.length = mark;
      throw e;
    }
  }
}
