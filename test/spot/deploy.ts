// The Ignition deploy on the in-process network: Uniswap V2 from the published artifacts, one
// token/USDT pool per token seeded at NAV, and `pools` and `uniswap` in the address book.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { artifacts, network } from "hardhat";
import { deployToNetwork } from "../../src/chain/deployNetwork.ts";
import { SPOT } from "../../src/common/params.ts";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { LeveragedTokenFactory__factory } from "../../types/ethers-contracts/factories/LeveragedTokenFactory__factory.ts";
import { InstantDesk__factory } from "../../types/ethers-contracts/factories/mocks/InstantDesk__factory.ts";
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

  it("makes every token with its desk, records the desks, seeds through them and leaves KEEPER_ROLE with the keeper alone", async function () {
    const [deployer, keeper] = await ethers.getSigners();
    const { book } = await deployToNetwork(connection, artifacts, {
      deploymentsDir: dir,
      keeper: keeper!.address,
    });
    expect(Object.keys(book.desks ?? {})).to.deep.equal(Object.keys(book.tokens));
    for (const [symbol, tokenAddress] of Object.entries(book.tokens)) {
      const token = LeveragedToken__factory.connect(tokenAddress, ethers.provider);
      const desk = ForwardDesk__factory.connect(book.desks![symbol]!, ethers.provider);
      expect(await token.desk()).to.equal(book.desks![symbol]);
      expect(await desk.share()).to.equal(tokenAddress);
      expect(await desk.fillDelay()).to.equal(3600n);
      // the seed was requested, filled in a later price round and claimed: nothing is left in the desk
      const [open, next] = await desk.epochs();
      expect(open).to.equal(1n);
      expect(next).to.equal(2n);
      expect(await desk.maxMint(deployer!.address)).to.equal(0n);
      expect(await token.balanceOf(book.desks![symbol]!)).to.equal(0n);
      expect(await token.balanceOf(deployer!.address)).to.be.greaterThan(0n); // what the pool did not take
      const role = await token.KEEPER_ROLE();
      expect(await token.hasRole(role, keeper!.address)).to.equal(true);
      expect(await token.hasRole(role, deployer!.address)).to.equal(false);
    }
  });

  it("deploys the attack test's comparison system when asked: every token with an InstantDesk, no desks in the book", async function () {
    const { book } = await deployToNetwork(connection, artifacts, {
      deploymentsDir: dir,
      instantTokens: true,
    });
    // the tools would take a listed desk for a ForwardDesk: the book lists none
    expect(book.desks).to.equal(undefined);
    const factory = LeveragedTokenFactory__factory.connect(book.factory, ethers.provider);
    for (const [symbol, tokenAddress] of Object.entries(book.tokens)) {
      const token = LeveragedToken__factory.connect(tokenAddress, ethers.provider);
      const desk = await token.desk();
      expect(desk).to.not.equal(ethers.ZeroAddress);
      expect(await factory.deskOf(tokenAddress)).to.equal(desk);
      const instant = InstantDesk__factory.connect(desk, ethers.provider);
      expect(await instant.token()).to.equal(tokenAddress);
      expect(await instant.usdt()).to.equal(book.usdt);
      // the seed was one deposit through it, and the pool holds the seed at NAV as with ForwardDesks
      const r = await reservesOf(connectPair(book.pools![symbol]!, ethers.provider), book.usdt);
      expect(r.token).to.equal(SPOT.seedTokens);
      expect(await token.balanceOf(desk)).to.equal(0n);
    }
  });
});
