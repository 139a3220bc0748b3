// The revert data of a transaction that was mined and reverted. ethers' receipt carries none, so ask
// the node: debug_traceTransaction (the call tracer, else the default one: anvil, geth, Hardhat),
// else replay the call on the state before its block (any node; right unless its block changed it).
import type { Provider } from "ethers";

interface RawProvider {
  send(method: string, params: unknown[]): Promise<unknown>;
}

const REVERT_DATA = /^(0x)?[0-9a-fA-F]{8}/;

function hexOf(value: unknown): string | null {
  if (typeof value !== "string" || !REVERT_DATA.test(value)) return null;
  return value.startsWith("0x") ? value : `0x${value}`;
}

/** The revert data of the mined transaction `hash`, or null when the node cannot tell. */
export async function minedRevertData(provider: Provider, hash: string): Promise<string | null> {
  const raw = provider as Partial<RawProvider>;
  if (typeof raw.send === "function") {
    for (const tracer of [
      { tracer: "callTracer" },
      { disableStack: true, disableMemory: true, disableStorage: true },
    ]) {
      try {
        const trace = (await (raw as RawProvider).send("debug_traceTransaction", [hash, tracer])) as {
          output?: unknown;
          returnValue?: unknown;
        } | null;
        const data = hexOf(trace?.output) ?? hexOf(trace?.returnValue);
        if (data !== null) return data;
      } catch {
        // this node has no such tracer: try the next way
      }
    }
  }
  const tx = await provider.getTransaction(hash);
  if (tx === null || tx.blockNumber === null) return null;
  try {
    await provider.call({
      from: tx.from,
      to: tx.to,
      data: tx.data,
      value: tx.value,
      blockTag: tx.blockNumber - 1,
    });
    return null;
  } catch (e) {
    return hexOf((e as { data?: unknown } | null)?.data);
  }
}

/** Why a mined transaction reverted: its revert data (null when there is none or the node cannot tell),
 * and whether it ran out of gas: no revert data and nearly all of its limit used (a call that runs out
 * inside another leaves the outer one a 64th of what it had, so not quite all). */
export interface MinedRevert {
  data: string | null;
  outOfGas: boolean;
  gasLimit: bigint;
}

export async function minedRevertReason(provider: Provider, hash: string): Promise<MinedRevert> {
  const [tx, receipt] = await Promise.all([
    provider.getTransaction(hash),
    provider.getTransactionReceipt(hash),
  ]);
  const gasLimit = tx?.gasLimit ?? 0n;
  const data = await minedRevertData(provider, hash);
  const outOfGas = data === null && receipt !== null && receipt.gasUsed * 100n >= gasLimit * 95n;
  return { data, outOfGas, gasLimit };
}

/** The mined transaction's hash and block when `e` is ethers' error for a mined revert (CALL_EXCEPTION
 * with a receipt), else undefined. */
export function minedRevertOf(e: unknown): { hash: string; block: number } | undefined {
  const x = e as { code?: unknown; receipt?: { hash?: unknown; blockNumber?: unknown } | null } | null;
  const hash = x?.receipt?.hash;
  if (x?.code !== "CALL_EXCEPTION" || typeof hash !== "string") return undefined;
  return { hash, block: Number(x.receipt?.blockNumber) };
}
