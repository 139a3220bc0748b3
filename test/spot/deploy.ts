// The Ignition deploy on the in-process network: Uniswap V2 from the published artifacts, one
// token/USDT pool per token seeded at NAV, and `pools` and `uniswap` in the address book.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { artifacts, network } from "hardhat";
import { deployToNetwork } from "../../src/chain/deployNetwork.ts";
import { SPOT } from "../../src/chain/params.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { reservesOf } from "../../src/spot/arbitrage.ts";
import { connectFactory, connectPair, connectRouter } from "../../src/spot/uniswap.ts";

const connection = await network.create();
const { ethers } = connection;

describe("Spot market: Ignition deploy (in-process network)", function () {
  const dir = mkdtempSync(join(tmpdir(), "lt-spot-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("deploys Uniswap V2 and a pool per token seeded at NAV, and lists them in the address book", async function () {
    const { book } = await deployToNetwork(connection, artifacts, { deploymentsDir: dir });
    expect(Object.keys(book.pools ?? {})).to.deep.equal(Object.keys(book.tokens));
    const uni = book.uniswap!;
    const factory = connectFactory(uni.factory, ethers.provider);
    const router = connectRouter(uni.router, ethers.provider);
    expect(await router.factory()).to.equal(uni.factory);
    expect(await router.WETH()).to.equal(uni.weth);
    for (const [symbol, tokenAddress] of Object.entries(book.tokens)) {
      const pool = book.pools![symbol]!;
      expect(await factory.getPair(tokenAddress, book.usdt)).to.equal(pool);
      const r = await reservesOf(connectPair(pool, ethers.provider), book.usdt);
      expect(r.token).to.equal(SPOT.seedTokens);
      const nav = await LeveragedToken__factory.connect(tokenAddress, ethers.provider).nav();
      // seeded at 1 USDT a token, a new token's NAV; NAV after the seed mint is within 0.01% of it
      expect(r.usdt).to.equal((SPOT.seedTokens * 10n ** 6n) / 10n ** 18n);
      expect(Number(nav) / 1e6).to.be.within(0.9999, 1.0001);
      // the router finds the factory's pair (the pair's init-code hash matches the router's)
      const [, out] = await router.getAmountsOut(10n ** 18n, [tokenAddress, book.usdt]);
      expect(out).to.be.greaterThan(990_000n);
    }
  });
});
