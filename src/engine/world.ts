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

/**
 * State that is only ever added to, never changed once written (a desk's filled epochs): kept out of
 * the saved copies `atomic` makes, which would otherwise grow with every entry and make a long run
 * quadratic. A rollback removes what was added since its mark; the entries are frozen, so a twin that
 * wrote one by mistake would throw.
 */
export class FrozenLog<K, V extends object> {
  private readonly map = new Map<K, Readonly<V>>();
  private readonly order: K[] = [];

  get(k: K): Readonly<V> | undefined {
    return this.map.get(k);
  }

  /** Adds `v` under a key not yet written (a second write of one key is a twin's bug). */
  add(k: K, v: V): void {
    if (this.map.has(k)) throw new Error(`FrozenLog: ${String(k)} written twice`);
    this.map.set(k, Object.freeze(v));
    this.order.push(k);
  }

  /** How many entries there are: a mark to roll back to. */
  get size(): number {
    return this.order.length;
  }

  /** Removes the entries added after `mark`. */
  rollBack(mark: number): void {
    for (const k of this.order.splice(mark)) this.map.delete(k);
  }
}

export class World {
  readonly log = new EventLog();
  readonly usdt: Erc20Ledger;
  private readonly parts: Stateful[] = [];
  private readonly frozen: Pick<FrozenLog<unknown, object>, "size" | "rollBack">[] = [];

  constructor(usdtAddress: string) {
    this.usdt = new Erc20Ledger(usdtAddress, this.log);
    this.register(this.usdt);
  }

  register(part: Stateful): void {
    this.parts.push(part);
  }

  /** A FrozenLog that `atomic` rolls back with the rest of the state. */
  frozenLog<K, V extends object>(): FrozenLog<K, V> {
    const log = new FrozenLog<K, V>();
    this.frozen.push(log);
    return log;
  }

  /** Runs `fn` as one transaction: if it throws, every contract's state is restored and it rethrows. */
  atomic<T>(fn: () => T): T {
    const saved = this.parts.map((p) => structuredClone(p.st));
    const frozenMarks = this.frozen.map((f) => f.size);
    const mark = this.log.events.length;
    try {
      return fn();
    } catch (e) {
      this.parts.forEach((p, i) => {
        p.st = saved[i]!;
      });
      this.frozen.forEach((f, i) => f.rollBack(frozenMarks[i]!));
      this.log.events.length = mark;
      throw e;
    }
  }
}
