// The deploy with a token list: DEPLOY_TOKENS / DEPLOY_PARAMETERS (src/chain/deploySpec.ts) beyond
// the default four: a 5x short and a SOL market with its token, each with its desk and a pool seeded
// at NAV, in a module of its own; and every bad list refused in one sentence before anything is sent.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { encodeBytes32String } from "ethers";
import { artifacts, network } from "hardhat";
import { systemModuleId } from "../../deploy/System.ts";
import {
  DEFAULT_SPEC,
  deploySpec,
  parseTokenSymbol,
  specFromEnvironment,
} from "../../src/chain/deploySpec.ts";
import { deployToNetwork } from "../../src/chain/deployNetwork.ts";
import { SPOT, WAD } from "../../src/common/params.ts";
import { reservesOf } from "../../src/spot/arbitrage.ts";
import { connectPair } from "../../src/spot/uniswap.ts";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";

const P = 10n ** 8n;

describe("Deploy: a token list", function () {
  const dir = mkdtempSync(join(tmpdir(), "lt-deploy-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reads token symbols and refuses bad lists in one sentence", function () {
    expect(parseTokenSymbol("eth5s")).to.deep.equal({ market: "ETH", leverage: 5n, isLong: false });
    expect(parseTokenSymbol("SOL2L")).to.deep.equal({ market: "SOL", leverage: 2n, isLong: true });
    const refused = (input: Parameters<typeof deploySpec>[0]) => {
      try {
        deploySpec(input);
      } catch (e) {
        return (e as Error).message;
      }
      return "accepted";
    };
    expect(refused({ tokens: ["ETH5X"] })).to.equal(
      '"ETH5X" is not a token symbol: write the market, a whole leverage and L or S, such as BTC3L or ETH5S',
    );
    expect(refused({ tokens: ["BTC7L"] })).to.equal("BTC7L: a token's leverage must be from 2x to 5x");
    expect(refused({ tokens: ["SOL3L"] })).to.equal(
      'SOL3L needs the SOL market, which the deployment does not list: give its price in the parameters file ("markets": { "SOL": { "price": 150 } })',
    );
    expect(refused({ tokens: ["BTC3L", "btc3l"] })).to.equal("BTC3L is listed twice");
    expect(refused({ tokens: [] })).to.equal(
      "the token list is empty: name at least one token, such as BTC3L",
    );
    expect(refused({ tokens: ["SOL3L"], markets: { SOL: { price: "a lot" } } })).to.equal(
      'the SOL market needs a price in USD, such as "price": 150',
    );
    // nothing given: the default four, and the default module id
    expect(deploySpec().tokens.map((t) => t.symbol)).to.deep.equal(["BTC3L", "BTC3S", "ETH3L", "ETH3S"]);
    expect(systemModuleId(true, deploySpec())).to.equal("System");
    expect(systemModuleId(false, DEFAULT_SPEC)).to.equal("SystemInstant");
    expect(systemModuleId(true, deploySpec({ tokens: ["BTC3L"] }))).to.match(/^System_[0-9a-f]{8}$/);
  });

  it("takes the list from DEPLOY_TOKENS and the markets from a DEPLOY_PARAMETERS file", function () {
    const file = join(dir, "deploy.json");
    writeFileSync(file, JSON.stringify({ tokens: ["BTC3L"], markets: { SOL: { price: 150.5 } } }));
    const fromFile = specFromEnvironment({ DEPLOY_PARAMETERS: file });
    expect(fromFile.tokens.map((t) => t.symbol)).to.deep.equal(["BTC3L"]);
    expect(fromFile.markets.map((m) => [m.name, m.initialPrice])).to.deep.equal([
      ["BTC", 100_000n * P],
      ["ETH", 4_000n * P],
      ["SOL", 15_050_000_000n],
    ]);
    const both = specFromEnvironment({ DEPLOY_PARAMETERS: file, DEPLOY_TOKENS: " BTC3L, SOL2S ,ETH5S" });
    expect(both.tokens.map((t) => t.symbol)).to.deep.equal(["BTC3L", "SOL2S", "ETH5S"]);
    expect(specFromEnvironment({}).tokens.map((t) => t.symbol)).to.deep.equal([
      "BTC3L",
      "BTC3S",
      "ETH3L",
      "ETH3S",
    ]);
    writeFileSync(file, "{ tokens: ");
    expect(() => specFromEnvironment({ DEPLOY_PARAMETERS: file })).to.throw(
      `the parameters file ${file} is not valid JSON`,
    );
  });

  it("deploys BTC3L, ETH5S and SOL2L on a SOL market, each with its desk and its pool at NAV", async function () {
    const connection = await network.create();
    const { ethers } = connection;
    const spec = deploySpec({ tokens: ["BTC3L", "ETH5S", "SOL2L"], markets: { SOL: { price: 150 } } });
    const { book } = await deployToNetwork(connection, artifacts, { deploymentsDir: dir, spec });
    expect(Object.keys(book.tokens)).to.deep.equal(["BTC3L", "ETH5S", "SOL2L"]);
    expect(Object.keys(book.feeds)).to.deep.equal(["BTC", "ETH", "SOL"]);
    expect(Object.keys(book.desks ?? {})).to.deep.equal(["BTC3L", "ETH5S", "SOL2L"]);
    expect(Object.keys(book.pools ?? {})).to.deep.equal(["BTC3L", "ETH5S", "SOL2L"]);
    const vault = MockPerpVault__factory.connect(book.perpVault, ethers.provider);
    expect(await vault.markPrice(encodeBytes32String("SOL"))).to.equal(150n * P);
    expect((await vault.marketInfo(encodeBytes32String("SOL"))).feed).to.equal(book.feeds.SOL);
    const expected = {
      BTC3L: ["BTC", 3n, true],
      ETH5S: ["ETH", 5n, false],
      SOL2L: ["SOL", 2n, true],
    } as const;
    for (const [symbol, [market, leverage, isLong]] of Object.entries(expected)) {
      const token = LeveragedToken__factory.connect(book.tokens[symbol]!, ethers.provider);
      expect(await token.symbol()).to.equal(symbol);
      expect(await token.market()).to.equal(encodeBytes32String(market));
      expect(await token.targetLeverage()).to.equal(leverage * WAD);
      expect(await token.isLong()).to.equal(isLong);
      expect(await token.maxLeverage()).to.equal((leverage * WAD * 4n) / 3n);
      expect(await token.desk()).to.equal(book.desks![symbol]);
      expect(await ForwardDesk__factory.connect(book.desks![symbol]!, ethers.provider).share()).to.equal(
        book.tokens[symbol],
      );
      const r = await reservesOf(connectPair(book.pools![symbol]!, ethers.provider), book.usdt);
      expect(r.token, symbol).to.equal(SPOT.seedTokens);
      expect(Number(await token.nav()) / 1e6, symbol).to.be.within(0.999, 1.001);
    }
    await connection.close();
  });
});
