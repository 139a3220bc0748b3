// The operator's commands end to end (`lt admin ...` as a subprocess against a hardhat node this file
// starts): a new market and new tokens from the factory, listed by every tool from the chain; a pool
// at NAV, seeded from the operator's own tokens; roles, pause, fees, cap, treasury, Automation, delisting
// and settlement; and each refusal as its one sentence, before anything is sent. Every token mints and
// redeems through its desk: a waited `lt mint`/`lt redeem` gets its price round and fill from the test
// as soon as its request is placed (support/desk.ts).
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeBytes32String, id, parseEther, parseUnits, Wallet } from "ethers";
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";
import { type AddressBook, readAddressBook, writeAddressBook } from "../../src/chain/addressBook.ts";
import { MARKETS } from "../../src/common/params.ts";
import { addressesOf, deployUniswap } from "../../src/spot/uniswap.ts";
import { deployOn, type Deployment, isolated as isolatedOn, type LocalNode, startNode } from "./nodes.ts";
import { waited } from "./support/desk.ts";
import { expectPlainError, json, runLt } from "./support/lt.ts";
import { keeper } from "./support/processes.ts";

const WAD = 10n ** 18n;
const KEEPER_ROLE = id("KEEPER_ROLE");

describe("lt admin, the operator's commands, against a hardhat node", function () {
  this.timeout(300_000);
  let node: LocalNode | undefined;
  let dep: Deployment;
  let admin: string;
  let artifact: string;
  let deskArtifact: string;
  let outsider: { address: string; privateKey: string };

  const lt = (args: string[], env: Record<string, string> = {}) =>
    runLt(["--rpc", node!.url, "--deployments", dep.dir, ...args], env);
  const send = (method: string, params: unknown[] = []) => dep.ethers.provider.send(method, params);
  const book = (): AddressBook => readAddressBook("localhost", dep.dir);
  const ALL = ["BTC3L", "BTC3S", "ETH3L", "ETH3S", "ETH5S", "SOL2L"];
  const tokenAt = async (symbol: string): Promise<LeveragedToken> =>
    LeveragedToken__factory.connect(await dep.system.factory.tokenBySymbol(symbol), dep.ethers.provider);
  const isolated = (fn: () => Promise<void>) => isolatedOn(dep, fn);

  before(async function () {
    node = await startNode("hardhat");
    dep = await deployOn(node.url);
    const [signer] = await dep.ethers.getSigners();
    admin = signer!.address;
    await (await dep.system.usdt.mint(admin, 1_000_000n * 10n ** 6n)).wait();
    // the token code the factory accepts (coverage-instrumented under --coverage), as an artifact
    artifact = join(dep.dir, "LeveragedToken.json");
    writeFileSync(artifact, JSON.stringify({ bytecode: dep.system.tokenCreationCode }));
    deskArtifact = join(dep.dir, "ForwardDesk.json");
    writeFileSync(deskArtifact, JSON.stringify({ bytecode: dep.system.deskCreationCode }));
    const uniswap = await addressesOf(await deployUniswap(signer!));
    writeAddressBook("localhost", { ...dep.book, uniswap }, dep.dir);
    outsider = Wallet.createRandom();
    await (await signer!.sendTransaction({ to: outsider.address, value: parseEther("1") })).wait();
  });

  after(async function () {
    await dep?.close();
    await node?.stop();
  });

  it("lists a market, creates tokens on it and beside the first four, and every tool lists them from the chain", async function () {
    const market = json(await lt(["admin", "market", "SOL", "150", "--json"]));
    expect(market.price).to.equal("150");
    expect(book().feeds.SOL).to.equal(market.feed);
    expect(await dep.system.vault.markPrice(encodeBytes32String("SOL"))).to.equal(150n * 10n ** 8n);
    expectPlainError(await lt(["admin", "market", "sol", "160"]), "the exchange lists SOL already");

    const eth5s = json<{ symbol: string; address: string; band: string[]; ripcordLeverage: string }>(
      await lt([
        "admin",
        "create",
        "ETH",
        "5",
        "short",
        "--artifact",
        artifact,
        "--desk-artifact",
        deskArtifact,
        "--json",
      ]),
    );
    expect(eth5s.symbol).to.equal("ETH5S");
    expect(await dep.system.factory.tokenBySymbol("ETH5S")).to.equal(eth5s.address);
    const token = await tokenAt("ETH5S");
    expect(await token.targetLeverage()).to.equal(5n * WAD);
    expect(await token.isLong()).to.equal(false);
    expect(await token.minLeverage()).to.equal((5n * WAD * 2n) / 3n);
    expect(await token.maxLeverage()).to.equal((5n * WAD * 4n) / 3n);
    expect(await token.ripcordLeverage()).to.equal(75n * 10n ** 17n);
    expect(eth5s.ripcordLeverage).to.equal("7.5");
    // fees go where the first four's do (the deploy's treasury), not to the operator
    expect(await token.treasury()).to.equal(await dep.system.tokens.BTC3L!.treasury());

    const sol = json<{ symbol: string }>(
      await lt([
        "admin",
        "create",
        "sol",
        "2x",
        "long",
        "--max",
        "2.5",
        "--ripcord",
        "3",
        "--artifact",
        artifact,
        "--desk-artifact",
        deskArtifact,
        "--json",
      ]),
    );
    expect(sol.symbol).to.equal("SOL2L");
    expect(await (await tokenAt("SOL2L")).maxLeverage()).to.equal(25n * 10n ** 17n);

    // listed from the factory, even by an address book that never heard of them
    writeAddressBook("localhost", { ...book(), tokens: dep.book.tokens }, dep.dir);
    const tokens = json<{ tokens: { symbol: string; side: string }[] }>(await lt(["tokens", "--json"]));
    expect(tokens.tokens.map((t) => t.symbol)).to.deep.equal([
      "BTC3L",
      "BTC3S",
      "ETH3L",
      "ETH3S",
      "ETH5S",
      "SOL2L",
    ]);
    expect(tokens.tokens[4]!.side).to.equal("short");
    // a token made by lt admin create mints through its desk like the first four: the request, a round
    // of SOL (a market lt admin listed) and the fill, the claim
    const minted = json<{ status: string; shares: string; estimate: string; navAfterFill: string }>(
      await waited(dep, lt, admin, "mint", "SOL2L", "1000"),
    );
    expect(minted.status).to.equal("claimed");
    expect(parseUnits(minted.shares, 18)).to.equal(await (await tokenAt("SOL2L")).balanceOf(admin));
    // at the same SOL price a round later: the estimate at the request, to a millionth
    const estimate = parseUnits(minted.estimate, 18);
    expect(parseUnits(minted.shares, 18)).to.be.within(
      estimate - estimate / 1_000_000n,
      estimate + estimate / 1_000_000n,
    );
    const [infoRun, infoText] = await Promise.all([lt(["info", "eth5s", "--json"]), lt(["info", "ETH5S"])]);
    expect(json<{ targetLeverage: string }>(infoRun).targetLeverage).to.equal("5");
    expect(infoText.stdout).to.match(/position\s+none \(short token\), equity 0\.00 USDT/);

    // the keeper watches them too
    const run = keeper({ network: "localhost", url: node!.url, deployments: dep.dir, journals: dep.dir }, [
      "--once",
      "--dry-run",
    ]);
    expect(await run.exited, run.tail()).to.equal(0);
    const started = run.lines.find((l) => l.event === "started");
    expect(started?.tokens).to.deep.equal(ALL);
  });

  it("refuses a token the factory or the token would refuse, saying why, before sending", async function () {
    const env = { LT_PRIVATE_KEY: outsider.privateKey };
    const [tooHigh, unlisted, exists, band, notDeployer, noArtifact] = await Promise.all([
      lt(["admin", "create", "ETH", "6", "long"]),
      lt(["admin", "create", "DOGE", "3", "long", "--artifact", artifact]),
      lt(["admin", "create", "ETH", "3", "long", "--artifact", artifact]),
      lt(["admin", "create", "ETH", "4", "long", "--min", "4.5", "--artifact", artifact]),
      lt(["admin", "create", "ETH", "2", "long", "--artifact", artifact], env),
      lt(["admin", "create", "ETH", "2", "long", "--artifact", join(dep.dir, "missing.json")]),
    ]);
    expectPlainError(tooHigh, "a token's leverage must be from 2x to 5x (got 6)");
    expectPlainError(
      unlisted,
      "the exchange does not list DOGE; list it first: lt admin market DOGE <price>",
    );
    expectPlainError(exists, `ETH3L exists already, at ${await dep.system.tokens.ETH3L!.getAddress()}`);
    expectPlainError(
      band,
      "ETH4L would be refused: the band's lower edge 4.50x must be above 0x and below the target 4.00x",
    );
    expectPlainError(
      notDeployer,
      `the account ${outsider.address} cannot create ETH2L: it lacks DEPLOYER_ROLE on the factory`,
    );
    expectPlainError(noArtifact, "cannot read the artifact");
    expect(await dep.system.factory.tokenBySymbol("ETH2L")).to.equal(
      "0x0000000000000000000000000000000000000000",
    );
  });

  it("creates a pool at NAV, from the operator's own tokens, that lt price reads", async function () {
    // only the desk mints: the seed is tokens the operator minted through it
    expectPlainError(
      await lt(["admin", "pool", "ETH5S", "--tokens", "1000"]),
      "ETH5S mints only through its desk, at the next price round, so its pool is seeded from your own ETH5S: you hold 0",
    );
    expect(json<{ status: string }>(await waited(dep, lt, admin, "mint", "ETH5S", "1100")).status).to.equal(
      "claimed",
    );
    const held = await (await tokenAt("ETH5S")).balanceOf(admin);
    const pool = json<{ pool: string; nav: string; reserveTokens: string; reserveUsdt: string }>(
      await lt(["admin", "pool", "ETH5S", "--tokens", "1000", "--json"]),
    );
    expect(book().pools?.ETH5S).to.equal(pool.pool);
    expect(pool.reserveTokens).to.equal("1000");
    expect(await (await tokenAt("ETH5S")).balanceOf(admin)).to.equal(held - 1000n * WAD);
    const nav = parseUnits(pool.nav, 6);
    expect(parseUnits(pool.reserveUsdt, 6)).to.equal((1000n * WAD * nav) / WAD);
    const price = json<{ spot: string; nav: string }>(await lt(["price", "ETH5S", "--json"]));
    expect(price.spot).to.equal(pool.nav);
    expectPlainError(await lt(["admin", "pool", "ETH5S"]), `ETH5S has a pool already, at ${pool.pool}`);
  });

  it("grants and revokes the keeper role on one token or all, and pauses and resumes minting", async function () {
    const keeperAddress = Wallet.createRandom().address;
    const granted = json<{ tokens: { symbol: string; tx: string | null }[] }>(
      await lt(["admin", "keeper", "grant", "all", keeperAddress, "--json"]),
    );
    expect(granted.tokens.map((t) => t.symbol)).to.deep.equal(ALL);
    for (const symbol of ALL) {
      expect(await (await tokenAt(symbol)).hasRole(KEEPER_ROLE, keeperAddress), symbol).to.equal(true);
    }
    const again = await lt(["admin", "keeper", "grant", "ETH5S", keeperAddress]);
    expect(again.stdout).to.include(`${keeperAddress} already holds KEEPER_ROLE; nothing was sent`);
    expect(json(await lt(["admin", "keeper", "revoke", "ETH5S", keeperAddress, "--json"])).action).to.equal(
      "keeper-revoke",
    );
    expect(await (await tokenAt("ETH5S")).hasRole(KEEPER_ROLE, keeperAddress)).to.equal(false);
    expectPlainError(
      await lt(["admin", "keeper", "grant", "ETH5S", keeperAddress], { LT_PRIVATE_KEY: outsider.privateKey }),
      `the account ${outsider.address} cannot grant ETH5S's keeper role: it lacks DEFAULT_ADMIN_ROLE on ETH5S`,
    );

    expect((await lt(["admin", "pause", "ETH5S"])).code).to.equal(0);
    expect((await (await tokenAt("ETH5S")).status()).mintPaused).to.equal(true);
    expectPlainError(await lt(["mint", "ETH5S", "10"]), "minting ETH5S is paused by its operator");
    expect((await lt(["admin", "pause", "ETH5S"])).stdout).to.include(
      "minting ETH5S is already paused; nothing was sent",
    );
    expect((await lt(["admin", "resume", "ETH5S"])).code).to.equal(0);
    expect((await (await tokenAt("ETH5S")).status()).mintPaused).to.equal(false);
  });

  it("sets fees, the supply cap and the treasury within the token's rules", async function () {
    const token = await tokenAt("ETH5S");
    const before = await token.fees();
    const fees = json(await lt(["admin", "fees", "ETH5S", "--mint", "0.1%", "--bounty", "7", "--json"]));
    expect(fees.action).to.equal("fees");
    const after = await token.fees();
    expect(after.mintFee).to.equal(10n ** 15n);
    expect(after.rebalanceBounty).to.equal(7n * 10n ** 6n);
    expect(after.redeemFee).to.equal(before.redeemFee);
    expect(after.managementFee).to.equal(before.managementFee);
    const [overCap, finer, none] = await Promise.all([
      lt(["admin", "fees", "ETH5S", "--mint", "2%"]),
      lt(["admin", "fees", "ETH5S", "--redeem", "0.00001%"]),
      lt(["admin", "fees", "ETH5S"]),
    ]);
    expectPlainError(overCap, "the mint fee 2% is above its cap of 1%");
    expectPlainError(finer, "the redeem fee 0.00001% is finer than the token stores (whole pips, 0.0001%)");
    expectPlainError(none, "say which fee to set");

    expect(json(await lt(["admin", "cap", "ETH5S", "5000", "--json"])).supplyCap).to.equal("5000");
    expect(await token.supplyCap()).to.equal(5000n * WAD);
    expect(json(await lt(["admin", "cap", "ETH5S", "none", "--json"])).supplyCap).to.equal(null);
    expect(await token.supplyCap()).to.equal(2n ** 128n - 1n);

    const [, , third] = await dep.ethers.getSigners();
    expect((await lt(["admin", "treasury", "ETH5S", third!.address])).code).to.equal(0);
    expect(await token.treasury()).to.equal(third!.address);
    expectPlainError(await lt(["admin", "treasury", "ETH5S", "0x1234"]), '"0x1234" is not an address');
  });

  it("prints what Chainlink Automation needs, measured on a snapshot, and grants the forwarder", async function () {
    const btc3l = dep.system.tokens.BTC3L!;
    expect(json<{ status: string }>(await waited(dep, lt, admin, "mint", "BTC3L", "1000")).status).to.equal(
      "claimed",
    );
    const priceBefore = await dep.system.vault.markPrice(MARKETS.BTC.id);
    const forwarder = Wallet.createRandom().address;
    const upkeep = json<{
      target: string;
      checkData: string;
      gasLimit: string;
      measuredGas: string;
      grantTx: string;
    }>(await lt(["admin", "automation", "BTC3L", "--forwarder", forwarder, "--json"]));
    expect(upkeep.target).to.equal(await btc3l.getAddress());
    expect(upkeep.checkData).to.equal("0x");
    const measured = BigInt(upkeep.measuredGas);
    expect(measured).to.be.greaterThan(50_000n);
    expect(BigInt(upkeep.gasLimit)).to.equal((measured * 3n + 1n) / 2n);
    expect(await btc3l.hasRole(KEEPER_ROLE, forwarder)).to.equal(true);
    // the measurement moved the price on a snapshot only
    expect(await dep.system.vault.markPrice(MARKETS.BTC.id)).to.equal(priceBefore);
    expect((await btc3l.rebalanceNeeded())[0]).to.equal(false);
    // the measured gas is what performUpkeep then costs at the band's edge
    const info = json<{ live: { triggers: { atMaxLeverage: string } } }>(
      await lt(["info", "BTC3L", "--json"]),
    );
    const edge = parseUnits(info.live.triggers.atMaxLeverage, 8);
    await isolated(async () => {
      await (await dep.system.feeds.BTC.updateAnswer(edge + edge / 100n)).wait();
      const gas = await (await tokenAt("BTC3L")).performUpkeep.estimateGas("0x", { from: forwarder });
      expect(gas).to.be.within((measured * 98n) / 100n, (measured * 102n) / 100n);
    });
  });

  it("delists with the notice the token needs, refuses an early settlement, and settles at the delisting time", async function () {
    await isolated(async () => {
      const token = await tokenAt("SOL2L");
      expect((await lt(["admin", "pool", "SOL2L", "--tokens", "100"])).code).to.equal(0);
      expectPlainError(
        await lt(["admin", "delist", "SOL2L", "--in", "1d"]),
        "a delisting needs at least 3 days' notice",
      );
      const delisted = json<{ delistingTime: number }>(await lt(["admin", "delist", "SOL2L", "--json"]));
      expect(await token.state()).to.equal(1n);
      expect(await token.delistingTime()).to.equal(BigInt(delisted.delistingTime));
      const [again, early] = await Promise.all([
        lt(["admin", "delist", "SOL2L"]),
        lt(["admin", "settle", "SOL2L"]),
      ]);
      expectPlainError(again, "SOL2L is Delisting, and only an active token can be delisted");
      expectPlainError(early, "SOL2L cannot be settled before its delisting time");

      await send("evm_setNextBlockTimestamp", [delisted.delistingTime]);
      const [signer] = await dep.ethers.getSigners();
      const feed = MockPriceFeed__factory.connect(book().feeds.SOL!, signer!);
      await (await feed.updateAnswer(150n * 10n ** 8n)).wait();
      const settled = json<{ usdtPerToken: string; settledUsdt: string }>(
        await lt(["admin", "settle", "SOL2L", "--json"]),
      );
      expect(await token.state()).to.equal(2n);
      const [assets, supply] = [await token.settledAssets(), await token.settledSupply()];
      expect(parseUnits(settled.settledUsdt, 6)).to.equal(assets);
      expect(parseUnits(settled.usdtPerToken, 6)).to.equal((assets * WAD) / supply);
      expectPlainError(await lt(["admin", "settle", "SOL2L"]), "SOL2L is already settled");
      // the frozen payout per token, with every digit, whatever nav() rounds it to
      const [nav, navText] = await Promise.all([lt(["nav", "SOL2L", "--json"]), lt(["nav", "SOL2L"])]);
      expect(parseUnits(json<{ nav: string }>(nav).nav, 18) / 10n ** 12n).to.equal(
        parseUnits(settled.usdtPerToken, 6),
      );
      expect(parseUnits(json<{ nav: string }>(nav).nav, 18)).to.equal((assets * 10n ** 30n) / supply);
      expect(json(nav).state).to.equal("Settled");
      expect(navText.stdout).to.include("settled: the frozen payout");
      // the pool of a settled token: spot against the frozen payout, not "Division by zero"
      const price = await lt(["price", "SOL2L"]);
      expect(price.code, price.stderr).to.equal(0);
      expect(price.stdout).to.match(/NAV\s+[\d.]+ USDT \(settled: the frozen payout per token\)/);
    });
  });

  it("shows a holder's position: cost basis, profit and loss and fees from its mints, redeems and transfers", async function () {
    const [signer] = await dep.ethers.getSigners();
    const holder = Wallet.createRandom();
    const friend = Wallet.createRandom().address;
    await (await signer!.sendTransaction({ to: holder.address, value: parseEther("1") })).wait();
    await (await dep.system.usdt.mint(holder.address, 1000n * 10n ** 6n)).wait();
    const env = { LT_PRIVATE_KEY: holder.privateKey };
    const minted = json<{ shares: string }>(
      await waited(dep, lt, holder.address, "mint", "ETH3S", "1000", env),
    );
    const redeemed = json<{ usdt: string }>(
      await waited(dep, lt, holder.address, "redeem", "ETH3S", "300", env),
    );
    const token = (await tokenAt("ETH3S")).connect(holder.connect(dep.ethers.provider));
    const gift = (await (await token.transfer(friend, 100n * WAD)).wait())!;
    type Row = {
      symbol: string;
      nav: string;
      shares: string;
      valueUsdt: string;
      costBasisUsdt: string;
      realisedUsdt: string;
      unrealisedUsdt: string;
      feesPaidUsdt: string;
      paidInUsdt: string;
      paidOutUsdt: string;
    };
    const [mine, theirs, text] = await Promise.all([
      lt(["position", "--json"], env),
      lt(["position", friend, "--json"]),
      lt(["position"], env),
    ]);
    const p = json<{ positions: Row[] }>(mine).positions;
    expect(p.map((r) => r.symbol)).to.deep.equal(["ETH3S"]);
    const row = p[0]!;
    const u = (v: string) => parseUnits(v, 6);
    const held = await token.balanceOf(holder.address);
    const mintedShares = parseUnits(minted.shares, 18);
    expect(parseUnits(row.shares, 18)).to.equal(held);
    expect(held).to.equal(mintedShares - 400n * WAD);
    expect(u(row.paidInUsdt)).to.equal(1000n * 10n ** 6n);
    expect(row.paidOutUsdt).to.equal(redeemed.usdt);
    // average cost: 1,000 USDT over the minted shares, for the shares still held (each of the two
    // departures rounds the basis that leaves down, so what stays may be a unit higher per step)
    const basis = (1000n * 10n ** 6n * held) / mintedShares;
    expect(u(row.costBasisUsdt)).to.be.within(basis, basis + 2n);
    const nav = await token.nav();
    // valued at the true NAV (every digit), which nav() rounds down to 6 decimals
    const trueNav = parseUnits(row.nav, 18);
    expect(trueNav / 10n ** 12n).to.be.within(nav - 1n, nav + 1n);
    expect(u(row.valueUsdt)).to.equal((held * trueNav) / 10n ** 30n);
    expect(u(row.unrealisedUsdt)).to.equal(u(row.valueUsdt) - u(row.costBasisUsdt));
    // a 3x mint pays its 0.05% fee and 3 x 0.05% taker fee: about 2 USDT on 1,000, and the redeem more
    expect(u(row.feesPaidUsdt)).to.be.within(2n * 10n ** 6n, 4n * 10n ** 6n);
    expect(u(row.realisedUsdt)).to.be.lessThan(0n); // the fees, at an unchanged price
    // the friend's tokens arrived by transfer: valued at NAV on arrival, total assets over the supply
    // in the transfer's block (not nav() now: its 6 decimals times 100 tokens are 100 units apart, and
    // funding moves NAV while the test runs); the management fee accrued since the fill's block, a few
    // seconds of it, is 0.06 units a second on 100 USDT
    const friendRow = json<{ positions: Row[] }>(theirs).positions[0]!;
    expect(friendRow.shares).to.equal("100");
    const at = { blockTag: gift.blockNumber };
    const [assetsThen, supplyThen] = await Promise.all([token.totalAssets(at), token.totalSupply(at)]);
    const arrival = (100n * WAD * ((assetsThen * 10n ** 30n) / supplyThen)) / 10n ** 30n;
    expect(u(friendRow.costBasisUsdt)).to.be.within(arrival - 5n, arrival);
    expect(text.stdout).to.match(
      /ETH3S\s+[\d,.]+\s+[\d.]+\s+[\d,.]+\s+[\d,.]+\s+-[\d,.]+\s+-[\d,.]+\s+[\d.]+/,
    );
  });

  it("quotes a mint's fee, trading cost and price impact separately, adding up to what NAV does not return", async function () {
    type Quote = {
      preview: string;
      costs: { feeUsdt: string; tradingCostUsdt: string; priceImpactUsdt: string };
    };
    const u = (v: string) => parseUnits(v, 6);
    const plain = json<Quote>(await lt(["quote", "mint", "ETH3L", "1000", "--json"]));
    // 3x: the mint fee is 0.05% of the shares, the taker fee 0.05% of about 3,000 USDT of notional
    expect(u(plain.costs.feeUsdt)).to.be.within(490_000n, 500_000n);
    expect(u(plain.costs.tradingCostUsdt)).to.be.within(1_490_000n, 1_510_000n);
    expect(plain.costs.priceImpactUsdt).to.equal("0");
    // the first mint is at NAV 1: the shares are the 1,000 USDT less every cost
    const costs = (q: Quote) => u(q.costs.feeUsdt) + u(q.costs.tradingCostUsdt) + u(q.costs.priceImpactUsdt);
    expect(parseUnits(plain.preview, 18) / 10n ** 12n).to.be.within(
      1000n * 10n ** 6n - costs(plain) - 2n,
      1000n * 10n ** 6n - costs(plain) + 2n,
    );
    await isolated(async () => {
      // 1% of the price per 1,000,000 USDT of notional: about 3,000^2 / 1e6 x 1% = 0.09 USDT
      await (await dep.system.vault.setPriceImpact(MARKETS.ETH.id, 10n ** 16n)).wait();
      const text = await lt(["quote", "mint", "ETH3L", "1000"]);
      expect(text.stdout).to.match(/price impact\s+0\.09\d* USDT/);
      const impact = json<Quote>(await lt(["quote", "mint", "ETH3L", "1000", "--json"]));
      expect(u(impact.costs.priceImpactUsdt)).to.be.within(89_000n, 91_000n);
      expect(parseUnits(impact.preview, 18)).to.be.lessThan(parseUnits(plain.preview, 18));
    });
  });

  it("shows a token depleted as soon as its equity is gone, before anyone marks it", async function () {
    await isolated(async () => {
      const eth = await dep.system.vault.markPrice(MARKETS.ETH.id);
      await (await dep.system.feeds.ETH.updateAnswer((eth * 125n) / 100n)).wait(); // a 5x short loses it all
      const [infoRun, infoText, tokensRun] = await Promise.all([
        lt(["info", "ETH5S", "--json"]),
        lt(["info", "ETH5S"]),
        lt(["tokens", "--json"]),
      ]);
      const info = json<{ state: string; stateOnChain: string; nav: string }>(infoRun);
      expect(await (await tokenAt("ETH5S")).state()).to.equal(0n); // Active on chain
      expect(info).to.include({ state: "Depleted", stateOnChain: "Active", nav: "0" });
      expect(infoText.stdout).to.include("the contract says Active until someone calls rebalance()");
      const listed = json<{ tokens: { symbol: string; state: string }[] }>(tokensRun).tokens;
      expect(listed.find((t) => t.symbol === "ETH5S")?.state).to.equal("Depleted");
      expect(listed.find((t) => t.symbol === "ETH3S")?.state).to.equal("Active");
      expectPlainError(
        await lt(["admin", "settle", "ETH5S"]),
        "ETH5S's equity is gone but the contract does not know it yet: a rebalance() marks it depleted (the keeper sends it), then it settles at zero",
      );
    });
  });

  it("creates a token with its desk by default: lt mint places a request, lt fill and lt claim complete it, and its pool is seeded from the operator's own tokens", async function () {
    const created = json<{ symbol: string; address: string; desk: string }>(
      await lt([
        "admin",
        "create",
        "BTC",
        "2",
        "short",
        "--artifact",
        artifact,
        "--desk-artifact",
        deskArtifact,
        "--json",
      ]),
    );
    expect(created.symbol).to.equal("BTC2S");
    expect(created.desk).to.equal(await dep.system.factory.deskOf(created.address));
    expect(book().desks?.BTC2S).to.equal(created.desk);
    expect(await (await tokenAt("BTC2S")).desk()).to.equal(created.desk);
    expectPlainError(
      await lt(["admin", "pool", "BTC2S", "--tokens", "10"]),
      "BTC2S mints only through its desk, at the next price round, so its pool is seeded from your own BTC2S",
    );
    const placed = json<{ status: string }>(await lt(["mint", "BTC2S", "100", "--no-wait", "--json"]));
    expect(placed.status).to.equal("pending");
    expectPlainError(await lt(["fill", "BTC2S"]), "nothing to fill on BTC2S");
    const btc = await dep.system.vault.markPrice(MARKETS.BTC.id);
    await (await dep.system.feeds.BTC.updateAnswer(btc)).wait(); // the next price round
    const filled = json<{ usdtIn: string; sharesOut: string }>(await lt(["fill", "BTC2S", "--json"]));
    expect(filled.usdtIn).to.equal("100");
    const claimed = json<{ shares: string }>(await lt(["claim", "BTC2S", "--json"]));
    expect(claimed.shares).to.equal(filled.sharesOut);
    const pool = json<{ reserveTokens: string }>(
      await lt(["admin", "pool", "BTC2S", "--tokens", "10", "--json"]),
    );
    expect(pool.reserveTokens).to.equal("10");
  });
});
