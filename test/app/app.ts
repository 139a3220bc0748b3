// The traders' page (issue 18) in a real browser: a `hardhat node`, the deploy and the keeper as the
// README runs them, `npm run app`'s program serving the page, and headless Chromium (from the npm
// package @sparticuz/chromium, driven by playwright-core) with an injected EIP-1193 test wallet that
// signs with a dev key. The test reads the tokens table, mints BTC3L (the request with its USDT
// permit, the keeper's fill at the next price round, the claim), watches NAV and the rebalances
// follow a price move, redeems, and reads the position; every number the page shows is checked
// against the chain at the block the page says it read. Screenshots go to out/app/.
import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import chromiumBinary from "@sparticuz/chromium";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { encodeBytes32String, HDNodeWallet, parseUnits, type Log } from "ethers";
import type { AddressBook } from "../../src/chain/addressBook.ts";
import { rawRpcOf } from "../../src/chain/tokenBook.ts";
import { serveApp } from "../../src/app/server.ts";
import { formatLeverage, formatTime } from "../../src/cli/format.ts";
import { formatPerToken, perTokenDown, perTokenJson, readTrueNav } from "../../src/cli/trueNav.ts";
import { formatShares, formatUsdt } from "../../src/cli/format.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { Chain } from "../e2e/support/chain.ts";
import { json, runLt } from "../e2e/support/lt.ts";
import {
  buildForChildren,
  Child,
  deploy,
  feeder,
  keeper,
  ROOT,
  scratch,
  startTarget,
  type Target,
} from "../e2e/support/processes.ts";
import { TestWallet } from "./wallet.ts";

const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const keyOf = (i: number) =>
  HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey;
/** The trader: a funded dev account that holds nothing yet. */
const TRADER = 5;
const SHOTS = join(ROOT, "out", "app");
const PAIR_ABI = [
  "function getReserves() view returns (uint112, uint112, uint32)",
  "function token0() view returns (address)",
];

/** Starts `node scripts/app.ts` and waits for the URL it prints. */
async function startApp(target: Target, out: string): Promise<{ child: Child; url: string }> {
  const child = new Child("app", process.execPath, [
    "scripts/app.ts",
    "--network",
    target.network,
    "--rpc",
    target.url,
    "--deployments",
    target.deployments,
    "--port",
    "0",
    "--out",
    out,
  ]);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /at (http:\/\/\S+)/.exec(child.stdout);
    if (m) return { child, url: m[1]! };
    if (!child.running || Date.now() > deadline)
      throw new Error(`npm run app did not start\n${child.tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("app: the traders' web page in headless Chromium (issue 18)", function () {
  this.timeout(240_000);
  const dirs = scratch();
  const site = mkdtempSync(join(tmpdir(), "lt-app-"));
  let node: Child | undefined;
  let app: Child | undefined;
  let keeperChild: Child | undefined;
  let target: Target;
  let book: AddressBook;
  let chain: Chain;
  let url: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let wallet: TestWallet;
  /** The last block of the deploy (the pools seeded), before the test's own trades. */
  let deployed: number;
  const timings: string[] = [];

  before(async function () {
    this.timeout(900_000); // the first run on a machine compiles the contracts for the children
    await buildForChildren();
    mkdirSync(SHOTS, { recursive: true });
    const t0 = Date.now();
    ({ node, target } = await startTarget("hardhat", dirs));
    ({ book } = await deploy(target));
    chain = new Chain(target.url, book);
    deployed = await chain.provider.getBlockNumber();
    keeperChild = keeper(target, ["--interval", "250"]);
    ({ child: app, url } = await startApp(target, site));
    browser = await chromium.launch({
      executablePath: await chromiumBinary.executablePath(),
      // one process per browser would die with its first closed context: the test opens several
      args: chromiumBinary.args.filter((a) => a !== "--single-process"),
    });
    wallet = new TestWallet(keyOf(TRADER), book.chainId, target.url);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await wallet.inject(context);
    page = await context.newPage();
    page.on("pageerror", (e) => console.log(`      page error: ${e.message}`));
    timings.push(`setup (node, deploy, keeper, app, browser) ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  after(async function () {
    if (timings.length) console.log(timings.map((t) => `      ${t}`).join("\n"));
    await browser?.close();
    wallet?.close();
    chain?.close();
    for (const c of [app, keeperChild, node]) await c?.stop("SIGKILL");
    dirs.remove();
    rmSync(site, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== "failed" || page === undefined) return;
    // what the page said, for the failure's report
    const said = await page
      .evaluate(() =>
        ["problem", "trade-status", "quote", "wallet"].map(
          (id) => `${id}: ${document.getElementById(id)?.innerText ?? ""}`,
        ),
      )
      .catch((e: Error) => [e.message]);
    console.log(said.map((l) => `      ${l}`).join("\n"));
    await page.screenshot({ path: join(SHOTS, "failed.png"), fullPage: true }).catch(() => undefined);
  });

  /** The block the page's current view was read at (set once a view is read whole at one block). */
  async function shownBlock(): Promise<number> {
    return Number(await page.locator("body").getAttribute("data-block"));
  }

  async function navAt(symbol: string, block: number): Promise<bigint> {
    return (await readTrueNav(await chain.token(symbol), rawRpcOf(chain.provider), block)).perToken;
  }

  /** Waits until the page shows a view read at or after `block`. */
  async function waitForView(block: number): Promise<number> {
    await page.waitForFunction((b) => Number(document.body.dataset.block ?? -1) >= b, block, {
      timeout: 30_000,
    });
    return shownBlock();
  }

  it("reads the tokens table: NAV, leverage and pool price of every token as the chain has them", async function () {
    const t0 = Date.now();
    await page.goto(url);
    await page.locator("#tokens").waitFor();
    timings.push(`first load of the tokens table ${Date.now() - t0} ms`);
    // the bundle stays small: ethers, the CLI's readers and the engine, under 200 KB as sent
    const size = /script ([\d.]+) KB, ([\d.]+) KB gzipped/.exec(app!.stdout);
    expect(size, app!.stdout).to.not.equal(null);
    expect(Number(size![2])).to.be.below(200);
    timings.push(`bundle: script ${size![1]} KB minified, ${size![2]} KB gzipped with the HTML and CSS`);
    const block = await waitForView(0);
    expect(Number(await page.locator("#tokens").getAttribute("data-block"))).to.equal(block);
    const symbols = await page
      .locator("#tokens tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-symbol")));
    expect(symbols).to.deep.equal(Object.keys(book.tokens));
    for (const symbol of Object.keys(book.tokens)) {
      const row = page.locator(`#tokens tr[data-symbol="${symbol}"]`);
      const nav = await navAt(symbol, block);
      expect(await row.locator(".nav").getAttribute("data-value"), `${symbol} NAV`).to.equal(
        perTokenJson(nav),
      );
      expect(await row.locator(".nav").innerText()).to.equal(formatPerToken(nav));
      const token = await chain.token(symbol);
      const leverage = await token.leverage({ blockTag: block });
      expect(await row.locator(".leverage").innerText(), `${symbol} leverage`).to.equal(
        formatLeverage(leverage),
      );
      const aria = await row.locator("svg.gauge").getAttribute("aria-label");
      expect(aria).to.include(
        `band ${formatLeverage(await token.minLeverage())} to ${formatLeverage(await token.maxLeverage())}`,
      );
      expect(aria).to.include(`ripcord ${formatLeverage(await token.ripcordLeverage())}`);
      const pair = new (await import("ethers")).Contract(book.pools![symbol]!, PAIR_ABI, chain.provider);
      const [[r0, r1], token0] = (await Promise.all([
        pair.getFunction("getReserves")({ blockTag: block }),
        pair.getFunction("token0")(),
      ])) as [[bigint, bigint], string];
      const [usdt, shares] = token0.toLowerCase() === book.usdt.toLowerCase() ? [r0, r1] : [r1, r0];
      expect(await row.locator(".pool").getAttribute("data-value"), `${symbol} pool`).to.equal(
        perTokenJson(perTokenDown(usdt, shares)),
      );
      expect(await row.locator(".state").innerText()).to.equal("Active");
    }
    await page.screenshot({ path: join(SHOTS, "tokens.png"), fullPage: true });
  });

  let mintedShares = 0n;

  it("mints BTC3L: one request with the USDT permit, the keeper's fill at the next price round, the claim", async function () {
    await page.goto(`${url}#/token/BTC3L`);
    await page.locator("#token-summary dl").waitFor();
    expect(await page.locator("#account").getAttribute("data-account")).to.equal(wallet.address);
    await page.getByLabel("Amount in USDT").fill("1000");
    await page.locator('#quote dd[data-q="estimate"]').waitFor();
    expect(await page.locator('#quote dd[data-q="fee"]').innerText()).to.match(/^\d[\d,]*\.\d+ USDT/);
    expect(await page.locator('#quote dd[data-q="venue"]').innerText()).to.match(/cheaper/);
    const nonce = await chain.provider.getTransactionCount(wallet.address);
    const desk = await chain.desk("BTC3L");
    // a deadline outside 1 to 1440 minutes is a sentence on the page, and nothing is signed or sent
    const deadlineField = page.getByLabel("Deadline (minutes)");
    expect(await deadlineField.inputValue()).to.equal("10");
    await deadlineField.fill("0");
    const asked = wallet.requests.length;
    await page.getByRole("button", { name: "Place mint request" }).click();
    expect(await page.locator("#trade-status .error").innerText({ timeout: 10_000 })).to.equal(
      "The deadline must be a whole number of minutes from 1 to 1440 (a day), not 0; nothing was sent.",
    );
    expect(await deadlineField.getAttribute("aria-invalid")).to.equal("true");
    expect(await chain.provider.getTransactionCount(wallet.address)).to.equal(nonce);
    const wrote = wallet.requests.slice(asked).filter((m) => /^eth_(signTypedData|sendTransaction)/.test(m));
    expect(wrote, "the wallet asked to sign or send").to.deep.equal([]);
    // a deadline other than the default: the permit's, in chain time from the block it is signed at
    const MINUTES = 37;
    await deadlineField.fill(String(MINUTES));
    const before = await chain.provider.getBlock("latest");
    await page.getByRole("button", { name: "Place mint request" }).click();
    const placed = page.locator("#placed");
    await placed.waitFor({ timeout: 30_000 });
    const requestBlock = Number(await placed.getAttribute("data-block"));
    // one transaction: the permit rides in the request, no approval
    expect(await chain.provider.getTransactionCount(wallet.address)).to.equal(nonce + 1);
    const sent = desk.interface.parseTransaction(
      (await chain.provider.getTransaction((await placed.getAttribute("data-tx"))!))!,
    );
    expect(sent?.name).to.equal("requestDepositWithPermit");
    const deadline = sent!.args.getValue("deadline") as bigint;
    // signed at the chain time of the pending block (lt mint's): no earlier than the latest block
    // before the click, no later than the block the request landed in
    const signedAt = deadline - BigInt(MINUTES * 60);
    const landed = await chain.provider.getBlock(requestBlock);
    expect(Number(signedAt)).to.be.within(before!.timestamp, landed!.timestamp);
    expect(await placed.getAttribute("data-deadline")).to.equal(deadline.toString());
    expect(await placed.innerText()).to.include(
      `USDT permit signed until ${formatTime(deadline)}, chain time`,
    );
    expect(await desk.pendingDepositRequest(0n, wallet.address)).to.equal(1000n * 10n ** 6n);
    expect(wallet.requests).to.include("eth_signTypedData_v4");
    await page.locator("#pending-mint").waitFor();
    await page.screenshot({ path: join(SHOTS, "trade-pending.png"), fullPage: true });
    await chain.newRounds(); // the next price round: the keeper fills the request
    await page.locator("#claim").waitFor({ timeout: 30_000 });
    const costs = page.locator("#fill-costs-mint");
    await costs.waitFor({ timeout: 30_000 });
    expect(await costs.getAttribute("data-found")).to.equal("session");
    const [fill] = await desk.queryFilter(desk.filters.Filled(), requestBlock);
    expect(fill, "a fill after the request").to.not.equal(undefined);
    const navAfter = await navAt("BTC3L", fill!.blockNumber);
    expect(await costs.getAttribute("data-nav")).to.equal(perTokenJson(navAfter));
    expect(await costs.innerText()).to.include(`${formatPerToken(navAfter)} USDT per BTC3L after the fill`);
    await page.locator("#trade").screenshot({ path: join(SHOTS, "trade.png") });
    await page.locator("#claim").click();
    const claimed = page.locator("#claimed-mint");
    await claimed.waitFor({ timeout: 30_000 });
    const tx = await claimed.getAttribute("data-tx");
    const receipt = await chain.provider.getTransactionReceipt(tx!);
    const deposit = receipt!.logs
      .filter((l) => l.address.toLowerCase() === book.desks!.BTC3L!.toLowerCase())
      .map((l) => desk.interface.parseLog(l))
      .find((e) => e?.name === "Deposit");
    mintedShares = deposit!.args.shares as bigint;
    expect(parseUnits((await claimed.getAttribute("data-shares"))!, 18)).to.equal(mintedShares);
    expect(await (await chain.token("BTC3L")).balanceOf(wallet.address)).to.equal(mintedShares);
  });

  it("follows a price move: NAV, the chart and the keeper's rebalance on the token page", async function () {
    const from = await chain.provider.getBlockNumber();
    const navBefore = await page.locator("#token-nav").getAttribute("data-value");
    await feeder(target, ["--jump", "BTC:-12%"]); // BTC3L past its band's 4x: the keeper rebalances it
    const deadline = Date.now() + 30_000;
    while ((await chain.rebalances("BTC3L", from)) === 0) {
      if (Date.now() > deadline)
        throw new Error(`no rebalance of BTC3L after the move\n${keeperChild!.tail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const after = await chain.provider.getBlockNumber();
    const block = await waitForView(after);
    await page.locator("#rebalances").waitFor();
    const nav = await navAt("BTC3L", block);
    expect(await page.locator("#token-nav").getAttribute("data-value")).to.equal(perTokenJson(nav));
    expect(perTokenJson(nav)).to.not.equal(navBefore);
    const rebalances = await chain.rebalances("BTC3L", 0);
    expect(await page.locator("#rebalances tr.rebalance").count()).to.equal(rebalances);
    expect(await page.locator("#rebalances tbody tr").first().innerText()).to.include(
      "leverage outside the band",
    );
    expect(await page.locator("svg.chart").getAttribute("aria-label")).to.match(/rebalances marked/);
    expect(await page.locator("#explanation").innerText()).to.match(/Volatility decay took/);
    await page.screenshot({ path: join(SHOTS, "token.png"), fullPage: true });
  });

  it("redeems every BTC3L: the request, the fill, the claim, the USDT it paid", async function () {
    await page.getByLabel("Redeem (give BTC3L)").check();
    await page.getByLabel('Amount in BTC3L (or "all")').fill("all");
    // a redeem signs no permit, so it has no deadline to set
    expect(await page.getByLabel("Deadline (minutes)").isHidden()).to.equal(true);
    const usdtBefore = await (await chain.usdt()).balanceOf(wallet.address);
    await page.getByRole("button", { name: "Place redeem request" }).click();
    await page.locator("#pending-redeem").waitFor({ timeout: 30_000 });
    const desk = await chain.desk("BTC3L");
    expect(await desk.pendingRedeemRequest(0n, wallet.address)).to.equal(mintedShares);
    const requestBlock = Number(await page.locator("#placed").getAttribute("data-block"));
    await chain.newRounds();
    await page.locator("#claim").waitFor({ timeout: 30_000 });
    // a reload forgets the request this page placed: the fill's costs are found from the chain
    await page.reload();
    const costs = page.locator("#fill-costs-redeem");
    await costs.waitFor({ timeout: 30_000 });
    expect(await costs.getAttribute("data-found")).to.equal("chain");
    const [fill] = await desk.queryFilter(desk.filters.Filled(), requestBlock);
    expect(fill, "a fill after the redeem request").to.not.equal(undefined);
    expect(Number(await costs.getAttribute("data-block"))).to.equal(fill!.blockNumber);
    const navAfter = await navAt("BTC3L", fill!.blockNumber);
    expect(await costs.getAttribute("data-nav")).to.equal(perTokenJson(navAfter));
    const lines = await costs.innerText();
    expect(lines).to.include(`${formatPerToken(navAfter)} USDT per BTC3L after the fill`);
    // the request's share of the fill is all of it (the trader's redeem was the batch's only one):
    // the token's fee and trading cost for the fill, as its PositionResized reports them
    expect(fill!.args.sharesIn).to.equal(mintedShares);
    const token = await chain.token("BTC3L");
    const [resized] = await token.queryFilter(
      token.filters.PositionResized(),
      fill!.blockNumber,
      fill!.blockNumber,
    );
    expect(resized, "the fill's redeem through the token").to.not.equal(undefined);
    expect(lines).to.include(`redeem fee ${formatShares(resized!.args.feeShares)} BTC3L (about `);
    expect(lines).to.include(`trading cost ${formatUsdt(resized!.args.cost)} USDT`);
    await page.locator("#claim").click();
    const claimed = page.locator("#claimed-redeem");
    await claimed.waitFor({ timeout: 30_000 });
    const paid = (await (await chain.usdt()).balanceOf(wallet.address)) - usdtBefore;
    expect(paid > 0n).to.equal(true);
    expect(parseUnits((await claimed.getAttribute("data-usdt"))!, 6)).to.equal(paid);
    expect(parseUnits((await claimed.getAttribute("data-shares"))!, 18)).to.equal(mintedShares);
    expect(await (await chain.token("BTC3L")).balanceOf(wallet.address)).to.equal(0n);
  });

  /**
   * What `symbol` paid over [from, to], from the exchange's and the token's own events, classified by
   * transaction: a Traded event whose transaction has the token's Rebalanced (and no PositionResized)
   * is a rebalance's trade, one with PositionResized (and no Rebalanced) a mint's or a redeem's.
   */
  async function paidOnChain(symbol: string, from: number, to: number) {
    const token = await chain.token(symbol);
    const address = await token.getAddress();
    const vault = MockPerpVault__factory.connect(book.perpVault, chain.provider);
    const market = encodeBytes32String(symbol.slice(0, 3));
    const desk = await chain.desk(symbol);
    const [traded, funded, settled, accrued, resized, rebalanced, netted] = await Promise.all([
      vault.queryFilter(vault.filters.Traded(market, address), from, to),
      vault.queryFilter(vault.filters.FundingSettled(market, address), from, to),
      vault.queryFilter(vault.filters.PnlSettled(market, address), from, to),
      token.queryFilter(token.filters.ManagementFeeAccrued(), from, to),
      token.queryFilter(token.filters.PositionResized(), from, to),
      token.queryFilter(token.filters.Rebalanced(), from, to),
      desk.queryFilter(desk.filters.Netted(), from, to),
    ]);
    const txs = (logs: Log[]) => new Set(logs.map((l) => l.transactionHash));
    const [rebalanceTxs, resizeTxs] = [txs(rebalanced), txs(resized)];
    const costs = { rebalance: 0n, mintRedeem: 0n, other: 0n, funding: 0n };
    for (const t of traded) {
      const [r, m] = [rebalanceTxs.has(t.transactionHash), resizeTxs.has(t.transactionHash)];
      if (r && !m) costs.rebalance += t.args.cost;
      else if (m && !r) costs.mintRedeem += t.args.cost;
      else costs.other += t.args.cost;
      costs.funding += t.args.fundingPaid;
    }
    for (const e of funded) costs.funding += e.args.amount;
    for (const e of settled) costs.funding += e.args.funding;
    const sum = (values: bigint[]) => values.reduce((a, v) => a + v, 0n);
    return {
      ...costs,
      reportedRebalance: sum(rebalanced.map((e) => e.args.cost)),
      reportedMintRedeem: sum(resized.map((e) => e.args.cost)),
      managementFeeShares: sum([
        ...accrued.map((e) => e.args.shares),
        ...resized.map((e) => e.args.managementFeeShares),
        ...rebalanced.map((e) => e.args.managementFeeShares),
      ]),
      tradeFeeShares: sum([
        ...resized.map((e) => e.args.feeShares),
        ...netted.map((e) => e.args.redeemFeeShares + e.args.mintFeeShares),
      ]),
    };
  }

  it("shows the funding, trading costs and fees a token paid as the exchange's and the token's events total them", async function () {
    const vault = MockPerpVault__factory.connect(book.perpVault, chain.provider);
    const rate = (await vault.marketInfo(encodeBytes32String("BTC"))).fundingRate;
    expect(rate > 0n, "BTC's funding rate is positive: longs pay shorts").to.equal(true);
    const startBlock = typeof book.startBlock === "number" ? book.startBlock : 0;
    // funding of a minute's positions is below a unit of USDT: let 8 hours of it accrue, then a new
    // price round (the keeper may rebalance on it: its trades settle funding, counted like the rest)
    await chain.provider.send("evm_increaseTime", [8 * 3600]);
    await chain.newRounds();
    for (const symbol of ["BTC3L", "BTC3S"]) {
      const latest = await chain.provider.getBlockNumber();
      await page.goto(`${url}#/token/${symbol}`);
      await page.waitForFunction(
        ([s, b]) =>
          Number(
            document.querySelector(`#costs-list[data-symbol="${s}"]`)?.getAttribute("data-block") ?? -1,
          ) >= Number(b),
        [symbol, latest] as const,
        { timeout: 30_000 },
      );
      // one snapshot of the list: the page may show a newer block a moment later (the keeper acts)
      const snapshot = await page.evaluate((s) => {
        const list = document.querySelector(`#costs-list[data-symbol="${s}"]`)!;
        const rows: Record<string, { value: string; text: string }> = {};
        for (const dd of Array.from(list.querySelectorAll<HTMLElement>("dd[data-cost]")))
          rows[dd.dataset.cost!] = { value: dd.dataset.value!, text: dd.innerText };
        return { block: Number(list.getAttribute("data-block")), rows };
      }, symbol);
      const block = snapshot.block;
      const shown = (key: string) => {
        const row = snapshot.rows[key];
        expect(row, `${symbol}: the page's ${key} line`).to.not.equal(undefined);
        return { value: BigInt(row!.value), text: row!.text };
      };
      const chainPaid = await paidOnChain(symbol, startBlock, block);
      const token = await chain.token(symbol);
      const owed = await vault.fundingOwed(encodeBytes32String("BTC"), await token.getAddress(), {
        blockTag: block,
      });
      // the token's own events report what the exchange charged its trades, to the unit
      expect(chainPaid.reportedRebalance, `${symbol} Rebalanced cost`).to.equal(chainPaid.rebalance);
      expect(chainPaid.reportedMintRedeem, `${symbol} PositionResized cost`).to.equal(chainPaid.mintRedeem);
      expect(chainPaid.other, `${symbol}: no trade but rebalances, mints and redeems`).to.equal(0n);
      expect(snapshot.rows["other-trading"]).to.equal(undefined);
      const rebalance = shown("rebalance-trading");
      expect(rebalance.value, `${symbol} rebalances' trading cost`).to.equal(chainPaid.rebalance);
      expect(rebalance.text).to.equal(`${formatUsdt(chainPaid.rebalance)} USDT (shared by the holders)`);
      const mintRedeem = shown("mint-redeem-trading");
      expect(mintRedeem.value, `${symbol} mints' and redeems' trading cost`).to.equal(chainPaid.mintRedeem);
      expect(chainPaid.mintRedeem > 0n, `${symbol} was seeded by a mint that paid its trade`).to.equal(true);
      // funding as the exchange reports it: + paid, - received; a long pays while the rate is positive
      const funding = shown("funding");
      expect(funding.value, `${symbol} funding settled`).to.equal(chainPaid.funding);
      const fundingOwed = shown("funding-owed");
      expect(fundingOwed.value, `${symbol} funding owed at block ${block}`).to.equal(owed);
      // 8 hours at a positive rate: the long paid (or owes) funding and the short received (or is owed)
      const eightHours = chainPaid.funding + owed;
      if (symbol === "BTC3L") expect(eightHours > 0n, `BTC3L paid funding: ${eightHours}`).to.equal(true);
      else expect(eightHours < 0n, `BTC3S received funding: ${eightHours}`).to.equal(true);
      const said = (v: bigint, paid: string, received: string) =>
        `${v > 0n ? "+" : ""}${formatUsdt(v)} USDT${v > 0n ? ` (${paid})` : v < 0n ? ` (${received})` : ""}`;
      expect(funding.text).to.equal(said(chainPaid.funding, "paid", "received"));
      expect(fundingOwed.text).to.equal(said(owed, "owed", "due to the token"));
      const management = shown("management-fee");
      expect(management.value, `${symbol} management fee shares`).to.equal(chainPaid.managementFeeShares);
      expect(management.text).to.equal(
        `${formatShares(chainPaid.managementFeeShares)} ${symbol} to the treasury`,
      );
      const tradeFees = shown("trade-fees");
      expect(tradeFees.value, `${symbol} mint and redeem fee shares`).to.equal(chainPaid.tradeFeeShares);
      // and the fee events are what the treasury got: its balance (fee shares pending included) grew
      // by them since the deploy
      const treasury = await token.treasury();
      const grew =
        (await token.balanceOf(treasury, { blockTag: block })) -
        (await token.balanceOf(treasury, { blockTag: deployed }));
      const since = await paidOnChain(symbol, deployed + 1, block);
      expect(grew, `${symbol} treasury's fee shares since the deploy`).to.equal(
        since.managementFeeShares + since.tradeFeeShares,
      );
      if (symbol === "BTC3L") {
        expect(since.tradeFeeShares > 0n && since.rebalance > 0n, "the test's trades paid fees").to.equal(
          true,
        );
        await page.locator("#costs").screenshot({ path: join(SHOTS, "costs.png") });
      }
    }
  });

  it("shows the position as lt position does", async function () {
    await page.goto(`${url}#/position`);
    await page.locator("#position").waitFor();
    const row = await page.locator('#position tr[data-symbol="BTC3L"]').getAttribute("data-json");
    const lt = json<{ positions: { symbol: string }[] }>(
      await runLt([
        "--rpc",
        target.url,
        "--deployments",
        target.deployments,
        "--json",
        "position",
        wallet.address,
      ]),
    );
    const expected = lt.positions.find((p) => p.symbol === "BTC3L");
    expect(expected, "lt position lists BTC3L").to.not.equal(undefined);
    expect(JSON.parse(row!)).to.deep.equal(expected);
  });

  it("says in a plain sentence when there is no wallet, a locked one, one on another chain, or no deployment", async function () {
    const bare = await browser.newContext();
    const p1 = await bare.newPage();
    await p1.goto(url);
    await p1.locator("#tokens").waitFor();
    expect(await p1.locator("#wallet-sentence").innerText()).to.match(
      /^No browser wallet found: the page is read-only/,
    );
    await bare.close();
    const sentences: Record<string, RegExp> = {
      locked: /^Your wallet is locked or has not connected this page yet/,
      "chain 1":
        /^Your wallet is on chain 1, but this deployment \(localhost\) is on chain 31337: switch the wallet/,
    };
    for (const [name, sentence] of Object.entries(sentences)) {
      const ctx = await browser.newContext();
      const w = new TestWallet(
        keyOf(TRADER),
        book.chainId,
        target.url,
        name === "locked" ? { locked: true } : { chainId: 1 },
      );
      await w.inject(ctx);
      const p = await ctx.newPage();
      await p.goto(url);
      await p.locator("#wallet-sentence").waitFor();
      expect(await p.locator("#wallet-sentence").innerText(), name).to.match(sentence);
      await ctx.close();
      w.close();
    }
    const empty = mkdtempSync(join(tmpdir(), "lt-app-empty-"));
    const served = await serveApp({
      dir: site,
      network: "localhost",
      rpcUrl: target.url,
      deployments: empty,
      host: "127.0.0.1",
      port: 0,
    });
    try {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      await p.goto(served.url);
      await p.locator("#problem").waitFor();
      expect(await p.locator("#problem").innerText()).to.match(/^no deployment for network "localhost"/);
      await ctx.close();
    } finally {
      await served.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
