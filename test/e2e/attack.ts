// Issue 15's attack on real nodes: a trader watches the node's mempool, sees the feeder's next
// `updateAnswer` before it is mined, and gets its own transaction into the same block ahead of it
// (a higher priority fee). On a node deployed with the test-only InstantDesk (INSTANT_TOKENS=1: the
// primary market before forward pricing) it mints or redeems at the stored price and undoes it after
// the update: a risk-free profit. On the default deploy every mint and redeem is a request to the token's ForwardDesk,
// filled at the first price round after its own: the round it saw coming, so it pays its costs and
// gains nothing. Both nodes are `hardhat node`s this test starts, deployed by `npm run deploy`.
import { expect } from "chai";
import { Interface, type TransactionResponse } from "ethers";
import { USDT } from "../../src/common/params.ts";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";
import { Chain } from "./support/chain.ts";
import {
  buildForChildren,
  deploy,
  rpc,
  scratch,
  startTarget,
  type Child,
  type Target,
} from "./support/processes.ts";

/** The attacker: a default account no other e2e step uses. */
const ATTACKER = 7;
const CAPITAL = [1_000_000n * USDT, 10_000_000n * USDT];
const MOVES = [100n, 500n, -500n];
const GWEI = 1_000_000_000n;
/** Explicit gas limits: with automine off nothing is estimated against the block the calls land in. */
const GAS = 3_000_000n;

interface Pending {
  hash: string;
  to: string | null;
  input: string;
}

interface Node {
  name: "instant" | "desk";
  node: Child;
  target: Target;
  chain: Chain;
  attacker: string;
}

const FEED = new Interface(MockPriceFeed__factory.abi);

function usd(x: bigint): string {
  const sign = x < 0n ? "-" : x > 0n ? "+" : "";
  const a = x < 0n ? -x : x;
  return `${sign}${(a / USDT).toLocaleString("en-US")}.${(a % USDT).toString().padStart(6, "0").slice(0, 2)}`;
}

/**
 * The feeder sends BTC's next answer (`bps` from the last) with automine off; the attacker reads it
 * from the node's pending block, sends `attack` with a higher priority fee, and the block is mined:
 * the attacker's transaction first, the update second. Returns the answer the attacker read.
 */
async function frontRun(
  n: Node,
  bps: bigint,
  attack: (fees: {
    maxPriorityFeePerGas: bigint;
    maxFeePerGas: bigint;
    gasLimit: bigint;
  }) => Promise<TransactionResponse>,
): Promise<bigint> {
  const url = n.target.url;
  const feed = await n.chain.feed("BTC");
  const [, last] = await feed.latestRoundData();
  await rpc(url, "evm_setAutomine", [false]);
  try {
    const update = await feed.updateAnswer((last * (10_000n + bps)) / 10_000n, {
      maxPriorityFeePerGas: GWEI,
      maxFeePerGas: 100n * GWEI,
      gasLimit: GAS,
    });
    const pending = await rpc<{ transactions: Pending[] }>(url, "eth_getBlockByNumber", ["pending", true]);
    const seen = pending.transactions.find(
      (t) => t.to?.toLowerCase() === n.chain.book.feeds.BTC!.toLowerCase(),
    );
    expect(seen, "the update waits in the node's pending block").to.not.equal(undefined);
    const decoded = FEED.parseTransaction({ data: seen!.input });
    const next = decoded!.args[0] as bigint;
    const mine = await attack({ maxPriorityFeePerGas: 10n * GWEI, maxFeePerGas: 100n * GWEI, gasLimit: GAS });
    await rpc(url, "evm_mine", []);
    const [first, second] = [await mine.wait(), await update.wait()];
    expect(first!.status).to.equal(1);
    expect(first!.blockNumber).to.equal(second!.blockNumber);
    expect(first!.index).to.be.lessThan(second!.index); // ahead of the update it saw
    return next;
  } finally {
    await rpc(url, "evm_setAutomine", [true]);
  }
}

/** A plain next update (`bps`), mined at once: the attacker knows it too, and it changes nothing. */
async function nextRound(n: Node, bps: bigint): Promise<void> {
  const feed = await n.chain.feed("BTC");
  const [, last] = await feed.latestRoundData();
  await (await feed.updateAnswer((last * (10_000n + bps)) / 10_000n)).wait();
}

async function usdtOf(n: Node): Promise<bigint> {
  return (await n.chain.usdt()).balanceOf(n.attacker);
}

/** The keeper's fill (the deployer holds the keeper role), as soon as the new round is there. */
async function fill(n: Node, symbol: string): Promise<void> {
  const desk = await n.chain.desk(symbol);
  await (await desk.fill({ gasLimit: GAS })).wait();
}

/** Claims everything the attacker's filled requests on `symbol` left claimable. */
async function claim(n: Node, symbol: string): Promise<void> {
  const desk = await n.chain.desk(symbol, ATTACKER);
  const shares = await desk.maxMint(n.attacker);
  if (shares > 0n)
    await (await desk["deposit(uint256,address)"](await desk.maxDeposit(n.attacker), n.attacker)).wait();
  const assets = await desk.maxWithdraw(n.attacker);
  if (assets > 0n) await (await desk.redeem(await desk.maxRedeem(n.attacker), n.attacker, n.attacker)).wait();
}

/** Mints through the desk at the next round (`bps`, known and flat or not) and claims: the shares. */
async function mintThroughDesk(n: Node, symbol: string, assets: bigint, bps: bigint): Promise<bigint> {
  const token = await n.chain.token(symbol);
  const desk = await n.chain.desk(symbol, ATTACKER);
  const before = await token.balanceOf(n.attacker);
  await (await desk.requestDeposit(assets, n.attacker, n.attacker)).wait();
  await nextRound(n, bps);
  await fill(n, symbol);
  await claim(n, symbol);
  return (await token.balanceOf(n.attacker)) - before;
}

async function redeemThroughDesk(n: Node, symbol: string, shares: bigint): Promise<bigint> {
  const desk = await n.chain.desk(symbol, ATTACKER);
  const before = await usdtOf(n);
  await (await desk.requestRedeem(shares, n.attacker, n.attacker)).wait();
  await nextRound(n, 0n);
  await fill(n, symbol);
  await claim(n, symbol);
  return (await usdtOf(n)) - before;
}

describe("e2e: knowing the next price, on hardhat nodes (issue 15)", function () {
  this.timeout(300_000);
  const dirs = { instant: scratch(), desk: scratch() };
  const nodes: Partial<Record<"instant" | "desk", Node>> = {};
  const results: Record<string, string>[] = [];
  let snapshot: string | undefined;
  let current: Node | undefined;

  before(async function () {
    this.timeout(900_000); // the first run compiles the contracts for the children
    await buildForChildren();
    for (const name of ["instant", "desk"] as const) {
      const { node, target } = await startTarget("hardhat", dirs[name]);
      const { book } = await deploy(target, { instantTokens: name === "instant" });
      const chain = new Chain(target.url, book);
      await chain.prepare(); // other holders on every token, as on any live one
      const attacker = await (await chain.signer(ATTACKER)).getAddress();
      await (await (await chain.usdt()).mint(attacker, 30_000_000n * USDT)).wait();
      for (const symbol of ["BTC3L", "BTC3S"]) {
        const spender = await (name === "desk" ? chain.desk(symbol) : chain.instantDesk(symbol)).then((d) =>
          d.getAddress(),
        );
        await (await (await chain.usdt(ATTACKER)).approve(spender, 2n ** 255n)).wait();
        await (await (await chain.token(symbol, ATTACKER)).approve(spender, 2n ** 255n)).wait();
      }
      nodes[name] = { name, node, target, chain, attacker };
    }
  });

  beforeEach(function () {
    current = undefined;
  });

  /** Each case starts from the state `before` left on its node. */
  async function on(name: "instant" | "desk"): Promise<Node> {
    const n = nodes[name]!;
    snapshot = await rpc<string>(n.target.url, "evm_snapshot", []);
    current = n;
    return n;
  }

  afterEach(async function () {
    if (current !== undefined && snapshot !== undefined) {
      expect(await rpc<boolean>(current.target.url, "evm_revert", [snapshot])).to.equal(true);
    }
  });

  after(async function () {
    if (process.env.FORWARD_VERBOSE) console.table(results);
    for (const n of Object.values(nodes)) {
      n.chain.close();
      await n.node.stop("SIGKILL");
    }
    dirs.instant.remove();
    dirs.desk.remove();
  });

  for (const capital of CAPITAL) {
    for (const bps of MOVES) {
      for (const symbol of ["BTC3L", "BTC3S"]) {
        const isLong = symbol === "BTC3L";
        const label = `${symbol}, ${(capital / USDT).toLocaleString("en-US")} USDT, a ${Number(bps) / 100}% update seen in the mempool`;
        if (bps > 0n === isLong) {
          it(`${label}: minting ahead of it and redeeming after profits on instant tokens, loses its costs through the desk`, async function () {
            let n = await on("instant");
            const token = await n.chain.token(symbol, ATTACKER);
            const instantDesk = await n.chain.instantDesk(symbol, ATTACKER);
            const start = await usdtOf(n);
            const next = await frontRun(n, bps, (fees) => instantDesk.deposit(capital, n.attacker, fees));
            const held = await token.balanceOf(n.attacker);
            await (await instantDesk.redeem(held, n.attacker, n.attacker)).wait();
            const instant = (await usdtOf(n)) - start;
            await rpc(n.target.url, "evm_revert", [snapshot]);

            n = await on("desk");
            const desk = await n.chain.desk(symbol, ATTACKER);
            const before = await usdtOf(n);
            const seen = await frontRun(n, bps, (fees) =>
              desk.requestDeposit(capital, n.attacker, n.attacker, fees),
            );
            await fill(n, symbol); // at the round it saw coming
            await claim(n, symbol);
            const shares = await (await n.chain.token(symbol)).balanceOf(n.attacker);
            await redeemThroughDesk(n, symbol, shares);
            const forward = (await usdtOf(n)) - before;
            results.push({ case: `mint, redeem: ${label}`, instant: usd(instant), desk: usd(forward) });

            expect(seen).to.equal(next); // the same known move on both nodes
            const move = bps < 0n ? -bps : bps;
            expect(instant).to.be.greaterThan((capital * 2n * move) / 10_000n); // about 3x the move
            expect(forward).to.be.lessThan(0n);
            expect(-forward).to.be.lessThan(capital / 200n); // fees and trading costs, nothing more
          });
        } else {
          it(`${label}: redeeming ahead of it and minting back gains shares on instant tokens, none through the desk`, async function () {
            let n = await on("instant");
            const token = await n.chain.token(symbol, ATTACKER);
            const instantDesk = await n.chain.instantDesk(symbol, ATTACKER);
            await (await instantDesk.deposit(capital, n.attacker)).wait();
            const held = await token.balanceOf(n.attacker);
            const cash = await usdtOf(n);
            await frontRun(n, bps, (fees) => instantDesk.redeem(held, n.attacker, n.attacker, fees));
            const paid = (await usdtOf(n)) - cash;
            await (await instantDesk.deposit(paid, n.attacker)).wait();
            const instantBack = await token.balanceOf(n.attacker);
            await rpc(n.target.url, "evm_revert", [snapshot]);

            n = await on("desk");
            const desk = await n.chain.desk(symbol, ATTACKER);
            const mine = await mintThroughDesk(n, symbol, capital, 0n);
            const before = await usdtOf(n);
            await frontRun(n, bps, (fees) => desk.requestRedeem(mine, n.attacker, n.attacker, fees));
            await fill(n, symbol);
            await claim(n, symbol);
            const got = (await usdtOf(n)) - before;
            const back = await mintThroughDesk(n, symbol, got, 0n);
            const change = (a: bigint, b: bigint): string =>
              `${((Number(a) / Number(b) - 1) * 100).toFixed(2)}% shares`;
            results.push({
              case: `redeem, mint: ${label}`,
              instant: change(instantBack, held),
              desk: change(back, mine),
            });

            expect(instantBack).to.be.greaterThan(held); // more shares for the same USDT
            expect(back).to.be.lessThan(mine); // fewer, by the costs
            expect(back).to.be.greaterThan(mine - mine / 100n);
          });
        }
      }
    }
  }
});
