// The spot market end to end against a `hardhat node` (test/e2e/nodes.ts): `lt price`, `lt buy`,
// `lt sell` and `npm run arb -- --once` as subprocesses, on pools deployed from the published
// Uniswap V2 artifacts.
import { expect } from "chai";
import { formatUnits } from "ethers";
import { writeAddressBook } from "../../src/chain/addressBook.ts";
import { USDT } from "../../src/common/params.ts";
import { reservesOf, viewPool } from "../../src/spot/arbitrage.ts";
import { position } from "../../src/spot/poolMath.ts";
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

describe("spot market end to end (hardhat node)", function () {
  this.timeout(120_000);
  let node: LocalNode | undefined;
  let dep: Deployment;
  let pool: UniswapV2Pair;
  const lt = (args: string[]) =>
    run("scripts/lt.ts", ["--rpc", node!.url, "--deployments", dep.dir, ...args]);

  before(async function () {
    node = await startNode("hardhat");
    dep = await deployOn(node.url);
    const [admin, , arb] = await dep.ethers.getSigners();
    const u = await deployUniswap(admin!);
    const pools: Record<string, string> = {};
    for (const [symbol, token] of Object.entries(dep.system.tokens)) {
      pools[symbol] = await (
        await createPoolAtNav(u, dep.system.usdt, token, admin!, 100_000n * 10n ** 18n)
      ).getAddress();
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
    expect(text.stdout).to.match(/spot\s+1\.\d+ USDT/);
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

  it("npm run arb -- --once brings a pool pushed 5% above NAV back inside the band, at a profit", async function () {
    const [admin, , arb] = await dep.ethers.getSigners();
    const view = await viewPool(admin!, dep.book, "BTC3L");
    const usdtAddress = dep.book.usdt;
    const token = dep.system.tokens.BTC3L!;
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
    const res = await run("scripts/arb.ts", [
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
    expect(res.code, res.stderr).to.equal(0);
    const lines = res.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; action?: string });
    expect(lines.map((l) => l.event)).to.deep.equal(["arb-trade"]);
    expect(lines[0]!.action).to.equal("mint-sell");
    const afterView = await viewPool(admin!, dep.book, "BTC3L");
    expect(position(afterView.reserves, afterView.band)).to.equal("inside");
    expect(await dep.system.usdt.balanceOf(arb!.address)).to.be.greaterThan(usdtBefore);
    expect(await reservesOf(pool, usdtAddress)).to.deep.equal(afterView.reserves);
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
