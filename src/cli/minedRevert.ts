// A transaction that was mined and reverted: the node is asked why (src/chain/minedRevert.ts) and the
// reason becomes the CLI's usual sentence, naming the transaction.
import type { Provider } from "ethers";
import { minedRevertOf, minedRevertReason, type MinedRevert } from "../chain/minedRevert.ts";
import { CliError, revertDataMessage, type ErrorContext } from "./errors.ts";

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
  const mined = minedRevertOf(e);
  if (mined === undefined || provider === null) return e;
  let why: MinedRevert | undefined;
  try {
    why = await minedRevertReason(provider, mined.hash);
  } catch {
    // the node is gone: say what is known
  }
  const where = `the transaction ${mined.hash} was mined in block ${mined.block} and reverted`;
  if (why?.outOfGas === true)
    return new CliError(
      `it ran out of gas: it cost more in its block than estimated, past its limit of ${why.gasLimit}; nothing was done, try again (${where})`,
    );
  if (why?.data == null) return new CliError(`${where}; the node did not say why`);
  const reason = revertDataMessage(why.data, ctx).replace(/^the transaction would revert/, "it reverted");
  return new CliError(`${reason} (${where})`);
}
