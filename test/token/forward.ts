// Issue 15's attack, measured: a trader who sees the next oracle update before it lands (it sits in
// the mempool, or the oracle lags the market) mints or redeems at the stored price and undoes it after
// the update. On a token that mints and redeems instantly the known move is a risk-free profit paid by
// the exchange's LPs; through the token's ForwardDesk every request is filled at the first price round
// after its own, so the attacker ends with its fees and trading costs as a loss.
import { expect } from "chai";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ForwardDesk, LeveragedToken } from "../../types/ethers-contracts/index.js";
import { deployTokenWithDesk } from "../../src/chain/desk.ts";
import { USDT, tokenParams } from "../../src/common/params.ts";
import { deployFixture, ethers, instant, networkHelpers, type Deployed } from "./fixture.ts";

const { loadFixture } = networkHelpers;

interface Forward extends Deployed {
  forward: {
    long: { token: LeveragedToken; desk: ForwardDesk };
    short: { token: LeveragedToken; desk: ForwardDesk };
  };
}

async function forwardFixture(): Promise<Forward> {
  const d = await deployFixture();
  const roles = { treasury: d.treasury.address, admin: d.admin.address, keeper: d.keeper.address };
  const vault = await d.sys.vault.getAddress();
  const long = await deployTokenWithDesk(ethers, vault, tokenParams("BTC", 3n, true), roles);
  const short = await deployTokenWithDesk(ethers, vault, tokenParams("BTC", 3n, false), roles);
  for (const { token, desk } of [long, short]) {
    for (const who of [d.alice, d.attacker]) {
      await d.sys.usdt.mint(who.address, 30_000_000n * USDT);
      await d.sys.usdt.connect(who).approve(await desk.getAddress(), ethers.MaxUint256);
      await token.connect(who).approve(await desk.getAddress(), ethers.MaxUint256);
    }
    // other holders exist, as on any live token
    await desk.connect(d.alice).requestDeposit(100_000n * USDT, d.alice.address, d.alice.address);
  }
  const f: Forward = { ...d, forward: { long, short } };
  await nextRound(f, 0n);
  for (const { desk } of [long, short]) {
    await desk.connect(d.keeper).fill();
    await desk
      .connect(d.alice)
      ["deposit(uint256,address)"](await desk.maxDeposit(d.alice.address), d.alice.address);
  }
  return f;
}

/** The feeder's next update: `bps` basis points from the last BTC price, a minute later. */
async function nextRound(d: Deployed, bps: bigint): Promise<void> {
  await networkHelpers.time.increase(60);
  const [, answer] = await d.sys.feeds.BTC.latestRoundData();
  await d.sys.feeds.BTC.updateAnswer((answer * (10_000n + bps)) / 10_000n);
}

async function usdtOf(d: Deployed, who: HardhatEthersSigner): Promise<bigint> {
  return await d.sys.usdt.balanceOf(who.address);
}

/** Through the desk: request, the next round (`bps`), the keeper's fill, the claim. */
async function mintForward(d: Forward, desk: ForwardDesk, assets: bigint, bps: bigint): Promise<bigint> {
  const who = d.attacker;
  await desk.connect(who).requestDeposit(assets, who.address, who.address);
  await nextRound(d, bps);
  await desk.connect(d.keeper).fill();
  const shares = await desk.maxMint(who.address);
  await desk.connect(who)["deposit(uint256,address)"](await desk.maxDeposit(who.address), who.address);
  return shares;
}

async function redeemForward(d: Forward, desk: ForwardDesk, shares: bigint, bps: bigint): Promise<bigint> {
  const who = d.attacker;
  await desk.connect(who).requestRedeem(shares, who.address, who.address);
  await nextRound(d, bps);
  await desk.connect(d.keeper).fill();
  const assets = await desk.maxWithdraw(who.address);
  await desk.connect(who).redeem(await desk.maxRedeem(who.address), who.address, who.address);
  return assets;
}

const CAPITAL = [1_000_000n * USDT, 10_000_000n * USDT];
const MOVES = [100n, 500n, -500n];
const results: Record<string, string>[] = [];

function usd(x: bigint): string {
  const sign = x < 0n ? "-" : x > 0n ? "+" : "";
  const a = x < 0n ? -x : x;
  return `${sign}${(a / USDT).toLocaleString("en-US")}.${(a % USDT).toString().padStart(6, "0").slice(0, 2)}`;
}

describe("Forward pricing: knowing the next price (issue 15)", function () {
  after(function () {
    if (process.env.FORWARD_VERBOSE) console.table(results);
  });

  for (const capital of CAPITAL) {
    for (const bps of MOVES) {
      for (const isLong of [true, false]) {
        const side = isLong ? "BTC3L" : "BTC3S";
        const label = `${side}, ${(capital / USDT).toLocaleString("en-US")} USDT, a known ${Number(bps) / 100}%`;
        if (bps > 0n === isLong) {
          it(`${label} for it: mint then redeem profits today, loses its costs forward`, async function () {
            const d = await loadFixture(forwardFixture);
            const instantToken = isLong ? d.btc3l : d.btc3s;
            await instant(instantToken)
              .connect(d.alice)
              .deposit(100_000n * USDT, d.alice.address);
            const start = await usdtOf(d, d.attacker);
            await instant(instantToken).connect(d.attacker).deposit(capital, d.attacker.address);
            await nextRound(d, bps);
            const held = await instantToken.balanceOf(d.attacker.address);
            await instant(instantToken)
              .connect(d.attacker)
              .redeem(held, d.attacker.address, d.attacker.address);
            const instantGain = (await usdtOf(d, d.attacker)) - start;

            const { desk } = isLong ? d.forward.long : d.forward.short;
            const before = await usdtOf(d, d.attacker);
            const shares = await mintForward(d, desk, capital, bps); // filled after the known move
            await redeemForward(d, desk, shares, 0n); // the next update, also known: flat
            const forward = (await usdtOf(d, d.attacker)) - before;
            results.push({ case: `mint, redeem: ${label}`, today: usd(instantGain), forward: usd(forward) });

            const move = bps < 0n ? -bps : bps;
            expect(instantGain).to.be.greaterThan((capital * 2n * move) / 10_000n); // about 3x the move
            expect(forward).to.be.lessThan(0n);
            expect(-forward).to.be.lessThan(capital / 200n); // fees and trading costs, nothing more
          });
        } else {
          it(`${label} against it: redeem then mint back gains shares today, none forward`, async function () {
            // a holder sees the move that hurts its side coming, sells before it and buys back after
            const d = await loadFixture(forwardFixture);
            const instantToken = isLong ? d.btc3l : d.btc3s;
            await instant(instantToken)
              .connect(d.alice)
              .deposit(100_000n * USDT, d.alice.address);
            await instant(instantToken).connect(d.attacker).deposit(capital, d.attacker.address);
            const instantHeld = await instantToken.balanceOf(d.attacker.address);
            const cash = await usdtOf(d, d.attacker);
            await instant(instantToken)
              .connect(d.attacker)
              .redeem(instantHeld, d.attacker.address, d.attacker.address);
            const paid = (await usdtOf(d, d.attacker)) - cash;
            await nextRound(d, bps);
            await instant(instantToken).connect(d.attacker).deposit(paid, d.attacker.address);
            const instantBack = await instantToken.balanceOf(d.attacker.address);

            const { desk, token } = isLong ? d.forward.long : d.forward.short;
            const held = await mintForward(d, desk, capital, 0n);
            const assets = await redeemForward(d, desk, held, bps); // filled after the known move
            const back = await mintForward(d, desk, assets, 0n);
            const change = (a: bigint, b: bigint): string =>
              `${((Number(a) / Number(b) - 1) * 100).toFixed(2)}% shares`;
            results.push({
              case: `redeem, mint: ${label}`,
              today: change(instantBack, instantHeld),
              forward: change(back, held),
            });

            expect(instantBack).to.be.greaterThan(instantHeld); // today: more shares for the same USDT
            expect(back).to.be.lessThan(held); // forward: fewer, by the costs
            expect(back).to.be.greaterThan(held - held / 100n);
            expect(await token.balanceOf(d.attacker.address)).to.equal(back);
          });
        }
      }
    }
  }

  it("the price a request is filled at is never its own round's: a fill in the same round reverts", async function () {
    const d = await loadFixture(forwardFixture);
    const { desk } = d.forward.long;
    await desk.connect(d.attacker).requestDeposit(1_000n * USDT, d.attacker.address, d.attacker.address);
    const round = await desk.currentRound();
    await expect(desk.connect(d.keeper).fill())
      .to.be.revertedWithCustomError(desk, "NothingToFill")
      .withArgs(round);
    expect(await desk.pendingDepositRequest(0n, d.attacker.address)).to.equal(1_000n * USDT);
    // a price update at the same level is still a new round: the request fills at it
    await nextRound(d, 0n);
    await desk.connect(d.keeper).fill();
    expect(await desk.claimableDepositRequest(0n, d.attacker.address)).to.equal(1_000n * USDT);
  });
});
