// A mint that passed its estimate but reverted once mined (a price moved, the feed went stale in
// between): lt says why, in the sentence a revert before sending gets, not only that it reverted.
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deploySystem } from "../../src/chain/deploy.ts";
import { USDT } from "../../src/common/params.ts";
import { explainError, type ErrorContext } from "../../src/cli/errors.ts";
import { explainMinedRevert } from "../../src/cli/minedRevert.ts";

const { ethers, networkHelpers } = await network.create();
const ctx: ErrorContext = { symbol: "BTC3L", action: "mint" };

async function setup() {
  const [admin] = (await ethers.getSigners()) as [HardhatEthersSigner];
  // the token's own revert reasons, one deposit at a time: through the pass-through InstantDesk
  const s = await deploySystem(ethers, { desk: "instant" });
  await s.usdt.mint(admin.address, 1_000_000n * USDT);
  const btc3l = s.tokens.BTC3L!;
  const desk = s.instantDesks.BTC3L!;
  await s.usdt.approve(await desk.getAddress(), 2n ** 255n);
  await desk.deposit(1_000n * USDT, admin.address);
  return { s, admin, btc3l, desk };
}

/** Sends a mint with a fixed gas limit (no estimate), mines it, and returns what its wait() threw. */
async function minedRevert(
  before?: (f: Awaited<ReturnType<typeof setup>>) => Promise<void>,
  gasLimit = 1_000_000n,
): Promise<unknown> {
  const f = await networkHelpers.loadFixture(setup);
  await before?.(f);
  await ethers.provider.send("evm_setAutomine", [false]);
  try {
    const tx = await f.desk.deposit(100n * USDT, f.admin.address, { gasLimit });
    await ethers.provider.send("evm_mine", []);
    return await tx.wait().then(
      () => expect.fail("the mint should have reverted"),
      (e: unknown) => e,
    );
  } finally {
    await ethers.provider.send("evm_setAutomine", [true]);
  }
}

describe("lt: a transaction mined and reverted", function () {
  it("says minting was paused before it landed and names the transaction", async function () {
    const e = await minedRevert(async (f) => {
      await f.btc3l.setMintPaused(true);
    });
    expect(explainError(e, ctx).message).to.match(/^the transaction 0x[0-9a-f]{64} reverted on chain$/);
    const said = (await explainMinedRevert(ethers.provider, e, ctx)) as Error;
    expect(said.message).to.match(
      /^minting BTC3L is paused by its operator; redeeming stays open \(the transaction 0x[0-9a-f]{64} was mined in block \d+ and reverted\)$/,
    );
    expect(explainError(said, ctx).message).to.equal(said.message);
  });

  it("says the price went stale", async function () {
    const e = await minedRevert(async () => {
      await networkHelpers.time.increase(2 * 3600);
    });
    const said = (await explainMinedRevert(ethers.provider, e, ctx)) as Error;
    expect(said.message).to.match(
      /^the BTC price is stale: last updated .*heartbeat; wait for the price feed to update \(the transaction 0x[0-9a-f]{64} was mined/,
    );
  });

  it("says it ran out of gas when it used all of its limit (no revert data then)", async function () {
    const e = await minedRevert(undefined, 80_000n);
    const said = (await explainMinedRevert(ethers.provider, e, ctx)) as Error;
    expect(said.message).to.match(
      /^it ran out of gas: it cost more in its block than estimated, past its limit of 80000; nothing was done, try again \(the transaction 0x[0-9a-f]{64} was mined in block \d+ and reverted\)$/,
    );
  });

  it("leaves every other error as it was", async function () {
    const other = new Error("socket hang up");
    expect(await explainMinedRevert(ethers.provider, other, ctx)).to.equal(other);
  });
});
