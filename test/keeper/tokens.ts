// The keeper's token list while it runs: a token the factory creates after the keeper started (as
// `lt admin create` does) is watched from the next re-read of `allTokens()` on, and rebalanced like
// the first four; an explicit --tokens list stays as given. And the sentence a `--once` pass that met
// errors ends with.
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { createToken, deploySystem } from "../../src/chain/deploy.ts";
import { tokenParams, USDT, WAD } from "../../src/common/params.ts";
import { onceErrorSentence } from "../../src/keeper/cli.ts";
import { bookOf, keepersOn } from "./support.ts";

const { ethers, networkHelpers } = await network.create();

async function setup() {
  const [admin, alice] = (await ethers.getSigners()) as [HardhatEthersSigner, HardhatEthersSigner];
  const s = await deploySystem(ethers);
  const book = await bookOf(ethers, s);
  await s.usdt.mint(alice.address, 1_000_000n * USDT);
  return { s, book, admin, alice };
}

const keeperWith = keepersOn(ethers.provider);

describe("Keeper: tokens created while it runs", function () {
  it("watches a token created after its start from the next re-read of the factory's list: fills its desk and rebalances it", async function () {
    const { s, book, admin, alice } = await networkHelpers.loadFixture(setup);
    const { keeper, lines } = keeperWith(admin, book, { tokenRefreshPolls: 2 });
    await keeper.tick(); // poll 1: the start's four
    expect(keeper.symbols).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S"]);

    // ETH5S with its desk, made by the factory while the keeper runs; alice requests a mint
    const eth5s = await createToken(ethers, s, tokenParams("ETH", 5n, false), {});
    const desk = await ethers.getContractAt("ForwardDesk", await s.factory.deskOf(await eth5s.getAddress()));
    await s.usdt.connect(alice).approve(await desk.getAddress(), 10_000n * USDT);
    await desk.connect(alice).requestDeposit(10_000n * USDT, alice.address, alice.address);
    const [, answer] = await s.feeds.ETH.latestRoundData();
    await s.feeds.ETH.updateAnswer(answer); // the next price round: the request may be filled

    await keeper.tick(); // poll 2: not a re-read yet
    expect(keeper.symbols).to.not.include("ETH5S");
    expect(await desk.maxDeposit(alice.address)).to.equal(0n);

    await networkHelpers.mine();
    await keeper.tick(); // poll 3: re-reads allTokens(), adds ETH5S and fills its desk at once
    expect(keeper.symbols).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S", "ETH5S"]);
    const added = lines.filter((l) => l.event === "token-added");
    expect(added).to.deep.equal([
      {
        event: "token-added",
        token: "ETH5S",
        address: await eth5s.getAddress(),
        desk: await desk.getAddress(),
      },
    ]);
    const filled = lines.filter((l) => l.event === "filled");
    expect(filled.map((l) => [l.token, l.usdtIn])).to.deep.equal([["ETH5S", "10000.0"]]);
    expect(await desk.maxDeposit(alice.address)).to.equal(10_000n * USDT);
    expect(await eth5s.totalSupply()).to.be.greaterThan(0n);

    // ETH +5% takes a 5x short to 7x, past its band's 6.67x: the keeper rebalances it back to 5x
    await s.feeds.ETH.updateAnswer((answer * 105n) / 100n);
    expect((await eth5s.rebalanceNeeded())[0]).to.equal(true);
    const from = lines.length;
    await keeper.tick();
    const rebalanced = lines.slice(from).filter((l) => l.event === "rebalanced");
    expect(rebalanced.map((l) => l.token)).to.deep.equal(["ETH5S"]);
    expect(Number(rebalanced[0]!.leverageBefore)).to.be.greaterThan(6.67);
    expect(Math.abs(Number(rebalanced[0]!.leverageAfter) - 5)).to.be.lessThan(0.01);
    const leverage = await eth5s.leverage();
    expect(leverage > 5n * WAD - WAD / 100n && leverage < 5n * WAD + WAD / 100n).to.equal(true);
    // a later re-read adds nothing twice
    expect(await keeper.refreshTokens()).to.equal(0);
    expect(lines.filter((l) => l.event === "token-added")).to.have.length(1);
  });

  it("keeps an explicit list of symbols as given, and never re-reads with a refresh of 0", async function () {
    const { s, book, admin } = await networkHelpers.loadFixture(setup);
    const listed = keeperWith(admin, book, { tokenRefreshPolls: 1, symbols: ["BTC3L"] });
    const never = keeperWith(admin, book, { tokenRefreshPolls: 0 });
    await listed.keeper.tick();
    await never.keeper.tick();
    await createToken(ethers, s, tokenParams("BTC", 2n, true), {});
    for (let i = 0; i < 3; i++) {
      await networkHelpers.mine();
      await listed.keeper.tick();
      await never.keeper.tick();
    }
    expect(listed.keeper.symbols).to.deep.equal(["BTC3L"]);
    expect(await listed.keeper.refreshTokens()).to.equal(0);
    expect(never.keeper.symbols).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S"]);
    // asked directly, the unfiltered keeper finds it
    expect(await never.keeper.refreshTokens()).to.equal(1);
    expect(never.keeper.symbols.at(-1)).to.equal("BTC2L");
  });

  it("ends a --once pass that met errors with one sentence naming the first", function () {
    expect(onceErrorSentence([{ token: "BTC3L", message: "reverted StalePrice(1, 2)" }], 1)).to.equal(
      "the pass met an error, the first on BTC3L: reverted StalePrice(1, 2)",
    );
    expect(
      onceErrorSentence(
        [
          { token: "ETH3S", message: "reverted StalePrice(3, 4)" },
          { token: "ETH3L", message: "reverted StalePrice(3, 4)" },
        ],
        4,
      ),
    ).to.equal("the pass met 4 errors, the first on ETH3S: reverted StalePrice(3, 4)");
    expect(onceErrorSentence([], 2)).to.equal("the pass met 2 errors; see the error lines above");
  });
});
