// The wallet CLI end to end: `lt` runs as a subprocess against a `hardhat node` and an anvil this
// file starts, deploys to and stops. Quotes must equal what executes; every bad input must come
// back as its plain sentence with a non-zero exit and no stack trace.
import { expect } from "chai";
import { MaxUint256, parseEther, parseUnits, Wallet } from "ethers";
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
import { expectPlainError, json, runLt } from "./support/lt.ts";
import { freePort } from "./support/processes.ts";

const USDT = 10n ** 6n;
const WAD = 10n ** 18n;

for (const kind of ["hardhat", "anvil"] as NodeKind[]) {
  describe(`lt, the wallet CLI, against ${kind === "hardhat" ? "a hardhat node" : "anvil"}`, function () {
    this.timeout(120_000);
    let node: LocalNode | undefined;
    let dep: Deployment;
    let admin: string;
    let btc3l: LeveragedToken;
    let btc3lAddress: string;

    const lt = (args: string[], env: Record<string, string> = {}) =>
      runLt(["--rpc", node!.url, "--deployments", dep.dir, ...args], env);
    const send = (method: string, params: unknown[] = []) => dep.ethers.provider.send(method, params);
    const latestTime = async () => (await dep.ethers.provider.getBlock("latest"))!.timestamp;
    const isolated = (fn: () => Promise<void>) => isolatedOn(dep, fn);
    const setPrice = async (market: "BTC" | "ETH", price: bigint) =>
      (await dep.system.feeds[market].updateAnswer(price)).wait();

    before(async function () {
      node = await startNode(kind);
      dep = await deployOn(node.url);
      const [signer] = await dep.ethers.getSigners();
      admin = signer!.address;
      await (await dep.system.usdt.mint(admin, 1_000_000n * USDT)).wait();
      btc3l = dep.system.tokens.BTC3L!;
      btc3lAddress = await btc3l.getAddress();
    });

    after(async function () {
      await dep?.close();
      await node?.stop();
    });

    it("mints with an approval, quotes exactly what a mint and a redeem then execute, and redeems", async function () {
      const first = json(await lt(["mint", "BTC3L", "1000", "--json"]));
      expect(first.approveTx).to.be.a("string");
      expect(first.shares).to.equal(first.preview);
      expect(parseUnits(first.shares as string, 18)).to.equal(await btc3l.balanceOf(admin));
      expect(await dep.system.usdt.allowance(admin, btc3lAddress)).to.equal(0n); // approved exactly 1000

      // price the quotes and the transactions in the same block: time moves both by the same
      // management fee and funding, and the quote must come out to the last unit
      await (await dep.system.usdt.approve(btc3lAddress, MaxUint256)).wait();
      await send("evm_setNextBlockTimestamp", [(await latestTime()) + 60]);
      const quote = json(await lt(["quote", "mint", "BTC3L", "1234.56", "--json"]));
      // the engine prices the same state with its own arithmetic, to the last unit
      expect(quote.engine).to.equal(quote.preview);
      const before = await btc3l.balanceOf(admin);
      const minted = json(await lt(["mint", "BTC3L", "1234.56", "--json"]));
      expect(minted.approveTx).to.equal(null);
      expect(minted.shares).to.equal(quote.preview);
      expect((await btc3l.balanceOf(admin)) - before).to.equal(parseUnits(quote.preview as string, 18));

      await send("evm_setNextBlockTimestamp", [(await latestTime()) + 60]);
      const redeemQuote = json(await lt(["quote", "redeem", "BTC3L", "500.5", "--json"]));
      const usdtBefore = await dep.system.usdt.balanceOf(admin);
      const redeemed = json(await lt(["redeem", "BTC3L", "500.5", "--json"]));
      expect(redeemQuote.engine).to.equal(redeemQuote.preview);
      expect(redeemed.usdt).to.equal(redeemQuote.preview);
      expect((await dep.system.usdt.balanceOf(admin)) - usdtBefore).to.equal(
        parseUnits(redeemQuote.preview as string, 6),
      );

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
      await (await dep.system.usdt.approve(await dep.system.tokens.BTC3S!.getAddress(), MaxUint256)).wait();
      expect((await lt(["mint", "BTC3S", "2000"])).code).to.equal(0);
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

    it("signs with LT_PRIVATE_KEY and says when USDT or the allowance is short", async function () {
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
        "insufficient USDT allowance: BTC3L may spend 0.00 of your USDT, the mint needs 5.00; approve it first",
      );
      const refused = await lt(["mint", "BTC3L", "5", "--min-out", "1000"], env);
      expectPlainError(refused, "slippage exceeded: the mint would give 4.");
      expect(refused.stderr).to.match(/\(the approval of 5\.00 USDT in 0x[0-9a-f]{64} stays in place\)/);
      expect(await dep.system.usdt.allowance(wallet.address, btc3lAddress)).to.equal(5n * USDT);
      const minted = json(await lt(["mint", "BTC3L", "5", "--json"], env));
      expect(minted.approveTx).to.equal(null); // the approval above is used
      expect(parseUnits(minted.shares as string, 18)).to.equal(await btc3l.balanceOf(wallet.address));
      const balance = json(await lt(["balance", "--json"], env));
      expect(balance.account).to.equal(wallet.address);
      expect(balance.usdt).to.equal("15");
      const shares = formatShares(parseUnits(minted.shares as string, 18));
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
        expect((await lt(["redeem", "BTC3L", "1"])).code).to.equal(0);
      } finally {
        await (await btc3l.setMintPaused(false)).wait();
      }
    });

    it("says when a token is being delisted, still redeems, and redeems all at the final NAV once settled", async function () {
      await isolated(async () => {
        const delistingTime = (await latestTime()) + 4 * 86_400;
        await (await btc3l.scheduleDelisting(delistingTime)).wait();
        const [mint, redeem] = await Promise.all([lt(["mint", "BTC3L", "10"]), lt(["redeem", "BTC3L", "1"])]);
        expectPlainError(mint, "BTC3L is being delisted (settlement from ");
        expect(mint.stderr).to.include("minting is closed, redeeming stays open");
        expect(redeem.code, redeem.stderr).to.equal(0);

        await send("evm_setNextBlockTimestamp", [delistingTime]);
        await setPrice("BTC", MARKETS.BTC.initialPrice);
        await (await btc3l.settle()).wait();
        const held = await btc3l.balanceOf(admin);
        const owed = await btc3l.previewRedeem(held);
        const [settledMint, all] = await Promise.all([
          lt(["mint", "BTC3L", "10"]),
          lt(["redeem", "BTC3L", "all", "--json"]),
        ]);
        expectPlainError(settledMint, "BTC3L has been delisted and settled: minting is closed");
        const paid = json(all);
        expect(paid.settled).to.equal(true);
        expect(parseUnits(paid.usdt as string, 6)).to.equal(owed);
        expect(await btc3l.balanceOf(admin)).to.equal(0n);
      });
    });

    it("says when a token is depleted, before and after the rebalance that marks it", async function () {
      await isolated(async () => {
        await setPrice("BTC", 60_000n * 10n ** 8n); // -40%: a 3x long loses more than its equity
        const depleted =
          "BTC3L is depleted: its equity reached zero, so it can no longer be minted or redeemed";
        // before the rebalance the token is still Active: the chain's previews say it
        const [mint, redeem] = await Promise.all([lt(["mint", "BTC3L", "10"]), lt(["redeem", "BTC3L", "1"])]);
        expectPlainError(mint, depleted);
        expectPlainError(redeem, depleted);
        await (await btc3l.rebalance()).wait();
        expect(await btc3l.state()).to.equal(3n);
        const [mintAfter, infoRun] = await Promise.all([
          lt(["mint", "BTC3L", "10"]),
          lt(["info", "BTC3L", "--json"]),
        ]);
        expectPlainError(mintAfter, depleted);
        const info = json<{ state: string }>(infoRun);
        expect(info.state).to.equal("Depleted");
      });
    });

    it("says when the result would fall short of the minimum (slippage)", async function () {
      const [mint, redeem] = await Promise.all([
        lt(["mint", "BTC3L", "100", "--min-out", "1000"]),
        lt(["redeem", "BTC3L", "10", "--min-out", "10000"]),
      ]);
      expectPlainError(mint, "slippage exceeded: the mint would give 99.");
      expect(mint.stderr).to.include("less than the 1,000 BTC3L you accepted; nothing was minted");
      expectPlainError(redeem, "slippage exceeded: the redeem would pay 9.");
      expect(redeem.stderr).to.include("less than the 10,000.00 USDT you accepted; nothing was redeemed");
    });

    it("says when the price is stale, and info still shows what it can", async function () {
      await isolated(async () => {
        const heartbeat = MARKETS.BTC.heartbeat;
        await send("evm_increaseTime", [heartbeat + 60]);
        await send("evm_mine");
        const stale = "the BTC price is stale: last updated ";
        const [mint, quote, info] = await Promise.all([
          lt(["mint", "BTC3L", "10"]),
          lt(["quote", "redeem", "BTC3L", "1"]),
          lt(["info", "BTC3L"]),
        ]);
        expectPlainError(mint, stale);
        expect(mint.stderr).to.include(`longer ago than its ${heartbeat} s heartbeat`);
        expectPlainError(quote, stale);
        expect(info.code).to.equal(0);
        expect(info.stdout).to.include(`unavailable: ${stale}`);
        expect(info.stdout).to.include("target 3.00x");
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
