// Every failure the CLI can meet, turned into one plain sentence. Revert data is decoded with the
// interfaces of the contracts a call can reach (the token, the exchange, USDT, the price feed), so
// an error raised deep inside the exchange still reads as what it means to the user.
import { AbiCoder, decodeBytes32String, ErrorFragment, Interface, type ErrorDescription } from "ethers";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { LeveragedTokenFactory__factory } from "../../types/ethers-contracts/factories/LeveragedTokenFactory__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";
import { MockUSDT__factory } from "../../types/ethers-contracts/factories/mocks/MockUSDT__factory.ts";
import { CliError } from "./cliError.ts";
import { formatLeverage, formatShares, formatTime, formatUsdt, shortAddress } from "./format.ts";

export { CliError };

/** What the CLI was doing, so a bare number in an error can be named and given its unit. */
export interface ErrorContext {
  rpcUrl?: string;
  symbol?: string;
  action?: "mint" | "redeem";
}

/** The token's lifecycle states, as ILeveragedToken.State numbers them. */
export const STATE_NAMES = ["Active", "Delisting", "Settled", "Depleted"] as const;
export const STATE = { Active: 0, Delisting: 1, Settled: 2, Depleted: 3 } as const;

const ERROR_STRING = "0x08c379a0"; // Error(string)
const PANIC = "0x4e487b71"; // Panic(uint256)

const PANIC_REASONS: Record<number, string> = {
  0x01: "an assertion failed",
  0x11: "an arithmetic overflow or underflow",
  0x12: "a division by zero",
  0x21: "an invalid enum value",
  0x32: "an out-of-bounds array access",
};

/** One interface holding every custom error a CLI call can reach, each selector once (built on first use). */
let errorsInterface: Interface | undefined;
function allErrors(): Interface {
  if (errorsInterface) return errorsInterface;
  const bySelector = new Map<string, ErrorFragment>();
  for (const abi of [
    LeveragedToken__factory.abi,
    MockPerpVault__factory.abi,
    MockUSDT__factory.abi,
    MockPriceFeed__factory.abi,
    LeveragedTokenFactory__factory.abi,
    ForwardDesk__factory.abi,
  ]) {
    for (const item of abi) {
      if (item.type !== "error") continue;
      const fragment = ErrorFragment.from(item);
      if (!bySelector.has(fragment.selector)) bySelector.set(fragment.selector, fragment);
    }
  }
  errorsInterface = new Interface([...bySelector.values()]);
  return errorsInterface;
}

/** Decodes revert data into the custom error it encodes, or null when no known contract has it. */
export function decodeCustomError(data: string): ErrorDescription | null {
  try {
    return allErrors().parseError(data);
  } catch {
    return null;
  }
}

/** The message for a token in `state` (a number from ILeveragedToken.State). */
export function stateMessage(symbol: string, state: number, delistingTime?: bigint): string {
  switch (state) {
    case STATE.Delisting: {
      const when = delistingTime ? ` (settlement from ${formatTime(delistingTime)})` : "";
      return `${symbol} is being delisted${when}: minting is closed, redeeming stays open`;
    }
    case STATE.Settled:
      return `${symbol} has been delisted and settled: minting is closed; redeem to receive its final NAV in USDT`;
    case STATE.Depleted:
      return depletedMessage(symbol);
    default:
      return `${symbol} is still active, so this is not possible yet`;
  }
}

export function depletedMessage(symbol: string): string {
  return `${symbol} is depleted: its equity reached zero, so it can no longer be minted or redeemed; it will be settled at zero`;
}

export function mintPausedMessage(symbol: string): string {
  return `minting ${symbol} is paused by its operator; redeeming stays open`;
}

export function insufficientUsdtMessage(balance: bigint, needed: bigint): string {
  return `insufficient USDT: the account holds ${formatUsdt(balance)} USDT, the mint needs ${formatUsdt(needed)} USDT`;
}

export function insufficientSharesMessage(
  symbol: string,
  balance: bigint,
  needed: bigint,
  verb: "redeem" | "sell" = "redeem",
): string {
  return `insufficient ${symbol}: the account holds ${formatShares(balance)} ${symbol}, fewer than the ${formatShares(needed)} ${symbol} to ${verb}`;
}

export function unreachableMessage(url: string, reason?: string): string {
  return `cannot reach the node at ${url}${reason ? ` (${reason})` : ""}; start one (npx hardhat node) or pass --rpc <url>`;
}

function unitOf(ctx: ErrorContext): { symbol: string; shares: (v: bigint) => string; assets: string } {
  const symbol = ctx.symbol ?? "the token";
  return { symbol, shares: (v) => `${formatShares(v)} ${ctx.symbol ?? "shares"}`, assets: "USDT" };
}

function marketName(value: unknown): string {
  try {
    return decodeBytes32String(String(value));
  } catch {
    return String(value);
  }
}

/** The sentence for a decoded custom error, or null when it has no special wording. */
export function customErrorMessage(error: ErrorDescription, ctx: ErrorContext): string | null {
  const { symbol, shares } = unitOf(ctx);
  const a = error.args;
  const big = (i: number): bigint => BigInt(a[i] as bigint);
  switch (error.name) {
    case "TokenDepleted":
      return depletedMessage(symbol);
    case "MintPaused":
      return mintPausedMessage(symbol);
    case "InvalidState":
      return stateMessage(symbol, Number(a[0]));
    case "SupplyCapExceeded":
      return `the mint would take ${symbol}'s supply to ${formatShares(big(0))}, above its cap of ${formatShares(big(1))}`;
    case "ExceedsBalance":
      return `cannot redeem ${shares(big(0))}: only ${shares(big(1))} are there to redeem`;
    case "DepositTooSmall":
      return `${formatUsdt(big(0))} USDT is too small to mint any ${symbol}`;
    case "ZeroAmount":
      return "the amount must be greater than zero";
    case "ZeroAddress":
      return "the address must not be the zero address";
    case "ExchangeMismatch":
      return `the exchange's result differed from ${symbol}'s quote, so nothing was done; try again`;
    case "RebalanceNotNeeded":
      return `${symbol} does not need a rebalance (leverage ${formatLeverage(big(0))})`;
    case "DelistingNotReached":
      return `${symbol} cannot be settled before its delisting time, ${formatTime(big(0))}`;
    case "AccessControlUnauthorizedAccount":
      return `the account ${String(a[0])} is not allowed to do this (it lacks the role it needs)`;
    case "ERC20InsufficientBalance":
      return ctx.action === "redeem"
        ? insufficientSharesMessage(symbol, big(1), big(2))
        : insufficientUsdtMessage(big(1), big(2));
    case "ERC20InsufficientAllowance":
      return ctx.action === "redeem"
        ? `insufficient allowance: ${shortAddress(String(a[0]))} may spend ${shares(big(1))} of the owner's, it needs ${shares(big(2))}`
        : `insufficient USDT allowance: ${symbol} may spend ${formatUsdt(big(1))} of your USDT, the mint needs ${formatUsdt(big(2))}; approve it first (run without --no-approve)`;
    case "StalePrice": {
      const market = marketName(a[0]);
      return `the ${market} price is stale: last updated ${formatTime(big(1))}, longer ago than its ${big(2).toString()} s heartbeat; wait for the price feed to update`;
    }
    case "InvalidPrice":
      return `the ${marketName(a[0])} price feed reports an invalid price (${String(a[1])})`;
    case "UnknownMarket":
      return `the exchange does not list the market ${marketName(a[0])}`;
    case "InsufficientLiquidity":
      return `the exchange's pool cannot pay ${formatUsdt(big(0))} USDT now (it holds ${formatUsdt(big(1))} USDT)`;
    case "BelowInitialMargin":
      return "the exchange rejected the trade: the position would fall below its initial margin";
    // the ForwardDesk's (forward pricing)
    case "UseTheDesk":
      return `${symbol} mints by amount of tokens never, and pays out by amount of USDT only once settled: request a mint of USDT or a redeem of tokens at its desk ${String(a[0])} (lt mint, lt redeem)`;
    case "OnlyDesk":
      return `${symbol} mints, and redeems at a live price, only through its desk ${String(a[1])}: lt mint and lt redeem place a request there`;
    case "RequestClosed": {
      const state = Number(a[0]);
      if (a[1] === true && state === STATE.Active)
        return `${mintPausedMessage(symbol)}, so its desk takes no mint request`;
      return `${symbol}'s desk takes no ${ctx.action === "redeem" ? "redeem" : "mint"} request now: ${stateMessage(symbol, state)}`;
    }
    case "RequestPending":
      return `your earlier ${ctx.action === "redeem" ? "redeem" : "mint"} request on ${symbol} (epoch ${big(0).toString()}) still waits for its fill; a new one can be placed once it is filled (lt requests ${symbol})`;
    case "NothingToFill":
      return `nothing to fill on ${symbol}: every waiting request was placed in the current price round (${formatTime(big(0))}) and fills at the next one`;
    case "FillNotLate":
      return `the fill is not late yet: only ${symbol}'s keeper fills before ${formatTime(big(0))}; anyone may from then, for the bounty`;
    case "NotCancellable":
      return big(0) === 0n
        ? `there is no request on ${symbol} to cancel`
        : "the request can no longer be cancelled: a newer price round exists; wait for the fill";
    case "NotOperator":
      return `the account ${String(a[1])} may not act for ${String(a[0])}: it is neither the request's controller nor an operator it approved`;
    case "AsyncFlow":
      return `${symbol}'s desk fills at the next price round, so it has no preview: the price is not known yet`;
    case "ExceedsClaimable":
      return `cannot claim ${String(a[0])} units: only ${String(a[1])} are claimable`;
    case "FillOutOfGas":
      return "the fill ran short of gas inside the token; send it again with a higher gas limit";
    case "PermitRejected":
      return `the USDT permit was not accepted (a wrong signature, a passed deadline or a used nonce) and the allowance of ${String(a[0])} to ${symbol}'s desk is ${String(a[1])} units, under the ${String(a[2])} requested: sign a new permit, or approve first`;
    default:
      return null;
  }
}

/** The sentence for raw revert data: a custom error, a require message or a panic. */
export function revertDataMessage(data: string, ctx: ErrorContext): string {
  const selector = data.slice(0, 10).toLowerCase();
  try {
    if (selector === ERROR_STRING) {
      const [reason] = AbiCoder.defaultAbiCoder().decode(["string"], "0x" + data.slice(10));
      return `the transaction would revert: ${String(reason)}`;
    }
    if (selector === PANIC) {
      const [code] = AbiCoder.defaultAbiCoder().decode(["uint256"], "0x" + data.slice(10));
      const n = Number(code);
      return `the contract failed: ${PANIC_REASONS[n] ?? `panic 0x${n.toString(16)}`}`;
    }
  } catch {
    // fall through to the custom errors
  }
  const decoded = decodeCustomError(data);
  if (decoded) {
    const args = decoded.args.map((x: unknown) => String(x)).join(", ");
    return customErrorMessage(decoded, ctx) ?? `the transaction would revert with ${decoded.name}(${args})`;
  }
  return `the transaction would revert with an error no known contract defines (${data.slice(0, 10)})`;
}

interface ErrorLike {
  code?: unknown;
  data?: unknown;
  error?: unknown;
  info?: { error?: unknown };
  cause?: unknown;
  message?: unknown;
  shortMessage?: unknown;
  receipt?: { hash?: unknown } | null;
}

function asErrorLike(e: unknown): ErrorLike | null {
  return typeof e === "object" && e !== null ? (e as ErrorLike) : null;
}

/** The revert data somewhere in an ethers error (the node may nest it), if any. */
export function findRevertData(e: unknown, depth = 0): string | null {
  const x = asErrorLike(e);
  if (!x || depth > 5) return null;
  if (typeof x.data === "string" && /^0x[0-9a-fA-F]{8}/.test(x.data)) return x.data;
  if (typeof x.data === "object" && x.data !== null) {
    const inner = findRevertData(x.data, depth + 1);
    if (inner) return inner;
  }
  for (const next of [x.error, x.info?.error, x.cause]) {
    const found = findRevertData(next, depth + 1);
    if (found) return found;
  }
  return null;
}

function isConnectionFailure(e: unknown, depth = 0): boolean {
  const x = asErrorLike(e);
  if (!x || depth > 5) return false;
  const code = String(x.code ?? "");
  if (["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "TIMEOUT"].includes(code))
    return true;
  if (/ECONNREFUSED|ECONNRESET|ENOTFOUND|fetch failed|socket hang up/i.test(String(x.message ?? "")))
    return true;
  return isConnectionFailure(x.cause, depth + 1) || isConnectionFailure(x.error, depth + 1);
}

/** Turns anything thrown into a CliError with one plain sentence. */
export function explainError(e: unknown, ctx: ErrorContext = {}): CliError {
  if (e instanceof CliError) return e;
  const data = findRevertData(e);
  if (data) return new CliError(revertDataMessage(data, ctx));
  const x = asErrorLike(e);
  const code = String(x?.code ?? "");
  if (isConnectionFailure(e) || code === "SERVER_ERROR" || code === "NETWORK_ERROR") {
    return new CliError(unreachableMessage(ctx.rpcUrl ?? "the configured URL"));
  }
  switch (code) {
    case "INSUFFICIENT_FUNDS":
      return new CliError("the account has too little ETH to pay for gas");
    case "NONCE_EXPIRED":
    case "REPLACEMENT_UNDERPRICED":
      return new CliError(
        "another transaction from this account got there first (nonce already used); try again",
      );
    case "ACTION_REJECTED":
      return new CliError("the signer rejected the transaction");
    case "UNKNOWN_ERROR": {
      const inner = asErrorLike(x?.error)?.message;
      if (typeof inner === "string") return new CliError(`the node refused the request: ${inner}`);
      break;
    }
    case "CALL_EXCEPTION": {
      const hash = x?.receipt?.hash;
      return new CliError(
        hash ? `the transaction ${String(hash)} reverted on chain` : "the call reverted without a reason",
      );
    }
  }
  const message = String(x?.shortMessage ?? x?.message ?? e);
  return new CliError(message.split("\n")[0] ?? message);
}
