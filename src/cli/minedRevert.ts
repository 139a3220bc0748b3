// A transaction that was mined and reverted: ethers' receipt carries no revert data, so ask the node
// for it (debug_traceTransaction, with the call tracer or the default one), else replay the call on
// the state before its block, and say the reason in the CLI's usual sentence.
import type { Provider } from "ethers";
import { CliError, findRevertData, revertDataMessage, type ErrorContext } from "./errors.ts";

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
    const send = (m: string, p: unknown[]) => (raw as RawProvider).send(m, p);
    for (const tracer of [
      { tracer: "callTracer" },
      { disableStack: true, disableMemory: true, disableStorage: true },
    ]) {
      try {
        const trace = (await send("debug_traceTransaction", [hash, tracer])) as {
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
    return findRevertData(e);
  }
}

/**
 * For a transaction that was mined and reverted (ethers' CALL_EXCEPTION with a receipt): a CliError
 * saying why, in the sentence a revert before sending would have had, and naming the transaction.
 * Anything else comes back as it was.
 */
export async function explainMinedRevert(
  provider: Provider | null,
  e: unknown,
  ctx: ErrorContext,
): Promise<unknown> {
  const x = e as { code?: unknown; receipt?: { hash?: unknown; blockNumber?: unknown } | null } | null;
  const hash = x?.receipt?.hash;
  if (x?.code !== "CALL_EXCEPTION" || typeof hash !== "string" || provider === null) return e;
  let data: string | null = null;
  try {
    data = await minedRevertData(provider, hash);
  } catch {
    // the node is gone: say what is known
  }
  const where = `the transaction ${hash} was mined in block ${String(x.receipt?.blockNumber)} and reverted`;
  if (data === null) return new CliError(`${where}; the node did not say why`);
  return new CliError(
    `${revertDataMessage(data, ctx).replace(/^the transaction would revert/, "it reverted")} (${where})`,
  );
}
