// Revert data decoded for logs: the custom errors of every contract a keeper's or an arbitrageur's
// call can reach (the token, its desk, the exchange, the price feed), found wherever ethers nested
// the data, and one readable sentence for any error. Shared by the keeper and the arbitrage bot.
import { Interface } from "ethers";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";

const ERRORS = new Interface([
  ...LeveragedToken__factory.abi.filter((f) => f.type === "error"),
  ...MockPerpVault__factory.abi.filter((f) => f.type === "error"),
  ...MockPriceFeed__factory.abi.filter((f) => f.type === "error"),
  ...ForwardDesk__factory.abi.filter(
    (f) =>
      f.type === "error" && !LeveragedToken__factory.abi.some((t) => t.type === "error" && t.name === f.name),
  ),
]);

/** The custom error's name in a revert, from the token's, the exchange's or the feed's ABI. */
export function revertName(e: unknown): string | undefined {
  const data = findRevertData(e);
  if (data === undefined) return undefined;
  try {
    return ERRORS.parseError(data)?.name;
  } catch {
    return undefined;
  }
}

function findRevertData(e: unknown, depth = 0): string | undefined {
  if (depth > 6 || e === null || typeof e !== "object") return undefined;
  const o = e as Record<string, unknown>;
  const data = o.data;
  if (typeof data === "string" && /^0x[0-9a-fA-F]{8}/.test(data)) return data;
  for (const key of ["revert", "error", "info", "cause", "data"]) {
    const found = findRevertData(o[key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** One readable sentence for an error: the custom error with its arguments when there is one. */
export function describe(e: unknown, address?: string): string {
  const data = findRevertData(e);
  if (data !== undefined) {
    try {
      const parsed = ERRORS.parseError(data);
      if (parsed !== null)
        return `reverted ${parsed.name}(${parsed.args.map((a: unknown) => String(a)).join(", ")})`;
    } catch {
      // fall through
    }
  }
  const err = e as { code?: unknown; value?: unknown; shortMessage?: unknown; message?: unknown };
  if (err?.code === "BAD_DATA" && err.value === "0x" && address !== undefined) {
    return `no contract at ${address} (was the chain reset? redeploy: npm run deploy)`;
  }
  if (typeof err?.shortMessage === "string") return err.shortMessage;
  if (typeof err?.message === "string") return err.message.split("\n")[0]!;
  return String(e);
}
