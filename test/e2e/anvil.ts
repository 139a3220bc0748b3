// End to end on an anvil node (@foundry-rs/anvil) this test starts on a free port: the same deploy,
// keeper and feeder as on a hardhat node, against a second, independent EVM implementation.
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keccak256 } from "ethers";
import type { AddressBook } from "../../src/chain/addressBook.ts";
import { LeveragedTokenFactory__factory } from "../../types/ethers-contracts/factories/LeveragedTokenFactory__factory.ts";
import { Chain } from "./support/chain.ts";
import { measureFillLatency, realTimeFeeder, reportLatency } from "./support/forward.ts";
import { json, runLt } from "./support/lt.ts";
import { deploy, E2E_ARTIFACTS, feeder, keeper, rpc } from "./support/processes.ts";
import { nodeSuite } from "./support/suite.ts";

describe("e2e: anvil", function () {
  this.timeout(240_000);
  let book: AddressBook;
  let chain: Chain;
  const suite = nodeSuite("anvil", () => chain);
  const { dirs, children } = suite;

  it("deploys the whole system (the token, over 24 KB of creation code, through the factory), idempotently", async function () {
    ({ book } = await deploy(suite.target));
    expect(book.chainId).to.equal(31337);
    chain = new Chain(suite.target.url, book);
    const factory = LeveragedTokenFactory__factory.connect(book.factory, chain.provider);
    const artifact = JSON.parse(
      readFileSync(join(E2E_ARTIFACTS, "contracts/LeveragedToken.sol/LeveragedToken.json"), "utf8"),
    ) as { bytecode: string };
    expect(await factory.tokenCodeHash()).to.equal(keccak256(artifact.bytecode));
    for (const [symbol, address] of Object.entries(book.tokens)) {
      expect(await factory.tokenBySymbol(symbol)).to.equal(address);
      const code = await rpc<string>(suite.target.url, "eth_getCode", [address, "latest"]);
      expect((code.length - 2) / 2).to.be.within(1, 24_576); // runtime code under the EIP-170 limit
    }
    const deployer = await (await chain.signer(0)).getAddress();
    const nonce = await chain.provider.getTransactionCount(deployer);
    expect((await deploy(suite.target)).book).to.deep.equal(book);
    expect(await chain.provider.getTransactionCount(deployer)).to.equal(nonce);
    await chain.prepare();
  });

  it("a 12% BTC drop: the running keeper brings BTC3L back to 3x within one poll", async function () {
    const k = keeper(suite.target, ["--interval", "250"]);
    children.push(k);
    await k.waitFor((l) => l.event === "started", 20_000, "start");
    const pushed = await feeder(suite.target, ["--jump", "BTC:-12%"]);
    const priceBlock = Number(pushed.find((l) => l.event === "prices")!.block);
    const line = await k.waitFor(
      (l) => l.event === "rebalanced" && l.token === "BTC3L",
      10_000,
      "BTC3L rebalanced",
    );
    expect(Number(line.leverageBefore)).to.be.greaterThan(4);
    expect(Math.abs(Number(line.leverageAfter) - 3)).to.be.lessThan(0.01);
    expect(Number(line.block)).to.equal(priceBlock + 1);
    const token = await chain.token("BTC3L");
    expect((await token.rebalanceNeeded())[0]).to.equal(false);
    expect(await k.stop("SIGTERM")).to.equal(0);
    expect(k.lines.at(-1)!.event).to.equal("stopped");
  });

  it("replays a GBM path in fast mode: block time moves with the path and no feed goes stale", async function () {
    const before = (await chain.provider.getBlock("latest"))!.timestamp;
    const lines = await feeder(suite.target, [
      "--gbm",
      "--seed",
      "3",
      "--vol",
      "0.8",
      "--step",
      "2h",
      "--steps",
      "12",
      "--fast",
    ]);
    const steps = lines.filter((l) => l.event === "prices");
    expect(steps).to.have.length(12);
    expect(Number(steps.at(-1)!.timestamp) - before).to.be.within(24 * 3600, 24 * 3600 + 5);
    // every feed was refreshed at the last step, so the exchange still prices every token
    for (const symbol of Object.keys(book.tokens)) {
      await (await chain.token(symbol)).rebalanceNeeded();
    }
    const feed = await chain.feed("ETH");
    const [, , , updatedAt] = await feed.latestRoundData();
    expect(Number(updatedAt)).to.equal(Number(steps.at(-1)!.timestamp));
  });

  it("lt mint and lt redeem go through the desks, filled by the running keeper at the feeder's next round; request to fill latency within 3 feeder periods (anvil)", async function () {
    const period = 2;
    const k = keeper(suite.target, ["--interval", "250"], "keeper (desks)");
    const feed = realTimeFeeder(suite.target, period);
    children.push(k, feed);
    try {
      await k.waitFor((l) => l.event === "started", 20_000, "start");
      await feed.waitFor((l) => l.event === "prices", 20_000, "the first prices");
      const lt = (args: string[]) =>
        runLt([
          "--network",
          "anvil",
          "--rpc",
          suite.target.url,
          "--deployments",
          suite.target.deployments,
          "--json",
          ...args,
        ]);
      const minted = json<{ status: string; shares: string; fillTx: string }>(
        await lt(["mint", "BTC3S", "500", "--deadline", "60s"]),
      );
      expect(minted.status).to.equal("claimed");
      expect(Number(minted.shares)).to.be.greaterThan(0);
      expect(
        (await k.waitFor((l) => l.event === "filled" && l.tx === minted.fillTx, 10_000, "fill")).token,
      ).to.equal("BTC3S");
      const redeemed = json<{ status: string; usdt: string }>(
        await lt(["redeem", "BTC3S", "all", "--deadline", "60s"]),
      );
      expect(redeemed.status).to.equal("claimed");
      expect(Number(redeemed.usdt)).to.be.greaterThan(0);
      const requests = json<{ tokens: { pendingUsdt: string; claimableShares: string }[] }>(
        await lt(["requests"]),
      );
      for (const t of requests.tokens) expect(t.pendingUsdt).to.equal("0");

      const l = await measureFillLatency(suite.target, chain, "ETH3L", 6);
      reportLatency("anvil", period, l);
      for (const x of l) {
        expect(x.seconds).to.be.at.most(3 * period);
        expect(x.blocks).to.be.at.least(1);
      }
    } finally {
      await feed.stop("SIGTERM");
      await k.stop("SIGTERM");
    }
  });

  it("rejects a bad CSV row with its line number", async function () {
    const file = join(dirs.dir, "bad.csv");
    writeFileSync(file, "timestamp,price\n1700000000,90000\n1700003600,-5\n");
    const err = await feeder(suite.target, ["--csv", file, "--market", "BTC"]).catch((e: Error) => e.message);
    expect(err).to.match(/exited with 1/);
    expect(err).to.include('bad.csv line 3: price "-5" is not a positive decimal number');
  });
});
