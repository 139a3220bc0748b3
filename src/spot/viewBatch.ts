// Many view calls in one request: a contract runner for read-only contract handles that gathers every
// eth_call made in the same turn of the event loop at one block tag and sends them as one eth_call of
// VIEW_BATCH_SOURCE's constructor (never deployed: a call without `to` runs the constructor, which
// makes each static call and returns the answers, with the block's time). A call that failed in the
// batch is sent again on its own, so its error is the node's own; a node that refuses the batch gets
// every call on its own. The arbitrage reads a pool's reserves, its token, its desk and the exchange
// this way: one request per read, instead of one per view.
import { toQuantity, type ContractRunner, type Provider, type TransactionRequest } from "ethers";
import type { RawRpc } from "../chain/tokenBook.ts";

/** Compiled from VIEW_BATCH_SOURCE by solc 0.8.30 (optimizer 200 runs, cancun, no metadata); the
 * test (test/spot/viewBatch.ts) compiles the source again and compares. */
export const VIEW_BATCH_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// Never deployed: an eth_call without "to" runs this constructor, which makes every static call and
/// returns (block.timestamp, successes, return data) as the code it would have deployed.
contract ViewBatch {
    constructor(address[] memory targets, bytes[] memory calls) {
        bool[] memory ok = new bool[](calls.length);
        bytes[] memory out = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (ok[i], out[i]) = targets[i].staticcall(calls[i]);
        }
        bytes memory result = abi.encode(block.timestamp, ok, out);
        assembly {
            return(add(result, 32), mload(result))
        }
    }
}
`;

export const VIEW_BATCH_BYTECODE =
  "0x608060405234801561000f575f5ffd5b506040516104e13803806104e183398101604081905261002e9161031e565b5f81516001600160401b03811115610048576100486101cd565b604051908082528060200260200182016040528015610071578160200160208202803683370190505b5090505f82516001600160401b0381111561008e5761008e6101cd565b6040519080825280602002602001820160405280156100c157816020015b60608152602001906001900390816100ac5790505b5090505f5b835181101561019d578481815181106100e1576100e16103ee565b60200260200101516001600160a01b0316848281518110610104576101046103ee565b60200260200101516040516101199190610402565b5f60405180830381855afa9150503d805f8114610151576040519150601f19603f3d011682016040523d82523d5f602084013e610156565b606091505b50848381518110610169576101696103ee565b60200260200101848481518110610182576101826103ee565b602090810291909101019190915290151590526001016100c6565b505f4283836040516020016101b493929190610418565b6040516020818303038152906040529050805160208201f35b634e487b7160e01b5f52604160045260245ffd5b604051601f8201601f191681016001600160401b0381118282101715610209576102096101cd565b604052919050565b5f6001600160401b03821115610229576102296101cd565b5060051b60200190565b5f82601f830112610242575f5ffd5b815161025561025082610211565b6101e1565b8082825260208201915060208360051b860101925085831115610276575f5ffd5b602085015b838110156103145780516001600160401b03811115610298575f5ffd5b8601603f810188136102a8575f5ffd5b60208101516001600160401b038111156102c4576102c46101cd565b6102d7601f8201601f19166020016101e1565b8181526040838301018a10156102eb575f5ffd5b8160408401602083015e5f6020838301015280865250505060208301925060208101905061027b565b5095945050505050565b5f5f6040838503121561032f575f5ffd5b82516001600160401b03811115610344575f5ffd5b8301601f81018513610354575f5ffd5b805161036261025082610211565b8082825260208201915060208360051b850101925087831115610383575f5ffd5b6020840193505b828410156103b95783516001600160a01b03811681146103a8575f5ffd5b82526020938401939091019061038a565b6020870151909550925050506001600160401b038111156103d8575f5ffd5b6103e485828601610233565b9150509250929050565b634e487b7160e01b5f52603260045260245ffd5b5f82518060208501845e5f920191825250919050565b5f60608201858352606060208401528085518083526080850191506020870192505f5b8181101561045b578351151583526020938401939092019160010161043b565b50508381036040850152845180825260208083019350600582901b830181019087015f5b838110156104d157601f19858403018652815180518085528060208301602087015e5f602082870101526020601f19601f8301168601019450505060208201915060208601955060018101905061047f565b5090999850505050505050505056fe";

/** Calls a batch sends at most (the answers, returned as the would-be code, must stay under 24 KiB). */
export const VIEW_BATCH_MAX = 48;

interface Queued {
  to: string;
  data: string;
  /** The block's time, not a call (answered as eth_getBlockByNumber's `timestamp`). */
  time?: true;
  resolve(answer: string): void;
  reject(e: unknown): void;
}

/** Requests sent and views answered, for measurements. */
export interface BatchStats {
  requests: number;
  views: number;
}

/**
 * A runner for contract handles that only read: `call`s made in the same turn at the same block tag
 * go out as one request. `rpc` answers the block time of the same tag from the same request.
 */
export class ViewBatcher implements ContractRunner {
  readonly provider: Provider;
  readonly stats: BatchStats = { requests: 0, views: 0 };
  #queues = new Map<string, Queued[]>();

  constructor(provider: Provider) {
    this.provider = provider;
  }

  /** eth_call of `tx` at its block tag (latest unless given), batched with the turn's other calls. */
  call(tx: TransactionRequest): Promise<string> {
    const to = typeof tx.to === "string" ? tx.to : undefined;
    if (to === undefined || typeof tx.data !== "string" || tx.from != null || tx.value != null)
      return this.provider.call(tx);
    return this.#enqueue(tagOf(tx.blockTag), { to, data: tx.data });
  }

  /** A raw JSON-RPC client whose block-time reads (eth_getBlockByNumber of "pending" or "latest")
   * come from the batch at that tag; everything else goes to `rpc`. */
  rpc(rpc: RawRpc): RawRpc {
    return {
      send: async (method, params) => {
        const [tag, full] = params as [unknown, unknown];
        if (method !== "eth_getBlockByNumber" || full !== false || (tag !== "pending" && tag !== "latest"))
          return rpc.send(method, params);
        const time = await this.#enqueue(tag, { to: "", data: "", time: true });
        return { timestamp: time };
      },
    };
  }

  #enqueue(tag: string, call: { to: string; data: string; time?: true }): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let queue = this.#queues.get(tag);
      if (queue === undefined) {
        queue = [];
        this.#queues.set(tag, queue);
        // every call made in this turn joins the queue before it goes
        setImmediate(() => {
          this.#queues.delete(tag);
          void this.#send(tag, queue!);
        });
      }
      queue.push({ ...call, resolve, reject });
    });
  }

  async #send(tag: string, queue: Queued[]): Promise<void> {
    for (let i = 0; i < queue.length; i += VIEW_BATCH_MAX)
      await this.#sendSome(tag, queue.slice(i, i + VIEW_BATCH_MAX));
  }

  async #sendSome(tag: string, queue: Queued[]): Promise<void> {
    const calls = queue.filter((q) => q.time !== true);
    this.stats.views += calls.length;
    if (calls.length === 1 && calls.length === queue.length) {
      // one call alone: as it is
      this.stats.requests++;
      await this.provider
        .call({ to: calls[0]!.to, data: calls[0]!.data, blockTag: tag })
        .then(calls[0]!.resolve, calls[0]!.reject);
      return;
    }
    let time: bigint;
    let ok: boolean[];
    let out: string[];
    try {
      this.stats.requests++;
      const answer = await this.provider.call({
        data: VIEW_BATCH_BYTECODE + encodeCalls(calls),
        blockTag: tag,
      });
      ({ time, ok, out } = decodeAnswers(answer, calls.length));
    } catch {
      // a node that refuses the batch: every call on its own, the time from the block itself
      await Promise.all(queue.map((q) => this.#alone(tag, q)));
      return;
    }
    let k = 0;
    for (const q of queue) {
      if (q.time === true) {
        q.resolve(toQuantity(time));
        continue;
      }
      const i = k++;
      if (ok[i] === true) q.resolve(out[i]!);
      else await this.#alone(tag, q); // its own request, for the node's own error
    }
  }

  async #alone(tag: string, q: Queued): Promise<void> {
    this.stats.requests++;
    try {
      if (q.time === true) {
        const block = await this.provider.getBlock(tag);
        if (block === null) throw new Error(`the node has no ${tag} block`);
        q.resolve(toQuantity(block.timestamp));
      } else {
        q.resolve(await this.provider.call({ to: q.to, data: q.data, blockTag: tag }));
      }
    } catch (e) {
      q.reject(e);
    }
  }
}

function tagOf(tag: TransactionRequest["blockTag"]): string {
  if (tag === undefined || tag === null) return "latest";
  return typeof tag === "string" ? tag : toQuantity(tag);
}

/** 32 bytes of `n`, hex without 0x. */
const word = (n: number | bigint) => n.toString(16).padStart(64, "0");

/** The constructor's arguments, ABI-encoded (address[] targets, bytes[] calls), hex without 0x: by
 * hand, as ethers' general encoder took most of a batch's time. */
export function encodeCalls(calls: readonly { to: string; data: string }[]): string {
  const n = calls.length;
  const parts: string[] = [word(0x40), word(0x40 + 32 * (n + 1)), word(n)];
  for (const c of calls) parts.push(c.to.slice(2).toLowerCase().padStart(64, "0"));
  parts.push(word(n));
  let offset = 32 * n;
  const bodies: string[] = [];
  for (const c of calls) {
    parts.push(word(offset));
    const hex = c.data.slice(2);
    const padded = hex.padEnd(Math.ceil(hex.length / 64) * 64, "0");
    bodies.push(word(hex.length / 2), padded);
    offset += 32 + padded.length / 2;
  }
  return parts.join("") + bodies.join("");
}

/** The batch's answer (uint256 time, bool[] ok, bytes[] out), decoded by hand; throws on a short or
 * malformed answer. */
export function decodeAnswers(answer: string, n: number): { time: bigint; ok: boolean[]; out: string[] } {
  const hex = answer.startsWith("0x") ? answer.slice(2) : answer;
  const at = (byte: number): bigint => {
    const w = hex.slice(byte * 2, byte * 2 + 64);
    if (w.length !== 64) throw new Error("the batch's answer is too short");
    return BigInt("0x" + w);
  };
  const num = (byte: number): number => {
    const v = at(byte);
    if (v > BigInt(hex.length)) throw new Error("the batch's answer is malformed");
    return Number(v);
  };
  const time = at(0);
  const okAt = num(32);
  const outAt = num(64);
  if (num(okAt) !== n || num(outAt) !== n) throw new Error("the batch answered a different number of calls");
  const ok: boolean[] = [];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    ok.push(at(okAt + 32 + 32 * i) === 1n);
    const start = outAt + 32 + num(outAt + 32 + 32 * i);
    const len = num(start);
    const data = hex.slice((start + 32) * 2, (start + 32 + len) * 2);
    if (data.length !== len * 2) throw new Error("the batch's answer is too short");
    out.push("0x" + data);
  }
  return { time, ok, out };
}
