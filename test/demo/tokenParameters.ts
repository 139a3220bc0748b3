// One reader of a token's parameters from the chain (src/chain/tokenParameters.ts), behind both the
// demo's token list (src/demo/tokens.ts) and `lt info` (src/cli/tokens.ts): what it reads is what the
// tokens were deployed with, and the demo's reader names the market as the demo does.
import { expect } from "chai";
import { network } from "hardhat";
import { deploySystem } from "../../src/chain/deploy.ts";
import { readTokenParameters } from "../../src/chain/tokenParameters.ts";
import { MARKETS, STANDARD_TOKENS } from "../../src/common/params.ts";
import { readTokenParams } from "../../src/demo/tokens.ts";

const { ethers } = await network.create();

describe("Token parameters read from the chain (one reader for the demo and lt)", function () {
  it("reads every standard token's deployed parameters; the demo's reader names its market", async function () {
    const s = await deploySystem(ethers);
    for (const p of STANDARD_TOKENS) {
      const token = s.tokens[p.symbol]!;
      expect(await readTokenParameters(token), p.symbol).to.deep.equal({
        ...p,
        market: MARKETS[p.market].id,
      });
      expect(await readTokenParams(token), p.symbol).to.deep.equal(p);
    }
  });
});
