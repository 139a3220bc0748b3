// Block times that depend on the transactions alone, never on the wall clock. A local chain (the
// in-process network, a hardhat node, anvil) stamps an automined block with the time it is mined
// (wall clock plus an offset), so anything that accrues by the second (management fee, funding,
// the daily 00:00 UTC rebalance) changes with how fast the machine ran and at what hour. With
// `pinBlockTimes`, every block is mined exactly one second after the one before, unless its caller
// fixes the next timestamp itself (`evm_setNextBlockTimestamp`, as the demo's price steps do).
// Calls and gas estimates at the pending block see that same next timestamp, so a preview read
// just before a transaction is what the transaction gets.
import type { EthereumProvider, RequestArguments } from "hardhat/types/providers";

/** The 1193 provider's request function, the one thing the pin replaces. */
type Request = EthereumProvider["request"];

const SENDS = new Set(["eth_sendTransaction", "eth_sendRawTransaction"]);

export interface PinnedClock {
  /** The timestamp the next block will be mined at. */
  readonly next: bigint;
  /** Moves the next block to `time` (not before the next one already due). */
  setNext(time: bigint): Promise<void>;
  /** Gives the provider its own request function back. */
  unpin(): void;
}

/** First day (00:00 UTC) at or after `time`, plus `timeOfDay` seconds (used to align starts). */
export function nextTimeOfDay(time: bigint, timeOfDay: bigint): bigint {
  const day = 86_400n;
  const t = (time / day) * day + (((timeOfDay % day) + day) % day);
  return t >= time ? t : t + day;
}

/**
 * From now on, the chain behind `provider` mines its next block at `first` and every later block
 * one second after the previous one, unless the caller sets a timestamp itself. Tracks automine
 * (`evm_setAutomine`): a send mines a block only while it is on. Works on any node that has
 * `evm_setNextBlockTimestamp` (EDR, hardhat node, anvil).
 */
export async function pinBlockTimes(provider: EthereumProvider, first: bigint): Promise<PinnedClock> {
  const own: Request = provider.request.bind(provider);
  let next = first;
  let automine = true;
  const stamp = async (t: bigint) => {
    await own({ method: "evm_setNextBlockTimestamp", params: [Number(t)] });
    next = t;
  };
  /** A block was mined (at `next`, or at a time the latest block tells when unsure). */
  const mined = async (sure: boolean) => {
    let last = next;
    if (!sure) {
      const block = (await own({ method: "eth_getBlockByNumber", params: ["latest", false] })) as {
        timestamp: string;
      };
      last = BigInt(block.timestamp);
    }
    await stamp(last + 1n);
  };
  const pinned: Request = async (args: RequestArguments) => {
    const m = args.method;
    if (m === "evm_setNextBlockTimestamp") {
      const [t] = (args.params ?? []) as [number | string];
      await stamp(BigInt(t));
      return null;
    }
    if (m === "evm_setAutomine") automine = ((args.params ?? []) as [boolean])[0];
    if (m === "evm_mine" || (automine && SENDS.has(m))) {
      try {
        const out = await own(args);
        await mined(true);
        return out;
      } catch (err) {
        await mined(false); // a reverted transaction may still have been mined, a rejected one not
        throw err;
      }
    }
    return own(args);
  };
  await stamp(first);
  (provider as { request: Request }).request = pinned;
  return {
    get next() {
      return next;
    },
    setNext: async (time: bigint) => {
      if (time < next) throw new Error(`cannot move the next block back from ${next} to ${time}`);
      await stamp(time);
    },
    unpin: () => {
      (provider as { request: Request }).request = own;
    },
  };
}
