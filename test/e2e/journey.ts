// The whole journey of issue 16 on a `hardhat node`, from the tools alone, as the README tells it: deploy
// (npm run deploy), start the keeper and the feeder, create ETH5S and a SOL market with SOL3L and SOL3S
// (lt admin market / create), mint them (lt mint: a request, the running keeper's fill at the next price
// round, the claim) and give them pools (lt admin pool), watch the keeper rebalance the new tokens
// after a move (it was started before they existed: it finds them by re-reading the factory's list),
// read lt quote and lt position, then delist ETH5S (lt admin delist) and see the keeper settle it and pay
// every holder. Every number a command prints is checked against the chain or against the others.
//
// Every mint is ONE transaction from the holder: lt mint signs a USDT permit and sends it with the
// desk's request (requestDepositWithPermit), no approval first; the keeper fills it and lt claims it.
import { expect } from "chai";
import { join } from "node:path";
import { formatUnits, HDNodeWallet, parseUnits } from "ethers";
import type { AddressBook } from "../../src/chain/addressBook.ts";
import { readAddressBook } from "../../src/chain/addressBook.ts";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";
import { Chain } from "./support/chain.ts";
import { flatDays, realTimeFeeder } from "./support/forward.ts";
import { json, runLt, type Run } from "./support/lt.ts";
import {
  deploy,
  E2E_ARTIFACTS,
  feeder,
  keeper,
  program,
  rpc,
  type Child,
  type Line,
} from "./support/processes.ts";
import { nodeSuite } from "./support/suite.ts";

const INTERVAL = 250;
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const keyOf = (i: number) =>
  HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey;
const WAD = 10n ** 18n;
const USDT = 10n ** 6n;
const DEAD = "0x000000000000000000000000000000000000dEaD";
const TOKEN_ARTIFACT = join(E2E_ARTIFACTS, "contracts/LeveragedToken.sol/LeveragedToken.json");
const DESK_ARTIFACT = join(E2E_ARTIFACTS, "contracts/ForwardDesk.sol/ForwardDesk.json");

/** A decimal string of the CLI's JSON as base units. */
const units = (text: unknown, decimals: number): bigint => parseUnits(String(text), decimals);
/** |a - b| <= tolerance */
const near = (a: bigint, b: bigint, tolerance: bigint) => (a > b ? a - b : b - a) <= tolerance;

interface Minted {
  status: string;
  symbol: string;
  shares: string;
  claimedUsdt: string;
  navAfterFill: string;
  feeShares: string;
  feeUsdt: string;
  tradingCost: string;
  bounty: string;
  batchUsdtIn: string;
  batchSharesOut: string;
  fillTx: string;
  fillBlock: number;
  requestBlock: number;
  approveTx: string | null;
  permit: boolean;
  permitDeadline: number;
  requestTx: string;
  pricePerToken: string;
  claimBlock: number;
  fillLatencyBlocks: number;
}

interface Redeemed {
  status: string;
  usdt: string;
  claimedShares: string;
  navAfterFill: string;
  feeShares: string;
  feeUsdt: string;
  tradingCost: string;
  pricePerToken: string;
  batchSharesIn: string;
  batchUsdtOut: string;
  fillTx: string;
  fillBlock: number;
  requestBlock: number;
  claimBlock: number;
  fillLatencyBlocks: number;
}

describe("e2e: the whole journey on a hardhat node (issue 16)", function () {
  this.timeout(300_000);
  let book: AddressBook;
  let chain: Chain;
  const suite = nodeSuite("hardhat", () => chain);
  const { children } = suite;
  let keeperA: Child;
  /** The real-time feeder, started before SOL is listed: it picks SOL up without a restart. */
  let feed: Child | undefined;
  const lt = (args: string[], env: Record<string, string> = {}) =>
    runLt(["--rpc", suite.target.url, "--deployments", suite.target.deployments, "--json", ...args], env);
  const ok = async <T = Record<string, unknown>>(args: string[], env: Record<string, string> = {}) => {
    const run: Run = await lt(args, env);
    expect(run.code, `lt ${args.join(" ")}: ${run.stderr}`).to.equal(0);
    return json<T>(run);
  };
  const user = { LT_PRIVATE_KEY: keyOf(2) }; // account 2: a holder who is not the operator
  const minted: Record<string, Minted> = {};
  let redeemed: Redeemed | undefined;

  /** Checks a desk mint's printed numbers against each other and the chain; returns the shares. */
  async function checkMint(symbol: string, usdtIn: bigint, m: Minted, holder: string, before: bigint) {
    expect(m.status).to.equal("claimed");
    expect([m.permit, m.approveTx], `${symbol}: one transaction, the permit in the request`).to.deep.equal([
      true,
      null,
    ]);
    expect(units(m.claimedUsdt, 6)).to.equal(usdtIn);
    // --deadline 60s: the permit sent with the request is valid for 60 s of chain time
    const sent = await chain.provider.getTransaction(m.requestTx);
    const args = (await chain.desk(symbol)).interface.decodeFunctionData(
      "requestDepositWithPermit",
      sent!.data,
    );
    expect(Number(args[2])).to.equal(m.permitDeadline);
    const requested = await chain.provider.getBlock(m.requestBlock);
    expect(m.permitDeadline - requested!.timestamp).to.be.within(50, 60);
    const shares = units(m.shares, 18);
    const token = await chain.token(symbol);
    const fee = units(m.feeShares, 18);
    const got = (await token.balanceOf(holder)) - before;
    if (holder === (await token.treasury())) {
      // the treasury's balance also counts the fee shares it was just owed (and seconds of management fee)
      expect(near(got, shares + fee, 10n ** 14n), `${symbol} shares claimed by the treasury`).to.equal(true);
    } else {
      expect(got, `${symbol} shares claimed`).to.equal(shares);
    }
    // alone in its batch: the batch is this request
    expect(units(m.batchUsdtIn, 6)).to.equal(usdtIn);
    expect(units(m.batchSharesOut, 18)).to.equal(shares);
    expect(units(m.bounty, 6)).to.equal(0n); // the keeper fills, for no bounty
    // the fill is the keeper's, at a later block than the request (the next price round)
    const filled = await keeperA.waitFor(
      (l) => l.event === "filled" && l.tx === m.fillTx,
      10_000,
      "the fill",
    );
    expect(filled.token).to.equal(symbol);
    expect(filled.usdtIn).to.equal(formatUnits(usdtIn, 6));
    expect(units(filled.sharesOut, 18)).to.equal(shares);
    expect(m.fillBlock).to.be.greaterThan(m.requestBlock);
    expect(m.fillLatencyBlocks).to.equal(m.fillBlock - m.requestBlock);
    expect(m.claimBlock).to.be.greaterThan(m.fillBlock);
    // the price paid per token, every cost included: the USDT over the shares, 18 decimals, rounded down
    expect(units(m.pricePerToken, 18)).to.equal((usdtIn * 10n ** 30n) / shares);
    // the fee: 0.05% of the shares minted, in shares, worth its shares at the NAV printed
    const nav = units(m.navAfterFill, 18);
    const gross = shares + fee;
    expect(near(fee * 10_000n, gross * 5n, gross / 100n), `fee ${m.feeShares} on ${gross}`).to.equal(true);
    expect(units(m.feeUsdt, 6)).to.equal((fee * nav) / 10n ** 30n);
    // the trading cost: the exchange's 5 bps on the position the USDT opened (leverage x the USDT)
    const leverage = (await token.targetLeverage()) / WAD;
    const trading = units(m.tradingCost, 6);
    expect(
      near(trading, (usdtIn * leverage * 5n) / 10_000n, usdtIn / 10_000n),
      `trading ${m.tradingCost}`,
    ).to.equal(true);
    // what the USDT bought: the shares and the fee at NAV, and the trading cost, to the cent
    expect(near((gross * nav) / 10n ** 30n + trading, usdtIn, USDT / 100n), "value bought").to.equal(true);
    // NAV after the fill is the token's total assets over its supply then
    const [assets, supply] = await Promise.all([
      token.totalAssets({ blockTag: m.fillBlock }),
      token.totalSupply({ blockTag: m.fillBlock }),
    ]);
    expect(near(nav, (assets * 10n ** 30n) / supply, 10n ** 12n), `NAV ${m.navAfterFill}`).to.equal(true);
    return shares;
  }

  it("deploys with npm run deploy and starts the keeper, which watches the four tokens", async function () {
    ({ book } = await deploy(suite.target));
    expect(Object.keys(book.tokens)).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S"]);
    expect(Object.keys(book.feeds)).to.deep.equal(["BTC", "ETH"]);
    chain = new Chain(suite.target.url, book);
    keeperA = keeper(suite.target, ["--interval", String(INTERVAL), "--token-refresh", "4"], "keeper");
    children.push(keeperA);
    const started = await keeperA.waitFor((l) => l.event === "started", 20_000, "start");
    expect(started.tokens).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S"]);
    expect(started.intervalMs).to.equal(INTERVAL);
  });

  it("creates ETH5S, lists SOL at 150 and creates SOL3L and SOL3S; the running keeper and feeder pick them up", async function () {
    const from = keeperA.lines.length;
    feed = realTimeFeeder(suite.target, 2, ["--market-refresh", "1"]);
    children.push(feed);
    const start = await feed.waitFor((l) => l.event === "start", 20_000, "the feeder's start");
    expect(start.markets).to.deep.equal(["BTC", "ETH"]);
    const artifacts = ["--artifact", TOKEN_ARTIFACT, "--desk-artifact", DESK_ARTIFACT];
    const eth5s = await ok<{
      symbol: string;
      address: string;
      desk: string;
      market: string;
      side: string;
      targetLeverage: string;
      band: string[];
      ripcordLeverage: string;
      block: number;
    }>(["admin", "create", "ETH", "5", "short", ...artifacts]);
    expect(eth5s).to.deep.include({
      symbol: "ETH5S",
      market: "ETH",
      side: "short",
      targetLeverage: "5",
      ripcordLeverage: "7.5",
    });
    expect(eth5s.band).to.deep.equal(["3.333333333333333333", "6.666666666666666666"]);
    const market = await ok<{
      market: string;
      price: string;
      heartbeat: number;
      fundingRatePer8h: string;
      feed: string;
    }>(["admin", "market", "SOL", "150"]);
    expect(market).to.deep.include({
      market: "SOL",
      price: "150",
      heartbeat: 3600,
      fundingRatePer8h: "0.0001",
    });
    // the feeder, running since before SOL was listed, feeds it from its next push on
    const added = await feed.waitFor(
      (l) => l.event === "feeder-markets-added",
      20_000,
      "the feeder adding SOL",
    );
    expect(added.markets).to.deep.equal(["SOL"]);
    expect(added.feeds).to.deep.equal({ SOL: market.feed });
    const solPushed = await feed.waitFor(
      (l) => l.event === "prices" && (l.prices as Record<string, string>).SOL !== undefined,
      20_000,
      "a SOL price pushed",
    );
    expect(Object.keys(solPushed.prices as object)).to.deep.equal(["BTC", "ETH", "SOL"]);
    const solFeed = MockPriceFeed__factory.connect(market.feed, chain.provider);
    const [, answer] = await solFeed.latestRoundData({ blockTag: Number(solPushed.block) });
    expect(formatUnits(answer, 8)).to.equal((solPushed.prices as Record<string, string>).SOL);
    for (const side of ["long", "short"]) {
      const sol = await ok<{
        symbol: string;
        targetLeverage: string;
        band: string[];
        ripcordLeverage: string;
      }>(["admin", "create", "SOL", "3", side, ...artifacts]);
      expect(sol.symbol).to.equal(side === "long" ? "SOL3L" : "SOL3S");
      expect(sol.targetLeverage).to.equal("3");
      expect(sol.band).to.deep.equal(["2", "4"]);
      expect(sol.ripcordLeverage).to.equal("4.5");
    }
    book = readAddressBook("localhost", suite.target.deployments);
    expect(Object.keys(book.tokens)).to.deep.equal([
      "BTC3L",
      "BTC3S",
      "ETH3L",
      "ETH3S",
      "ETH5S",
      "SOL3L",
      "SOL3S",
    ]);
    expect(book.feeds.SOL).to.equal(market.feed);
    expect(book.desks?.ETH5S).to.equal(eth5s.desk);
    chain.close();
    chain = new Chain(suite.target.url, book);
    for (const symbol of ["ETH5S", "SOL3L", "SOL3S"]) {
      const added = await keeperA.waitFor(
        (l) => l.event === "token-added" && l.token === symbol,
        15_000,
        `${symbol} watched`,
        from,
      );
      expect(added.address).to.equal(book.tokens[symbol]);
      expect(added.desk).to.equal(book.desks![symbol]);
    }
    const listed = await ok<{ tokens: { symbol: string }[] }>(["tokens"]);
    expect(listed.tokens.map((t) => t.symbol)).to.deep.equal(Object.keys(book.tokens));
  });

  it("mints the new tokens with lt mint (the feeder publishing every listed market, SOL too), and seeds their pools", async function () {
    const feed_ = feed!;
    try {
      const prices = await feed_.waitFor(
        (l) => l.event === "prices",
        20_000,
        "the next prices",
        feed_.lines.length,
      );
      expect(Object.keys(prices.prices as object)).to.deep.equal(["BTC", "ETH", "SOL"]);
      const operator = await (await chain.signer(0)).getAddress();
      const holder = await (await chain.signer(2)).getAddress();
      const plan: [string, bigint, Record<string, string>, string][] = [
        ["ETH5S", 2_000n, user, holder],
        ["ETH5S", 1_500n, {}, operator],
        ["SOL3L", 1_200n, {}, operator],
        ["SOL3S", 1_200n, {}, operator],
      ];
      for (const [symbol, usdt, env, who] of plan) {
        const token = await chain.token(symbol);
        const before = await token.balanceOf(who);
        const m = await ok<Minted>(["mint", symbol, String(usdt), "--deadline", "60s"], env);
        await checkMint(symbol, usdt * USDT, m, who, before);
        if (who === holder) minted[symbol] = m;
      }
      // the holder redeems 500 ETH5S the same way: a request, the keeper's fill, the claim
      const usdt = await chain.usdt();
      const usdtBefore = await usdt.balanceOf(holder);
      const r = await ok<Redeemed>(["redeem", "ETH5S", "500", "--deadline", "60s"], user);
      redeemed = r;
      expect(r.status).to.equal("claimed");
      expect(r.claimedShares).to.equal("500");
      const got = units(r.usdt, 6);
      expect((await usdt.balanceOf(holder)) - usdtBefore).to.equal(got);
      expect(units(r.pricePerToken, 18)).to.equal((got * 10n ** 30n) / (500n * WAD));
      expect(units(r.batchSharesIn, 18)).to.equal(500n * WAD);
      expect(units(r.batchUsdtOut, 6)).to.equal(got);
      expect(r.fillLatencyBlocks).to.equal(r.fillBlock - r.requestBlock);
      const filled = await keeperA.waitFor(
        (l) => l.event === "filled" && l.tx === r.fillTx,
        10_000,
        "the fill",
      );
      expect(filled.sharesIn).to.equal("500.0");
      expect(units(filled.usdtOut, 6)).to.equal(got);
      // the redeem fee: 0.05% of the shares; the trading cost: 5 bps of the position closed
      const fee = units(r.feeShares, 18);
      expect(fee).to.equal((500n * WAD * 5n + 9_999n) / 10_000n); // rounded up
      const nav = units(r.navAfterFill, 18);
      expect(units(r.feeUsdt, 6)).to.equal((fee * nav) / 10n ** 30n);
      const trading = units(r.tradingCost, 6);
      expect(near(trading, (got * 5n * 5n) / 10_000n, got / 1_000n), `trading ${r.tradingCost}`).to.equal(
        true,
      );
      // 500 shares at NAV: what was paid, the fee shares and the trading cost, to the cent
      expect(
        near(got + units(r.feeUsdt, 6) + trading, (500n * WAD * nav) / 10n ** 30n, USDT / 100n),
      ).to.equal(true);
    } finally {
      await feed_.stop("SIGTERM");
    }
    for (const [symbol, seed] of [
      ["ETH5S", "1000"],
      ["SOL3L", "800"],
      ["SOL3S", "800"],
    ] as const) {
      const pool = await ok<{ pool: string; reserveTokens: string; reserveUsdt: string; nav: string }>([
        "admin",
        "pool",
        symbol,
        "--tokens",
        seed,
      ]);
      expect(pool.reserveTokens).to.equal(seed);
      // seeded at NAV: as many USDT as the tokens are worth at the 6-decimal nav() it printed
      const nav = units(pool.nav, 6);
      expect(
        near(units(pool.reserveUsdt, 6), (units(seed, 18) * nav) / WAD, USDT / 100n),
        pool.reserveUsdt,
      ).to.equal(true);
      expect(near(nav, await (await chain.token(symbol)).nav(), nav / 10_000n), pool.nav).to.equal(true);
      book = readAddressBook("localhost", suite.target.deployments);
      expect(book.pools?.[symbol]).to.equal(pool.pool);
    }
  });

  it("quotes ETH5S with the token's preview and the engine equal at one named block", async function () {
    const latest = await chain.provider.getBlockNumber();
    const q = await ok<{
      preview: string;
      engine: string;
      block: number;
      blockTime: number;
      costs: Record<string, string>;
    }>(["quote", "mint", "ETH5S", "100"]);
    expect(q.engine).to.equal(q.preview);
    // the pending block: the next one (the keeper may have mined one since, if anything was due)
    expect(q.block).to.be.within(latest + 1, (await chain.provider.getBlockNumber()) + 1);
    expect(q.blockTime).to.be.greaterThan((await chain.provider.getBlock(latest))!.timestamp - 1);
    const shares = units(q.preview, 18);
    const eth5s = await chain.token("ETH5S");
    const nav = await eth5s.nav();
    // 100 USDT less the trading cost (5 bps on the position it adds: leverage x 100 USDT, as a mint
    // keeps the leverage the token has) and the 0.05% fee, at NAV
    const fee = units(q.costs.feeUsdt, 6);
    const trading = units(q.costs.tradingCostUsdt, 6);
    const leverage = await eth5s.leverage();
    const expectedTrading = (100n * USDT * leverage * 5n) / 10_000n / WAD;
    expect(near(trading, expectedTrading, 100n), `trading ${q.costs.tradingCostUsdt}`).to.equal(true);
    expect(near(fee, 50_000n, 1_000n), `fee ${q.costs.feeUsdt}`).to.equal(true);
    expect(near((shares * nav) / WAD + fee + trading, 100n * USDT, USDT / 100n)).to.equal(true);
    expect(units(q.costs.priceImpactUsdt, 6)).to.equal(0n);
  });

  it("a move takes the new tokens out of their bands and the keeper, started before they existed, rebalances them", async function () {
    const from = keeperA.lines.length;
    // ETH +5%: a 5x short goes to 7x (band 3.33x - 6.67x); SOL -12%: 3x long to 4.1x, 3x short to 1.9x
    const [, solBefore] = await (await chain.feed("SOL")).latestRoundData();
    const pushed = await feeder(suite.target, ["--jump", "ETH:+5%", "--jump", "SOL:-12%"]);
    const step = pushed.find((l) => l.event === "prices")!;
    const solAfter = parseUnits(String((step.prices as Record<string, string>).SOL), 8);
    expect(near(solAfter, (solBefore * 88n) / 100n, 100n), `SOL ${solBefore} -> ${solAfter}`).to.equal(true);
    expect((await (await chain.feed("SOL")).latestRoundData())[1]).to.equal(solAfter);
    const expected: [string, number, number][] = [
      ["ETH5S", 6.67, 5],
      ["SOL3L", 4, 3],
      ["SOL3S", 2, 3],
    ];
    for (const [symbol, edge, target_] of expected) {
      const line = await keeperA.waitFor(
        (l) => l.event === "rebalanced" && l.token === symbol,
        15_000,
        `${symbol} rebalanced`,
        from,
      );
      expect(line.reason).to.equal("band");
      const before = Number(line.leverageBefore);
      expect(target_ > edge ? before < edge : before > edge, `${symbol} at ${before}`).to.equal(true);
      expect(Math.abs(Number(line.leverageAfter) - target_)).to.be.lessThan(0.01);
      const token = await chain.token(symbol);
      expect((await token.rebalanceNeeded())[0]).to.equal(false);
      const leverage = Number(await token.leverage()) / 1e18;
      expect(Math.abs(leverage - target_)).to.be.lessThan(0.01);
    }
    // any other token rebalanced is one of the first four, at its daily check (off suite.target by more
    // than 0.05x after the move, and a 00:00 UTC passed since its last rebalance)
    const newOnes = ["ETH5S", "SOL3L", "SOL3S"];
    const others = keeperA.lines
      .slice(from)
      .filter((l: Line) => l.event === "rebalanced" && !newOnes.includes(String(l.token)));
    for (const l of others) expect(["BTC3L", "BTC3S", "ETH3L", "ETH3S"]).to.include(l.token);
    for (const l of others) expect(l.reason, String(l.token)).to.equal("daily");
    // a short with a position is named as one (a short without one was shown "0 BTC long" once)
    const info = await runLt([
      "--rpc",
      suite.target.url,
      "--deployments",
      suite.target.deployments,
      "info",
      "ETH5S",
    ]);
    expect(info.code, info.stderr).to.equal(0);
    const live = (await ok<{ live: { size: string } }>(["info", "ETH5S"])).live;
    expect(live.size.startsWith("-"), `size ${live.size}`).to.equal(true);
    expect(info.stdout).to.match(/position\s+[\d,.]+ ETH short, equity [\d,.]+ USDT/);
  });

  it("lt position shows the holder's ETH5S: cost basis, value at NAV, unrealised PnL and the fees paid", async function () {
    const holder = await (await chain.signer(2)).getAddress();
    const p = await ok<{
      account: string;
      positions: {
        symbol: string;
        shares: string;
        nav: string;
        valueUsdt: string;
        costBasisUsdt: string;
        unrealisedUsdt: string;
        realisedUsdt: string;
        feesPaidUsdt: string;
        paidInUsdt: string;
        paidOutUsdt: string;
        note?: string;
      }[];
    }>(["position"], user);
    expect(p.account).to.equal(holder);
    expect(p.positions.map((x) => x.symbol)).to.deep.equal(["ETH5S"]);
    const x = p.positions[0]!;
    expect(x.note).to.equal(undefined);
    const token = await chain.token("ETH5S");
    const shares = await token.balanceOf(holder);
    // minted for 2,000 USDT, 500 redeemed through the desk: those took their part of the basis at
    // average cost, and realised what the redeem paid less it
    const mintedShares = units(minted.ETH5S!.shares, 18);
    const redeemedUsdt = units(redeemed!.usdt, 6);
    const basisRedeemed = (2_000n * USDT * 500n * WAD) / mintedShares;
    expect(units(x.shares, 18)).to.equal(shares);
    expect(shares).to.equal(mintedShares - 500n * WAD);
    const basis = 2_000n * USDT - basisRedeemed;
    expect(units(x.costBasisUsdt, 6)).to.equal(basis);
    expect(units(x.paidInUsdt, 6)).to.equal(2_000n * USDT);
    expect(units(x.paidOutUsdt, 6)).to.equal(redeemedUsdt);
    expect(units(x.realisedUsdt, 6)).to.equal(redeemedUsdt - basisRedeemed);
    const nav = units(x.nav, 18);
    const value = units(x.valueUsdt, 6);
    expect(value).to.equal((shares * nav) / 10n ** 30n);
    expect(units(x.unrealisedUsdt, 6)).to.equal(value - basis);
    // NAV: total assets over supply now (the 5x short lost on ETH's +5%: about 25%, less the rebalance)
    const [assets, supply] = await Promise.all([token.totalAssets(), token.totalSupply()]);
    expect(near(nav, (assets * 10n ** 30n) / supply, 10n ** 13n), `NAV ${x.nav}`).to.equal(true);
    expect(value < (basis * 80n) / 100n && value > (basis * 70n) / 100n, `value ${x.valueUsdt}`).to.equal(
      true,
    );
    // fees paid: the mint's and the redeem's fee and trading cost as lt mint and lt redeem printed them
    // (lt position values the fee shares at the price paid per share, lt mint at NAV after the fill:
    // they differ by the fee's share of the trading cost, a fraction of a cent)
    const paid =
      units(minted.ETH5S!.feeUsdt, 6) +
      units(minted.ETH5S!.tradingCost, 6) +
      units(redeemed!.feeUsdt, 6) +
      units(redeemed!.tradingCost, 6);
    const fees = units(x.feesPaidUsdt, 6);
    expect(near(fees, paid, USDT / 100n), `fees ${x.feesPaidUsdt} against ${paid}`).to.equal(true);
  });

  it("delists ETH5S; four days on, the keeper settles it and pays every holder their shares at the frozen NAV", async function () {
    const token = await chain.token("ETH5S");
    const usdt = await chain.usdt();
    const [operator, holder] = await Promise.all(
      [0, 2].map(async (i) => (await chain.signer(i)).getAddress()),
    );
    const holders = [operator!, holder!, book.pools!.ETH5S!];
    const desk = book.desks!.ETH5S!;
    const shares = await Promise.all(holders.map((h) => token.balanceOf(h)));
    for (const [i, s] of shares.entries()) expect(s, holders[i]).to.be.greaterThan(0n);
    const usdtBefore = await Promise.all(holders.map((h) => usdt.balanceOf(h)));
    const deskDust = await token.balanceOf(desk);

    const latest = (await chain.provider.getBlock("latest"))!.timestamp;
    const delisted = await ok<{ symbol: string; delistingTime: number }>(["admin", "delist", "ETH5S"]);
    expect(delisted.symbol).to.equal("ETH5S");
    // three days and an hour after the pending block (a second or two after the latest)
    expect(delisted.delistingTime - latest).to.be.within(3 * 86_400 + 3600, 3 * 86_400 + 3600 + 120);
    expect(await token.delistingTime()).to.equal(BigInt(delisted.delistingTime));

    const from = keeperA.lines.length;
    // four days pass, a day a step, every feed (SOL too) refreshed as time moves
    await feeder(suite.target, flatDays(4));
    const settled = await keeperA.waitFor(
      (l) => l.event === "settled" && l.token === "ETH5S",
      20_000,
      "settled",
      from,
    );
    await keeperA.waitFor(
      (l) => l.event === "holders-done" && l.token === "ETH5S",
      20_000,
      "holders paid",
      from,
    );
    expect(await token.state()).to.equal(2n); // Settled
    const assets = BigInt(settled.assets as string);
    const supply = BigInt(settled.supply as string);
    const treasury = await token.treasury();
    let paidAll = 0n;
    for (const [i, h] of holders.entries()) {
      expect(await token.balanceOf(h), h).to.equal(0n);
      const [paid] = await token.queryFilter(token.filters.HolderSettled(h));
      expect(paid, `${h} paid`).to.not.equal(undefined);
      // the shares it held then: as before the delisting, but for the treasury (the operator here),
      // which was also owed the management fee of the four days, minted to it by settle()
      if (h === treasury) expect(paid!.args.shares).to.be.greaterThan(shares[i]!);
      else expect(paid!.args.shares, h).to.equal(shares[i]!);
      const owed = (paid!.args.shares * assets) / supply;
      expect(paid!.args.assets, h).to.equal(owed);
      expect((await usdt.balanceOf(h)) - usdtBefore[i]!, h).to.equal(owed);
      paidAll += owed;
    }
    const lines = keeperA.lines.slice(from).filter((l) => l.event === "holders-paid" && l.token === "ETH5S");
    expect(lines.reduce((n, l) => n + Number(l.paid), 0)).to.equal(holders.length);
    expect(lines.reduce((n, l) => n + BigInt(l.assets as string), 0n)).to.equal(paidAll);
    // left: the locked minimum and the desk's claim dust, which settleHolders skips
    expect(await token.totalSupply()).to.equal((await token.balanceOf(DEAD)) + deskDust);
    const after = await ok<{ positions: { symbol: string; shares: string; realisedUsdt: string }[] }>(
      ["position"],
      user,
    );
    const eth5s = after.positions.find((x) => x.symbol === "ETH5S")!;
    expect(eth5s.shares).to.equal("0");
    // everything realised: the redeem and the payout, less the 2,000 USDT paid in
    const payout = (shares[1]! * assets) / supply;
    expect(units(eth5s.realisedUsdt, 6)).to.equal(units(redeemed!.usdt, 6) + payout - 2_000n * USDT);
  });

  it("the tools' refusals: the feeder without the feeds' updater, and keeper --once on stale prices, each one sentence and exit 1", async function () {
    const stranger = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/5");
    const refused = program(
      suite.target,
      "feeder.ts",
      ["--jump", "SOL:+1%", "--key", stranger.privateKey],
      "feeder (no role)",
    );
    expect(await refused.exited).to.equal(1);
    expect(refused.stderr.trim()).to.equal(
      `feeder: the feeder signs as ${stranger.address}, which may not update the SOL feed at ${book.feeds.SOL} (it lacks UPDATER_ROLE): sign with the feed's updater (--key or FEEDER_KEY), or have the feed's admin grant ${stranger.address} the role`,
    );
    expect(refused.stdout).to.equal("");

    await keeperA.stop("SIGTERM");
    await rpc(suite.target.url, "evm_increaseTime", [2 * 3600]); // past every feed's 3,600 s heartbeat
    await rpc(suite.target.url, "evm_mine");
    const once = program(suite.target, "keeper.ts", ["--once"], "keeper --once (stale)");
    expect(await once.exited).to.equal(1);
    const errors = once.lines.filter((l) => l.event === "error");
    expect(errors.length).to.be.greaterThan(0);
    expect(String(errors[0]!.message)).to.match(/^reverted StalePrice\(/);
    const stderr = once.stderr.trim().split("\n");
    expect(stderr, once.stderr).to.have.length(1);
    // errors per token are counted whenever met, logged once a minute per message: at least as many
    const first = `the first on ${String(errors[0]!.token)}: ${String(errors[0]!.message)}`;
    const counted = /^keeper: the pass met (an error|(\d+) errors), (.*)$/.exec(stderr[0]!);
    expect(counted, stderr[0]).to.not.equal(null);
    expect(counted![2] === undefined ? 1 : Number(counted![2])).to.be.at.least(errors.length);
    expect(counted![3]).to.equal(first);
    expect(once.lines.at(-1)!.event).to.equal("stopped");
  });
});
