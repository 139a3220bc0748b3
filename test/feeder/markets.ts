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
import { refreshFor } from "../../src/feeder/cli.ts";
import { gbmJoin, gbmPlan, jumpPlan, parseJump } from "../../src/feeder/plan.ts";
import type { MockPriceFeed } from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();
const P = 10n ** 8n;
const SOL = encodeBytes32String("SOL");

/** SOL as `lt admin market SOL 150` lists it: a feed that pushes to the exchange, then addMarket. */
async function listSol(s: Awaited<ReturnType<typeof deploySystem>>, updater: string): Promise<MockPriceFeed> {
  const sol = (await ethers.deployContract("MockPriceFeed", [
    "SOL / USD",
    150n * P,
    updater,
  ])) as unknown as MockPriceFeed;
  if (updater !== (await ethers.provider.getSigner(0)).address) {
    // the feed's admin is `updater`: it points the feed at the exchange
    await sol.connect(await ethers.getSigner(updater)).setListener(await s.vault.getAddress(), SOL);
  } else {
    await sol.setListener(await s.vault.getAddress(), SOL);
  }
  await s.vault.addMarket(SOL, await sol.getAddress(), 3600, MARKETS.ETH.fundingRate, 0n);
  return sol;
}

/** The system with BTC and ETH only, and its address book (no SOL yet). */
async function bare() {
  const [admin] = await ethers.getSigners();
  const s = await deploySystem(ethers, { tokens: [] });
  const book: AddressBook = {
    chainId: 31337,
    usdt: await s.usdt.getAddress(),
    perpVault: await s.vault.getAddress(),
    factory: await s.factory.getAddress(),
    feeds: { BTC: await s.feeds.BTC.getAddress(), ETH: await s.feeds.ETH.getAddress() },
    tokens: {},
  };
  return { s, book, admin: admin! };
}

async function setup() {
  const [admin] = await ethers.getSigners();
  const s = await deploySystem(ethers, { tokens: [] });
  const sol = await listSol(s, admin!.address);
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

  it("feeds a market listed while it runs, from the next refresh on, on its own GBM path (feeder-markets-added)", async function () {
    const { s, book, admin } = await networkHelpers.loadFixture(bare);
    const lines: (LogFields & { event: string })[] = [];
    const gbm = { seed: 4, drift: 0, volatility: 0.8, stepSeconds: 3600, steps: 12 };
    let listing: Promise<MockPriceFeed> | undefined;
    const feeder = new Feeder(
      ethers.provider,
      admin,
      await listedFeeds(book, ethers.provider),
      (event, f) => {
        lines.push({ event, ...f });
        // `lt admin market SOL 150` while the feeder runs: after its first push
        if (event === "prices" && f?.step === 1) listing = listSol(s, admin.address);
      },
      {
        fast: false,
        speed: 3600 * 8, // an hour of path every 125 ms
        refresh: {
          every: 2,
          list: () => listedFeeds(book, ethers.provider),
          join: (market, start, done) => gbmJoin(gbm, market, 2, start, done),
        },
      },
    );
    const plan = gbmPlan({ ...gbm, markets: ["BTC", "ETH"], starts: await feeder.currentPrices() });
    expect(await feeder.run(plan)).to.equal(12);
    const sol = await listing!;
    const added = lines.filter((l) => l.event === "feeder-markets-added");
    expect(added).to.have.length(1);
    expect(added[0]).to.deep.include({ markets: ["SOL"], feeds: { SOL: await sol.getAddress() } });
    const after = added[0]!.afterStep as number;
    expect(after % 2).to.equal(0);
    expect(after).to.be.within(2, 10);
    expect(feeder.markets).to.deep.equal(["BTC", "ETH", "SOL"]);
    // every step after the refresh pushed SOL, along the path it joined from 150 USD at that step
    const steps = lines.filter((l) => l.event === "prices");
    const withSol = steps.filter((l) => (l.prices as Record<string, string>).SOL !== undefined);
    expect(withSol.map((l) => l.step)).to.deep.equal(steps.slice(after).map((l) => l.step));
    const path = gbmJoin(gbm, "SOL", 2, 150n * P, after);
    expect(path).to.have.length(12 - after);
    const last = path.at(-1)!.prices.SOL!;
    expect(last).to.not.equal(150n * P);
    expect((await sol.latestRoundData())[1]).to.equal(last);
    expect(await s.vault.markPrice(SOL)).to.equal(last);
    // BTC and ETH kept their own paths
    expect((await s.feeds.BTC.latestRoundData())[1]).to.equal(plan.at(-1)!.prices.BTC);
  });

  it("fast: keeps a market listed while it runs fresh at every step; a market it may not update is skipped in one line", async function () {
    const { s, book, admin } = await networkHelpers.loadFixture(bare);
    const [, , , , stranger] = await ethers.getSigners();
    const lines: (LogFields & { event: string })[] = [];
    const feeder = new Feeder(
      ethers.provider,
      admin,
      await listedFeeds(book, ethers.provider),
      (event, f) => lines.push({ event, ...f }),
      { fast: true, speed: 1, refresh: { every: 1, list: () => listedFeeds(book, ethers.provider) } },
    );
    // listed before the first refresh, fed by someone else: the feeder cannot update it
    const sol = await listSol(s, stranger!.address);
    const first = jumpPlan([parseJump("BTC:-5%"), parseJump("BTC:+5%")], await feeder.currentPrices(), 3600);
    expect(await feeder.run(first)).to.equal(2);
    const skipped = lines.filter((l) => l.event === "feeder-market-skipped");
    expect(skipped).to.have.length(1);
    expect(skipped[0]).to.deep.include({ market: "SOL", feed: await sol.getAddress() });
    expect(skipped[0]!.message).to.match(
      /^the feeder signs as 0x[0-9a-fA-F]{40}, which may not update the SOL feed/,
    );
    expect(feeder.markets).to.deep.equal(["BTC", "ETH"]);
    expect(lines.filter((l) => l.event === "feeder-markets-added")).to.deep.equal([]);

    // the feed's admin grants the role: the next refresh adds SOL, and every fast step then pushes it
    await sol.connect(stranger!).grantRole(await sol.UPDATER_ROLE(), admin.address);
    const again = new Feeder(ethers.provider, admin, book.feeds, (event, f) => lines.push({ event, ...f }), {
      fast: true,
      speed: 1,
      refresh: { every: 1, list: () => listedFeeds(book, ethers.provider) },
    });
    const plan = jumpPlan(
      [parseJump("BTC:-5%"), parseJump("BTC:+5%"), parseJump("BTC:+1%")],
      await again.currentPrices(),
      7200,
    );
    expect(await again.run(plan)).to.equal(3);
    expect(lines.filter((l) => l.event === "feeder-markets-added").map((l) => l.afterStep)).to.deep.equal([
      1,
    ]);
    const now = await networkHelpers.time.latest();
    expect(Number((await sol.latestRoundData())[3])).to.equal(now); // pushed in the last step's block
    expect(await s.vault.markPrice(SOL)).to.equal(150n * P); // not stale two hours later
    const last = lines.filter((l) => l.event === "prices").at(-1)!;
    expect(last.prices).to.deep.include({ SOL: "150.0" });
  });

  it("re-reads the markets only with every market: an explicit --market stays as given", function () {
    const list = () => Promise.resolve({});
    expect(refreshFor(undefined, 5, list)).to.deep.include({ every: 5, join: undefined });
    expect(refreshFor(undefined, 0, list)?.every).to.equal(0);
    expect(refreshFor("BTC", 5, list)).to.equal(undefined);
    const gbm = { seed: 1, drift: 0, volatility: 0.5, stepSeconds: 60, steps: 10 };
    const join = refreshFor(undefined, 5, list, gbm, 2)!.join!;
    expect(join("SOL", 150n * P, 4)).to.deep.equal(gbmJoin(gbm, "SOL", 2, 150n * P, 4));
    expect(join("AVAX", 30n * P, 6)).to.deep.equal(gbmJoin(gbm, "AVAX", 3, 30n * P, 6)); // the next seed
  });
});
