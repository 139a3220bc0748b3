// The book reader (src/chain/tokenBook.ts) and the engine's quotes over it: at the pending block, the
// engine's deposit shares and redeem payout equal the deployed token's previewDeposit and
// previewRedeem to the last unit, and its mint cost (what the arbitrage requests at a desk for a
// number of tokens) is the least deposit previewDeposit says mints them (previewMint is gone: shares
// are never minted by amount), on a new token, after mints, a day of management fee and funding, a
// price move, and while a token is being delisted; and at a past block too. The mints go through the
// test-only InstantDesk, so the book moves at once.
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deploySystem, type System } from "../../src/chain/deploy.ts";
import { USDT } from "../../src/common/params.ts";
import { rawRpcOf, readTokenBook, type BookBlock } from "../../src/chain/tokenBook.ts";
import { quoteDepositBook, quoteMintOnBook, quoteRedeemOnBook, TokenState } from "../../src/engine/index.ts";

const { ethers, networkHelpers } = await network.create();

async function setup() {
  const [, trader] = (await ethers.getSigners()) as [HardhatEthersSigner, HardhatEthersSigner];
  const s = await deploySystem(ethers, { desk: "instant" });
  await s.usdt.mint(trader.address, 10_000_000n * USDT);
  for (const desk of Object.values(s.instantDesks))
    await s.usdt.connect(trader).approve(await desk.getAddress(), 2n ** 255n);
  return { s, trader };
}

/** The trader deposits `usdt` into every token through its InstantDesk. */
async function depositAll(s: System, trader: HardhatEthersSigner, usdt: bigint): Promise<void> {
  for (const desk of Object.values(s.instantDesks)) await desk.connect(trader).deposit(usdt, trader.address);
}

/** Engine vs preview for every token at `at` ("pending" pinned to a fresh time, or a past block). */
async function compare(s: System, trader: HardhatEthersSigner, at: BookBlock): Promise<number> {
  const rpc = rawRpcOf(trader);
  let pinned: number | undefined;
  if (at === "pending") {
    // pin the pending block's time so that every read below sees the same block
    pinned = (await networkHelpers.time.latest()) + 7;
    await networkHelpers.time.setNextBlockTimestamp(pinned);
  }
  const tag = { blockTag: at };
  let checked = 0;
  for (const [symbol, token] of Object.entries(s.tokens)) {
    const t = await readTokenBook(rpc, token, s.vault, at);
    if (pinned !== undefined) expect(t.timestamp).to.equal(BigInt(pinned));
    expect(t.state).to.equal(Number(await token.state(tag)));
    const minted = await token.totalSupply(tag);
    if (minted !== 0n && t.state !== TokenState.Settled) {
      // the management fee due by this block is in the book's supply
      expect(t.book.supply, `${symbol}: fee accrued`).to.be.greaterThan(minted);
    }
    for (const shares of [10n ** 12n, 10n ** 18n, 123_456_789_012_345_678_901n, 10n ** 23n]) {
      // the least USDT that mints `shares`: it does, one unit less does not
      const cost = quoteMintOnBook(t.book, shares, t.targetLeverage, t.isLong);
      expect(cost > 0n, `${symbol} mint ${shares}`).to.equal(true);
      expect(await token.previewDeposit(cost, tag), `${symbol} mint ${shares}`).to.be.at.least(shares);
      expect(await token.previewDeposit(cost - 1n, tag), `${symbol} mint ${shares} - 1`).to.be.lessThan(
        shares,
      );
      checked++;
    }
    for (const usdt of [1n, 999_999n, 12_345n * USDT + 678_901n, 2_000_000n * USDT]) {
      expect(
        quoteDepositBook(t.book, usdt, t.targetLeverage, t.isLong).shares,
        `${symbol} deposit ${usdt}`,
      ).to.equal(await token.previewDeposit(usdt, tag));
      checked++;
    }
    if (minted === 0n) continue;
    for (const shares of [1n, minted / 3n + 7n, minted / 2n, minted]) {
      expect(quoteRedeemOnBook(t.book, shares).assets, `${symbol} redeem ${shares}`).to.equal(
        await token.previewRedeem(shares, tag),
      );
      checked++;
    }
  }
  return checked;
}

describe("Token book: the engine prices like the token's previews (in-process network)", function () {
  it("a new token (no supply): the first mint's cost and shares", async function () {
    const { s, trader } = await networkHelpers.loadFixture(setup);
    expect(await compare(s, trader, "pending")).to.equal(4 * 8);
  });

  it("after mints, a day of fees and funding, a price move, at the pending block and at a past block", async function () {
    const { s, trader } = await networkHelpers.loadFixture(setup);
    await depositAll(s, trader, 250_000n * USDT);
    await networkHelpers.time.increase(86_400);
    for (const [m, factor] of [
      ["BTC", 103n],
      ["ETH", 98n],
    ] as const) {
      const [, answer] = await s.feeds[m].latestRoundData();
      await s.feeds[m].updateAnswer((answer * factor) / 100n);
    }
    await networkHelpers.time.increase(3_600 - 60);
    expect(await compare(s, trader, "pending")).to.equal(4 * 12);
    // a past block: the book at that block's time, against the previews run at that block
    const past = await ethers.provider.getBlockNumber();
    await networkHelpers.mine(3, { interval: 600 });
    expect(await compare(s, trader, past)).to.equal(4 * 12);
  });

  it("while a token is being delisted", async function () {
    const { s, trader } = await networkHelpers.loadFixture(setup);
    await depositAll(s, trader, 100_000n * USDT);
    await s.tokens.BTC3S!.scheduleDelisting((await networkHelpers.time.latest()) + 3 * 86_400 + 60);
    await networkHelpers.time.increase(86_400);
    const [, answer] = await s.feeds.BTC.latestRoundData();
    await s.feeds.BTC.updateAnswer(answer);
    const [, eth] = await s.feeds.ETH.latestRoundData();
    await s.feeds.ETH.updateAnswer(eth);
    expect(await s.tokens.BTC3S!.state()).to.equal(BigInt(TokenState.Delisting));
    expect(await compare(s, trader, "pending")).to.equal(4 * 12);
  });
});
