// The ForwardDesk twin (src/engine/desk.ts) against contracts/ForwardDesk.sol: seeded random
// sequences of requests, price rounds, keeper and late fills, claims, cancels, refusals (paused
// minting, dust redemptions, a delisted and settled token) and operators, run on the in-process chain
// and on the engine; after every transaction both agree on the revert or the return value, the events
// of the desk, the token, the exchange and USDT, every desk view for every wallet, the balances and
// the token's supply and assets, to the unit. Then fixed sequences whose numbers are worked out from
// the formulas. DESK_SEED / DESK_SEQUENCES / DESK_STEPS for other or longer runs.
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { BaseContract, Interface, Log, Signature } from "ethers";
import { deploySystem, readDeployment, type System } from "../../src/chain/deploy.ts";
import { signPermit } from "../../src/chain/permit.ts";
import { MARKETS, tokenConfig, tokenParams } from "../../src/common/params.ts";
import { ForwardDesk as EngineDesk } from "../../src/engine/desk.ts";
import { key } from "../../src/engine/erc20.ts";
import { EngineRevert } from "../../src/engine/errors.ts";
import { ceilDiv } from "../../src/engine/math.ts";
import { EngineSystem, type SystemDeployment } from "../../src/engine/system.ts";
import { TokenState, type LeveragedToken as EngineToken } from "../../src/engine/token.ts";
import type { EngineEvent } from "../../src/engine/events.ts";
import type { Tx } from "../../src/engine/world.ts";
import type { ForwardDesk, LeveragedToken } from "../../types/ethers-contracts/index.js";
import { PRICE_IMPACT, decodeRevert, formatRevert, show } from "./lib/runner.ts";

Error.stackTraceLimit = 60;
const { ethers, networkHelpers } = await network.create();

const USDT = 10n ** 6n;
const MAX = 2n ** 256n - 1n;
const GAS = 8_000_000;
const BTC = MARKETS.BTC.id;
const HEARTBEAT = BigInt(MARKETS.BTC.heartbeat);
const PARAMS = tokenParams("BTC", 3n, true);
const FILL_DELAY = 3600n;
const FILL_BOUNTY = 5n * USDT;
const FUNDING = 1_000_000n * USDT;
/** The fourth wallet lets the desk take only this much of its USDT (ERC20InsufficientAllowance). */
const DAVE_ALLOWANCE = 200_000n * USDT;
const DAY = 86_400n;

const SEED = Number(process.env.DESK_SEED ?? 20261203);
const SEQUENCES = Number(process.env.DESK_SEQUENCES ?? 8);
const STEPS = Number(process.env.DESK_STEPS ?? 75);

interface DeskFixture {
  sys: System;
  admin: HardhatEthersSigner; // admin, pauser and keeper
  treasury: HardhatEthersSigner;
  stranger: HardhatEthersSigner; // no role: fills late for the bounty
  wallets: HardhatEthersSigner[]; // alice, bob, carol, dave
  token: LeveragedToken;
  desk: ForwardDesk;
  deployment: SystemDeployment;
}

/**
 * The exchange system (deploySystem, no factory tokens), then one BTC3L whose Config.desk is the
 * address the ForwardDesk gets: the deployer's next nonce after the token's.
 */
async function deskFixture(): Promise<DeskFixture> {
  const [admin, treasury, stranger, alice, bob, carol, dave] = await ethers.getSigners();
  if (!admin || !treasury || !stranger || !alice || !bob || !carol || !dave)
    throw new Error("need 7 signers");
  const roles = { treasury: treasury.address, admin: admin.address, keeper: admin.address };
  const sys = await deploySystem(ethers, { tokens: [], treasury: roles.treasury, keeper: roles.keeper });
  await (await sys.vault.setPriceImpact(BTC, PRICE_IMPACT)).wait();
  const nonce = await admin.getNonce();
  const deskAddress = ethers.getCreateAddress({ from: admin.address, nonce: nonce + 1 });

  const config = { ...tokenConfig(PARAMS, await sys.vault.getAddress(), roles), desk: deskAddress };
  const token = (await ethers.deployContract("LeveragedToken", [config])) as unknown as LeveragedToken;
  await token.waitForDeployment();
  const desk = (await ethers.deployContract("ForwardDesk", [
    await token.getAddress(),
    FILL_DELAY,
    FILL_BOUNTY,
  ])) as unknown as ForwardDesk;
  await desk.waitForDeployment();
  if (key(await desk.getAddress()) !== key(deskAddress))
    throw new Error("the desk is not where the token expects");
  sys.tokens[PARAMS.symbol] = token;
  const deployment = await readDeployment(sys, [PARAMS], roles);
  deployment.tokens[0]!.desk = deskAddress;
  const wallets = [alice, bob, carol, dave];
  for (const w of wallets) {
    await (await sys.usdt.mint(w.address, FUNDING)).wait();
    await (await sys.usdt.connect(w).approve(deskAddress, w === dave ? DAVE_ALLOWANCE : MAX)).wait();
    await (await token.connect(w).approve(deskAddress, MAX)).wait();
  }
  return { sys, admin, treasury, stranger, wallets, token, desk, deployment };
}

/** The engine's copy of the fixture: the same deployment, the desk, the same funding and approvals. */
function mirror(f: DeskFixture): { e: EngineSystem; token: EngineToken; desk: EngineDesk } {
  const e = new EngineSystem(f.deployment);
  e.vault.setPriceImpact(BTC, PRICE_IMPACT);
  const token = e.token(PARAMS.symbol);
  const desk = new EngineDesk(e.world, e.vault, token, {
    address: f.deployment.tokens[0]!.desk!,
    fillDelay: FILL_DELAY,
    fillBounty: FILL_BOUNTY,
  });
  for (const w of f.wallets) {
    e.world.usdt.mint(w.address, FUNDING);
    e.world.usdt.approve(w.address, desk.address, w === f.wallets[3] ? DAVE_ALLOWANCE : MAX);
    token.shares.approve(w.address, desk.address, MAX);
  }
  e.world.log.events.length = 0;
  return { e, token, desk };
}

/** One transaction: the contract method and its arguments, and the engine's twin of it. */
interface Call {
  label: string;
  from: HardhatEthersSigner;
  contract: BaseContract;
  method: string;
  args: unknown[];
  engine: (tx: Tx) => unknown;
  /** Block time (default: the last one + dt, dt default 1). */
  time?: bigint;
  dt?: bigint;
  /** Whether the method returns a value to compare (false for the void admin and feed calls). */
  returns?: boolean;
}

/** What a call did, the same on both sides: the engine's return value or revert, and its events. */
interface Result {
  ok: boolean;
  value: unknown;
  error: string;
  events: EngineEvent[];
}

class Mismatch extends Error {}

/** Runs calls on the chain and on the engine in lockstep and compares everything after each. */
class Harness {
  e!: EngineSystem;
  token!: EngineToken;
  desk!: EngineDesk;
  time = 0n;
  /** Labels and outcomes of the current sequence, for the failure message. */
  trace: string[] = [];
  readonly tally = new Map<string, number>();
  txs = 0;
  private readonly interfaces: Interface[];
  private readonly emitters: Map<string, Interface>;
  private readonly accounts: string[];
  private readonly operators: string[];

  constructor(readonly f: DeskFixture) {
    this.interfaces = [f.desk.interface, f.token.interface, f.sys.vault.interface, f.sys.usdt.interface];
    this.emitters = new Map<string, Interface>([
      [key(f.deployment.tokens[0]!.desk!), f.desk.interface],
      [key(f.deployment.tokens[0]!.address), f.token.interface],
      [key(f.deployment.vault), f.sys.vault.interface],
      [key(f.deployment.usdt), f.sys.usdt.interface],
    ]);
    this.operators = [...f.wallets, f.stranger].map((s) => key(s.address));
    this.accounts = [
      key(f.deployment.tokens[0]!.desk!),
      ...this.operators,
      key(f.admin.address),
      key(f.treasury.address),
    ];
  }

  /** Starts from the fixture (call after loadFixture restored it). */
  async reset(): Promise<void> {
    ({ e: this.e, token: this.token, desk: this.desk } = mirror(this.f));
    this.time = BigInt(await networkHelpers.time.latest());
    this.trace = [];
    await this.compareState("the fixture");
  }

  async exec(a: Call): Promise<Result> {
    const time = a.time ?? this.time + (a.dt ?? 1n);
    await networkHelpers.time.setNextBlockTimestamp(time);
    this.time = time;
    this.txs++;
    const fn = a.contract.connect(a.from).getFunction(a.method);
    // the return value: the same call on the pending block (same state, same timestamp)
    let chain: string;
    try {
      chain = `ok ${show(await fn.staticCall(...a.args, { blockTag: "pending" }))}`;
    } catch (err) {
      chain = decodeRevert(err, this.interfaces);
    }
    let logs: readonly Log[] = [];
    let sent: string;
    try {
      const receipt = await (await fn.send(...a.args, { gasLimit: GAS })).wait();
      logs = receipt?.logs ?? [];
      sent = chain.startsWith("ok ") ? chain : "ok (sent)";
    } catch (err) {
      sent = decodeRevert(err, this.interfaces);
    }
    if (sent !== chain) throw new Mismatch(`${a.label}: the call said ${chain}, the transaction ${sent}`);
    const mark = this.e.world.log.events.length;
    const result: Result = { ok: true, value: undefined, error: "", events: [] };
    let engine: string;
    try {
      result.value = a.engine({ from: a.from.address, time });
      engine = `ok ${show(result.value)}`;
    } catch (err) {
      if (!(err instanceof EngineRevert)) throw err;
      result.ok = false;
      result.error = formatRevert(err.errorName, err.args);
      engine = result.error;
    }
    const where = `${a.label} at ${time}`;
    const outcome = (s: string) => (a.returns === false && s.startsWith("ok ") ? "ok" : s);
    this.trace.push(`${where} -> ${outcome(chain)}`);
    if (outcome(chain) !== outcome(engine)) {
      throw new Mismatch(`${where}: chain ${outcome(chain)}, engine ${outcome(engine)}`);
    }
    const tally = `${a.label.split(" ")[0]} -> ${chain.startsWith("ok ") ? "ok" : chain.split("(")[0]}`;
    this.tally.set(tally, (this.tally.get(tally) ?? 0) + 1);
    result.events = this.e.world.log.since(mark).filter((ev) => this.emitters.has(ev.address));
    const ce = this.chainEvents(logs).join("\n");
    const ee = result.events
      .map((ev) => `${ev.address.slice(0, 8)} ${formatRevert(ev.name, ev.args)}`)
      .join("\n");
    if (ce !== ee) throw new Mismatch(`${where}: events differ\nchain:\n${ce}\nengine:\n${ee}`);
    await this.compareState(where);
    return result;
  }

  /** Like exec, and the call must succeed: its return value. */
  async ok(a: Call): Promise<Result> {
    const r = await this.exec(a);
    if (!r.ok) throw new Error(`${a.label} reverted ${r.error}`);
    return r;
  }

  private chainEvents(logs: readonly Log[]): string[] {
    const out: string[] = [];
    for (const log of logs) {
      const address = key(log.address);
      const iface = this.emitters.get(address);
      if (iface === undefined) continue; // the feeds' rounds are not modelled
      const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed === null) throw new Error(`unparsed log ${log.topics[0]} from ${address}`);
      out.push(`${address.slice(0, 8)} ${formatRevert(parsed.name, [...parsed.args] as unknown[])}`);
    }
    return out;
  }

  private async compareState(where: string): Promise<void> {
    const [chain, engine] = [await this.readChain(), this.readEngine()];
    const diffs: string[] = [];
    for (const [k, v] of Object.entries(chain)) {
      if (engine[k] !== v) diffs.push(`${k}: chain ${v}, engine ${engine[k]}`);
    }
    if (diffs.length > 0) throw new Mismatch(`after ${where}:\n  ${diffs.join("\n  ")}`);
  }

  private async readChain(): Promise<Record<string, string>> {
    const { desk, token, sys } = this.f;
    const reads: [string, Promise<unknown>][] = [
      ["fillNeeded", desk.fillNeeded()],
      ["epochs", desk.epochs()],
      ["currentRound", desk.currentRound()],
      ["totalSupply", token.totalSupply()],
      ["totalAssets", token.totalAssets()],
      ["deskTotalAssets", desk.totalAssets()],
      ["convertToShares", desk.convertToShares(1_000n * USDT)],
      ["convertToAssets", desk.convertToAssets(10n ** 21n)],
      ["status", token.status()],
    ];
    for (const w of this.operators.slice(0, 4)) {
      const p = `${w.slice(0, 8)}.`;
      reads.push([p + "pendingDeposit", desk.pendingDepositRequest(0n, w)]);
      reads.push([p + "claimableDeposit", desk.claimableDepositRequest(0n, w)]);
      reads.push([p + "pendingRedeem", desk.pendingRedeemRequest(0n, w)]);
      reads.push([p + "claimableRedeem", desk.claimableRedeemRequest(0n, w)]);
      reads.push([p + "maxDeposit", desk.maxDeposit(w)]);
      reads.push([p + "maxMint", desk.maxMint(w)]);
      reads.push([p + "maxRedeem", desk.maxRedeem(w)]);
      reads.push([p + "maxWithdraw", desk.maxWithdraw(w)]);
      reads.push([p + "refundable", desk.refundable(w)]);
      for (const o of this.operators) reads.push([`${p}isOperator.${o.slice(0, 8)}`, desk.isOperator(w, o)]);
    }
    for (const a of this.accounts) {
      reads.push([`usdt.${a.slice(0, 8)}`, sys.usdt.balanceOf(a)]);
      reads.push([`shares.${a.slice(0, 8)}`, token.balanceOf(a)]);
    }
    const values = await Promise.all(reads.map(([, r]) => r));
    return Object.fromEntries(reads.map(([k], i) => [k, show(values[i])]));
  }

  private readEngine(): Record<string, string> {
    const { desk, token, e } = this;
    const out: Record<string, string> = {};
    const s = token.st.status;
    const need = desk.fillNeeded();
    const epochs = desk.epochs();
    out.fillNeeded = show([need.needed, need.lateAt]);
    out.epochs = show([epochs.open, epochs.next]);
    out.currentRound = show(desk.currentRound());
    out.totalSupply = show(token.totalSupply());
    out.totalAssets = show(token.totalAssets(this.time));
    out.deskTotalAssets = show(desk.totalAssets(this.time));
    out.convertToShares = show(desk.convertToShares(1_000n * USDT, this.time));
    out.convertToAssets = show(desk.convertToAssets(10n ** 21n, this.time));
    out.status = show([
      s.lastFeeAccrual,
      s.lastRebalance,
      BigInt(s.state),
      s.mintPaused,
      s.supplyCapped,
      s.pendingFeeShares,
      s.managementFee,
      token.st.limits.mintFee / 10n ** 12n,
      token.st.limits.redeemFee / 10n ** 12n,
    ]);
    for (const w of this.operators.slice(0, 4)) {
      const p = `${w.slice(0, 8)}.`;
      const r = desk.refundable(w);
      out[p + "pendingDeposit"] = show(desk.pendingDepositRequest(w));
      out[p + "claimableDeposit"] = show(desk.claimableDepositRequest(w));
      out[p + "pendingRedeem"] = show(desk.pendingRedeemRequest(w));
      out[p + "claimableRedeem"] = show(desk.claimableRedeemRequest(w));
      out[p + "maxDeposit"] = show(desk.maxDeposit(w));
      out[p + "maxMint"] = show(desk.maxMint(w));
      out[p + "maxRedeem"] = show(desk.maxRedeem(w));
      out[p + "maxWithdraw"] = show(desk.maxWithdraw(w));
      out[p + "refundable"] = show([r.assets, r.shares]);
      for (const o of this.operators) out[`${p}isOperator.${o.slice(0, 8)}`] = show(desk.isOperator(w, o));
    }
    for (const a of this.accounts) {
      out[`usdt.${a.slice(0, 8)}`] = show(e.usdtBalance(a));
      out[`shares.${a.slice(0, 8)}`] = show(token.balanceOf(a));
    }
    return out;
  }

  /* CALLS (each the chain method and its engine twin) */

  price(answer: bigint, at?: bigint): Call {
    return {
      label: `price ${answer}`,
      from: this.f.admin,
      contract: this.f.sys.feeds.BTC,
      method: "updateAnswer",
      args: [answer],
      engine: (tx) => this.e.feed("BTC").updateAnswer(tx, answer),
      time: at,
      returns: false,
    };
  }

  /** The BTC answer moved by `bps` basis points from the last one. */
  moved(bps: bigint): bigint {
    const next = (this.e.feed("BTC").st.answer * (10_000n + bps)) / 10_000n;
    return next < 1n ? 1n : next;
  }

  requestDeposit(by: HardhatEthersSigner, assets: bigint, controller: string, owner: string): Call {
    return {
      label: `requestDeposit ${assets}`,
      from: by,
      contract: this.f.desk,
      method: "requestDeposit",
      args: [assets, controller, owner],
      engine: (tx) => this.desk.requestDeposit(tx, assets, controller, owner),
    };
  }

  /** `by`'s EIP-2612 signature of `value` USDT to the desk until `deadline` (its next nonce). */
  async permit(by: HardhatEthersSigner, value: bigint, deadline: bigint): Promise<Signature> {
    return signPermit(by, this.f.sys.usdt, await this.f.desk.getAddress(), value, deadline);
  }

  /** requestDepositWithPermit; `permitValid`: whether USDT's permit will go through (the twin's input). */
  requestDepositWithPermit(
    by: HardhatEthersSigner,
    assets: bigint,
    controller: string,
    deadline: bigint,
    sig: Signature,
    permitValid: boolean,
  ): Call {
    return {
      label: `requestDepositWithPermit ${assets}`,
      from: by,
      contract: this.f.desk,
      method: "requestDepositWithPermit",
      args: [assets, controller, deadline, sig.v, sig.r, sig.s],
      engine: (tx) => this.desk.requestDepositWithPermit(tx, assets, controller, permitValid),
    };
  }

  requestRedeem(by: HardhatEthersSigner, shares: bigint, controller: string, owner: string): Call {
    return {
      label: `requestRedeem ${shares}`,
      from: by,
      contract: this.f.desk,
      method: "requestRedeem",
      args: [shares, controller, owner],
      engine: (tx) => this.desk.requestRedeem(tx, shares, controller, owner),
    };
  }

  fill(by: HardhatEthersSigner): Call {
    return {
      label: `fill`,
      from: by,
      contract: this.f.desk,
      method: "fill",
      args: [],
      engine: (tx) => this.desk.fill(tx),
    };
  }

  cancel(by: HardhatEthersSigner, controller: string, isDeposit: boolean): Call {
    const method = isDeposit ? "cancelDepositRequest" : "cancelRedeemRequest";
    return {
      label: method,
      from: by,
      contract: this.f.desk,
      method,
      args: [controller],
      engine: (tx) =>
        isDeposit
          ? this.desk.cancelDepositRequest(tx, controller)
          : this.desk.cancelRedeemRequest(tx, controller),
    };
  }

  /** deposit / mint (deposit side) or redeem / withdraw (redeem side); `controller` undefined: the
   * two-argument ERC-4626 overload (deposit and mint only), whose controller is the caller. */
  claim(
    kind: "deposit" | "mint" | "redeem" | "withdraw",
    by: HardhatEthersSigner,
    amount: bigint,
    receiver: string,
    controller?: string,
  ): Call {
    const c = controller ?? by.address;
    const twoArgs = controller === undefined;
    const method = `${kind}(uint256,address${twoArgs ? "" : ",address"})`;
    const engine = (tx: Tx): bigint => {
      switch (kind) {
        case "deposit":
          return this.desk.deposit(tx, amount, receiver, c);
        case "mint":
          return this.desk.mint(tx, amount, receiver, c);
        case "redeem":
          return this.desk.redeem(tx, amount, receiver, c);
        case "withdraw":
          return this.desk.withdraw(tx, amount, receiver, c);
      }
    };
    return {
      label: `${kind} ${amount}`,
      from: by,
      contract: this.f.desk,
      method,
      args: twoArgs ? [amount, receiver] : [amount, receiver, c],
      engine,
    };
  }

  setOperator(by: HardhatEthersSigner, operator: string, approved: boolean): Call {
    return {
      label: `setOperator ${approved}`,
      from: by,
      contract: this.f.desk,
      method: "setOperator",
      args: [operator, approved],
      engine: (tx) => this.desk.setOperator(tx, operator, approved),
    };
  }

  pause(paused: boolean): Call {
    return {
      label: `setMintPaused ${paused}`,
      from: this.f.admin,
      contract: this.f.token,
      method: "setMintPaused",
      args: [paused],
      engine: (tx) => this.token.setMintPaused(tx, paused),
      returns: false,
    };
  }

  /** The token's own ERC-4626 mint and redeem, called by a wallet (not through the desk). */
  direct(kind: "deposit" | "mint" | "redeem" | "withdraw", by: HardhatEthersSigner, amount: bigint): Call {
    const w = by.address;
    const deposits = kind === "deposit" || kind === "mint";
    return {
      label: `token.${kind} ${amount}`,
      from: by,
      contract: this.f.token,
      method: deposits ? `${kind}(uint256,address)` : `${kind}(uint256,address,address)`,
      args: deposits ? [amount, w] : [amount, w, w],
      engine: (tx) => {
        switch (kind) {
          case "deposit":
            return this.token.deposit(tx, amount, w);
          case "mint":
            return this.token.mint();
          case "redeem":
            return this.token.redeem(tx, amount, w, w);
          case "withdraw":
            return this.token.withdraw(tx, amount, w, w);
        }
      },
    };
  }

  tokenCall(method: "rebalance" | "settle" | "scheduleDelisting", args: bigint[] = []): Call {
    return {
      label: method,
      from: this.f.admin,
      contract: this.f.token,
      method,
      args,
      engine: (tx) => {
        if (method === "rebalance") this.token.rebalance(tx);
        else if (method === "settle") this.token.settle(tx);
        else this.token.scheduleDelisting(tx, args[0]!);
      },
      returns: false,
    };
  }
}

/* RANDOM SEQUENCES */

/** mulberry32: a small seeded generator, so a sequence replays from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Steps {
  private count = 0;

  constructor(
    private readonly h: Harness,
    private readonly r: () => number,
    private readonly allowDelisting: boolean,
  ) {}

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }

  private big(lo: number, hi: number): bigint {
    return BigInt(this.int(lo, hi));
  }

  /** m x 10^e: amounts over many orders of magnitude. */
  private logAmount(maxExp: number): bigint {
    return this.big(1, 9999) * 10n ** this.big(0, maxExp);
  }

  /** Mostly `amount` itself, else the whole, one unit, one past it, zero. */
  private part(whole: bigint): bigint {
    const x = this.r();
    if (x < 0.35) return whole;
    if (x < 0.75) {
      const p = (whole * this.big(1, 9999)) / 10_000n;
      return p === 0n ? whole : p;
    }
    if (x < 0.82) return 1n;
    if (x < 0.9) return whole + 1n;
    if (x < 0.95) return 0n;
    return this.logAmount(18);
  }

  /** The account itself, else one of its operators, else anyone (NotOperator, mostly). */
  private callerFor(account: HardhatEthersSigner): HardhatEthersSigner {
    const everyone = [...this.h.f.wallets, this.h.f.stranger];
    const x = this.r();
    if (x < 0.6) return account;
    if (x < 0.88) {
      const ops = everyone.filter((o) => this.h.desk.isOperator(account.address, o.address));
      return ops.length > 0 ? this.pick(ops) : account;
    }
    return this.pick(everyone);
  }

  private wallet(): HardhatEthersSigner {
    return this.pick(this.h.f.wallets);
  }

  /** Mostly a wallet for which `has` holds (when one does), else any. */
  private walletWith(has: (address: string) => boolean): HardhatEthersSigner {
    const some = this.h.f.wallets.filter((w) => has(w.address));
    return some.length > 0 && this.r() < 0.85 ? this.pick(some) : this.wallet();
  }

  next(): Call[] {
    this.count++;
    const h = this.h;
    const f = h.f;
    const delisting = h.token.state() === TokenState.Delisting;
    const kinds: [string, number][] = [
      ["requestDeposit", 18],
      ["requestRedeem", 14],
      ["price", 10],
      ["keeperFill", 4],
      ["roundAndFill", 8],
      ["earlyFill", 2],
      ["lateFill", 4],
      ["claim", 24],
      ["cancel", 7],
      ["pause", 2],
      ["setOperator", 4],
      ["rebalance", 1],
      ["tokenDirect", 3],
      ["staleFill", 1],
      ["delist", this.allowDelisting && this.count > 40 && h.token.state() === TokenState.Active ? 2 : 0],
      ["settle", delisting ? 3 : 0],
    ];
    const total = kinds.reduce((s, [, w]) => s + w, 0);
    let x = this.r() * total;
    let kind = kinds[0]![0];
    for (const [k, w] of kinds) {
      if (x < w) {
        kind = k;
        break;
      }
      x -= w;
    }
    const dt = this.r() < 0.9 ? this.big(1, 90) : this.big(91, 900);
    const first = (c: Call): Call[] => [{ ...c, dt }];
    switch (kind) {
      case "requestDeposit": {
        // a wallet whose last deposit was refused places its next one sometimes (the refund path)
        const refunded = (w: string) => h.desk.refundable(w).assets !== 0n;
        const again = this.r() < 0.5;
        const owner = again ? this.walletWith(refunded) : this.wallet();
        // a refunded wallet asks again itself; otherwise the owner's own request, the caller's (its
        // operator's), or a third account's (which must consent)
        const by = again ? owner : this.callerFor(owner);
        const c = this.r();
        const controller = again || c < 0.8 ? owner : c < 0.9 ? by : this.wallet();
        const y = this.r();
        const balance = h.e.usdtBalance(owner.address);
        const assets =
          y < 0.75
            ? this.big(1, 9999) * 10n ** this.big(4, 7)
            : y < 0.85
              ? this.big(1, 999)
              : y < 0.92
                ? balance + 1n
                : y < 0.96
                  ? 0n
                  : this.big(1, 9) * 10n ** 11n;
        return first(h.requestDeposit(by, assets, controller.address, owner.address));
      }
      case "requestRedeem": {
        const owner = this.walletWith(
          (w) => h.token.balanceOf(w) !== 0n || h.desk.refundable(w).shares !== 0n,
        );
        const by = this.callerFor(owner);
        const c = this.r();
        const controller = c < 0.8 ? owner : c < 0.9 ? by : this.wallet();
        const balance = h.token.balanceOf(owner.address);
        const y = this.r();
        const shares =
          y < 0.75
            ? (balance * this.big(1, 10_000)) / 10_000n
            : y < 0.87
              ? this.big(1, 999_999)
              : y < 0.94
                ? balance + 1n
                : 0n;
        return first(h.requestRedeem(by, shares, controller.address, owner.address));
      }
      case "price":
        return first(h.price(h.moved(this.big(-300, 300))));
      case "keeperFill":
        return first(h.fill(f.admin));
      case "roundAndFill":
        // what the keeper does: a new price round, then the fill
        return [
          { ...h.price(h.moved(this.big(-300, 300))), dt },
          { ...h.fill(f.admin), dt: this.big(1, 30) },
        ];
      case "earlyFill":
        return first(h.fill(this.r() < 0.5 ? f.stranger : this.wallet()));
      case "lateFill": {
        const filler = this.r() < 0.6 ? f.stranger : this.wallet();
        const { needed, lateAt } = h.desk.fillNeeded();
        if (!needed || lateAt <= h.time) return first(h.fill(filler));
        // a fresh price at (or after) the late time, then the fill
        const at = lateAt + (this.r() < 0.3 ? 0n : this.big(1, 600));
        return [h.price(h.moved(this.big(-200, 200)), at), h.fill(filler)];
      }
      case "staleFill": {
        const at = h.e.vault.market(BTC).updatedAt + HEARTBEAT + this.big(0, 2);
        return [{ ...h.fill(f.admin), time: at > h.time ? at : h.time + 1n }];
      }
      case "claim": {
        // mostly a (controller, side) with something to claim, when there is one
        const claims = h.f.wallets.flatMap((w) => [
          ...(h.desk.maxDeposit(w.address) !== 0n ? [{ w, deposits: true }] : []),
          ...(h.desk.maxRedeem(w.address) !== 0n ? [{ w, deposits: false }] : []),
        ]);
        const { w: controller, deposits } =
          claims.length > 0 && this.r() < 0.85
            ? this.pick(claims)
            : { w: this.wallet(), deposits: this.r() < 0.5 };
        const by = this.callerFor(controller);
        const receiver = this.r() < 0.7 ? by.address : this.wallet().address;
        const byGot = this.r() < 0.5;
        const c = controller.address;
        const whole = deposits
          ? byGot
            ? h.desk.maxMint(c)
            : h.desk.maxDeposit(c)
          : byGot
            ? h.desk.maxWithdraw(c)
            : h.desk.maxRedeem(c);
        const amount = this.part(whole);
        const claim = deposits ? (byGot ? "mint" : "deposit") : byGot ? "withdraw" : "redeem";
        const twoArgs = deposits && by === controller && this.r() < 0.25;
        return first(h.claim(claim, by, amount, receiver, twoArgs ? undefined : c));
      }
      case "cancel": {
        const isDeposit = this.r() < 0.5;
        const controller = this.walletWith((w) => {
          const open = isDeposit ? h.desk.pendingDepositRequest(w) : h.desk.pendingRedeemRequest(w);
          const r = h.desk.refundable(w);
          return open !== 0n || (isDeposit ? r.assets : r.shares) !== 0n;
        });
        return first(h.cancel(this.callerFor(controller), controller.address, isDeposit));
      }
      case "pause":
        return first(h.pause(h.token.st.status.mintPaused ? this.r() < 0.25 : this.r() < 0.8));
      case "setOperator": {
        const everyone = [...f.wallets, f.stranger];
        return first(h.setOperator(this.wallet(), this.pick(everyone).address, this.r() < 0.7));
      }
      case "rebalance":
        return first(h.tokenCall("rebalance"));
      case "tokenDirect": {
        // the token's own mint and redeem: only the desk (OnlyDesk), but anyone once it is settled; mint
        // by shares never, withdraw by USDT only once settled (UseTheDesk)
        const w = this.walletWith((a) => h.token.balanceOf(a) !== 0n);
        const kinds = ["deposit", "mint", "redeem", "withdraw"] as const;
        const direct = this.pick(kinds);
        const amount =
          direct === "redeem"
            ? this.part(h.token.balanceOf(w.address))
            : direct === "mint"
              ? this.big(1, 9999) * 10n ** 16n
              : this.big(0, 9999) * USDT;
        return first(h.direct(direct, w, amount));
      }
      case "delist":
        return first(h.tokenCall("scheduleDelisting", [h.time + dt + 3n * DAY]));
      default: {
        // settle: a fresh price at the delisting time, then settle
        const due = h.token.delistingTime();
        const at = due > h.time ? due : h.time + 1n;
        return [h.price(h.moved(this.big(-100, 100)), at), h.tokenCall("settle")];
      }
    }
  }
}

/** What the random sequences must have reached at least once (with the default seed; a|b: either). */
const MUST_SEE = [
  "requestDeposit -> ok",
  "requestDeposit -> RequestPending|requestRedeem -> RequestPending",
  "requestDeposit -> NotOperator",
  "requestDeposit -> RequestClosed",
  "requestRedeem -> ok",
  "token.deposit -> OnlyDesk|token.redeem -> OnlyDesk",
  "token.mint -> UseTheDesk|token.withdraw -> UseTheDesk",
  "fill -> ok",
  "fill -> NothingToFill",
  "fill -> FillNotLate",
  "fill -> StalePrice",
  "deposit -> ok",
  "mint -> ok",
  "redeem -> ok",
  "withdraw -> ok",
  "deposit -> ExceedsClaimable",
  "cancelDepositRequest -> ok",
  "cancelRedeemRequest -> ok",
  "cancelDepositRequest -> NotCancellable",
  "filled: deposits refused",
  "filled: redemptions refused",
  "filled: a late fill's bounty",
  "filled: epochs of several rounds in one batch",
  "netted: the deposits the larger side",
  "netted: the redemptions the larger side",
  "joined: a due rebalance in a fill's trade",
  "returned: a refused order on a new request",
];

describe("ForwardDesk: engine twin vs chain (differential)", function () {
  this.timeout(0);

  let h!: Harness;

  async function fresh(): Promise<Harness> {
    const f = await networkHelpers.loadFixture(deskFixture);
    if (h === undefined) h = new Harness(f);
    await h.reset();
    return h;
  }

  /** Notes what a fill or a request did that the sequences must reach. */
  function noteFill(events: readonly EngineEvent[]): void {
    const seen = (k: string) => h.tally.set(k, (h.tally.get(k) ?? 0) + 1);
    let cancelled = false;
    let requested = false;
    let netted = false;
    for (const ev of events) {
      if (ev.name === "Filled") {
        const [batch, firstEpoch, , , , , , depositRefused, redeemRefused, , bounty] = ev.args;
        if (depositRefused === true) seen("filled: deposits refused");
        if (redeemRefused === true) seen("filled: redemptions refused");
        if (typeof bounty === "bigint" && bounty > 0n) seen("filled: a late fill's bounty");
        if (typeof batch === "bigint" && typeof firstEpoch === "bigint" && batch > firstEpoch) {
          seen("filled: epochs of several rounds in one batch");
        }
      }
      if (ev.name === "Netted") netted = true;
      if (ev.name === "TradesJoined") seen("joined: a due rebalance in a fill's trade");
      if (ev.name === "Filled" && netted) {
        const [, , , assetsIn, , , assetsOut] = ev.args;
        const [, paid] = events.find((n) => n.name === "Netted")!.args;
        // the matched USDT is all the deposits (less a bounty) when the redemptions are larger
        seen(
          typeof assetsOut === "bigint" && assetsOut > (paid as bigint)
            ? "netted: the redemptions the larger side"
            : typeof assetsIn === "bigint" && assetsIn > (paid as bigint)
              ? "netted: the deposits the larger side"
              : "netted: the sides matched exactly",
        );
      }
      if (ev.name === "DepositRequestCancelled" || ev.name === "RedeemRequestCancelled") cancelled = true;
      if (ev.name === "DepositRequest" || ev.name === "RedeemRequest") requested = true;
    }
    if (cancelled && requested) seen("returned: a refused order on a new request");
  }

  it(`agrees to the unit after every transaction of ${SEQUENCES} seeded sequences of ${STEPS} steps`, async function () {
    const started = Date.now();
    for (let s = 0; s < SEQUENCES; s++) {
      await fresh();
      const steps = new Steps(h, rng(SEED + s), s % 3 === 2);
      try {
        for (let i = 0; i < STEPS; i++) {
          for (const call of steps.next()) noteFill((await h.exec(call)).events);
        }
      } catch (err) {
        if (!(err instanceof Mismatch)) throw err;
        const last = h.trace.slice(-12).join("\n        ");
        expect.fail(`sequence ${s} (DESK_SEED=${SEED}): ${err.message}\n      last calls:\n        ${last}`);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `      ${SEQUENCES} sequences, ${SEQUENCES * STEPS} steps, ${h.txs} transactions in ${seconds.toFixed(1)} s (seed ${SEED})`,
    );
    if (process.env.DESK_VERBOSE !== undefined) {
      for (const [k, n] of [...h.tally].sort()) console.log(`        ${k}: ${n}`);
    }
    if (process.env.DESK_SEED === undefined) {
      const missing = MUST_SEE.filter((k) => !k.split("|").some((alt) => h.tally.has(alt)));
      expect(missing, "outcomes the sequences never reached").to.deep.equal([]);
    }
  });

  /* HAND-WORKED CASES (each also compared with the engine after every call) */

  it("fills a late keeper's two-epoch batch (rounds r1 and r2, filled at r3) at one NAV", async function () {
    await fresh();
    const [alice, bob] = h.f.wallets as [HardhatEthersSigner, HardhatEthersSigner];
    await h.ok({ ...h.price(h.moved(0n)), dt: 10n });
    const r1 = h.time;
    await h.ok(h.requestDeposit(alice, 10_000n * USDT, alice.address, alice.address));
    await h.ok({ ...h.price(h.moved(100n)), dt: 60n });
    const r2 = h.time;
    await h.ok(h.requestDeposit(bob, 30_000n * USDT, bob.address, bob.address));
    expect(h.desk.epoch(1n).round).to.equal(r1);
    expect(h.desk.epoch(2n).round).to.equal(r2);
    expect(h.desk.epochs()).to.deep.equal({ open: 2n, next: 1n });
    expect(h.desk.fillNeeded()).to.deep.equal({ needed: true, lateAt: r1 + 1n + FILL_DELAY });
    await h.ok({ ...h.price(h.moved(-50n)), dt: 60n });
    const r3 = h.time;
    // the batch gets what the token's own mint of all 40,000 USDT pays at r3, checked on chain too
    const at = h.time + 30n;
    await networkHelpers.time.setNextBlockTimestamp(at);
    const sharesOut = h.token.previewDeposit(40_000n * USDT, at);
    expect(await h.f.token.previewDeposit(40_000n * USDT, { blockTag: "pending" })).to.equal(sharesOut);
    const fill = await h.ok({ ...h.fill(h.f.admin), time: at });
    expect(fill.value).to.equal(2n);
    const filled = fill.events.find((ev) => ev.name === "Filled");
    expect(filled?.args).to.deep.equal([
      2n,
      1n,
      r3,
      40_000n * USDT,
      sharesOut,
      0n,
      0n,
      false,
      false,
      key(h.f.admin.address),
      0n,
    ]);
    expect(h.desk.epoch(1n).filledBy).to.equal(2n);
    expect(h.desk.epoch(2n).filledBy).to.equal(2n);
    expect(h.desk.epochs()).to.deep.equal({ open: 2n, next: 3n });
    // pro rata, rounded down: a quarter and three quarters
    const aliceShares = (10_000n * sharesOut) / 40_000n;
    const bobShares = (30_000n * sharesOut) / 40_000n;
    expect(h.desk.maxMint(alice.address)).to.equal(aliceShares);
    expect(h.desk.maxMint(bob.address)).to.equal(bobShares);
    expect(h.desk.claimableDepositRequest(alice.address)).to.equal(10_000n * USDT);
    expect(h.desk.claimableDepositRequest(bob.address)).to.equal(30_000n * USDT);
    expect(h.desk.pendingDepositRequest(alice.address)).to.equal(0n);
    expect(sharesOut - aliceShares - bobShares).to.be.lessThanOrEqual(1n);
    const a = await h.ok(h.claim("deposit", alice, 10_000n * USDT, alice.address, alice.address));
    const b = await h.ok(h.claim("deposit", bob, 30_000n * USDT, bob.address));
    expect([a.value, b.value]).to.deep.equal([aliceShares, bobShares]);
    expect(h.token.balanceOf(h.desk.address)).to.equal(sharesOut - aliceShares - bobShares);
    // ERC-7575: the asset, the share; previews revert AsyncFlow on both sides
    expect(key(await h.f.desk.asset())).to.equal(h.desk.asset());
    expect(key(await h.f.desk.share())).to.equal(h.desk.share());
    for (const preview of ["previewDeposit", "previewMint", "previewRedeem", "previewWithdraw"] as const) {
      const chain = await h.f.desk[preview](1n).then(
        () => "ok",
        (err: unknown) => decodeRevert(err, [h.f.desk.interface]),
      );
      expect(chain).to.equal("AsyncFlow()");
      expect(() => h.desk[preview](1n)).to.throw(EngineRevert, "AsyncFlow");
    }
  });

  it("refuses a batch's deposits (minting paused) and fills its redemptions", async function () {
    await fresh();
    const [alice, bob, carol] = h.f.wallets as [
      HardhatEthersSigner,
      HardhatEthersSigner,
      HardhatEthersSigner,
    ];
    await h.ok(h.requestDeposit(alice, 20_000n * USDT, alice.address, alice.address));
    await h.ok({ ...h.price(h.moved(0n)), dt: 60n });
    await h.ok(h.fill(h.f.admin));
    const shares = h.desk.maxMint(alice.address);
    await h.ok(h.claim("mint", alice, shares, alice.address, alice.address));
    expect(h.token.balanceOf(alice.address)).to.equal(shares);

    await h.ok(h.requestRedeem(alice, shares / 2n, alice.address, alice.address));
    await h.ok(h.requestDeposit(bob, 5_000n * USDT, bob.address, bob.address));
    await h.ok(h.requestDeposit(carol, 1_000n * USDT, carol.address, carol.address));
    const epoch = h.desk.epochs().open;
    await h.ok(h.pause(true));
    const closed = await h.exec(h.requestDeposit(bob, 1n, bob.address, bob.address));
    expect(closed.error).to.equal("RequestClosed(0,true)");
    await h.ok({ ...h.price(h.moved(150n)), dt: 60n });
    const round = h.time;
    const at = h.time + 5n;
    await networkHelpers.time.setNextBlockTimestamp(at);
    const assetsOut = h.token.previewRedeem(shares / 2n, at);
    expect(await h.f.token.previewRedeem(shares / 2n, { blockTag: "pending" })).to.equal(assetsOut);
    const fill = await h.ok({ ...h.fill(h.f.admin), time: at });
    expect(fill.events.find((ev) => ev.name === "Filled")?.args).to.deep.equal([
      epoch,
      epoch,
      round,
      6_000n * USDT,
      0n,
      shares / 2n,
      assetsOut,
      true,
      false,
      key(h.f.admin.address),
      0n,
    ]);
    expect(h.desk.refundable(bob.address)).to.deep.equal({ assets: 5_000n * USDT, shares: 0n });
    expect(h.desk.claimableDepositRequest(bob.address)).to.equal(0n);
    expect(h.desk.pendingDepositRequest(bob.address)).to.equal(0n);
    expect(h.desk.maxWithdraw(alice.address)).to.equal(assetsOut);
    expect(h.desk.claimableRedeemRequest(alice.address)).to.equal(shares / 2n);
    // bob cancels the refused deposit: all of it back
    const cancel = await h.ok(h.cancel(bob, bob.address, true));
    expect(cancel.value).to.equal(5_000n * USDT);
    expect(cancel.events[0]).to.deep.equal({
      address: h.desk.address,
      name: "DepositRequestCancelled",
      args: [key(bob.address), epoch, 5_000n * USDT],
    });
    expect(h.e.usdtBalance(bob.address)).to.equal(FUNDING);
    // carol's comes back by itself with her next request
    await h.ok(h.pause(false));
    const again = await h.ok(h.requestDeposit(carol, 2_000n * USDT, carol.address, carol.address));
    expect(again.events.map((ev) => ev.name)).to.include("DepositRequestCancelled");
    expect(h.desk.pendingDepositRequest(carol.address)).to.equal(2_000n * USDT);
    expect(h.e.usdtBalance(carol.address)).to.equal(FUNDING - 2_000n * USDT);
    // alice claims her redemption
    const paid = await h.ok(h.claim("redeem", alice, shares / 2n, alice.address, alice.address));
    expect(paid.value).to.equal(assetsOut);
  });

  it("claims part by mint (USDT rounded up) and part by withdraw (shares rounded up)", async function () {
    await fresh();
    const [alice] = h.f.wallets as [HardhatEthersSigner];
    const given = 10_000n * USDT;
    await h.ok(h.requestDeposit(alice, given, alice.address, alice.address));
    await h.ok({ ...h.price(h.moved(-80n)), dt: 60n });
    await h.ok(h.fill(h.f.admin));
    const S = h.desk.maxMint(alice.address);
    // a third of the shares, nudged until the pro-rata USDT is not whole
    let s1 = S / 3n;
    while ((s1 * given) % S === 0n) s1 += 1n;
    const m = await h.ok(h.claim("mint", alice, s1, alice.address, alice.address));
    expect(m.value).to.equal(ceilDiv(s1 * given, S));
    expect(m.value).to.equal((s1 * given) / S + 1n);
    const a1 = m.value as bigint;
    expect(h.desk.maxMint(alice.address)).to.equal(S - s1);
    expect(h.desk.maxDeposit(alice.address)).to.equal(given - a1);
    // the rest by deposit: all of the claim's USDT takes all of its shares
    const d = await h.ok(h.claim("deposit", alice, given - a1, alice.address, alice.address));
    expect(d.value).to.equal(S - s1);
    expect(h.token.balanceOf(alice.address)).to.equal(S);

    await h.ok(h.requestRedeem(alice, S, alice.address, alice.address));
    await h.ok({ ...h.price(h.moved(120n)), dt: 60n });
    await h.ok(h.fill(h.f.admin));
    const U = h.desk.maxWithdraw(alice.address);
    expect(h.desk.maxRedeem(alice.address)).to.equal(S);
    let w1 = U / 3n;
    while ((w1 * S) % U === 0n) w1 += 1n;
    const w = await h.ok(h.claim("withdraw", alice, w1, alice.address, alice.address));
    expect(w.value).to.equal(ceilDiv(w1 * S, U));
    expect(w.value).to.equal((w1 * S) / U + 1n);
    const sh1 = w.value as bigint;
    expect(h.desk.maxWithdraw(alice.address)).to.equal(U - w1);
    expect(h.desk.maxRedeem(alice.address)).to.equal(S - sh1);
    const r = await h.ok(h.claim("redeem", alice, S - sh1, alice.address, alice.address));
    expect(r.value).to.equal(U - w1);
    expect(h.e.usdtBalance(alice.address)).to.equal(FUNDING - given + U);
    expect(h.desk.maxWithdraw(alice.address)).to.equal(0n);
    // nothing left: a claim of one unit more is refused
    const over = await h.exec(h.claim("withdraw", alice, 1n, alice.address, alice.address));
    expect(over.error).to.equal("ExceedsClaimable(1,0)");
  });

  it("pays a late fill's bounty from the deposits, else from the redemptions", async function () {
    await fresh();
    const [alice] = h.f.wallets as [HardhatEthersSigner];
    const stranger = h.f.stranger;
    await h.ok(h.requestDeposit(alice, 100n * USDT, alice.address, alice.address));
    const lateAt = h.time + FILL_DELAY;
    await h.ok({ ...h.price(h.moved(0n)), dt: 60n });
    const early = await h.exec(h.fill(stranger));
    expect(early.error).to.equal(`FillNotLate(${lateAt})`);
    await h.ok(h.price(h.moved(0n), lateAt));
    const at = lateAt + 1n;
    await networkHelpers.time.setNextBlockTimestamp(at);
    const sharesOut = h.token.previewDeposit(99n * USDT, at); // 1% of 100 USDT went to the filler
    const fill = await h.ok({ ...h.fill(stranger), time: at });
    const args = fill.events.find((ev) => ev.name === "Filled")?.args;
    expect([args?.[3], args?.[4], args?.[10]]).to.deep.equal([100n * USDT, sharesOut, 1n * USDT]);
    expect(h.e.usdtBalance(stranger.address)).to.equal(1n * USDT);
    await h.ok(h.claim("deposit", alice, 100n * USDT, alice.address));
    // a batch of redemptions only pays it: min(5 USDT, 1% of what the token paid)
    await h.ok(h.requestRedeem(alice, sharesOut, alice.address, alice.address));
    const lateAt2 = h.time + FILL_DELAY;
    await h.ok(h.price(h.moved(30n), lateAt2));
    const at2 = lateAt2 + 1n;
    await networkHelpers.time.setNextBlockTimestamp(at2);
    const paid = h.token.previewRedeem(sharesOut, at2);
    const bounty = paid / 100n < FILL_BOUNTY ? paid / 100n : FILL_BOUNTY;
    const fill2 = await h.ok({ ...h.fill(stranger), time: at2 });
    const args2 = fill2.events.find((ev) => ev.name === "Filled")?.args;
    expect([args2?.[6], args2?.[10]]).to.deep.equal([paid - bounty, bounty]);
    expect(h.desk.maxWithdraw(alice.address)).to.equal(paid - bounty);
    expect(h.e.usdtBalance(stranger.address)).to.equal(1n * USDT + bounty);
  });

  it("places a deposit request with a permit in one transaction, takes a permit someone sent first, rejects one that sets no allowance", async function () {
    await fresh();
    const [alice] = h.f.wallets as [HardhatEthersSigner];
    const stranger = h.f.stranger;
    const deadline = h.time + 3_600n;
    const good = await h.permit(alice, 1_000n * USDT, deadline);
    const placed = await h.ok(
      h.requestDepositWithPermit(alice, 1_000n * USDT, alice.address, deadline, good, true),
    );
    expect(placed.events.map((ev) => ev.name)).to.deep.equal(["Approval", "DepositRequest", "Transfer"]);
    expect(h.desk.pendingDepositRequest(alice.address)).to.equal(1_000n * USDT);
    // the permit set the allowance to the request's size, and the request spent it
    expect(await h.f.sys.usdt.allowance(alice.address, await h.f.desk.getAddress())).to.equal(0n);
    // reused: the permit's nonce is spent and nothing is left to spend
    const reused = await h.exec(
      h.requestDepositWithPermit(alice, 1_000n * USDT, alice.address, deadline, good, false),
    );
    expect(reused.error).to.equal(`PermitRejected(${key(alice.address)},0,${1_000n * USDT})`);
    // copied from the mempool and sent first by someone else: the allowance is there, the request goes on
    const next = await h.permit(alice, 500n * USDT, deadline);
    await h.ok({
      label: "usdt.permit by a stranger",
      from: stranger,
      contract: h.f.sys.usdt,
      method: "permit",
      args: [alice.address, await h.f.desk.getAddress(), 500n * USDT, deadline, next.v, next.r, next.s],
      returns: false,
      engine: () => h.e.world.usdt.approve(alice.address, h.desk.address, 500n * USDT),
    });
    await h.ok(h.requestDepositWithPermit(alice, 500n * USDT, alice.address, deadline, next, false));
    expect(h.desk.pendingDepositRequest(alice.address)).to.equal(1_500n * USDT);
  });
});
