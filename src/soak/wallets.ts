// Wallets doing random things with `lt` (in this process, through runCli, as a user's shell would):
// mints, redeems, buys and sells of random tokens and sizes, now and then one too large or with no
// slippage allowed. Each action ends done, refused in one of the CLI's plain sentences, or refused
// with anything else: an unexplained error, which the soak reports with its message.
import { HDNodeWallet } from "ethers";
import { runCli } from "../cli/program.ts";
import { sleep } from "../common/retry.ts";
import type { Rng } from "./rng.ts";

/** The mnemonic of anvil's and Hardhat's default accounts. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** The private key of the node's default account `index`. */
export function devKey(index: number): string {
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
}

export type Outcome = "done" | "refused" | "unexplained";

export interface ActionRecord {
  wallet: number;
  args: string[];
  outcome: Outcome;
  /** The sentence of a refusal or an error. */
  message?: string;
  ms: number;
}

/** The CLI's sentences for what a user may run into: a refusal, not a failure of the tooling. */
const CLEAN_REFUSALS: RegExp[] = [
  /^insufficient /,
  /^the account 0x[0-9a-fA-F]{40} holds no \w+ to (redeem|sell)$/,
  /^slippage exceeded/,
  /^the \w+ price is stale/,
  /^minting \w+ is paused/,
  /is being delisted/,
  /has been delisted and settled/,
  /is depleted/,
  /too small to mint/,
  /^the exchange rejected the trade/,
  /^cannot redeem/,
  /^the exchange's pool cannot pay/,
  /^the \w+ pool would pay nothing/,
  // a swap whose --deadline passed before a busy node mined it: nothing was swapped
  /^the swap's deadline passed before it was mined; nothing was swapped/,
  // lt buy/sell refuse a pool price more than --max-premium from NAV (minting or redeeming is cheaper)
  /\(more than --max-premium [\d.]+%\): (minting is cheaper|redeeming pays more)/,
];

/** Whether an error sentence of `lt` is one of its plain refusals. */
export function isCleanRefusal(message: string): boolean {
  return CLEAN_REFUSALS.some((r) => r.test(message));
}

/**
 * One random `lt` command for a wallet: mostly sensible sizes, sometimes too large, and a pool trade
 * sometimes with no slippage (a mint or redeem request has none to bound: `lt` refuses the option there).
 */
export function randomAction(rng: Rng, symbols: readonly string[]): string[] {
  const symbol = rng.pick(symbols);
  const kind = rng.pick(["mint", "mint", "redeem", "buy", "sell"] as const);
  const tooLarge = rng.next() < 0.1;
  const tight = rng.next() < 0.15 ? ["--max-slippage", "0%"] : [];
  switch (kind) {
    case "mint":
      return ["mint", symbol, tooLarge ? "50000000" : String(rng.int(50, 5_000))];
    case "buy":
      return ["buy", symbol, tooLarge ? "50000000" : String(rng.int(20, 2_000)), ...tight];
    case "redeem":
    case "sell":
      return [
        kind,
        symbol,
        rng.next() < 0.4 ? "all" : String(tooLarge ? 1_000_000 : rng.int(5, 1_500)),
        ...(kind === "sell" ? tight : []),
      ];
  }
}

export interface WalletOptions {
  index: number;
  /** The node's default account the wallet signs with. */
  account: number;
  rpcUrl: string;
  deployments: string;
  network: string;
  symbols: readonly string[];
  rng: Rng;
  /** Pause between actions, ms (a random value in the range). */
  pauseMs: [number, number];
  signal: AbortSignal;
  onAction: (r: ActionRecord) => void;
}

/** Runs one `lt` command and classifies its result. */
export async function runAction(o: WalletOptions, args: string[]): Promise<ActionRecord> {
  const errors: string[] = [];
  const started = Date.now();
  const code = await runCli(
    ["--rpc", o.rpcUrl, "--network", o.network, "--deployments", o.deployments, ...args],
    {
      io: {
        out: () => undefined,
        err: (t) => errors.push(t),
        env: { LT_PRIVATE_KEY: devKey(o.account) },
      },
    },
  );
  const ms = Date.now() - started;
  if (code === 0) return { wallet: o.index, args, outcome: "done", ms };
  const message = errors.join(" ").replace(/^lt: /, "").trim();
  return { wallet: o.index, args, outcome: isCleanRefusal(message) ? "refused" : "unexplained", message, ms };
}

/** Acts until the signal aborts (the action under way is finished first). */
export async function runWallet(o: WalletOptions): Promise<void> {
  while (!o.signal.aborted) {
    await sleep(o.rng.int(o.pauseMs[0], o.pauseMs[1]), o.signal);
    if (o.signal.aborted) break;
    o.onAction(await runAction(o, randomAction(o.rng, o.symbols)));
  }
}
