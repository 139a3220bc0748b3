// `lt admin automation <SYMBOL> [--forwarder <address>]`: what a Chainlink Automation registration
// needs for a token (custom-logic upkeep: the token is the target, checkData is empty, a gas limit
// measured by eth_estimateGas of performUpkeep with a margin), and the forwarder's KEEPER_ROLE.
// When no rebalance is due, performUpkeep would revert, so on a node that can snapshot (hardhat,
// anvil) the price is moved to the band's edge, measured, and put back.
import { isAddress } from "ethers";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import { requireRole, ROLES, sendTx } from "./adminSend.ts";
import { type Context, resolveSymbol, signerOf, tokenOf } from "./context.ts";
import { CliError, explainError } from "./errors.ts";
import { lines, type Report } from "./format.ts";
import { readTokenInfo } from "./tokens.ts";

/** Registration gas limit: the measured performUpkeep + 50%, rounded up. */
export function upkeepGasLimit(measured: bigint): bigint {
  return (measured * 3n + 1n) / 2n;
}

const CHECK_DATA = "0x";

/** eth_estimateGas of performUpkeep from `from` (reverts RebalanceNotNeeded when nothing is due). */
async function estimateUpkeep(token: LeveragedToken, from: string): Promise<bigint> {
  return token.performUpkeep.estimateGas(CHECK_DATA, { from });
}

/**
 * Measures on a snapshot: pushes the price at which the token's leverage leaves its band through the
 * market's feed, estimates, and reverts the snapshot.
 */
async function measureAtBandEdge(ctx: Context, symbol: string, from: string): Promise<bigint> {
  const info = await readTokenInfo(ctx, symbol);
  const edge = info.live?.triggers.atMaxLeverage ?? null;
  const feedAddress = ctx.book.feeds[info.market];
  if (edge === null || feedAddress === undefined) {
    throw new CliError(
      `no rebalance is due on ${symbol} now${info.live?.size === 0n ? " (it has no position: mint some first)" : ""}, so performUpkeep cannot be measured; run this again when one is due`,
    );
  }
  let snapshot: string;
  try {
    snapshot = (await ctx.provider.send("evm_snapshot", [])) as string;
  } catch {
    throw new CliError(
      `no rebalance is due on ${symbol} now, so performUpkeep cannot be measured on this node; run this again when one is due, or against a local copy of the chain`,
    );
  }
  try {
    const feed = MockPriceFeed__factory.connect(feedAddress, await signerOf(ctx));
    await sendTx(feed.updateAnswer, edge + edge / 100n); // 1% past the edge, so the band trips
    return await estimateUpkeep(tokenOf(ctx, symbol), from);
  } finally {
    await ctx.provider.send("evm_revert", [snapshot]);
  }
}

export interface AutomationOptions {
  forwarder?: string;
}

export async function automationCommand(
  ctx: Context,
  input: string,
  opts: AutomationOptions,
): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  const signer = await signerOf(ctx);
  const account = await signer.getAddress();
  const token = tokenOf(ctx, symbol, signer);
  const target = await token.getAddress();
  let grantTx: string | null = null;
  const forwarder = opts.forwarder;
  if (forwarder !== undefined) {
    if (!isAddress(forwarder)) throw new CliError(`"${forwarder}" is not an address (0x and 40 hex digits)`);
    if (!(await token.hasRole(ROLES.KEEPER_ROLE, forwarder))) {
      await requireRole(
        token,
        "DEFAULT_ADMIN_ROLE",
        account,
        `grant the forwarder ${symbol}'s keeper role`,
        symbol,
      );
      grantTx = (await sendTx(token.grantRole, ROLES.KEEPER_ROLE, forwarder)).hash;
    }
  }
  // measure as a keeper: the forwarder when it has the role, else this account when it has
  const from =
    forwarder !== undefined && (await token.hasRole(ROLES.KEEPER_ROLE, forwarder)) ? forwarder : account;
  if (!(await token.hasRole(ROLES.KEEPER_ROLE, from))) {
    throw new CliError(
      `cannot measure performUpkeep: neither the forwarder nor ${account} holds ${symbol}'s KEEPER_ROLE (pass --forwarder <address> as the token's admin)`,
    );
  }
  const [needed] = await token.rebalanceNeeded();
  let measured: bigint;
  try {
    measured = needed
      ? await estimateUpkeep(tokenOf(ctx, symbol), from)
      : await measureAtBandEdge(ctx, symbol, from);
  } catch (e) {
    throw explainError(e, { rpcUrl: ctx.options.rpc, symbol });
  }
  const gasLimit = upkeepGasLimit(measured);
  return {
    data: {
      symbol,
      upkeep: "custom logic",
      target,
      checkData: CHECK_DATA,
      gasLimit: gasLimit.toString(),
      measuredGas: measured.toString(),
      measuredAt: needed ? "now (a rebalance is due)" : "a price at the band's edge, on a snapshot",
      forwarder: forwarder ?? null,
      grantTx,
    },
    text: lines([
      ["upkeep", "custom logic (the token implements checkUpkeep and performUpkeep)"],
      ["target", target],
      ["checkData", `${CHECK_DATA} (empty)`],
      [
        "gas limit",
        `${gasLimit} (performUpkeep measured ${measured} by eth_estimateGas${needed ? "" : " at the band's edge"}, +50%)`,
      ],
      [
        "forwarder",
        forwarder === undefined
          ? `after registering, grant the upkeep's forwarder the keeper role: lt admin automation ${symbol} --forwarder <address>`
          : grantTx === null
            ? `${forwarder} holds KEEPER_ROLE`
            : `${forwarder} granted KEEPER_ROLE (tx ${grantTx})`,
      ],
    ]),
  };
}
