// The wallet CLI end to end: `lt` runs as a subprocess against a `hardhat node` and an anvil this
// file starts, deploys to and stops. Every token mints and redeems through its desk: a waited `lt mint`
// or `lt redeem` gets its price round and fill from the test as soon as its request is placed
// (support/desk.ts), and what it prints (the fill's NAV, shares, USDT, costs) must be what the chain
// holds; quotes must agree with the engine and the token's previews at one block; every bad input must
// come back as its plain sentence with a non-zero exit and no stack trace.
import { expect } from "chai";
import { formatUnits, parseEther, parseUnits, Wallet } from "ethers";
import type { ForwardDesk } from "../../types/ethers-contracts/ForwardDesk.sol/ForwardDesk.ts";
import type { LeveragedToken } from "../../types/ethers-contracts/index.js";
import { MARKETS } from "../../src/common/params.ts";
import { formatShares } from "../../src/cli/format.ts";
import {
  deployOn,
  type Deployment,
  isolated as isolatedOn,
  type LocalNode,
  type NodeKind,
  startNode,
} from "./nodes.ts";
import { deskOf, newRounds, waited } from "./support/desk.ts";
import { expectPlainError, json, runLt } from "./support/lt.ts";
import { freePort } from "./support/processes.ts";

const USDT = 10n ** 6n;
const WAD = 10n ** 18n;
/** The deploy's mint and redeem fees, 0.05% (WAD). */
const FEE = 5n * 10n ** 14n;

/** What a waited `lt mint`/`lt redeem --json` prints once its request is filled and claimed. */
interface Claimed {
  status: string;
  shares: string;
  usdt: string;
  claimedUsdt?: string;
  claimedShares?: string;
  estimate: string | null;
  approveTx: string | null;
  permit?: boolean;
  navAfterFill: string;
  feeShares: string;
  feeUsdt: string;
  tradingCost: string;
  batchUsdtIn: string;
  batchSharesOut: string;
  batchSharesIn: string;
  batchUsdtOut: string;
  fillTx: string;
  fillBlock: number;
  requestBlock: number;
}

/** |actual - expected| <= tolerance, in integers (chai's closeTo throws on a BigInt once Hardhat's matchers load). */
function near(actual: bigint, expected: bigint, tolerance: bigint, what: string): void {
  const off = actual > expected ? actual - expected : expected - actual;
  expect(off <= tolerance, `${what}: ${actual}, expected ${expected} +/- ${tolerance}`).to.equal(true);
}

for (const kind of ["hardhat", "anvil"] as NodeKind[]) {
  describe(`lt, the wallet CLI, against ${kind === "hardhat" ? "a hardhat node" : "anvil"}`, function () {
    this.timeout(120_000);
    let node: LocalNode | undefined;
    let dep: Deployment;
    let admin: string;
    let btc3l: LeveragedToken;
    let btc3lAddress: string;
    let btc3lDesk: ForwardDesk;
    let deskAddress: string;

    const lt = (args: string[], env: Record<string, string> = {}) =>
      runLt(["--rpc", node!.url, "--deployments", dep.dir, ...args], env);
    const send = (method: string, params: unknown[] = []) => dep.ethers.provider.send(method, params);
    const latestTime = async () => (await dep.ethers.provider.getBlock("latest"))!.timestamp;
    const isolated = (fn: () => Promise<void>) => isolatedOn(dep, fn);
    const setPrice = async (market: "BTC" | "ETH", price: bigint) =>
      (await dep.system.feeds[market].updateAnswer(price)).wait();
    const nothingPending = async (account: string) => {
      expect(await btc3lDesk.pendingDepositRequest(0n, account), "a mint request was placed").to.equal(0n);
      expect(await btc3lDesk.pendingRedeemRequest(0n, account), "a redeem request was placed").to.equal(0n);
    };

    /**
     * The numbers a claimed `lt mint`/`lt redeem` printed, against the chain: its fill's Filled event and
     * the token's PositionResized in the fill's transaction (its batch holds this request alone, so its
     * share of the batch is all of it), and the NAV after the fill as total assets over the supply there.
     */
    async function checkFill(token: LeveragedToken, side: "mint" | "redeem", c: Claimed): Promise<void> {
      expect(c.status).to.equal("claimed");
      const desk = await deskOf(dep, await token.symbol());
      const [tokenAt, deskAt] = [await token.getAddress(), await desk.getAddress()];
      const receipt = await dep.ethers.provider.getTransactionReceipt(c.fillTx);
      expect(receipt?.blockNumber).to.equal(c.fillBlock);
      expect(c.fillBlock).to.be.greaterThan(c.requestBlock);
      let filled: { assetsIn: bigint; sharesOut: bigint; sharesIn: bigint; assetsOut: bigint } | undefined;
      let resized: { cost: bigint; feeShares: bigint } | undefined;
      for (const log of receipt!.logs) {
        if (log.address === deskAt) {
          const parsed = desk.interface.parseLog(log);
          if (parsed?.name === "Filled") {
            const a = parsed.args;
            filled = {
              assetsIn: a.assetsIn,
              sharesOut: a.sharesOut,
              sharesIn: a.sharesIn,
              assetsOut: a.assetsOut,
            };
          }
        } else if (log.address === tokenAt) {
          const parsed = token.interface.parseLog(log);
          if (parsed?.name === "PositionResized")
            resized = { cost: parsed.args.cost, feeShares: parsed.args.feeShares };
        }
      }
      expect(filled, "the fill's Filled event").to.not.equal(undefined);
      expect(resized, "the token's PositionResized in the fill").to.not.equal(undefined);
      expect(parseUnits(c.batchUsdtIn, 6)).to.equal(filled!.assetsIn);
      expect(parseUnits(c.batchSharesOut, 18)).to.equal(filled!.sharesOut);
      expect(parseUnits(c.batchSharesIn, 18)).to.equal(filled!.sharesIn);
      expect(parseUnits(c.batchUsdtOut, 6)).to.equal(filled!.assetsOut);
      if (side === "mint") {
        expect(parseUnits(c.claimedUsdt!, 6)).to.equal(filled!.assetsIn);
        expect(parseUnits(c.shares, 18)).to.equal(filled!.sharesOut);
      } else {
        expect(parseUnits(c.claimedShares!, 18)).to.equal(filled!.sharesIn);
        expect(parseUnits(c.usdt, 6)).to.equal(filled!.assetsOut);
      }
      expect(parseUnits(c.tradingCost, 6)).to.equal(resized!.cost);
      expect(resized!.cost > 0n, "a 3x token's trade pays the taker fee").to.equal(true);
      const fee = parseUnits(c.feeShares, 18);
      expect(fee).to.equal(resized!.feeShares);
      const at = { blockTag: c.fillBlock };
      const [assets, supply] = await Promise.all([token.totalAssets(at), token.totalSupply(at)]);
      const nav = parseUnits(c.navAfterFill, 18);
      expect(nav).to.equal((assets * 10n ** 30n) / supply);
      expect(parseUnits(c.feeUsdt, 6)).to.equal((fee * nav) / 10n ** 30n);
      if (side === "mint") {
        // the fee is 0.05% of every share the mint made (its own included, rounded up)
        const made = filled!.sharesOut + fee;
        near(fee, (made * FEE + WAD - 1n) / WAD, 2n, "the mint fee in shares");
        // and the shares it made are the USDT it added (less the trading cost) at the NAV after the fill
        near((made * nav) / 10n ** 30n, filled!.assetsIn - resized!.cost, 10n, "the shares made, at NAV");
      }
    }

    before(async function () {
      node = await startNode(kind);
      dep = await deployOn(node.url);
      const [signer] = await dep.ethers.getSigners();
      admin = signer!.address;
      await (await dep.system.usdt.mint(admin, 1_000_000n * USDT)).wait();
      btc3l = dep.system.tokens.BTC3L!;
      btc3lAddress = await btc3l.getAddress();
      btc3lDesk = await deskOf(dep, "BTC3L");
      deskAddress = await btc3lDesk.getAddress();
    });

    after(async function () {
      await dep?.close();
      await node?.stop();
    });

    it("mints with a permit through the desk, prints the fill's NAV and costs as the chain has them, quotes as the engine and the previews do at one block, and redeems", async function () {
      const usdtBefore = await dep.system.usdt.balanceOf(admin);
      const first = json<Claimed>(await waited(dep, lt, admin, "mint", "BTC3L", "1000"));
      // one transaction to request: USDT's permit rides in it, for exactly the 1,000, no approval
      expect([first.permit, first.approveTx]).to.deep.equal([true, null]);
      expect(await dep.system.usdt.allowance(admin, deskAddress)).to.equal(0n);
      expect(usdtBefore - (await dep.system.usdt.balanceOf(admin))).to.equal(1000n * USDT);
      expect(parseUnits(first.shares, 18)).to.equal(await btc3l.balanceOf(admin));
      await checkFill(btc3l, "mint", first);

      // a quote names the block it priced: the pending one, at the time set for it; the engine's own
      // arithmetic and the token's previewDeposit give the same shares there, to the unit
      const at = (await latestTime()) + 60;
      await send("evm_setNextBlockTimestamp", [at]);
      const quote = json<{ preview: string; engine: string; block: number; blockTime: number }>(
        await lt(["quote", "mint", "BTC3L", "1234.56", "--json"]),
      );
      expect(quote.engine).to.equal(quote.preview);
      expect([quote.block, quote.blockTime]).to.deep.equal([
        (await dep.ethers.provider.getBlockNumber()) + 1,
        at,
      ]);
      expect(await btc3l.previewDeposit(123_456n * 10n ** 4n, { blockTag: "pending" })).to.equal(
        parseUnits(quote.preview, 18),
      );
      // the request's estimate is that quote (the same pending block); the fill comes at the next round,
      // at the same price a few seconds on, so the shares are the quote to a millionth
      const before = await btc3l.balanceOf(admin);
      const minted = json<Claimed>(await waited(dep, lt, admin, "mint", "BTC3L", "1234.56"));
      expect(minted.estimate).to.equal(quote.preview);
      const preview = parseUnits(quote.preview, 18);
      near(
        parseUnits(minted.shares, 18),
        preview,
        preview / 1_000_000n,
        "the fill's shares against the quote",
      );
      expect((await btc3l.balanceOf(admin)) - before).to.equal(parseUnits(minted.shares, 18));
      await checkFill(btc3l, "mint", minted);

      await send("evm_setNextBlockTimestamp", [(await latestTime()) + 60]);
      const redeemQuote = json<{ preview: string; engine: string }>(
        await lt(["quote", "redeem", "BTC3L", "500.5", "--json"]),
      );
      expect(redeemQuote.engine).to.equal(redeemQuote.preview);
      expect(await btc3l.previewRedeem(5005n * 10n ** 17n, { blockTag: "pending" })).to.equal(
        parseUnits(redeemQuote.preview, 6),
      );
      const usdtBeforeRedeem = await dep.system.usdt.balanceOf(admin);
      const redeemed = json<Claimed>(await waited(dep, lt, admin, "redeem", "BTC3L", "500.5"));
      expect(redeemed.estimate).to.equal(redeemQuote.preview);
      expect(redeemed.claimedShares).to.equal("500.5");
      const payout = parseUnits(redeemQuote.preview, 6);
      near(parseUnits(redeemed.usdt, 6), payout, payout / 100_000n, "the fill's USDT against the quote");
      expect((await dep.system.usdt.balanceOf(admin)) - usdtBeforeRedeem).to.equal(
        parseUnits(redeemed.usdt, 6),
      );
      await checkFill(btc3l, "redeem", redeemed);

      const text = await lt(["quote", "mint", "btc3l", "100"]);
      expect(text.code).to.equal(0);
      expect(text.stdout).to.match(/preview \(token\)\s+[\d,.]+ BTC3L/);
      expect(text.stdout).to.match(/engine\s+[\d,.]+ BTC3L/);
    });
    it("lists the tokens and shows info, NAV and balances in human units", async function () {
      const [tokensRun, navRun, infoRun, infoText, balanceRun] = await Promise.all([
        lt(["tokens", "--json"]),
        lt(["nav", "BTC3L", "--json"]),
        lt(["info", "BTC3L", "--json"]),
        lt(["info", "BTC3L"]),
        lt(["balance", "--json"]),
      ]);
      const tokens = json<{ tokens: { symbol: string; address: string }[] }>(tokensRun);
      expect(tokens.tokens.map((t) => t.symbol)).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S"]);
      expect(tokens.tokens[0]!.address).to.equal(btc3lAddress);

      // NAV with every digit it has: nav() is the same value rounded down to 6 decimals
      expect(parseUnits(json(navRun).nav as string, 18) / 10n ** 12n).to.equal(await btc3l.nav());

      const info = json<{
        targetLeverage: string;
        band: string[];
        state: string;
        fees: Record<string, string>;
        live: { leverage: string; price: string };
      }>(infoRun);
      expect(info.targetLeverage).to.equal("3");
      expect(info.band).to.deep.equal(["2", "4"]);
      expect(info.state).to.equal("Active");
      expect(info.fees.mint).to.equal("0.0005");
      expect(parseUnits(info.live.leverage, 18)).to.equal(await btc3l.leverage());
      expect(info.live.price).to.equal("100000");

      expect(infoText.stdout).to.match(/target 3\.00x, band 2\.00x - 4\.00x, ripcord 4\.50x/);
      expect(infoText.stdout).to.match(
        /4\.00x at \$88,[\d,.]+ \(-11\.\d\d%\); 2\.00x at \$133,[\d,.]+ \(\+33\.\d\d%\)/,
      );

      const balance = json<{ account: string; usdt: string; tokens: { symbol: string; shares: string }[] }>(
        balanceRun,
      );
      expect(balance.account).to.equal(admin);
      expect(parseUnits(balance.usdt, 6)).to.equal(await dep.system.usdt.balanceOf(admin));
      const held = balance.tokens.find((t) => t.symbol === "BTC3L")!;
      expect(parseUnits(held.shares, 18)).to.equal(await btc3l.balanceOf(admin));
    });

    it("puts the next trigger prices exactly where the chain's leverage reaches the band edges", async function () {
      expect(json<Claimed>(await waited(dep, lt, admin, "mint", "BTC3S", "2000")).status).to.equal("claimed");
      for (const symbol of ["BTC3L", "BTC3S"]) {
        const token = dep.system.tokens[symbol]!;
        const info = json<{ live: { triggers: { atMaxLeverage: string; atMinLeverage: string } } }>(
          await lt(["info", symbol, "--json"]),
        );
        for (const [edge, leverage] of [
          ["atMaxLeverage", 4n * WAD],
          ["atMinLeverage", 2n * WAD],
        ] as const) {
          await isolated(async () => {
            await setPrice("BTC", parseUnits(info.live.triggers[edge], 8));
            const onChain = await token.leverage();
            expect(onChain - leverage, `${symbol} ${edge}`).to.be.within(-(10n ** 14n), 10n ** 14n);
          });
        }
      }
    });

    it("shows mints, redeems and a rebalance in the history, in order and in human units", async function () {
      await isolated(async () => {
        await setPrice("BTC", 88_000n * 10n ** 8n); // 3x long past 4x
        await (await btc3l.rebalance()).wait();
        const history = json<{
          events: { kind: string; usdt?: string; leverageBefore?: string; block: number }[];
        }>(await lt(["history", "BTC3L", "--json"]));
        expect(history.events.map((e) => e.kind)).to.deep.equal(["mint", "mint", "redeem", "rebalance"]);
        expect(history.events[0]!.usdt).to.equal("1000");
        expect(history.events[1]!.usdt).to.equal("1234.56");
        expect(Number(history.events[3]!.leverageBefore)).to.be.greaterThan(4);
        const blocks = history.events.map((e) => e.block);
        expect(blocks).to.deep.equal([...blocks].sort((a, b) => a - b));
        const text = await lt(["history", "BTC3L"]);
        expect(text.stdout).to.match(/mint\s+1,000\.00 USDT -> [\d,.]+ BTC3L/);
        expect(text.stdout).to.match(/rebalance\s+4\.\d\dx -> 3\.00x/);
      });
    });

    it("signs with LT_PRIVATE_KEY, says when USDT or the allowance is short, and uses an approval given before", async function () {
      const wallet = Wallet.createRandom();
      const [signer] = await dep.ethers.getSigners();
      await (await signer!.sendTransaction({ to: wallet.address, value: parseEther("1") })).wait();
      await (await dep.system.usdt.mint(wallet.address, 20n * USDT)).wait();
      const env = { LT_PRIVATE_KEY: wallet.privateKey };

      expectPlainError(
        await lt(["mint", "BTC3L", "50"], env),
        "insufficient USDT: the account holds 20.00 USDT, the mint needs 50.00 USDT",
      );
      expectPlainError(
        await lt(["mint", "BTC3L", "5", "--no-approve"], env),
        "insufficient USDT allowance: BTC3L's desk may spend 0.00 of your USDT, the request needs 5.00; approve it first (run without --no-approve)",
      );
      // a request takes no minimum: the price it fills at is the next round's, which nobody knows
      expectPlainError(
        await lt(["mint", "BTC3L", "5", "--min-out", "1"], env),
        "BTC3L fills requests at the next price round, which nobody knows yet, so --min-out cannot be enforced",
      );
      // none of the three sent anything
      expect(await dep.ethers.provider.getTransactionCount(wallet.address)).to.equal(0);
      await nothingPending(wallet.address);
      // an approval of the desk given beforehand is used: no permit, no approval of lt's own
      const mine = wallet.connect(dep.ethers.provider);
      await (await dep.system.usdt.connect(mine).approve(deskAddress, 5n * USDT)).wait();
      const minted = json<Claimed>(await waited(dep, lt, wallet.address, "mint", "BTC3L", "5", env));
      expect([minted.permit, minted.approveTx]).to.deep.equal([false, null]);
      expect(await dep.system.usdt.allowance(wallet.address, deskAddress)).to.equal(0n);
      expect(parseUnits(minted.shares, 18)).to.equal(await btc3l.balanceOf(wallet.address));
      await checkFill(btc3l, "mint", minted);
      const balance = json(await lt(["balance", "--json"], env));
      expect(balance.account).to.equal(wallet.address);
      expect(balance.usdt).to.equal("15");
      const shares = formatShares(parseUnits(minted.shares, 18));
      expectPlainError(
        await lt(["redeem", "BTC3L", "1000"], env),
        `insufficient BTC3L: the account holds ${shares} BTC3L, fewer than the 1,000 BTC3L to redeem`,
      );
    });

    it("says when minting is paused, and still redeems", async function () {
      await (await btc3l.setMintPaused(true)).wait();
      try {
        expectPlainError(
          await lt(["mint", "BTC3L", "10"]),
          "minting BTC3L is paused by its operator; redeeming stays open",
        );
        const redeemed = json<Claimed>(await waited(dep, lt, admin, "redeem", "BTC3L", "1"));
        expect(redeemed.claimedShares).to.equal("1");
        await checkFill(btc3l, "redeem", redeemed);
      } finally {
        await (await btc3l.setMintPaused(false)).wait();
      }
    });

    it("says when a token is being delisted, still redeems, and redeems all at the final NAV once settled", async function () {
      await isolated(async () => {
        const delistingTime = (await latestTime()) + 4 * 86_400;
        await (await btc3l.scheduleDelisting(delistingTime)).wait();
        const [mint, redeem] = await Promise.all([
          lt(["mint", "BTC3L", "10"]),
          waited(dep, lt, admin, "redeem", "BTC3L", "1"),
        ]);
        expectPlainError(mint, "BTC3L is being delisted (settlement from ");
        expect(mint.stderr).to.include("minting is closed, redeeming stays open");
        await checkFill(btc3l, "redeem", json<Claimed>(redeem));

        await send("evm_setNextBlockTimestamp", [delistingTime]);
        await setPrice("BTC", MARKETS.BTC.initialPrice);
        await (await btc3l.settle()).wait();
        // a settled token pays at once, from the token: an explicit --max-slippage (refused on a request)
        // applies to that payout; 0% holds, as the preview is what the call pays
        const one = json<{ settled: boolean; usdt: string; preview: string; minUsdt: string }>(
          await lt(["redeem", "BTC3L", "1", "--max-slippage", "0%", "--json"]),
        );
        expect(one.settled).to.equal(true);
        expect([one.usdt, one.minUsdt]).to.deep.equal([one.preview, one.preview]);
        const held = await btc3l.balanceOf(admin);
        const owed = await btc3l.previewRedeem(held);
        // a settled token pays at once, from the token: --min-out applies to that payout
        const [settledMint, tooMuch] = await Promise.all([
          lt(["mint", "BTC3L", "10"]),
          lt(["redeem", "BTC3L", "all", "--min-out", formatUnits(owed + 1n, 6)]),
        ]);
        expectPlainError(settledMint, "BTC3L has been delisted and settled: minting is closed");
        expectPlainError(tooMuch, "USDT asked (--min-out)");
        expect(tooMuch.stderr).to.match(
          /^lt: BTC3L pays [\d,.]+ USDT for [\d,.]+ tokens, less than the [\d,.]+ USDT asked/,
        );
        expect(await btc3l.balanceOf(admin)).to.equal(held);
        const paid = json(await lt(["redeem", "BTC3L", "all", "--min-out", formatUnits(owed, 6), "--json"]));
        expect(paid.settled).to.equal(true);
        expect(parseUnits(paid.usdt as string, 6)).to.equal(owed);
        expect(await btc3l.balanceOf(admin)).to.equal(0n);
      });
    });

    it("says when a token is depleted: info before the rebalance that marks it, mint and redeem before and after, placing nothing; a request placed before comes back whole", async function () {
      await isolated(async () => {
        await setPrice("BTC", 60_000n * 10n ** 8n); // -40%: a 3x long loses more than its equity
        const depleted =
          "BTC3L is depleted: its equity reached zero, so it can no longer be minted or redeemed";
        // before the rebalance the chain still says Active; lt info reads the equity
        const infoBefore = json<{ state: string; stateOnChain: string }>(
          await lt(["info", "BTC3L", "--json"]),
        );
        expect(infoBefore).to.include({ state: "Depleted", stateOnChain: "Active" });
        // the desk still takes requests while the chain says Active, but lt asks the token's preview for
        // its estimate first, which reverts TokenDepleted: lt says so and places nothing
        const [mintBefore, redeemBefore] = await Promise.all([
          lt(["mint", "BTC3L", "10", "--no-wait"]),
          lt(["redeem", "BTC3L", "1", "--no-wait"]),
        ]);
        expectPlainError(mintBefore, depleted);
        expectPlainError(redeemBefore, depleted);
        await nothingPending(admin);
        // requests placed on the desk directly then: the fill after the mark refuses them
        const [usdtBefore, sharesBefore] = [
          await dep.system.usdt.balanceOf(admin),
          await btc3l.balanceOf(admin),
        ];
        await (await dep.system.usdt.approve(deskAddress, 10n * USDT)).wait();
        await (await btc3l.approve(deskAddress, WAD)).wait();
        await (await btc3lDesk.requestDeposit(10n * USDT, admin, admin)).wait();
        await (await btc3lDesk.requestRedeem(WAD, admin, admin)).wait();
        expect(await btc3lDesk.pendingDepositRequest(0n, admin)).to.equal(10n * USDT);
        expect(await btc3lDesk.pendingRedeemRequest(0n, admin)).to.equal(WAD);

        await (await btc3l.rebalance()).wait();
        expect(await btc3l.state()).to.equal(3n);
        const [mintAfter, redeemAfter, infoRun] = await Promise.all([
          lt(["mint", "BTC3L", "10"]),
          lt(["redeem", "BTC3L", "1"]),
          lt(["info", "BTC3L", "--json"]),
        ]);
        expectPlainError(mintAfter, depleted);
        expectPlainError(redeemAfter, depleted);
        const info = json<{ state: string; stateOnChain: string }>(infoRun);
        expect(info).to.include({ state: "Depleted", stateOnChain: "Depleted" });

        // the next round's fill refuses both sides; lt claim gives back every unit
        await newRounds(dep);
        const filled = json<{ depositRefused: boolean; redeemRefused: boolean }>(
          await lt(["fill", "BTC3L", "--json"]),
        );
        expect([filled.depositRefused, filled.redeemRefused]).to.deep.equal([true, true]);
        const back = json<{ returnedUsdt: string; returnedShares: string }>(
          await lt(["claim", "BTC3L", "--json"]),
        );
        expect([back.returnedUsdt, back.returnedShares]).to.deep.equal(["10", "1"]);
        expect(await dep.system.usdt.balanceOf(admin)).to.equal(usdtBefore);
        expect(await btc3l.balanceOf(admin)).to.equal(sharesBefore);
        await nothingPending(admin);
      });
    });

    it("refuses a minimum (--min-out) or a --max-slippage on a mint or redeem request in a sentence, sending nothing", async function () {
      const nonce = await dep.ethers.provider.getTransactionCount(admin);
      const [mint, redeem, mintSlippage, redeemSlippage] = await Promise.all([
        lt(["mint", "BTC3L", "100", "--min-out", "1000"]),
        lt(["redeem", "BTC3L", "10", "--min-out", "10000"]),
        lt(["mint", "BTC3L", "100", "--max-slippage", "1%"]),
        lt(["redeem", "BTC3L", "10", "--max-slippage", "1%"]),
      ]);
      const refused =
        "BTC3L fills requests at the next price round, which nobody knows yet, so --min-out cannot be enforced; place the request without it";
      expectPlainError(mint, refused);
      expectPlainError(redeem, refused);
      // a redeem takes --max-slippage when the token is settled (paid at once); BTC3L is active: a request
      const slippage = (side: string) =>
        `--max-slippage does not apply to a ${side} request: BTC3L's desk fills it at the next price round, whose price nobody knows when it is placed`;
      expectPlainError(mintSlippage, slippage("mint"));
      expectPlainError(redeemSlippage, slippage("redeem"));
      expect(redeemSlippage.stderr).to.include("--deadline");
      expect(redeemSlippage.stderr).to.include("lt cancel BTC3L while its round is current");
      await nothingPending(admin);
      expect(await dep.ethers.provider.getTransactionCount(admin)).to.equal(nonce);
    });

    it("says when the price is stale in a quote and in info, and stops a mint or redeem request before sending it", async function () {
      await isolated(async () => {
        const heartbeat = MARKETS.BTC.heartbeat;
        await send("evm_increaseTime", [heartbeat + 60]);
        await send("evm_mine");
        const nonce = await dep.ethers.provider.getTransactionCount(admin);
        const stale = "the BTC price is stale: last updated ";
        const [mint, redeem, quote, info] = await Promise.all([
          lt(["mint", "BTC3L", "10", "--json"]),
          lt(["redeem", "BTC3L", "1"]),
          lt(["quote", "redeem", "BTC3L", "1"]),
          lt(["info", "BTC3L"]),
        ]);
        expectPlainError(quote, stale);
        expect(quote.stderr).to.include(`longer ago than its ${heartbeat} s heartbeat`);
        expect(info.code).to.equal(0);
        expect(info.stdout).to.include(`unavailable: ${stale}`);
        expect(info.stdout).to.include("target 3.00x");
        // the request's estimate (the token's preview) reverts StalePrice: lt says so at once and sends
        // nothing, neither a permit's request nor an approval
        expectPlainError(mint, stale);
        expect(mint.stderr).to.include("wait for the price feed to update");
        expect(JSON.parse(mint.stdout)).to.have.property("error").that.includes(stale);
        expectPlainError(redeem, stale);
        expect(await btc3lDesk.pendingDepositRequest(0n, admin)).to.equal(0n);
        await nothingPending(admin);
        expect(await dep.ethers.provider.getTransactionCount(admin)).to.equal(nonce);
      });
      // a revert may leave the node's clock ahead: publish fresh prices for whatever runs next
      await setPrice("BTC", MARKETS.BTC.initialPrice);
      await setPrice("ETH", MARKETS.ETH.initialPrice);
    });

    // These fail before any contract is called (only the chain-id probe reaches the node), so
    // they run against the first node only.
    if (kind === "hardhat") {
      it("says a token is unknown (listing the known ones) and an amount is not a number", async function () {
        const [unknown, unknownJson, notNumber, tooPrecise, badSlippage] = await Promise.all([
          lt(["info", "DOGE3L"]),
          lt(["mint", "DOGE3L", "10", "--json"]),
          lt(["mint", "BTC3L", "ten"]),
          lt(["mint", "BTC3L", "1.1234567"]),
          lt(["redeem", "BTC3L", "10", "--max-slippage", "abc"]),
        ]);
        const known = 'unknown token "DOGE3L"; known tokens: BTC3L, BTC3S, ETH3L, ETH3S';
        expectPlainError(unknown, known);
        expect(unknownJson.code).to.equal(1);
        expect(JSON.parse(unknownJson.stdout)).to.deep.equal({ error: known });
        expectPlainError(notNumber, '"ten" is not an amount of USDT: write a number such as 100 or 99.5');
        expectPlainError(tooPrecise, '"1.1234567" has more decimals than USDT has (6)');
        expectPlainError(badSlippage, '"abc" is not a percentage for --max-slippage');
      });

      it("says when the node cannot be reached", async function () {
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        const run = await runLt(["--rpc", url, "--deployments", dep.dir, "tokens"]);
        expectPlainError(run, `cannot reach the node at ${url} (connection refused)`);
      });
    }
  });
}
