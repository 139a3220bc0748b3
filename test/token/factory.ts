import { expect } from "chai";
import { AbiCoder, concat, keccak256, toUtf8Bytes, type Typed } from "ethers";
import type { LeveragedTokenFactory } from "../../types/ethers-contracts/index.js";
import { createToken, deploySystem, type System } from "../../src/chain/deploy.ts";
import {
  DEFAULT_FEES,
  DESK,
  MARKETS,
  STANDARD_TOKENS,
  USDT,
  WAD,
  tokenParams,
  type TokenParams,
  tokenConfig,
} from "../../src/common/params.ts";
import {
  Reason,
  deployFixture,
  ethers,
  movePrice,
  networkHelpers,
  nextTimestamp,
  readBook,
  sendAt,
  type Deployed,
  instant,
} from "./fixture.ts";
import { leverageOf, quoteRedeem, targetSizeDown } from "./model.ts";

const { loadFixture } = networkHelpers;
const DEPLOYER_ROLE = ethers.id("DEPLOYER_ROLE");

/** The token Config struct, as the factory's typed createTokenWithDesk takes it. */
type Config = Exclude<Parameters<LeveragedTokenFactory["createTokenWithDesk"]["staticCall"]>[0], Typed>;

/** createTokenWithDesk with the system's own codes and the default fill rules. */
function create(sys: System, config: Config, from?: Deployed["bob"]) {
  const factory = from === undefined ? sys.factory : sys.factory.connect(from);
  return factory.createTokenWithDesk(
    config,
    sys.tokenCreationCode,
    sys.deskCreationCode,
    DESK.fillDelay,
    DESK.fillBounty,
  );
}

/** The standard fixture, next to a system as the deploy makes it: every token with a ForwardDesk. */
async function forwardFixture(): Promise<Deployed & { fwd: System }> {
  const d = await deployFixture();
  const fwd = await deploySystem(ethers, { treasury: d.treasury.address, keeper: d.keeper.address });
  return { ...d, fwd };
}

function configOf(d: Deployed, p: TokenParams, vault: string): Config {
  return tokenConfig(p, vault, {
    treasury: d.treasury.address,
    admin: d.admin.address,
    keeper: d.keeper.address,
  });
}

function keyOf(market: string, leverage: bigint, isLong: boolean): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256", "bool"], [market, leverage, isLong]),
  );
}

describe("LeveragedTokenFactory", function () {
  it("deploys the standard set BTC3L, BTC3S, ETH3L, ETH3S at 3x and registers them", async function () {
    const { sys } = await loadFixture(deployFixture);
    const all = await sys.factory.allTokens();
    expect(all.length).to.equal(4);
    expect(STANDARD_TOKENS.map((p) => p.symbol)).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S"]);
    for (const [i, p] of STANDARD_TOKENS.entries()) {
      const address = await sys.factory.tokenBySymbol(p.symbol);
      expect(address).to.equal(all[i]);
      expect(await sys.factory.tokenFor(keyOf(MARKETS[p.market].id, 3n * WAD, p.isLong))).to.equal(address);
      expect(await sys.factory.keyOf(MARKETS[p.market].id, 3n * WAD, p.isLong)).to.equal(
        keyOf(MARKETS[p.market].id, 3n * WAD, p.isLong),
      );
      const token = await ethers.getContractAt("LeveragedToken", address);
      expect(await token.symbol()).to.equal(p.symbol);
      expect(await token.market()).to.equal(MARKETS[p.market].id);
      expect(await token.isLong()).to.equal(p.isLong);
      expect(await token.targetLeverage()).to.equal(3n * WAD);
      expect(await token.minLeverage()).to.equal(2n * WAD);
      expect(await token.maxLeverage()).to.equal(4n * WAD);
      expect(await token.ripcordLeverage()).to.equal(45n * 10n ** 17n);
      expect(await token.rebalanceEpsilon()).to.equal(5n * 10n ** 16n);
      expect(await token.fees()).to.deep.equal([
        DEFAULT_FEES.mintFee,
        DEFAULT_FEES.redeemFee,
        DEFAULT_FEES.managementFee,
        DEFAULT_FEES.rebalanceBounty,
      ]);
    }
    expect(await sys.factory.tokenBySymbol("BTC4L")).to.equal(ethers.ZeroAddress);
    expect(await sys.factory.vault()).to.equal(await sys.vault.getAddress());
    expect(await sys.factory.tokenCodeHash()).to.equal(keccak256(sys.tokenCreationCode));
  });

  it("rejects a taken symbol, an existing (market, leverage, side), wrong code, wrong vault, non-deployers", async function () {
    const d = await loadFixture(deployFixture);
    const { factory, tokenCreationCode, vault } = d.sys;
    const vaultAddress = await vault.getAddress();
    const btc3l = await d.btc3l.getAddress();
    const p = tokenParams("BTC", 3n, true);
    await expect(create(d.sys, configOf(d, p, vaultAddress)))
      .to.be.revertedWithCustomError(factory, "SymbolTaken")
      .withArgs("BTC3L", btc3l);
    await expect(create(d.sys, configOf(d, { ...p, symbol: "BTC3L-2" }, vaultAddress)))
      .to.be.revertedWithCustomError(factory, "TokenExists")
      .withArgs(MARKETS.BTC.id, 3n * WAD, true, btc3l);
    const fresh = configOf(d, tokenParams("BTC", 4n, true), vaultAddress);
    const wrong = concat([tokenCreationCode, "0x00"]);
    await expect(
      factory.createTokenWithDesk(fresh, wrong, d.sys.deskCreationCode, DESK.fillDelay, DESK.fillBounty),
    )
      .to.be.revertedWithCustomError(factory, "WrongTokenCode")
      .withArgs(keccak256(wrong), keccak256(tokenCreationCode));
    const usdt = await d.sys.usdt.getAddress();
    await expect(create(d.sys, { ...fresh, vault: usdt }))
      .to.be.revertedWithCustomError(factory, "WrongVault")
      .withArgs(usdt, vaultAddress);
    await expect(create(d.sys, fresh, d.bob))
      .to.be.revertedWithCustomError(factory, "AccessControlUnauthorizedAccount")
      .withArgs(d.bob.address, DEPLOYER_ROLE);
  });

  it("createTokenWithDesk puts the token and its ForwardDesk where tokenAddressOf says, each naming the other", async function () {
    const d = await loadFixture(forwardFixture);
    const { factory, tokenCreationCode, deskCreationCode, vault } = d.fwd;
    const p = tokenParams("ETH", 2n, true);
    const [token, desk] = await factory.tokenAddressOf(p.symbol);
    await expect(
      factory.createTokenWithDesk(
        configOf(d, p, await vault.getAddress()),
        tokenCreationCode,
        deskCreationCode,
        DESK.fillDelay,
        DESK.fillBounty,
      ),
    )
      .to.emit(factory, "TokenCreated")
      .withArgs(token, "ETH2L", MARKETS.ETH.id, 2n * WAD, true)
      .and.to.emit(factory, "DeskCreated")
      .withArgs(token, desk, DESK.fillDelay, DESK.fillBounty);
    expect(await factory.tokenBySymbol("ETH2L")).to.equal(token);
    expect(await factory.deskOf(token)).to.equal(desk);
    expect(await factory.deskCodeHash()).to.equal(keccak256(deskCreationCode));
    const t = await ethers.getContractAt("LeveragedToken", token);
    const fd = await ethers.getContractAt("ForwardDesk", desk);
    expect(await t.desk()).to.equal(desk);
    expect(await fd.token()).to.equal(token);
    expect(await fd.fillDelay()).to.equal(DESK.fillDelay);
    expect(await fd.fillBounty()).to.equal(DESK.fillBounty);
    // the token takes mints from its desk only
    await d.fwd.usdt.connect(d.alice).approve(token, ethers.MaxUint256);
    await expect(t.connect(d.alice).deposit(1_000n * USDT, d.alice.address))
      .to.be.revertedWithCustomError(t, "OnlyDesk")
      .withArgs(d.alice.address, desk);
  });

  it("createTokenWithDesk refuses desk code other than the one fixed at construction, and out-of-bounds fill rules", async function () {
    const d = await loadFixture(forwardFixture);
    const { factory, tokenCreationCode, deskCreationCode, vault } = d.fwd;
    const config = configOf(d, tokenParams("ETH", 2n, true), await vault.getAddress());
    const wrong = concat([deskCreationCode, "0x00"]);
    await expect(
      factory.createTokenWithDesk(config, tokenCreationCode, wrong, DESK.fillDelay, DESK.fillBounty),
    )
      .to.be.revertedWithCustomError(factory, "WrongDeskCode")
      .withArgs(keccak256(wrong), keccak256(deskCreationCode));
    const desk = await ethers.getContractFactory("ForwardDesk");
    const anyToken = await d.fwd.tokens["BTC3L"]!.getAddress();
    await expect(desk.deploy(anyToken, 59n, DESK.fillBounty))
      .to.be.revertedWithCustomError(desk, "InvalidParameter")
      .withArgs("fillDelay", 59n);
    await expect(desk.deploy(anyToken, 86_401n, DESK.fillBounty))
      .to.be.revertedWithCustomError(desk, "InvalidParameter")
      .withArgs("fillDelay", 86_401n);
    await expect(desk.deploy(anyToken, DESK.fillDelay, 100n * USDT + 1n))
      .to.be.revertedWithCustomError(desk, "InvalidParameter")
      .withArgs("fillBounty", 100n * USDT + 1n);
    // inside the factory the desk's refusal stops the whole creation
    await expect(
      factory.createTokenWithDesk(config, tokenCreationCode, deskCreationCode, 59n, DESK.fillBounty),
    ).to.be.revert(ethers);
    expect(await factory.tokenBySymbol("ETH2L")).to.equal(ethers.ZeroAddress);
  });

  it("bad parameters reach the caller as the token constructor's InvalidParameter", async function () {
    const d = await loadFixture(deployFixture);
    const { factory, vault } = d.sys;
    const vaultAddress = await vault.getAddress();
    const base = tokenParams("BTC", 4n, true);
    const maxLeverage = await vault.maxLeverage();
    expect(maxLeverage).to.equal(10n * WAD);
    const cases: [Partial<TokenParams>, string, bigint][] = [
      [{ targetLeverage: 0n }, "targetLeverage", 0n],
      [{ targetLeverage: maxLeverage + 1n }, "targetLeverage", maxLeverage + 1n],
      [{ minLeverage: 0n }, "minLeverage", 0n],
      [{ minLeverage: 4n * WAD }, "minLeverage", 4n * WAD], // band must sit around the target
      [{ maxLeverage: 4n * WAD }, "maxLeverage", 4n * WAD],
      [{ ripcordLeverage: 5n * WAD }, "ripcordLeverage", 5n * WAD], // below the band's top (5.33x)
      [{ ripcordLeverage: maxLeverage + 1n }, "ripcordLeverage", maxLeverage + 1n],
      [{ rebalanceEpsilon: 0n }, "rebalanceEpsilon", 0n],
      [{ rebalanceEpsilon: base.maxLeverage - 4n * WAD }, "rebalanceEpsilon", base.maxLeverage - 4n * WAD],
      [{ mintFee: 10n ** 16n + 1n }, "mintFee", 10n ** 16n + 1n],
      [{ redeemFee: 10n ** 16n + 1n }, "redeemFee", 10n ** 16n + 1n],
      [{ managementFee: 5n * 10n ** 16n + 1n }, "managementFee", 5n * 10n ** 16n + 1n],
      [{ rebalanceBounty: 100n * USDT + 1n }, "rebalanceBounty", 100n * USDT + 1n],
    ];
    for (const [change, name, value] of cases) {
      await expect(create(d.sys, configOf(d, { ...base, ...change }, vaultAddress)))
        .to.be.revertedWithCustomError(d.btc3l, "InvalidParameter")
        .withArgs(name, value);
    }
    await expect(
      create(d.sys, { ...configOf(d, base, vaultAddress), treasury: ethers.ZeroAddress }),
    ).to.be.revertedWithCustomError(d.btc3l, "ZeroAddress");
    await expect(
      create(d.sys, { ...configOf(d, base, vaultAddress), admin: ethers.ZeroAddress }),
    ).to.be.revertedWithCustomError(d.btc3l, "ZeroAddress");
    // a token without a desk cannot exist (the factory always gives one; deployed alone it reverts)
    const tokenFactory = await ethers.getContractFactory("LeveragedToken");
    await expect(
      tokenFactory.deploy({ ...configOf(d, base, vaultAddress), desk: ethers.ZeroAddress }),
    ).to.be.revertedWithCustomError(d.btc3l, "ZeroAddress");
    const sol = ethers.encodeBytes32String("SOL");
    await expect(create(d.sys, { ...configOf(d, base, vaultAddress), market: sol }))
      .to.be.revertedWithCustomError(vault, "UnknownMarket")
      .withArgs(sol);
    // without a keeper the token still works; only the ripcord is open to anyone
    await create(d.sys, { ...configOf(d, base, vaultAddress), keeper: ethers.ZeroAddress });
    const token = await ethers.getContractAt("LeveragedToken", await factory.tokenBySymbol("BTC4L"));
    expect(await token.hasRole(ethers.id("KEEPER_ROLE"), ethers.ZeroAddress)).to.equal(false);
  });

  for (const [leverage, market, isLong, bps] of [
    [5n, "BTC", true, -700n], // 5x long: 7.2x after -7%, above the 6.67x band, below 7.5x
    [2n, "ETH", false, 1200n], // 2x short: 2.95x after +12%, above the 2.67x band, below 3x
    [2n, "BTC", true, -2000n], // 2x long: 3.3x after -20%
    [5n, "ETH", false, 500n], // 5x short: 7.9x after +5%
  ] as const) {
    it(`a ${leverage}x ${isLong ? "long" : "short"} mints at its target, rebalances back to it and redeems`, async function () {
      const d = await loadFixture(deployFixture);
      const p = tokenParams(market, leverage, isLong);
      const token = await createToken(ethers, d.sys, p, {
        treasury: d.treasury.address,
        keeper: d.keeper.address,
      });
      const desk = await ethers.getContractAt("InstantDesk", await d.sys.factory.deskOf(token));
      await d.sys.usdt.connect(d.alice).approve(desk, ethers.MaxUint256);
      await token.connect(d.alice).approve(desk, ethers.MaxUint256);
      const price = MARKETS[market].initialPrice;
      await desk.connect(d.alice).deposit(10_000n * USDT, d.alice.address);
      const size = (await d.sys.vault.positionOf(MARKETS[market].id, await token.getAddress())).size;
      const opened = targetSizeDown(10_000n * USDT, leverage * WAD, price);
      expect(size).to.equal(isLong ? opened : -opened);
      expect(await token.nav()).to.equal(USDT);

      await movePrice(d.sys, market, bps);
      expect(await token.rebalanceNeeded()).to.deep.equal([true, Reason.Band]);
      await token.connect(d.keeper).rebalance();
      const [s, equity, px] = await d.sys.vault.snapshot(MARKETS[market].id, await token.getAddress());
      const lev = leverageOf(s, equity, px);
      expect(lev).to.be.within(leverage * WAD, (leverage * WAD * 1_002n) / 1_000n);
      expect(await d.sys.vault.isLiquidatable(MARKETS[market].id, await token.getAddress())).to.equal(false);

      const shares = await token.balanceOf(d.alice.address);
      const t = await nextTimestamp();
      const q = quoteRedeem(await readBook(token, d.sys.vault, t), shares);
      await expect(
        sendAt(t, desk.connect(d.alice).redeem(shares, d.alice.address, d.alice.address)),
      ).to.changeTokenBalance(ethers, d.sys.usdt, d.alice, q.assets);
      // it made or lost about leverage x the move
      const expected = 10_000n * USDT + (10_000n * USDT * leverage * (isLong ? bps : -bps)) / 10_000n;
      expect(q.assets).to.be.closeTo(expected, (expected * 2n) / 100n);
    });
  }
});
