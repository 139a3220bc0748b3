// `lt admin delist|pause|resume|fees|treasury|cap|keeper|settle`: the operator's settings of one token.
// Each checks the role and the contract's rule before sending and says in one sentence why it would
// fail; what it sent comes back as the transaction and the new setting.
import { isAddress, type Signer } from "ethers";
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import { blockTimestamp, rawRpcOf } from "../chain/tokenBook.ts";
import { parseDuration } from "../common/duration.ts";
import { delistingProblem, type FeeArgs, feesProblem, MIN_DELISTING_NOTICE, newFees } from "./adminRules.ts";
import { requireRole, ROLES, sendTx } from "./adminSend.ts";
import { REASON_DEPLETED } from "./trueNav.ts";
import { type Context, resolveSymbol, signerOf, tokenOf } from "./context.ts";
import { CliError, STATE, STATE_NAMES } from "./errors.ts";
import {
  decimalString,
  formatPercent,
  formatShares,
  formatTime,
  formatUsdt,
  lines,
  parseAmount,
  SHARE_DECIMALS,
  USDT_DECIMALS,
  WAD_DECIMALS,
  type Json,
  type Report,
} from "./format.ts";

const NO_CAP = 2n ** 128n - 1n;

interface AdminTarget {
  symbol: string;
  token: LeveragedToken;
  signer: Signer;
  account: string;
}

async function target(ctx: Context, input: string): Promise<AdminTarget> {
  const symbol = resolveSymbol(ctx.book, input);
  const signer = await signerOf(ctx);
  return { symbol, token: tokenOf(ctx, symbol, signer), signer, account: await signer.getAddress() };
}

function sent(
  data: { [key: string]: Json },
  rows: [string, string][],
  receipt: { hash: string; blockNumber: number },
): Report {
  return {
    data: { ...data, tx: receipt.hash, block: receipt.blockNumber },
    text: lines([...rows, ["tx", `${receipt.hash} (block ${receipt.blockNumber})`]]),
  };
}

function nothingToDo(data: { [key: string]: Json }, sentence: string): Report {
  return { data: { ...data, tx: null }, text: `${sentence}; nothing was sent` };
}

function stateName(state: bigint | number): string {
  return STATE_NAMES[Number(state)] ?? `state ${state}`;
}

/** A time given as unix seconds or an ISO date ("2026-12-10T00:00:00Z"). */
export function parseTime(text: string): number {
  const clean = text.trim();
  if (/^\d+$/.test(clean)) return Number(clean);
  const ms = Date.parse(clean);
  if (Number.isNaN(ms)) {
    throw new CliError(`"${text}" is not a time: write unix seconds or a date like 2026-12-10T00:00:00Z`);
  }
  return Math.floor(ms / 1000);
}

export interface DelistOptions {
  at?: string;
  in?: string;
}

export async function delistCommand(ctx: Context, input: string, opts: DelistOptions): Promise<Report> {
  const t = await target(ctx, input);
  const now = Number(await blockTimestamp(rawRpcOf(ctx.provider), "pending"));
  let time: number;
  try {
    time =
      opts.at !== undefined
        ? parseTime(opts.at)
        : now + (opts.in !== undefined ? parseDuration(opts.in) : MIN_DELISTING_NOTICE + 3600);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  await requireRole(t.token, "DEFAULT_ADMIN_ROLE", t.account, `delist ${t.symbol}`, t.symbol);
  const state = await t.token.state();
  if (Number(state) !== STATE.Active) {
    throw new CliError(`${t.symbol} is ${stateName(state)}, and only an active token can be delisted`);
  }
  const problem = delistingProblem(time, now);
  if (problem) throw new CliError(problem);
  const receipt = await sendTx(t.token.scheduleDelisting, BigInt(time));
  return sent(
    { action: "delist", symbol: t.symbol, delistingTime: time },
    [
      [
        "delisting",
        `${t.symbol} settles from ${formatTime(time)}; minting is closed now, redeeming stays open`,
      ],
      [
        "next",
        `at that time anyone may settle it (lt admin settle ${t.symbol}); the keeper then pays the holders`,
      ],
    ],
    receipt,
  );
}

export async function pauseCommand(ctx: Context, input: string, paused: boolean): Promise<Report> {
  const t = await target(ctx, input);
  const verb = paused ? "pause" : "resume";
  await requireRole(t.token, "PAUSER_ROLE", t.account, `${verb} minting ${t.symbol}`, t.symbol);
  const status = await t.token.status();
  const data = { action: verb, symbol: t.symbol, mintPaused: paused };
  if (status.mintPaused === paused) {
    return nothingToDo(data, `minting ${t.symbol} is already ${paused ? "paused" : "open"}`);
  }
  const receipt = await sendTx(t.token.setMintPaused, paused);
  return sent(
    data,
    [["minting", `${t.symbol}: ${paused ? "paused (redeeming stays open)" : "open again"}`]],
    receipt,
  );
}

export async function feesCommand(ctx: Context, input: string, args: FeeArgs): Promise<Report> {
  const t = await target(ctx, input);
  if (Object.values(args).every((v) => v === undefined)) {
    throw new CliError(
      "say which fee to set: --mint, --redeem, --management (percent a year) or --bounty (USDT)",
    );
  }
  const current = await t.token.fees();
  const fees = newFees(current, args);
  const problem = feesProblem(fees);
  if (problem) throw new CliError(problem);
  await requireRole(t.token, "DEFAULT_ADMIN_ROLE", t.account, `set ${t.symbol}'s fees`, t.symbol);
  const receipt = await sendTx(
    t.token.setFees,
    fees.mintFee,
    fees.redeemFee,
    fees.managementFee,
    fees.rebalanceBounty,
  );
  return sent(
    {
      action: "fees",
      symbol: t.symbol,
      fees: {
        mint: decimalString(fees.mintFee, WAD_DECIMALS),
        redeem: decimalString(fees.redeemFee, WAD_DECIMALS),
        managementPerYear: decimalString(fees.managementFee, WAD_DECIMALS),
        rebalanceBountyUsdt: decimalString(fees.rebalanceBounty, USDT_DECIMALS),
      },
    },
    [
      [
        "fees",
        `${t.symbol}: mint ${formatPercent(fees.mintFee)}, redeem ${formatPercent(fees.redeemFee)}, management ${formatPercent(fees.managementFee)}/year, ripcord bounty ${formatUsdt(fees.rebalanceBounty)} USDT`,
      ],
    ],
    receipt,
  );
}

function checkAddress(text: string): string {
  if (!isAddress(text)) throw new CliError(`"${text}" is not an address (0x and 40 hex digits)`);
  if (/^0x0{40}$/i.test(text)) throw new CliError("the address must not be the zero address");
  return text;
}

export async function treasuryCommand(ctx: Context, input: string, address: string): Promise<Report> {
  const t = await target(ctx, input);
  const treasury = checkAddress(address);
  await requireRole(t.token, "DEFAULT_ADMIN_ROLE", t.account, `set ${t.symbol}'s treasury`, t.symbol);
  const receipt = await sendTx(t.token.setTreasury, treasury);
  return sent(
    { action: "treasury", symbol: t.symbol, treasury },
    [["treasury", `${t.symbol}'s fees now go to ${treasury} (the fees due so far went to the old one)`]],
    receipt,
  );
}

export async function capCommand(ctx: Context, input: string, amount: string): Promise<Report> {
  const t = await target(ctx, input);
  const cap = amount.trim().toLowerCase() === "none" ? NO_CAP : parseAmount(amount, SHARE_DECIMALS, t.symbol);
  if (cap > NO_CAP) throw new CliError(`the supply cap must be at most ${formatShares(NO_CAP)}`);
  await requireRole(t.token, "DEFAULT_ADMIN_ROLE", t.account, `set ${t.symbol}'s supply cap`, t.symbol);
  const supply = await t.token.totalSupply();
  const receipt = await sendTx(t.token.setSupplyCap, cap);
  const rows: [string, string][] = [
    ["supply cap", cap === NO_CAP ? `${t.symbol}: none` : `${t.symbol}: ${formatShares(cap)}`],
  ];
  if (cap < supply) {
    rows.push([
      "note",
      `the supply is already ${formatShares(supply)}: no mint is possible until it falls below the cap`,
    ]);
  }
  return sent(
    {
      action: "cap",
      symbol: t.symbol,
      supplyCap: cap === NO_CAP ? null : decimalString(cap, SHARE_DECIMALS),
      supply: decimalString(supply, SHARE_DECIMALS),
    },
    rows,
    receipt,
  );
}

/** Grants or revokes KEEPER_ROLE on one token or on every token ("all"). */
export async function keeperRoleCommand(
  ctx: Context,
  action: string,
  input: string,
  address: string,
): Promise<Report> {
  const verb = action.trim().toLowerCase();
  if (verb !== "grant" && verb !== "revoke") throw new CliError(`"${action}" is not grant or revoke`);
  const keeper = checkAddress(address);
  const symbols =
    input.trim().toLowerCase() === "all" ? Object.keys(ctx.book.tokens) : [resolveSymbol(ctx.book, input)];
  const signer = await signerOf(ctx);
  const account = await signer.getAddress();
  const tokens = symbols.map((s) => [s, tokenOf(ctx, s, signer)] as const);
  for (const [symbol, token] of tokens) {
    await requireRole(token, "DEFAULT_ADMIN_ROLE", account, `${verb} ${symbol}'s keeper role`, symbol);
  }
  const results: { symbol: string; tx: string | null }[] = [];
  for (const [symbol, token] of tokens) {
    const has = await token.hasRole(ROLES.KEEPER_ROLE, keeper);
    if (has === (verb === "grant")) {
      results.push({ symbol, tx: null });
      continue;
    }
    const receipt =
      verb === "grant"
        ? await sendTx(token.grantRole, ROLES.KEEPER_ROLE, keeper)
        : await sendTx(token.revokeRole, ROLES.KEEPER_ROLE, keeper);
    results.push({ symbol, tx: receipt.hash });
  }
  const done = verb === "grant" ? "granted" : "revoked";
  return {
    data: { action: `keeper-${verb}`, account: keeper, tokens: results },
    text: lines(
      results.map((r) => [
        r.symbol,
        r.tx === null
          ? `${keeper} ${verb === "grant" ? "already holds" : "does not hold"} KEEPER_ROLE; nothing was sent`
          : `KEEPER_ROLE ${done} to ${keeper} (tx ${r.tx})`,
      ]),
    ),
  };
}

export async function settleCommand(ctx: Context, input: string): Promise<Report> {
  const t = await target(ctx, input);
  const [state, delistingTime, now] = await Promise.all([
    t.token.state(),
    t.token.delistingTime(),
    blockTimestamp(rawRpcOf(ctx.provider), "pending"),
  ]);
  const s = Number(state);
  if (s === STATE.Active) {
    const [, reason] = await t.token.rebalanceNeeded();
    throw new CliError(
      reason === REASON_DEPLETED
        ? `${t.symbol}'s equity is gone but the contract does not know it yet: a rebalance() marks it depleted (the keeper sends it), then it settles at zero`
        : `${t.symbol} is active: schedule its delisting first (lt admin delist ${t.symbol})`,
    );
  }
  if (s === STATE.Settled) throw new CliError(`${t.symbol} is already settled`);
  if (s === STATE.Delisting && now < delistingTime) {
    throw new CliError(
      `${t.symbol} cannot be settled before its delisting time, ${formatTime(delistingTime)}`,
    );
  }
  const receipt = await sendTx(t.token.settle);
  const [assets, supply] = await Promise.all([t.token.settledAssets(), t.token.settledSupply()]);
  const perToken = supply === 0n ? 0n : (assets * 10n ** 18n) / supply;
  return sent(
    {
      action: "settle",
      symbol: t.symbol,
      settledUsdt: decimalString(assets, USDT_DECIMALS),
      settledSupply: decimalString(supply, SHARE_DECIMALS),
      usdtPerToken: decimalString(perToken, USDT_DECIMALS),
    },
    [
      [
        "settled",
        `${t.symbol}: ${formatUsdt(assets)} USDT for ${formatShares(supply)} tokens (${formatUsdt(perToken)} USDT per token)`,
      ],
      ["next", `holders redeem at that price, or the keeper pays them (settleHolders)`],
    ],
    receipt,
  );
}
