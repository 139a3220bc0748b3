// Runs a sequence of steps on the in-process chain and on the exact engine, one block per
// transaction at a timestamp the runner chooses, and compares after every transaction: whether it
// reverted (and with which error), the token events it emitted, and every balance, supply, NAV,
// position, pool and funding number both sides can see.
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import type { ContractTransactionResponse, Interface, Log } from "ethers";
import { deploySystem, readDeployment, type System } from "../../../src/chain/deploy.ts";
import { MARKETS, tokenParams, type TokenParams } from "../../../src/common/params.ts";
import { key } from "../../../src/engine/erc20.ts";
import { EngineRevert } from "../../../src/engine/errors.ts";
import { DEAD, TokenState, type LeveragedToken as EngineToken } from "../../../src/engine/token.ts";
import { InstantDesk as EngineInstantDesk } from "../../../src/engine/instantDesk.ts";
import { EngineSystem, type SystemDeployment } from "../../../src/engine/system.ts";
import type { Tx } from "../../../src/engine/world.ts";
import type { InstantDesk, LeveragedToken } from "../../../types/ethers-contracts/index.js";
import type { Step } from "./steps.ts";

const USDT = 10n ** 6n;
const MAX = 2n ** 256n - 1n;
const GAS = 5_000_000;
export const PRICE_IMPACT = 10n ** 15n; // 0.1% per 1,000,000 USDT of notional: exercises the impact rounding
const BTC = MARKETS.BTC.id;
/** The previews compared after every step (before settlement both revert UseTheDesk). */
const PREVIEW_SHARES = 123n * 10n ** 18n;
const PREVIEW_ASSETS = 45n * USDT;

export const DIFF_TOKENS: TokenParams[] = [tokenParams("BTC", 3n, true), tokenParams("BTC", 3n, false)];

export interface Fixture {
  sys: System;
  admin: HardhatEthersSigner;
  /** alice, bob, carol, treasury, admin (the keeper). */
  callers: HardhatEthersSigner[];
  tokens: LeveragedToken[];
  /** Each token's InstantDesk: deposits and redeems pass through it at the stored price. */
  desks: InstantDesk[];
  deployment: SystemDeployment;
  funding: bigint;
}

/** Deploys BTC3L and BTC3S with a separate treasury, funds and approves the actors. */
export async function deployFixture(ethers: HardhatEthers): Promise<Fixture> {
  const [admin, alice, bob, carol, treasury] = await ethers.getSigners();
  if (!admin || !alice || !bob || !carol || !treasury) throw new Error("need five signers");
  const sys = await deploySystem(ethers, {
    tokens: DIFF_TOKENS,
    treasury: treasury.address,
    keeper: admin.address,
    desk: "instant",
  });
  await (await sys.vault.setPriceImpact(BTC, PRICE_IMPACT)).wait();
  const tokens = DIFF_TOKENS.map((p) => sys.tokens[p.symbol]!);
  const desks = DIFF_TOKENS.map((p) => sys.instantDesks[p.symbol]!);
  const funding = 10_000_000n * USDT;
  for (const a of [alice, bob, carol, treasury]) {
    await (await sys.usdt.mint(a.address, funding)).wait();
    for (const [i, t] of tokens.entries()) {
      await (await sys.usdt.connect(a).approve(await desks[i]!.getAddress(), MAX)).wait();
      await (await t.connect(a).approve(await desks[i]!.getAddress(), MAX)).wait();
    }
    await (await sys.usdt.connect(a).approve(await sys.vault.getAddress(), MAX)).wait(); // as an LP
  }
  const deployment = await readDeployment(sys, DIFF_TOKENS, {
    admin: admin.address,
    treasury: treasury.address,
    keeper: admin.address,
  });
  return { sys, admin, callers: [alice, bob, carol, treasury, admin], tokens, desks, deployment, funding };
}

/** The engine's mirror of the fixture: same deployment, same funding and approvals. */
export function mirrorFixture(f: Fixture): EngineSystem {
  const e = new EngineSystem(f.deployment);
  e.vault.setPriceImpact(BTC, PRICE_IMPACT);
  for (const a of f.callers.slice(0, 4)) {
    e.world.usdt.mint(a.address, f.funding);
    for (const t of f.deployment.tokens) {
      e.world.usdt.approve(a.address, t.desk, MAX);
      e.token(t.params.symbol).shares.approve(a.address, t.desk, MAX);
    }
    e.world.usdt.approve(a.address, e.vault.address, MAX);
  }
  e.world.log.events.length = 0;
  return e;
}

export class Mismatch extends Error {
  constructor(
    readonly stepIndex: number,
    message: string,
  ) {
    super(`step ${stepIndex}: ${message}`);
  }
}

type Outcome = { ok: true } | { ok: false; error: string };

interface Action {
  label: string;
  chain: () => Promise<ContractTransactionResponse>;
  engine: (tx: Tx) => unknown;
  from: string;
  /** Block timestamp for this transaction (defaults to the previous one + 1). */
  time?: bigint;
}

export class DifferentialRunner {
  private e!: EngineSystem;
  private engineDesks: EngineInstantDesk[] = [];
  private time = 0n;
  private lastFull = true;
  private readonly interfaces: Interface[];
  private readonly tokenAddresses: string[];
  private readonly watched: string[];
  private readonly usdtWatched: string[];
  private readonly emitters: Map<string, Interface>;
  readonly stats = { txs: 0, reverts: 0, steps: 0 };
  /** How often each transaction kind succeeded or failed with each error. */
  readonly outcomes = new Map<string, number>();
  /** Outcomes of the current sequence (to find an example of a rare one). */
  readonly seen = new Set<string>();
  /** Print every transaction and its outcome (for replays). */
  trace = false;

  constructor(
    private readonly f: Fixture,
    private readonly networkHelpers: NetworkHelpers,
    private readonly ethers: HardhatEthers,
  ) {
    this.interfaces = [
      f.tokens[0]!.interface,
      f.desks[0]!.interface,
      f.sys.vault.interface,
      f.sys.usdt.interface,
      f.sys.feeds.BTC.interface,
    ];
    this.tokenAddresses = f.deployment.tokens.map((t) => key(t.address));
    this.emitters = new Map<string, Interface>([
      ...this.tokenAddresses.map((a): [string, Interface] => [a, f.tokens[0]!.interface]),
      [key(f.deployment.vault), f.sys.vault.interface],
      [key(f.deployment.usdt), f.sys.usdt.interface],
    ]);
    this.watched = [...f.callers.slice(0, 4).map((c) => key(c.address)), DEAD];
    this.usdtWatched = [
      ...f.callers.map((c) => key(c.address)),
      key(f.deployment.vault),
      ...this.tokenAddresses,
    ];
  }

  /** Starts a sequence from the fixture's state (call after loadFixture restored it). */
  async reset(): Promise<void> {
    this.e = mirrorFixture(this.f);
    this.engineDesks = DIFF_TOKENS.map((p) => new EngineInstantDesk(this.e.world, this.e.token(p.symbol)));
    this.e.world.log.events.length = 0;
    this.time = BigInt(await this.networkHelpers.time.latest());
    await this.compare(-1, "fixture");
  }

  async run(steps: readonly Step[]): Promise<void> {
    this.seen.clear();
    await this.reset();
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const actions = this.actions(step);
      for (let k = 0; k < actions.length; k++) {
        const a = actions[k]!;
        const time = a.time ?? this.time + (k === 0 ? BigInt(Math.max(1, step.dt)) : 1n);
        await this.execute(i, a, time);
      }
      this.stats.steps++;
    }
    if (!this.lastFull) await this.compare(steps.length - 1, "the last step", true);
  }

  private tok(i: number): {
    chain: LeveragedToken;
    engine: EngineToken;
    chainDesk: InstantDesk;
    engineDesk: EngineInstantDesk;
  } {
    return {
      chain: this.f.tokens[i]!,
      engine: this.e.token(DIFF_TOKENS[i]!.symbol),
      chainDesk: this.f.desks[i]!,
      engineDesk: this.engineDesks[i]!,
    };
  }

  private caller(i: number): HardhatEthersSigner {
    return this.f.callers[i]!;
  }

  /** The transactions a step sends (amounts resolved from the engine's state before the step). */
  private actions(s: Step): Action[] {
    switch (s.kind) {
      case "deposit": {
        const a = this.caller(s.actor);
        const { chainDesk, engineDesk } = this.tok(s.token);
        return [
          {
            label: `deposit ${s.assets}`,
            from: a.address,
            chain: () => chainDesk.connect(a).deposit(s.assets, a.address, { gasLimit: GAS }),
            engine: (tx) => engineDesk.deposit(tx, s.assets, a.address),
          },
        ];
      }
      case "mint": {
        const a = this.caller(s.actor);
        const { chain, engine } = this.tok(s.token);
        return [
          {
            label: `mint ${s.shares}`,
            from: a.address,
            // never at a live price: both revert UseTheDesk
            chain: () => chain.connect(a).mint.send(s.shares, a.address, { gasLimit: GAS }),
            engine: () => engine.mint(),
          },
        ];
      }
      case "redeem": {
        const a = this.caller(s.actor);
        const o = this.caller(s.owner).address;
        const { engine, chainDesk, engineDesk } = this.tok(s.token);
        const balance = engine.balanceOf(o);
        const shares = s.bps < 0 ? s.raw : (balance * BigInt(s.bps)) / 10_000n;
        return [
          {
            label: `redeem ${shares}`,
            from: a.address,
            chain: () => chainDesk.connect(a).redeem(shares, a.address, o, { gasLimit: GAS }),
            engine: (tx) => engineDesk.redeem(tx, shares, a.address, o),
          },
        ];
      }
      case "withdraw": {
        const a = this.caller(s.actor);
        const o = this.caller(s.owner).address;
        const { chain, engine } = this.tok(s.token);
        let assets = s.raw;
        if (s.bps >= 0) {
          try {
            assets = (engine.convertToAssets(engine.balanceOf(o), this.time) * BigInt(s.bps)) / 10_000n;
          } catch {
            assets = s.raw;
          }
        }
        return [
          {
            label: `withdraw ${assets}`,
            from: a.address,
            // settled only; before, both revert UseTheDesk
            chain: () => chain.connect(a).withdraw(assets, a.address, o, { gasLimit: GAS }),
            engine: (tx) => engine.withdraw(tx, assets, a.address, o),
          },
        ];
      }
      case "transfer": {
        const a = this.caller(s.actor);
        const to = this.caller(s.to);
        const { chain, engine } = this.tok(s.token);
        const balance = engine.balanceOf(a.address);
        const value = s.bps < 0 ? balance + 1n : (balance * BigInt(s.bps)) / 10_000n;
        return [
          {
            label: `transfer ${value}`,
            from: a.address,
            chain: () => chain.connect(a).transfer(to.address, value, { gasLimit: GAS }),
            engine: (tx) => engine.transfer(tx, to.address, value),
          },
        ];
      }
      case "price": {
        const feed = this.e.feed("BTC");
        const current = feed.st.answer;
        let next = (current * BigInt(10_000 + s.moveBps)) / 10_000n;
        if (next < 1n) next = 1n;
        return [this.priceAction(next)];
      }
      case "time": {
        const { chain, engine } = this.tok(s.token);
        return [
          {
            label: "accrueManagementFee",
            from: this.f.admin.address,
            chain: () => chain.connect(this.f.admin).accrueManagementFee({ gasLimit: GAS }),
            engine: (tx) => engine.accrueManagementFee(tx),
          },
        ];
      }
      case "funding":
        return [
          {
            label: `setFundingRate ${s.rate}`,
            from: this.f.admin.address,
            chain: () =>
              this.f.sys.vault.connect(this.f.admin).setFundingRate(BTC, s.rate, { gasLimit: GAS }),
            engine: (tx) => this.e.world.atomic(() => this.e.vault.setFundingRate(tx, BTC, s.rate)),
          },
        ];
      case "rebalance": {
        const a = this.caller(s.actor);
        const { chain, engine } = this.tok(s.token);
        return [
          {
            label: "rebalance",
            from: a.address,
            chain: () => chain.connect(a).rebalance({ gasLimit: GAS }),
            engine: (tx) => engine.rebalance(tx),
          },
        ];
      }
      case "delist": {
        const { chain, engine } = this.tok(s.token);
        const time = this.time + BigInt(Math.max(1, s.dt));
        const when = time + BigInt(s.notice);
        return [
          {
            label: `scheduleDelisting ${when}`,
            from: this.f.admin.address,
            time,
            chain: () => chain.connect(this.f.admin).scheduleDelisting(when, { gasLimit: GAS }),
            engine: (tx) => engine.scheduleDelisting(tx, when),
          },
        ];
      }
      case "settle": {
        const a = this.caller(s.actor);
        const { chain, engine } = this.tok(s.token);
        const settle: Action = {
          label: "settle",
          from: a.address,
          chain: () => chain.connect(a).settle({ gasLimit: GAS }),
          engine: (tx) => engine.settle(tx),
        };
        const due = engine.st.admin.delistingTime;
        const early = this.time + BigInt(Math.max(1, s.dt)) < due;
        if (engine.state() === TokenState.Delisting && early && s.actor % 2 === 0) {
          // jump to the delisting time with a fresh price (the same answer), then settle
          return [{ ...this.priceAction(this.e.feed("BTC").st.answer), time: due }, settle];
        }
        return [settle];
      }
      case "settleHolders": {
        const a = this.caller(s.actor);
        const { chain, engine } = this.tok(s.token);
        const holders = [...this.f.callers.map((c) => c.address), DEAD];
        return [
          {
            label: "settleHolders",
            from: a.address,
            chain: () => chain.connect(a).settleHolders(holders, { gasLimit: GAS }),
            engine: (tx) => engine.settleHolders(tx, holders),
          },
        ];
      }
      case "pause": {
        const { chain, engine } = this.tok(s.token);
        return [
          {
            label: `setMintPaused ${s.paused}`,
            from: this.f.admin.address,
            chain: () => chain.connect(this.f.admin).setMintPaused(s.paused, { gasLimit: GAS }),
            engine: (tx) => engine.setMintPaused(tx, s.paused),
          },
        ];
      }
      case "approve": {
        const a = this.caller(s.actor);
        const spender = this.caller(s.spender).address;
        const { chain, engine } = this.tok(s.token);
        return [
          {
            label: `approve ${s.amount}`,
            from: a.address,
            chain: () => chain.connect(a).approve(spender, s.amount, { gasLimit: GAS }),
            engine: (tx) => engine.approve(tx, spender, s.amount),
          },
        ];
      }
      case "fees": {
        const a = this.caller(s.actor);
        const { chain, engine } = this.tok(s.token);
        const f = {
          mintFee: s.mintFee,
          redeemFee: s.redeemFee,
          managementFee: s.managementFee,
          rebalanceBounty: s.bounty,
        };
        return [
          {
            label: `setFees ${s.mintFee} ${s.redeemFee} ${s.managementFee} ${s.bounty}`,
            from: a.address,
            chain: () =>
              chain.connect(a).setFees(s.mintFee, s.redeemFee, s.managementFee, s.bounty, { gasLimit: GAS }),
            engine: (tx) => engine.setFees(tx, f),
          },
        ];
      }
      case "cap": {
        const { chain, engine } = this.tok(s.token);
        const sum = engine.totalSupply() + s.extra;
        const cap = sum > 2n ** 128n - 1n ? 2n ** 128n - 1n : sum;
        return [
          {
            label: `setSupplyCap ${cap}`,
            from: this.f.admin.address,
            chain: () => chain.connect(this.f.admin).setSupplyCap(cap, { gasLimit: GAS }),
            engine: (tx) => engine.setSupplyCap(tx, cap),
          },
        ];
      }
      case "treasury": {
        const { chain, engine } = this.tok(s.token);
        const to = this.caller(s.to).address;
        return [
          {
            label: `setTreasury ${to}`,
            from: this.f.admin.address,
            chain: () => chain.connect(this.f.admin).setTreasury(to, { gasLimit: GAS }),
            engine: (tx) => engine.setTreasury(tx, to),
          },
        ];
      }
      case "exchangeFees":
        return [
          {
            label: `exchange setFees ${s.takerFee} ${s.liquidationReward}`,
            from: this.f.admin.address,
            chain: () =>
              this.f.sys.vault
                .connect(this.f.admin)
                .setFees(s.takerFee, s.liquidationReward, { gasLimit: GAS }),
            engine: () => this.e.world.atomic(() => this.e.vault.setFees(s.takerFee, s.liquidationReward)),
          },
        ];
      case "liquidate": {
        const a = this.caller(s.actor);
        const target = this.f.deployment.tokens[s.token]!.address;
        return [
          {
            label: "liquidate",
            from: a.address,
            chain: () => this.f.sys.vault.connect(a).liquidate(BTC, target, { gasLimit: GAS }),
            engine: (tx) => this.e.world.atomic(() => this.e.vault.liquidate(tx, BTC, target)),
          },
        ];
      }
      case "settlePnl": {
        const a = this.caller(s.actor);
        const target = this.f.deployment.tokens[s.token]!.address;
        return [
          {
            label: "settlePnl",
            from: a.address,
            chain: () => this.f.sys.vault.connect(a).settlePnl(BTC, target, { gasLimit: GAS }),
            engine: (tx) => this.e.world.atomic(() => this.e.vault.settlePnl(tx, BTC, target)),
          },
        ];
      }
      case "addLiquidity": {
        const a = this.caller(s.actor);
        return [
          this.refreshEth(),
          {
            label: `addLiquidity ${s.amount}`,
            from: a.address,
            chain: () => this.f.sys.vault.connect(a).addLiquidity(s.amount, { gasLimit: GAS }),
            engine: (tx) => this.e.world.atomic(() => this.e.vault.addLiquidity(tx, s.amount)),
          },
        ];
      }
      case "removeLiquidity": {
        const a = this.caller(s.actor);
        const shares =
          ((this.e.vault.st.liquiditySharesOf.get(a.address.toLowerCase()) ?? 0n) * BigInt(s.bps)) / 10_000n;
        return [
          this.refreshEth(),
          {
            label: `removeLiquidity ${shares}`,
            from: a.address,
            chain: () => this.f.sys.vault.connect(a).removeLiquidity(shares, a.address, { gasLimit: GAS }),
            engine: (tx) => this.e.world.atomic(() => this.e.vault.removeLiquidity(tx, shares, a.address)),
          },
        ];
      }
    }
  }

  /** ETH's feed publishes its answer again: liquidity is priced over every market, and only BTC moves here. */
  private refreshEth(): Action {
    const answer = this.e.feed("ETH").st.answer;
    return {
      label: "ETH price again",
      from: this.f.admin.address,
      chain: () => this.f.sys.feeds.ETH.connect(this.f.admin).updateAnswer(answer, { gasLimit: GAS }),
      engine: (tx) => this.e.feed("ETH").updateAnswer(tx, answer),
    };
  }

  private priceAction(answer: bigint): Action {
    return {
      label: `price ${answer}`,
      from: this.f.admin.address,
      chain: () => this.f.sys.feeds.BTC.connect(this.f.admin).updateAnswer(answer, { gasLimit: GAS }),
      engine: (tx) => this.e.feed("BTC").updateAnswer(tx, answer),
    };
  }

  private async execute(stepIndex: number, a: Action, time: bigint): Promise<void> {
    await this.networkHelpers.time.setNextBlockTimestamp(time);
    this.time = time;
    this.stats.txs++;
    let chainOutcome: Outcome;
    let logs: readonly Log[] = [];
    try {
      const response = await a.chain();
      const receipt = await response.wait();
      logs = receipt?.logs ?? [];
      chainOutcome = { ok: true };
    } catch (e) {
      chainOutcome = { ok: false, error: this.decodeError(e) };
    }
    const mark = this.e.world.log.events.length;
    let engineOutcome: Outcome;
    try {
      a.engine({ from: a.from, time });
      engineOutcome = { ok: true };
    } catch (e) {
      if (!(e instanceof EngineRevert)) throw e;
      engineOutcome = { ok: false, error: formatRevert(e.errorName, e.args) };
    }
    const where = `${a.label} at ${time}`;
    const c = chainOutcome.ok ? "ok" : chainOutcome.error;
    const g = engineOutcome.ok ? "ok" : engineOutcome.error;
    if (c !== g) throw new Mismatch(stepIndex, `${where}: chain ${c}, engine ${g}`);
    if (!chainOutcome.ok) this.stats.reverts++;
    const tally = `${a.label.split(" ")[0]} -> ${c.split("(")[0]}`;
    this.outcomes.set(tally, (this.outcomes.get(tally) ?? 0) + 1);
    this.seen.add(tally);
    if (this.trace) console.log(`      step ${stepIndex}: ${where} -> ${c}`);
    const chainEvents = this.events(logs);
    const engineEvents = this.e.world.log
      .since(mark)
      .filter((ev) => this.emitters.has(ev.address))
      .map((ev) => `${ev.address.slice(0, 8)} ${formatRevert(ev.name, ev.args)}`);
    const ce = chainEvents.join("\n");
    const ee = engineEvents.join("\n");
    if (ce !== ee) throw new Mismatch(stepIndex, `${where}: events differ\nchain:\n${ce}\nengine:\n${ee}`);
    this.tallyRestore(a.label.split(" ")[0] ?? "", engineEvents);
    // a revert changes nothing but the block time: then only the time-dependent views are read
    // (the next full comparison, at the latest at the end of the sequence, checks everything else)
    await this.compare(stepIndex, where, chainOutcome.ok);
  }

  /** Events of the tokens, the exchange and USDT, in order (feeds' rounds are not modelled). */
  /** Notes how a mint or a redeem sent the rebalance it ran first: joined with its trade, or apart. */
  private tallyRestore(call: string, events: readonly string[]): void {
    if (
      !events.some((e) => e.includes(" Rebalanced(")) ||
      !events.some((e) => e.includes(" PositionResized("))
    )
      return;
    const k = `${call}: a due rebalance first, ${events.some((e) => e.includes(" TradesJoined(")) ? "joined" : "apart"}`;
    this.outcomes.set(k, (this.outcomes.get(k) ?? 0) + 1);
  }

  private events(logs: readonly Log[]): string[] {
    const out: string[] = [];
    for (const log of logs) {
      const address = key(log.address);
      const iface = this.emitters.get(address);
      if (iface === undefined) continue;
      const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed === null) throw new Error(`unparsed log ${log.topics[0]} from ${address}`);
      out.push(`${address.slice(0, 8)} ${formatRevert(parsed.name, [...parsed.args] as unknown[])}`);
    }
    return out;
  }

  private decodeError(e: unknown): string {
    return decodeRevert(e, this.interfaces);
  }

  /** Everything both sides can see, read from the chain at the latest block and from the engine. */
  private async compare(stepIndex: number, where: string, full = true): Promise<void> {
    this.lastFull = full;
    // the previews run the contract's least-input search, the costliest reads: every 4th step
    const previews = full && (stepIndex + 4) % 4 === 0;
    const chain = await this.readChain(full, previews);
    const engine = this.readEngine(this.time);
    const diffs: string[] = [];
    for (const [k, v] of Object.entries(chain)) {
      if (engine[k] !== v) diffs.push(`${k}: chain ${v}, engine ${engine[k]}`);
    }
    if (diffs.length > 0) throw new Mismatch(stepIndex, `after ${where}:\n  ${diffs.join("\n  ")}`);
    const stranded = this.stranded(this.time);
    if (stranded.length > 0) throw new Mismatch(stepIndex, `after ${where}: ${stranded.join(", ")}`);
  }

  /**
   * Tokens the engine (equal to the chain) holds live with holders and equity but no position and no
   * rebalance due: a liquidation (or anything else) left their holders without exposure for ever.
   */
  private stranded(time: bigint): string[] {
    const out: string[] = [];
    for (const params of DIFF_TOKENS) {
      const t = this.e.token(params.symbol);
      const st = t.st.status.state;
      if (st !== TokenState.Active && st !== TokenState.Delisting) continue;
      if (t.totalSupply() === 0n) continue;
      let snap;
      try {
        snap = this.e.vault.snapshot(BTC, t.address, time);
      } catch (err) {
        if (err instanceof EngineRevert) continue; // a stale price: nothing can trade, nothing is due
        throw err;
      }
      if (snap.size !== 0n || snap.equity <= 0n) continue;
      if (!t.rebalanceNeeded(time).needed)
        out.push(`${params.symbol} is live with holders, no position, nothing due`);
    }
    return out;
  }

  private async readChain(full: boolean, previews: boolean): Promise<Record<string, string>> {
    const { sys, tokens } = this.f;
    const reads: [string, Promise<unknown>][] = [];
    tokens.forEach((t, i) => {
      const p = `t${i}.`;
      reads.push([p + "nav", t.nav()]);
      reads.push([p + "rebalanceNeeded", t.rebalanceNeeded()]);
      reads.push([p + "leverage", t.leverage()]);
      if (!full) return;
      if (previews) {
        reads.push([p + "previewMint", t.previewMint(PREVIEW_SHARES)]);
        reads.push([p + "previewWithdraw", t.previewWithdraw(PREVIEW_ASSETS)]);
        reads.push([p + "maxWithdraw", t.maxWithdraw(this.watched[0]!)]);
      }
      reads.push([p + "supply", t.totalSupply()]);
      reads.push([p + "status", t.status()]);
      reads.push([p + "admin", Promise.all([t.treasury(), t.delistingTime(), t.fees(), t.supplyCap()])]);
      reads.push([p + "position", sys.vault.positionOf(BTC, this.tokenAddresses[i]!)]);
      for (const w of this.watched) reads.push([`${p}balance.${w.slice(0, 8)}`, t.balanceOf(w)]);
    });
    reads.push(["fundingIndex", sys.vault.fundingIndex(BTC)]);
    if (full) {
      for (const w of this.usdtWatched) reads.push([`usdt.${w.slice(0, 8)}`, sys.usdt.balanceOf(w)]);
      reads.push(["pool", sys.vault.poolBalance()]);
      reads.push(["accounted", sys.vault.accountedBalance()]);
      reads.push(["liquidity", sys.vault.liquidity()]);
      reads.push(["openInterest", sys.vault.openInterest(BTC)]);
    }
    const settled = await Promise.allSettled(reads.map(([, r]) => r));
    const out: Record<string, string> = {};
    settled.forEach((r, i) => {
      out[reads[i]![0]] = r.status === "fulfilled" ? show(r.value) : this.decodeError(r.reason);
    });
    return out;
  }

  private readEngine(time: bigint): Record<string, string> {
    const e = this.e;
    const out: Record<string, string> = {};
    const read = (name: string, f: () => unknown) => {
      try {
        out[name] = show(f());
      } catch (err) {
        if (!(err instanceof EngineRevert)) throw err;
        out[name] = formatRevert(err.errorName, err.args);
      }
    };
    DIFF_TOKENS.forEach((params, i) => {
      const t = e.token(params.symbol);
      const p = `t${i}.`;
      read(p + "nav", () => t.nav(time));
      read(p + "previewMint", () => t.previewMint());
      read(p + "previewWithdraw", () => t.previewWithdraw(PREVIEW_ASSETS));
      read(p + "maxWithdraw", () => t.maxWithdraw(this.watched[0]!));
      read(p + "supply", () => t.totalSupply());
      read(p + "status", () => {
        const s = t.st.status;
        return [
          s.lastFeeAccrual,
          s.lastRebalance,
          BigInt(s.state),
          s.mintPaused,
          s.supplyCapped,
          s.pendingFeeShares,
          s.managementFee,
          // the contract keeps the mint and redeem fees in this slot, in pips (1e-6)
          t.st.limits.mintFee / 10n ** 12n,
          t.st.limits.redeemFee / 10n ** 12n,
        ];
      });
      read(p + "admin", () => {
        const f = t.fees();
        return [
          t.treasury(),
          t.delistingTime(),
          [f.mintFee, f.redeemFee, f.managementFee, f.rebalanceBounty],
          t.supplyCap(),
        ];
      });
      read(p + "rebalanceNeeded", () => {
        const r = t.rebalanceNeeded(time);
        return [r.needed, BigInt(r.reason)];
      });
      read(p + "leverage", () => t.leverage(time));
      read(p + "position", () => {
        const pos = e.vault.positionOf(BTC, t.address);
        return [pos.size, pos.openCost, pos.margin];
      });
      for (const w of this.watched) read(`${p}balance.${w.slice(0, 8)}`, () => t.balanceOf(w));
    });
    for (const w of this.usdtWatched) read(`usdt.${w.slice(0, 8)}`, () => e.usdtBalance(w));
    read("pool", () => e.vault.poolBalance());
    read("accounted", () => e.vault.accountedBalance());
    read("liquidity", () => {
      const l = e.vault.liquidity(time);
      return [l.cash, l.value, l.reserved];
    });
    read("openInterest", () => {
      const oi = e.vault.openInterest(BTC);
      return [oi.longSize, oi.shortSize];
    });
    read("fundingIndex", () => e.vault.fundingIndex(BTC, time));
    return out;
  }
}

/** A failed call's revert data as `Name(arg,...)`, decoded with the first of `interfaces` that knows it. */
export function decodeRevert(e: unknown, interfaces: readonly Interface[]): string {
  const data = (e as { data?: unknown }).data;
  if (typeof data !== "string" || data.length < 10) {
    throw new Error(`a transaction failed without revert data: ${(e as Error).message}`);
  }
  if (data.startsWith("0x4e487b71")) return formatRevert("Panic", [BigInt("0x" + data.slice(10))]);
  for (const iface of interfaces) {
    try {
      const parsed = iface.parseError(data);
      if (parsed !== null) return formatRevert(parsed.name, [...parsed.args] as unknown[]);
    } catch {
      // not this contract's error
    }
  }
  throw new Error(`unknown revert data ${data}`);
}

/** A value as both sides print it: bigints and booleans as decimals, addresses lower case, arrays
 * (and ethers Results) as [a,b]. */
export function show(v: unknown): string {
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return v.toLowerCase();
  if (Array.isArray(v)) return `[${v.map(show).join(",")}]`;
  if (v !== null && typeof v === "object" && "toArray" in v) {
    return show((v as { toArray(): unknown[] }).toArray());
  }
  return String(v);
}

/** An error or an event as `Name(arg,...)`. */
export function formatRevert(name: string, args: readonly unknown[]): string {
  return `${name}(${args.map(show).join(",")})`;
}
