// End to end on a `hardhat node` this test starts on a free port: deploy (npm run deploy), then
// the keeper and the feeder as real processes, asserting on their JSON lines and on-chain state.
import { expect } from "chai";
import { HDNodeWallet, parseUnits, toQuantity, Wallet } from "ethers";
import type { AddressBook } from "../../src/chain/addressBook.ts";
import { Chain } from "./support/chain.ts";
import { flatDays, measureFillLatency, realTimeFeeder, reportLatency } from "./support/forward.ts";
import { expectPlainError, json, runLt } from "./support/lt.ts";
import { deploy, feeder, keeper, rpc, spawnNode, type Child, type Line } from "./support/processes.ts";
import { nodeSuite } from "./support/suite.ts";

const INTERVAL = 250;
const KEEPER_ARGS = ["--interval", String(INTERVAL)];
const DEAD = "0x000000000000000000000000000000000000dEaD";
/** The default accounts of hardhat node and anvil. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const KEY_A = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/1").privateKey;

/** The deploy's mint fee, 0.05% (WAD). */
const MINT_FEE = 5n * 10n ** 14n;
const WAD = 10n ** 18n;

/**
 * `actual` within `tolerance` of `expected`, checked by hand: once any test file in the run connects
 * to a Hardhat network, Hardhat's chai matchers redefine closeTo for BigInts and throw on a number
 * with a fraction ("0.78114709... is not an integer"), which a full run used to report as a wrong fee.
 */
function near(actual: bigint, expected: bigint, tolerance: bigint, what: string): void {
  const off = actual > expected ? actual - expected : expected - actual;
  expect(off <= tolerance, `${what}: ${actual}, expected ${expected} +/- ${tolerance}`).to.equal(true);
}

function isRebalanced(symbol: string) {
  return (l: Line) => l.event === "rebalanced" && l.token === symbol;
}

describe("e2e: hardhat node", function () {
  this.timeout(240_000);
  let book: AddressBook;
  let chain: Chain;
  const suite = nodeSuite("hardhat", () => chain);
  const { children } = suite;
  let keeperA: Child;
  const lt = (args: string[], env: Record<string, string> = {}) =>
    runLt(["--rpc", suite.target.url, "--deployments", suite.target.deployments, ...args], env);

  it("deploys the whole system, writes the address book, funds the accounts, and a re-run sends nothing", async function () {
    ({ book } = await deploy(suite.target));
    expect(book.chainId).to.equal(31337);
    expect(Object.keys(book.tokens)).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S"]);
    expect(Object.keys(book.feeds)).to.deep.equal(["BTC", "ETH"]);
    chain = new Chain(suite.target.url, book);
    for (const address of [
      book.usdt,
      book.perpVault,
      book.factory,
      ...Object.values(book.feeds),
      ...Object.values(book.tokens),
    ]) {
      expect(await rpc<string>(suite.target.url, "eth_getCode", [address, "latest"])).to.not.equal("0x");
    }
    const usdt = await chain.usdt();
    expect(await usdt.balanceOf(await (await chain.signer(5)).getAddress())).to.equal(1_000_000n * 10n ** 6n);
    const deployer = await (await chain.signer(0)).getAddress();
    const nonce = await chain.provider.getTransactionCount(deployer);
    const again = await deploy(suite.target);
    expect(again.book).to.deep.equal(book);
    expect(await chain.provider.getTransactionCount(deployer)).to.equal(nonce);
    await chain.prepare();
  });

  it("lt on tokens with a desk and no keeper running: a request waits, cancels in its round, not after a newer one, times out saying nothing is lost, and the keeper's fill is claimed", async function () {
    const key5 = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/5").privateKey;
    const as5 = { LT_PRIVATE_KEY: key5 };
    // placed, shown, cancelled in its own round
    const placed = json<{ status: string; requestTx: string; epoch: string }>(
      await lt(["--json", "mint", "ETH3S", "50", "--no-wait"], as5),
    );
    expect(placed.status).to.equal("pending");
    const shown = json<{ tokens: { symbol: string; pendingUsdt: string; fillDue: boolean }[] }>(
      await lt(["--json", "requests", "ETH3S"], as5),
    );
    expect(shown.tokens).to.deep.include({
      ...shown.tokens[0]!,
      symbol: "ETH3S",
      pendingUsdt: "50",
      fillDue: false,
    });
    const cancelled = json<{ returnedUsdt: string }>(await lt(["--json", "cancel", "ETH3S"], as5));
    expect(cancelled.returnedUsdt).to.equal("50");
    expectPlainError(await lt(["cancel", "ETH3S"], as5), "you have no request on ETH3S to cancel");

    // placed again; a newer round: no cancelling, the fill is the keeper's before its delay
    await lt(["--json", "mint", "ETH3S", "50", "--no-wait"], as5);
    await chain.newRounds();
    expectPlainError(
      await lt(["cancel", "ETH3S", "deposit"], as5),
      "the request can no longer be cancelled: a newer price round exists; wait for the fill",
    );
    expectPlainError(
      await lt(["fill", "ETH3S"], as5),
      "the fill is not late yet: only ETH3S's keeper fills before",
    );
    expectPlainError(
      await lt(["claim", "ETH3S"], as5),
      "nothing to claim on ETH3S: your request waits for its fill",
    );
    const due = json<{ tokens: { symbol: string; fillDue: boolean; late: boolean }[] }>(
      await lt(["--json", "requests"], as5),
    );
    expect(due.tokens.map((t) => t.symbol)).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S"]);
    expect(due.tokens.find((t) => t.symbol === "ETH3S")).to.deep.include({ fillDue: true, late: false });

    // lt mint with no keeper running: a plain timeout, the request stays pending
    const timedOut = await lt(["--json", "mint", "BTC3S", "20", "--deadline", "5s"], as5);
    expect(timedOut.code).to.equal(1);
    expect(JSON.parse(timedOut.stdout).error).to.match(
      /^no fill within 5 s \(--deadline\): no newer price round has come yet.*The request stays pending and nothing is lost: lt requests BTC3S shows it/,
    );
    // the deployer holds KEEPER_ROLE: lt fill fills both at once with the next round
    await chain.newRounds();
    const filled = json<{ usdtIn: string; bounty: string }>(await lt(["--json", "fill", "ETH3S"]));
    expect(filled.usdtIn).to.equal("50");
    expect(filled.bounty).to.equal("0");
    json(await lt(["--json", "fill", "BTC3S"]));
    expectPlainError(await lt(["fill", "ETH3S"]), "nothing to fill on ETH3S");
    const claimed = json<{ shares: string; forUsdt: string }>(await lt(["--json", "claim", "ETH3S"], as5));
    expect(claimed.forUsdt).to.equal("50");
    expect(Number(claimed.shares)).to.be.within(49, 50);
    const btc3s = json<{ shares: string }>(await lt(["--json", "claim", "BTC3S"], as5));
    expect(Number(btc3s.shares)).to.be.greaterThan(0);
  });

  it("a 12% BTC drop takes BTC3L out of its band; the running keeper brings it back to 3x within one poll", async function () {
    // keeper A signs with account 1's key (KEEPER_KEY, its own nonce manager): the deployer's account
    // stays free for the deploys and lt below, and on a redeployed chain A holds no role until
    // prepare() grants it, so it never fills the seed requests the deploy itself fills
    keeperA = keeper(suite.target, KEEPER_ARGS, "keeper A", { KEEPER_KEY: KEY_A });
    children.push(keeperA);
    await keeperA.waitFor((l) => l.event === "started", 20_000, "start");
    const from = keeperA.lines.length;
    const btc3l = await chain.token("BTC3L");
    const pushed = await feeder(suite.target, ["--jump", "BTC:-12%"]);
    const priceLine = pushed.find((l) => l.event === "prices")!;
    const priceBlock = Number(priceLine.block);
    const t0 = Date.now();
    const line = await keeperA.waitFor(isRebalanced("BTC3L"), 10_000, "BTC3L rebalanced", from);
    const waited = Date.now() - t0;
    expect(Number(line.leverageBefore)).to.be.greaterThan(4);
    expect(Math.abs(Number(line.leverageAfter) - 3)).to.be.lessThan(0.01);
    expect(line.reason).to.equal("band");
    expect(Number(line.gasUsed)).to.be.greaterThan(50_000);
    expect(Number(line.block)).to.equal(priceBlock + 1); // the keeper's first transaction after the drop
    expect(waited).to.be.lessThan(INTERVAL + 3000);
    expect(Math.abs(Number((await btc3l.leverage()) - 3n * 10n ** 18n))).to.be.lessThan(0.01e18);
    expect((await btc3l.rebalanceNeeded())[0]).to.equal(false);
    await keeperA.waitFor(isRebalanced("BTC3S"), 10_000, "BTC3S rebalanced", from);
  });

  it("lt mint and lt redeem on a token with a desk wait for the running keeper's fill, claim it and print the NAV and the costs", async function () {
    const from = keeperA.lines.length;
    const feed = realTimeFeeder(suite.target, 2);
    children.push(feed);
    try {
      const minted = json<{
        status: string;
        shares: string;
        navAfterFill: string;
        feeShares: string;
        feeUsdt: string;
        tradingCost: string;
        fillTx: string;
        approveTx: string | null;
        permit: boolean;
      }>(await lt(["--json", "mint", "BTC3L", "1000", "--deadline", "60s"]));
      expect(minted.status).to.equal("claimed");
      // one transaction to request: USDT's permit rides in it, no approval first
      expect([minted.permit, minted.approveTx]).to.deep.equal([true, null]);
      // BTC3L's NAV is about 0.64 here (the 12% BTC drop above took a third of it), so the 1,000 USDT
      // buy about 1,562 shares, not 1,000: the mint fee is 0.05% of all the shares the mint makes (the
      // fee's own included, rounded up), about 0.78 shares, worth 0.05% of the USDT the mint added
      // (1,000 less the trading cost), about 0.50 USDT, at the NAV after the fill. Exact decimals,
      // compared as integers to a few units (not with chai's closeTo, see near()).
      const shares = parseUnits(minted.shares, 18);
      const fee = parseUnits(minted.feeShares, 18);
      const nav = parseUnits(minted.navAfterFill, 18);
      const feeUsdt = parseUnits(minted.feeUsdt, 6);
      const added = 1000n * 10n ** 6n - parseUnits(minted.tradingCost, 6);
      expect(added < 1000n * 10n ** 6n, `trading cost ${minted.tradingCost}`).to.equal(true);
      const minted18 = shares + fee;
      near(
        (minted18 * nav) / 10n ** 30n,
        added,
        10n,
        "the shares minted, at the NAV after the fill (USDT units)",
      );
      near(fee, (minted18 * MINT_FEE + WAD - 1n) / WAD, 2n, `the mint fee on ${minted.shares} shares (wei)`);
      near(feeUsdt, (fee * nav) / 10n ** 30n, 0n, "the fee's worth: its shares at the NAV (USDT units)");
      near(
        feeUsdt,
        (added * MINT_FEE) / WAD,
        10n,
        "the fee's worth: 0.05% of the USDT the mint added (units)",
      );
      const filled = await keeperA.waitFor(
        (l) => l.event === "filled" && l.tx === minted.fillTx,
        10_000,
        "the keeper's fill",
        from,
      );
      expect(filled.token).to.equal("BTC3L");
      expect(Number(filled.usdtIn)).to.be.greaterThanOrEqual(1000);
      const text = await lt(["redeem", "BTC3L", "100", "--deadline", "60s"]);
      expect(text.code, text.stderr).to.equal(0);
      if (!/costs\s+redeem fee/.test(text.stdout))
        throw new Error(`lt redeem printed:\n${text.stdout}\n${text.stderr}`);
      expect(text.stdout).to.match(/redeemed\s+100(\.0+)? BTC3L for [\d,.]+ USDT \(claimed/);
      expect(text.stdout).to.match(
        /costs\s+redeem fee [\d.]+ BTC3L \(about [\d.]+ USDT\), trading cost [\d.]+ USDT/,
      );
      expect(text.stdout, text.stdout).to.match(/NAV\s+[\d.]+ USDT per BTC3L after the fill/);
      expect(text.stderr).to.match(/waiting for its fill/);
    } finally {
      await feed.stop("SIGTERM");
    }
  });

  it("request to fill latency with the keeper and the feeder running (hardhat node): within 3 feeder periods", async function () {
    const period = 2;
    const feed = realTimeFeeder(suite.target, period);
    children.push(feed);
    try {
      await feed.waitFor((l) => l.event === "prices", 20_000, "the first prices");
      const l = await measureFillLatency(suite.target, chain, "ETH3S", 6);
      reportLatency("hardhat node", period, l);
      for (const x of l) {
        expect(x.seconds).to.be.at.most(3 * period);
        expect(x.blocks).to.be.at.least(1);
      }
    } finally {
      await feed.stop("SIGTERM");
    }
  });

  it("two keepers at once make exactly one rebalance per trigger and no failing transaction loop", async function () {
    // keeper A signs with a private key (KEEPER_KEY): its own nonce manager; keeper B through the node
    expect(new Wallet(KEY_A).address).to.equal(await (await chain.signer(1)).getAddress());
    const keeperB = keeper(suite.target, KEEPER_ARGS, "keeper B"); // the node's first account signs
    children.push(keeperB);
    await keeperB.waitFor((l) => l.event === "started", 20_000, "start");
    const fromA = keeperA.lines.length;
    const fromB = keeperB.lines.length;
    for (const trigger of [1, 2]) {
      const pushed = await feeder(suite.target, ["--jump", "BTC:-12%"]);
      const priceBlock = Number(pushed.find((l) => l.event === "prices")!.block);
      for (const symbol of ["BTC3L", "BTC3S"]) {
        const token = await chain.token(symbol);
        const deadline = Date.now() + 10_000;
        while ((await token.rebalanceNeeded())[0]) {
          if (Date.now() > deadline) throw new Error(`${symbol} not rebalanced after trigger ${trigger}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        await new Promise((r) => setTimeout(r, 4 * INTERVAL)); // let both keepers look again
        expect(await chain.rebalances(symbol, priceBlock + 1), `${symbol}, trigger ${trigger}`).to.equal(1);
      }
    }
    const lines = [...keeperA.lines.slice(fromA), ...keeperB.lines.slice(fromB)];
    for (const symbol of ["BTC3L", "BTC3S"]) {
      expect(lines.filter(isRebalanced(symbol)), symbol).to.have.length(2);
    }
    expect(lines.filter((l) => l.event === "error")).to.deep.equal([]);
    expect(await keeperB.stop("SIGTERM")).to.equal(0);
    expect(keeperB.lines.at(-1)!.event).to.equal("stopped");
  });

  it("a keeper killed and restarted picks up where it left off", async function () {
    await keeperA.stop("SIGKILL");
    const pushed = await feeder(suite.target, ["--jump", "BTC:-12%"]);
    const priceBlock = Number(pushed.find((l) => l.event === "prices")!.block);
    expect((await (await chain.token("BTC3L")).rebalanceNeeded())[0]).to.equal(true);
    keeperA = keeper(suite.target, KEEPER_ARGS, "keeper A (restarted)", { KEEPER_KEY: KEY_A });
    children.push(keeperA);
    const line = await keeperA.waitFor(isRebalanced("BTC3L"), 20_000, "BTC3L rebalanced after restart");
    expect(Math.abs(Number(line.leverageAfter) - 3)).to.be.lessThan(0.01);
    await keeperA.waitFor(isRebalanced("BTC3S"), 10_000, "BTC3S rebalanced after restart");
    await new Promise((r) => setTimeout(r, 4 * INTERVAL));
    expect(await chain.rebalances("BTC3L", priceBlock + 1)).to.equal(1);
    expect(keeperA.lines.filter((l) => l.event === "rebalanced")).to.have.length(2);
  });

  it("a delisting runs from schedule to every holder paid, driven by the keeper", async function () {
    const token = await chain.token("ETH3L");
    // the deployer, accounts 2, 3 and 6, and the ETH3L/USDT pool (its seed liquidity) hold ETH3L
    const holders = [
      ...(await Promise.all([0, 2, 3, 6].map(async (i) => (await chain.signer(i)).getAddress()))),
      book.pools!.ETH3L!,
    ];
    // the desk keeps the rounding dust of its claims (each claimer's share is rounded down): its shares
    // are its requesters', so settleHolders skips it and the keeper never lists it
    const desk = book.desks?.ETH3L;
    const deskDust = desk === undefined ? 0n : await token.balanceOf(desk);
    // account 6 only ever received shares by transfer: the keeper must find it from Transfer events
    const alice = await chain.token("ETH3L", 2);
    await (await alice.transfer(holders[3]!, (await alice.balanceOf(holders[1]!)) / 4n)).wait();
    const latest = (await chain.provider.getBlock("latest"))!;
    await (await token.scheduleDelisting(latest.timestamp + 3 * 86_400 + 60)).wait();
    const usdt = await chain.usdt();
    const before = await Promise.all(holders.map((h) => usdt.balanceOf(h)));
    const from = keeperA.lines.length;
    // four days pass in four steps, every feed refreshed as time moves
    await feeder(suite.target, flatDays(4));
    await keeperA.waitFor((l) => l.event === "settled" && l.token === "ETH3L", 20_000, "ETH3L settled", from);
    await keeperA.waitFor(
      (l) => l.event === "holders-done" && l.token === "ETH3L",
      20_000,
      "ETH3L holders paid",
      from,
    );
    expect(await token.state()).to.equal(2n);
    for (const [i, h] of holders.entries()) {
      expect(await token.balanceOf(h), h).to.equal(0n);
      expect(await usdt.balanceOf(h), h).to.be.greaterThan(before[i]!);
    }
    if (desk !== undefined) expect(await token.balanceOf(desk)).to.equal(deskDust);
    expect(await token.totalSupply()).to.equal((await token.balanceOf(DEAD)) + deskDust);
    const paid = keeperA.lines.slice(from).filter((l) => l.event === "holders-paid" && l.token === "ETH3L");
    expect(paid.reduce((n, l) => n + Number(l.paid), 0)).to.equal(holders.length);
  });

  it("the node stopped for a few seconds and restarted does not crash the keeper", async function () {
    const from = keeperA.lines.length;
    await suite.node.stop("SIGTERM");
    await keeperA.waitFor((l) => l.event === "rpc-unavailable", 10_000, "rpc-unavailable", from);
    await new Promise((r) => setTimeout(r, 3000));
    expect(keeperA.running).to.equal(true);
    suite.node = await spawnNode("hardhat", suite.port);
    // a restarted hardhat node is an empty chain: the same deploy lands at the same addresses
    const redeployed = await deploy(suite.target);
    expect(redeployed.output).to.include("reset the stale Ignition journal");
    expect(redeployed.book.tokens).to.deep.equal(book.tokens);
    await keeperA.waitFor((l) => l.event === "rpc-recovered", 20_000, "rpc-recovered", from);
    chain.close();
    chain = new Chain(suite.target.url, redeployed.book);
    await chain.prepare();
    const mark = keeperA.lines.length;
    await feeder(suite.target, ["--jump", "BTC:-12%"]);
    const line = await keeperA.waitFor(
      isRebalanced("BTC3L"),
      10_000,
      "BTC3L rebalanced on the new chain",
      mark,
    );
    expect(Math.abs(Number(line.leverageAfter) - 3)).to.be.lessThan(0.01);
    expect(keeperA.running).to.equal(true);
    expect(await keeperA.stop("SIGINT")).to.equal(0);
    expect(keeperA.lines.at(-1)!.event).to.equal("stopped");
  });

  it("a keeper transaction stuck below the base fee is resent with a higher fee and the same nonce, and mined once", async function () {
    interface PendingTx {
      hash: string;
      nonce: string;
      maxFeePerGas: string;
    }
    const pushed = await feeder(suite.target, ["--jump", "BTC:-12%"]);
    const priceBlock = Number(pushed.find((l) => l.event === "prices")!.block);
    // a node account (the node signs) for BTC3L, a private key (its own nonce manager) for BTC3S
    const keyB = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/1");
    const runs = [
      { symbol: "BTC3L", env: {} },
      { symbol: "BTC3S", env: { KEEPER_KEY: keyB.privateKey } },
    ];
    await rpc(suite.target.url, "evm_setAutomine", [false]);
    try {
      for (const { symbol, env } of runs) {
        const args = [...KEEPER_ARGS, "--tokens", symbol, "--tx-timeout", "1500"];
        const keeperC = keeper(suite.target, args, `keeper C (${symbol}, stuck transaction)`, env);
        children.push(keeperC);
        let stuck: PendingTx | undefined;
        for (const deadline = Date.now() + 20_000; stuck === undefined;) {
          if (Date.now() > deadline) throw new Error(`no rebalance reached the mempool\n${keeperC.tail()}`);
          const block = await rpc<{ transactions: PendingTx[] }>(suite.target.url, "eth_getBlockByNumber", [
            "pending",
            true,
          ]);
          stuck = block.transactions[0];
          if (stuck === undefined) await new Promise((r) => setTimeout(r, 100));
        }
        // the next block's base fee is 4x what the transaction offers: it is left out
        await rpc(suite.target.url, "hardhat_setNextBlockBaseFeePerGas", [
          toQuantity(BigInt(stuck.maxFeePerGas) * 4n),
        ]);
        await rpc(suite.target.url, "evm_mine");
        expect(await rpc(suite.target.url, "eth_getTransactionReceipt", [stuck.hash])).to.equal(null);
        const replaced = await keeperC.waitFor((l) => l.event === "replaced", 10_000, "the replacement");
        expect(replaced).to.deep.include({
          token: symbol,
          action: "rebalance",
          attempt: 1,
          stuck: stuck.hash,
        });
        expect(replaced.nonce).to.equal(Number(stuck.nonce));
        // it pays at least the base fee of the block after the expensive one (-12.5%: that block was empty)
        expect(BigInt(replaced.maxFeePerGas as string)).to.be.greaterThanOrEqual(
          (BigInt(stuck.maxFeePerGas) * 4n * 7n) / 8n,
        );
        await rpc(suite.target.url, "evm_mine");
        const line = await keeperC.waitFor(
          isRebalanced(symbol),
          10_000,
          `${symbol} rebalanced by the replacement`,
        );
        expect(line.tx).to.equal(replaced.tx);
        expect(Math.abs(Number(line.leverageAfter) - 3)).to.be.lessThan(0.01);
        expect(await chain.rebalances(symbol, priceBlock + 1)).to.equal(1);
        // the stuck one is never mined: its nonce went to the replacement
        expect(await rpc(suite.target.url, "eth_getTransactionReceipt", [stuck.hash])).to.equal(null);
        expect(keeperC.lines.filter((l) => l.event === "error")).to.deep.equal([]);
        expect(await keeperC.stop("SIGTERM")).to.equal(0);
      }
    } finally {
      await rpc(suite.target.url, "evm_setAutomine", [true]);
    }
  });
});
