// The spot market end to end against a `hardhat node` (test/e2e/nodes.ts): `lt price`, `lt buy`,
// `lt sell`, `lt fill` and `npm run arb -- --once` as subprocesses, on pools deployed from the
// published Uniswap V2 artifacts and seeded with tokens minted through the desks.
import { expect } from "chai";
import { formatUnits } from "ethers";
import { writeAddressBook } from "../../src/chain/addressBook.ts";
import { USDT } from "../../src/common/params.ts";
import { reservesOf, viewPool } from "../../src/spot/arbitrage.ts";
import { position, ratioToNumber, spotPrice } from "../../src/spot/poolMath.ts";
import {
  addressesOf,
  connectPair,
  connectRouter,
  createPoolAtNav,
  deployUniswap,
  NO_DEADLINE,
  type UniswapV2Pair,
} from "../../src/spot/uniswap.ts";
import { deployOn, type Deployment, type LocalNode, startNode } from "../e2e/nodes.ts";
import { runScript } from "../e2e/support/lt.ts";

const run = (script: string, args: string[]) => runScript(script, args);

const DEAD = "0x000000000000000000000000000000000000dEaD";

/** USDT the admin deposits through each desk for the pool's seed (100,000 tokens at about 1 USDT). */
const SEED_DEPOSIT = 101_000n * USDT;

/** An `arb` line as printed (JSON; bigints as decimal strings). */
interface ArbLine {
  event: string;
  action?: string;
  why?: string;
  usdt?: string;
  usdtIn?: string;
  tokens?: string;
  spotAfter?: number;
}

const arbLines = (stdout: string): ArbLine[] =>
  stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as ArbLine);

describe("spot market end to end (hardhat node)", function () {
  this.timeout(120_000);
  let node: LocalNode | undefined;
  let dep: Deployment;
  let pool: UniswapV2Pair;
  const lt = (args: string[]) =>
    run("scripts/lt.ts", ["--rpc", node!.url, "--deployments", dep.dir, ...args]);
  const arbOnce = () =>
    run("scripts/arb.ts", [
      "--once",
      "--network",
      "localhost",
      "--rpc",
      node!.url,
      "--deployments",
      dep.dir,
      "--account",
      "2",
      "--tokens",
      "BTC3L",
    ]);

  /** A minute on, a new price round on every market at its price (the admin updates the feeds). */
  async function newRounds(): Promise<void> {
    await dep.ethers.provider.send("evm_increaseTime", [60]);
    for (const feed of Object.values(dep.system.feeds)) {
      const [, answer] = await feed.latestRoundData();
      await (await feed.updateAnswer(answer)).wait();
    }
  }

  before(async function () {
    node = await startNode("hardhat");
    dep = await deployOn(node.url);
    const [admin, , arb] = await dep.ethers.getSigners();
    const u = await deployUniswap(admin!);
    // the seed is minted the only way a desk token mints: a deposit request, a new price round, the
    // keeper's fill (the admin is the keeper) and the claim
    await (await dep.system.usdt.mint(admin!.address, 4n * SEED_DEPOSIT)).wait();
    for (const desk of Object.values(dep.system.desks)) {
      await (await dep.system.usdt.connect(admin!).approve(await desk.getAddress(), SEED_DEPOSIT)).wait();
      await (await desk.connect(admin!).requestDeposit(SEED_DEPOSIT, admin!.address, admin!.address)).wait();
    }
    await newRounds();
    for (const desk of Object.values(dep.system.desks)) {
      await (await desk.connect(admin!).fill()).wait();
      const me = admin!.address;
      await (await desk.connect(admin!)["deposit(uint256,address)"](await desk.maxDeposit(me), me)).wait();
    }
    const pools: Record<string, string> = {};
    for (const [symbol, token] of Object.entries(dep.system.tokens)) {
      pools[symbol] = await (
        await createPoolAtNav(u, dep.system.usdt, token, admin!, 100_000n * 10n ** 18n)
      ).getAddress();
    }
    // what the seed's deposits minted beyond the pools' 100,000 tokens (and the fee shares: the admin
    // is the treasury) goes away, so that account 0, lt's signer, starts with no tokens
    for (const token of Object.values(dep.system.tokens)) {
      const rest = await token.balanceOf(admin!.address);
      if (rest > 0n) await (await token.connect(admin!).transfer(DEAD, rest)).wait();
    }
    pool = connectPair(pools.BTC3L!, admin!);
    dep.book.pools = pools;
    dep.book.uniswap = await addressesOf(u);
    writeAddressBook("localhost", dep.book, dep.dir);
    await (await dep.system.usdt.mint(admin!.address, 1_000_000n * USDT)).wait();
    await (await dep.system.usdt.mint(arb!.address, 1_000_000n * USDT)).wait();
  });

  after(async function () {
    await dep?.close();
    await node?.stop();
  });

  it("lt price shows spot, NAV and the premium; lt buy moves the price up and lt sell all sells back", async function () {
    const before = await lt(["--json", "price", "BTC3L"]);
    expect(before.code, before.stderr).to.equal(0);
    const p0 = JSON.parse(before.stdout) as { spot: string; nav: string; premiumPercent: number };
    expect(Math.abs(p0.premiumPercent)).to.be.lessThan(0.001);
    const text = await lt(["price", "btc3l"]);
    // seeded at the desk-minted tokens' NAV: 0.999999 after the seed's fill, 1 USDT before
    expect(text.stdout).to.match(new RegExp(`spot\\s+${p0.spot.replace(".", "\\.")} USDT`));
    expect(Number(p0.spot)).to.be.within(0.999, 1.001);
    expect(text.stdout).to.match(/NAV\s+/);

    // 2% of the pool: the average price is more than 1% above NAV, so it takes --max-premium
    const buy = await lt(["--json", "buy", "BTC3L", "2000", "--max-slippage", "0.5%", "--max-premium", "3%"]);
    expect(buy.code, buy.stderr).to.equal(0);
    const bought = JSON.parse(buy.stdout) as { account: string; received: string; deadline: number };
    const account = bought.account;
    const held = await dep.system.tokens.BTC3L!.balanceOf(account);
    expect(held).to.be.greaterThan(0n);
    expect(bought.received).to.equal(formatUnits(held, 18).replace(/\.0$/, "")); // what arrived, not the quote
    const mined = await dep.ethers.provider.getBlock("latest");
    expect(bought.deadline - mined!.timestamp).to.be.within(299, 300); // 5 minutes by default
    const after = JSON.parse((await lt(["--json", "price", "BTC3L"])).stdout) as { premiumPercent: number };
    expect(after.premiumPercent).to.be.greaterThan(3);
    expect((await lt(["price", "BTC3L"])).stdout).to.match(/premium/);
    const refused = await lt(["buy", "BTC3L", "2000"]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(
      /^lt: buying BTC3L in the pool pays 1\.\d+ USDT a token, \d\.\d+% above its NAV of 0\.99\d+ \(more than --max-premium 1%\): minting is cheaper \(lt mint BTC3L\)/,
    );
    expect(await dep.system.tokens.BTC3L!.balanceOf(account)).to.equal(held);

    const sell = await lt(["sell", "BTC3L", "all"]);
    expect(sell.code, sell.stderr).to.equal(0);
    expect(sell.stdout).to.match(/sold/);
    expect(await dep.system.tokens.BTC3L!.balanceOf(account)).to.equal(0n);
  });

  it("lt buy and sell say in plain words what is wrong", async function () {
    const tooMuch = await lt(["buy", "BTC3L", "999999999"]);
    expect(tooMuch.code).to.equal(1);
    expect(tooMuch.stderr).to.match(/^lt: .*USDT/);
    expect(tooMuch.stderr).not.to.match(/\n\s+at /);
    const none = await lt(["sell", "ETH3S", "5"]);
    expect(none.code).to.equal(1);
    expect(none.stderr.trim()).to.match(
      /^lt: insufficient ETH3S: the account holds .* ETH3S, fewer than the 5 ETH3S to sell$/,
    );
    const unknown = await lt(["price", "DOGE3L"]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/unknown token "DOGE3L"/);
  });

  it("npm run arb -- --once requests a deposit for a pool pushed 5% above NAV; after lt fill, the next pass claims, sells and brings it inside the band at a profit", async function () {
    const [admin, , arb] = await dep.ethers.getSigners();
    const view = await viewPool(admin!, dep.book, "BTC3L");
    const usdtAddress = dep.book.usdt;
    const token = dep.system.tokens.BTC3L!;
    const desk = dep.system.desks.BTC3L!;
    const router = connectRouter(dep.book.uniswap!.router, admin!);
    // push the price up about 5% with a buy (k = x y; x' = x / sqrt(1.05))
    const r = view.reserves;
    const usdtIn = ((r.usdt * 25n) / 1000n / 997n) * 1000n;
    await (await dep.system.usdt.connect(admin!).approve(await router.getAddress(), usdtIn)).wait();
    await (
      await router.swapExactTokensForTokens(
        usdtIn,
        0n,
        [usdtAddress, await token.getAddress()],
        admin!.address,
        NO_DEADLINE,
      )
    ).wait();
    const pushed = await viewPool(admin!, dep.book, "BTC3L");
    expect(position(pushed.reserves, pushed.band)).to.equal("above");
    const usdtBefore = await dep.system.usdt.balanceOf(arb!.address);

    // the first pass: a deposit request at the desk; the pool waits for the fill
    const first = await arbOnce();
    expect(first.code, first.stderr).to.equal(0);
    const requested = arbLines(first.stdout);
    expect(requested.map((l) => l.event)).to.deep.equal(["arb-requested"]);
    expect(requested[0]!.action).to.equal("mint-sell");
    const pending = await desk.pendingDepositRequest(0n, arb!.address);
    expect(pending).to.equal(BigInt(requested[0]!.usdtIn!));
    expect(await dep.system.usdt.balanceOf(arb!.address)).to.equal(usdtBefore - pending);
    expect(await reservesOf(pool, usdtAddress)).to.deep.equal(pushed.reserves);

    // the next price round, and the keeper's fill through lt
    await newRounds();
    const fill = await lt(["fill", "BTC3L"]);
    expect(fill.code, fill.stderr).to.equal(0);
    expect(fill.stdout).to.match(/filled\s+batch/);
    expect(await desk.pendingDepositRequest(0n, arb!.address)).to.equal(0n);
    expect(await desk.maxDeposit(arb!.address)).to.equal(pending);

    // a new process finishes the trade from what the chain holds: claim, sale, closed trade
    const second = await arbOnce();
    expect(second.code, second.stderr).to.equal(0);
    const finished = arbLines(second.stdout);
    expect(finished.map((l) => l.event)).to.deep.equal(["arb-claimed", "arb-sold", "arb-trade"]);
    expect(finished[0]!.usdt).to.equal(requested[0]!.usdtIn);
    expect(finished[1]!.tokens).to.equal(finished[0]!.tokens);
    expect(finished[2]!.action).to.equal("mint-sell");
    expect(finished[2]!.why).to.match(/opened before this process/);
    const afterView = await viewPool(admin!, dep.book, "BTC3L");
    const spotAfter = ratioToNumber(spotPrice(afterView.reserves));
    const [lower, upper] = [ratioToNumber(afterView.band.lower), ratioToNumber(afterView.band.upper)];
    // sold to the band's upper edge as the request priced it; by the sale NAV has paid the fee and
    // funding of the wait (~1e-8 a second), which can leave the pool that little above the new edge
    expect(spotAfter).to.be.within(lower, upper * (1 + 1e-5));
    expect(spotAfter / upper).to.be.greaterThan(0.9999);
    expect(finished[2]!.spotAfter).to.equal(spotAfter);
    expect(await reservesOf(pool, usdtAddress)).to.deep.equal(afterView.reserves);
    expect(await token.balanceOf(arb!.address)).to.equal(0n);
    expect(await desk.maxDeposit(arb!.address)).to.equal(0n);
    expect(await dep.system.usdt.balanceOf(arb!.address)).to.be.greaterThan(usdtBefore);
  });

  it("npm run arb says in plain words what is wrong", async function () {
    const missing = await run("scripts/arb.ts", ["--once", "--network", "nowhere", "--deployments", dep.dir]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr.trim()).to.match(/^arb: no deployment for network "nowhere"/);
    const unknown = await run("scripts/arb.ts", [
      "--once",
      "--rpc",
      node!.url,
      "--deployments",
      dep.dir,
      "--tokens",
      "DOGE3L",
    ]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr.trim()).to.equal("arb: no pool for DOGE3L (pools: BTC3L, BTC3S, ETH3L, ETH3S)");
  });
});
