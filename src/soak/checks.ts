// The soak's closing checks on the chain: USDT conserved to the unit across every address that ever
// held any, and every Rebalanced event with the transaction, block and caller it came in.
import type { Provider } from "ethers";
import type { AddressBook } from "../chain/addressBook.ts";
import { REASON_NAMES } from "../keeper/decide.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockUSDT__factory } from "../../types/ethers-contracts/factories/mocks/MockUSDT__factory.ts";

const ZERO = "0x0000000000000000000000000000000000000000";

export interface Conservation {
  /** Addresses that ever held USDT (from every Transfer since block 0). */
  holders: number;
  /** Sum of their balances, totalSupply(), and minted less burned by the Transfer events. */
  sumOfBalances: bigint;
  totalSupply: bigint;
  mintedLessBurned: bigint;
  exact: boolean;
}

/** USDT's balances add up to its supply, and the supply to what its Transfer events minted and burned. */
export async function usdtConservation(
  provider: Provider,
  book: AddressBook,
  block: number,
): Promise<Conservation> {
  const usdt = MockUSDT__factory.connect(book.usdt, provider);
  const logs = await usdt.queryFilter(usdt.filters.Transfer(), 0, block);
  const holders = new Set<string>();
  let mintedLessBurned = 0n;
  for (const l of logs) {
    const [from, to, value] = [l.args.from, l.args.to, l.args.value];
    if (from === ZERO) mintedLessBurned += value;
    else holders.add(from);
    if (to === ZERO) mintedLessBurned -= value;
    else holders.add(to);
  }
  let sumOfBalances = 0n;
  for (const h of holders) sumOfBalances += await usdt.balanceOf(h, { blockTag: block });
  const totalSupply = await usdt.totalSupply({ blockTag: block });
  return {
    holders: holders.size,
    sumOfBalances,
    totalSupply,
    mintedLessBurned,
    exact: sumOfBalances === totalSupply && totalSupply === mintedLessBurned,
  };
}

export interface RebalanceEvent {
  token: string;
  reason: string;
  caller: string;
  tx: string;
  block: number;
}

/** Every token's Rebalanced events in [fromBlock, toBlock], in chain order. */
export async function rebalanceEvents(
  provider: Provider,
  book: AddressBook,
  fromBlock: number,
  toBlock: number,
): Promise<RebalanceEvent[]> {
  const out: (RebalanceEvent & { index: number })[] = [];
  for (const [symbol, address] of Object.entries(book.tokens)) {
    const token = LeveragedToken__factory.connect(address, provider);
    for (const l of await token.queryFilter(token.filters.Rebalanced(), fromBlock, toBlock)) {
      out.push({
        token: symbol,
        reason: REASON_NAMES[Number(l.args.reason)] ?? String(l.args.reason),
        caller: l.args.caller,
        tx: l.transactionHash,
        block: l.blockNumber,
        index: l.index,
      });
    }
  }
  out.sort((a, b) => a.block - b.block || a.index - b.index);
  return out.map(({ index: _index, ...e }) => e);
}

/** Two rebalances of one token in one block: the second traded on a book already at target. */
export function doubleRebalances(events: readonly RebalanceEvent[]): RebalanceEvent[] {
  const seen = new Set<string>();
  const doubles: RebalanceEvent[] = [];
  for (const e of events) {
    const k = `${e.token}@${e.block}`;
    if (seen.has(k)) doubles.push(e);
    seen.add(k);
  }
  return doubles;
}
