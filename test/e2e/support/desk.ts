// The keeper's part of the desk flow, played by the test on a node it deployed with deployOn: a new
// price round in every market (the same prices), the fill as the keeper (the deployer holds
// KEEPER_ROLE on every token), and, for a waited `lt mint`/`lt redeem`, both as soon as its request is
// placed, so the command's own wait, claim and report run as they do with a keeper running. No keeper
// or feeder process: the test decides when a round comes and what price it carries.
import type { Signer } from "ethers";
import { readAddressBook } from "../../../src/chain/addressBook.ts";
import type { ForwardDesk } from "../../../types/ethers-contracts/ForwardDesk.sol/ForwardDesk.ts";
import { ForwardDesk__factory } from "../../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { LeveragedToken__factory } from "../../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPriceFeed__factory } from "../../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";
import type { Deployment } from "../nodes.ts";
import type { Run } from "./lt.ts";

/** How a test runs `lt` against its node: the arguments after the node's and the address book's. */
export type Lt = (args: string[], env?: Record<string, string>) => Promise<Run>;

/**
 * The deadline a waited `lt mint`/`lt redeem` in a test gets: its fill comes within seconds, and should
 * the test fail before it, lt gives up in a minute instead of waiting out its default 10.
 */
export const WAIT = ["--deadline", "60s"];
/** A fill mints and redeems through the token: an explicit limit, as anvil's estimate may fall short. */
const FILL_GAS = 3_000_000n;
const POLL_MS = 100;

async function deployer(dep: Deployment): Promise<Signer> {
  const [signer] = await dep.ethers.getSigners();
  if (signer === undefined) throw new Error("the node has no unlocked account");
  return signer;
}

/** `symbol`'s desk (any token the factory made, `lt admin create`'s too), signed by the deployer. */
export async function deskOf(dep: Deployment, symbol: string): Promise<ForwardDesk> {
  const address = await dep.system.factory.deskOf(await dep.system.factory.tokenBySymbol(symbol));
  return ForwardDesk__factory.connect(address, await deployer(dep));
}

/**
 * A new price round in every market of the address book on disk (a market `lt admin market` listed
 * too) at the price it has. A round is the feed's time, so when the last block has the time the
 * next one gets (anvil gives blocks of one second the same timestamp) the clock moves a second first.
 */
export async function newRounds(dep: Deployment): Promise<void> {
  const signer = await deployer(dep);
  const provider = dep.ethers.provider;
  const latest = await provider.getBlock("latest");
  if (latest === null) throw new Error("the node gave no latest block");
  await provider.send("evm_setNextBlockTimestamp", [latest.timestamp + 1]);
  for (const address of Object.values(readAddressBook("localhost", dep.dir).feeds)) {
    const feed = MockPriceFeed__factory.connect(address, signer);
    const [, answer] = await feed.latestRoundData();
    await (await feed.updateAnswer(answer)).wait();
  }
}

/** The deployer's fill of `desk` as its keeper; throws when nothing waits from before the current round. */
export async function fill(desk: ForwardDesk): Promise<void> {
  const [needed] = await desk.fillNeeded();
  if (!needed) throw new Error(`nothing to fill at ${await desk.getAddress()}: no newer price round`);
  await (await desk.fill({ gasLimit: FILL_GAS })).wait();
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The keeper for one waited `lt mint`/`lt redeem` of `account` on `symbol`: once its request is
 * pending, a new round (by `round`, default every market at its price) and the fill; then lt sees the
 * fill, claims and reports. A run that ends first (a refusal) is returned as it is.
 */
export async function keeperFor(
  dep: Deployment,
  symbol: string,
  account: string,
  lt: Promise<Run>,
  round: () => Promise<void> = () => newRounds(dep),
): Promise<Run> {
  const desk = await deskOf(dep, symbol);
  let ended: Run | undefined;
  const done = lt.then((run) => (ended = run));
  for (;;) {
    if (ended !== undefined) return ended;
    const [deposit, redeem] = await Promise.all([
      desk.pendingDepositRequest(0n, account),
      desk.pendingRedeemRequest(0n, account),
    ]);
    if (deposit > 0n || redeem > 0n) break;
    await pause(POLL_MS);
  }
  await round();
  await fill(desk);
  return done;
}

/**
 * A waited `lt <side> <symbol> <amount> --json` of `account` (signed as `env` says, the node's first
 * account by default), with the test's deadline (WAIT): the test brings the next round and the fill
 * once the request is placed (keeperFor).
 */
export function waited(
  dep: Deployment,
  lt: Lt,
  account: string,
  side: "mint" | "redeem",
  symbol: string,
  amount: string,
  env: Record<string, string> = {},
): Promise<Run> {
  return keeperFor(dep, symbol, account, lt([side, symbol, amount, "--json", ...WAIT], env));
}

/**
 * `usdt` of test USDT minted to the deployer and turned into `symbol` through the desk, as the flow
 * goes: the request, a new price round, the keeper's fill, the claim. Returns the shares claimed.
 */
export async function mintThroughDesk(dep: Deployment, symbol: string, usdt: bigint): Promise<bigint> {
  const signer = await deployer(dep);
  const me = await signer.getAddress();
  const desk = await deskOf(dep, symbol);
  const token = LeveragedToken__factory.connect(await desk.share(), signer);
  const before = await token.balanceOf(me);
  const tether = dep.system.usdt.connect(signer);
  await (await tether.mint(me, usdt)).wait();
  await (await tether.approve(await desk.getAddress(), usdt)).wait();
  await (await desk.requestDeposit(usdt, me, me)).wait();
  await newRounds(dep);
  await fill(desk);
  await (await desk["deposit(uint256,address)"](await desk.maxDeposit(me), me)).wait();
  return (await token.balanceOf(me)) - before;
}
