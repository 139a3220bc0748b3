// The feeder and markets beyond BTC and ETH: it finds every market the exchange lists (a SOL market
// made as `lt admin market SOL 150` makes it, whether the address book names it or not) and pushes
// it; and a signer without the feeds' UPDATER_ROLE is refused in one sentence before anything is sent.
import { expect } from "chai";
import { network } from "hardhat";
import { encodeBytes32String } from "ethers";
import type { AddressBook } from "../../src/chain/addressBook.ts";
import { deploySystem } from "../../src/chain/deploy.ts";
import { MARKETS } from "../../src/common/params.ts";
import type { LogFields } from "../../src/common/log.ts";
import { Feeder } from "../../src/feeder/feeder.ts";
import { listedFeeds } from "../../src/feeder/markets.ts";
import { gbmPlan, jumpPlan, parseJump } from "../../src/feeder/plan.ts";
import type { MockPriceFeed } from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();
const P = 10n ** 8n;
const SOL = encodeBytes32String("SOL");

async function setup() {
  const [admin] = await ethers.getSigners();
  const s = await deploySystem(ethers, { tokens: [] });
  // SOL as `lt admin market SOL 150` lists it: a feed that pushes to the exchange, then addMarket
  const sol = (await ethers.deployContract("MockPriceFeed", [
    "SOL / USD",
    150n * P,
    admin!.address,
  ])) as unknown as MockPriceFeed;
  await sol.setListener(await s.vault.getAddress(), SOL);
  await s.vault.addMarket(SOL, await sol.getAddress(), 3600, MARKETS.ETH.fundingRate, 0n);
  const book: AddressBook = {
    chainId: 31337,
    usdt: await s.usdt.getAddress(),
    perpVault: await s.vault.getAddress(),
    factory: await s.factory.getAddress(),
    feeds: { BTC: await s.feeds.BTC.getAddress(), ETH: await s.feeds.ETH.getAddress() },
    tokens: {},
  };
  return { s, sol, book, admin: admin! };
}

describe("Feeder: every listed market", function () {
  it("finds the markets the exchange lists, beyond the address book's, with the feed the exchange reads", async function () {
    const { s, sol, book } = await networkHelpers.loadFixture(setup);
    const feeds = await listedFeeds(book, ethers.provider);
    expect(feeds).to.deep.equal({
      BTC: await s.feeds.BTC.getAddress(),
      ETH: await s.feeds.ETH.getAddress(),
      SOL: await sol.getAddress(),
    });
    // an address book that names SOL (as lt admin market writes it) gives the same list, in its order
    const withSol = { ...book, feeds: { SOL: await sol.getAddress(), ...book.feeds } };
    expect(Object.keys(await listedFeeds(withSol, ethers.provider))).to.deep.equal(["SOL", "BTC", "ETH"]);
  });

  it("pushes a GBM path to SOL beside BTC and ETH, and a jump to SOL alone", async function () {
    const { s, sol, book, admin } = await networkHelpers.loadFixture(setup);
    const lines: (LogFields & { event: string })[] = [];
    const feeder = new Feeder(
      ethers.provider,
      admin,
      await listedFeeds(book, ethers.provider),
      (event, f) => lines.push({ event, ...f }),
      { fast: true, speed: 1 },
    );
    expect(feeder.markets).to.deep.equal(["BTC", "ETH", "SOL"]);
    const starts = await feeder.currentPrices();
    expect(starts.SOL).to.equal(150n * P);
    const plan = gbmPlan({
      markets: feeder.markets,
      starts,
      seed: 2,
      drift: 0,
      volatility: 0.8,
      stepSeconds: 3600,
      steps: 3,
    });
    expect(await feeder.run(plan)).to.equal(3);
    const last = plan.at(-1)!.prices;
    expect(Object.keys(last)).to.deep.equal(["BTC", "ETH", "SOL"]);
    expect((await sol.latestRoundData())[1]).to.equal(last.SOL);
    expect(await s.vault.markPrice(SOL)).to.equal(last.SOL);
    expect(last.SOL).to.not.equal(150n * P);
    const steps = lines.filter((l) => l.event === "prices");
    expect(Object.keys(steps.at(-1)!.prices as object)).to.deep.equal(["BTC", "ETH", "SOL"]);

    const before = (await sol.latestRoundData())[1];
    const jump = jumpPlan([parseJump("SOL:-10%")], await feeder.currentPrices(), 60);
    expect(await feeder.run(jump)).to.equal(1);
    expect(await s.vault.markPrice(SOL)).to.equal((before * 90n) / 100n);
  });

  it("refuses a signer without UPDATER_ROLE in one sentence, sending nothing", async function () {
    const { sol, book } = await networkHelpers.loadFixture(setup);
    const [, , , , stranger] = await ethers.getSigners();
    const feeder = new Feeder(
      ethers.provider,
      stranger!,
      await listedFeeds(book, ethers.provider),
      () => {},
      {
        fast: false,
        speed: 1000,
      },
    );
    const block = await ethers.provider.getBlockNumber();
    const plan = jumpPlan([parseJump("SOL:+5%")], await feeder.currentPrices(), 60);
    let message = "";
    await feeder.run(plan).catch((e: unknown) => (message = (e as Error).message));
    expect(message).to.equal(
      `the feeder signs as ${stranger!.address}, which may not update the SOL feed at ${await sol.getAddress()} (it lacks UPDATER_ROLE): sign with the feed's updater (--key or FEEDER_KEY), or have the feed's admin grant ${stranger!.address} the role`,
    );
    expect(message).to.not.include("\n");
    expect(await ethers.provider.getBlockNumber()).to.equal(block);
    const wrong = jumpPlan([parseJump("BTC:+5%")], { BTC: 100n * P }, 60);
    const unknown = new Feeder(ethers.provider, stranger!, { ETH: book.feeds.ETH! }, () => {}, {
      fast: false,
      speed: 1,
    });
    await unknown.run(wrong).catch((e: unknown) => (message = (e as Error).message));
    expect(message).to.equal("there is no BTC feed (the feeder knows ETH)");
  });
});
