// `lt mint` and `lt redeem` place requests at the token's desk, filled at the next price round: what
// they refuse before anything is sent. An explicit --max-slippage on a mint (every mint is a request)
// is refused from the command line alone, before any node is asked; an estimate that reverts with an
// error meaning the request cannot succeed (a stale price, a depleted or closed token) stops the
// request in that error's sentence, and any other failure of the estimate only leaves it out.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeBytes32String, makeError } from "ethers";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { maxSlippageRefusal, requestEstimate } from "../../src/cli/desk.ts";
import { CliError } from "../../src/cli/errors.ts";
import { runCli } from "../../src/cli/program.ts";

/** The revert an eth_call of the estimate gives back: ethers' CALL_EXCEPTION carrying the error's data. */
function reverted(data: string): Promise<bigint> {
  return Promise.reject(
    makeError("execution reverted", "CALL_EXCEPTION", { action: "call", data, reason: null }),
  );
}

const vault = MockPerpVault__factory.createInterface();
const token = LeveragedToken__factory.createInterface();
const desk = ForwardDesk__factory.createInterface();
const ectx = { symbol: "BTC3L", action: "mint" as const };

describe("lt mint and lt redeem: what a request refuses before sending", function () {
  describe("--max-slippage", function () {
    let dir: string;
    before(function () {
      // an empty deployments directory: a command that gets past its own checks stops at the address book
      dir = mkdtempSync(join(tmpdir(), "lt-requests-"));
    });
    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    /** `lt <args>` in this process against no node (an unused port) and no address book. */
    async function lt(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(["--rpc", "http://127.0.0.1:9", "--deployments", dir, ...args], {
        io: { out: (t) => out.push(t), err: (t) => err.push(t), env: {} },
      });
      return { code, out, err };
    }
    const noBook = `no deployment for network "localhost"`;

    it("refuses it on lt mint, given explicitly, in one sentence saying why and what to use, before asking any node", async function () {
      const run = await lt(["mint", "BTC3L", "100", "--max-slippage", "1%"]);
      expect(run.code).to.equal(1);
      expect(run.out).to.deep.equal([]);
      expect(run.err).to.deep.equal([`lt: ${maxSlippageRefusal("mint", "BTC3L")}`]);
      const sentence = run.err[0]!;
      expect(sentence).to.include("--max-slippage does not apply to a mint request");
      expect(sentence).to.include("the next price round, whose price nobody knows");
      expect(sentence).to.include("--deadline");
      expect(sentence).to.include("lt cancel BTC3L");
      // not the address book's sentence: the refusal came first, from the command line alone
      expect(sentence).not.to.include(noBook);
    });

    it("refuses it whatever its value (0%, or not a percentage) and as JSON with --json", async function () {
      for (const value of ["0%", "abc"]) {
        const run = await lt(["mint", "BTC3L", "100", "--max-slippage", value]);
        expect(run.code, value).to.equal(1);
        expect(run.err, value).to.deep.equal([`lt: ${maxSlippageRefusal("mint", "BTC3L")}`]);
      }
      const json = await lt(["--json", "mint", "BTC3L", "100", "--max-slippage=1%"]);
      expect(json.code).to.equal(1);
      expect(json.out.map((o) => JSON.parse(o) as unknown)).to.deep.equal([
        { error: maxSlippageRefusal("mint", "BTC3L") },
      ]);
    });

    it("does not take its default for an explicit one: lt mint without it, and lt redeem and lt buy with it, go on", async function () {
      // lt redeem may pay at once (a settled token), where --max-slippage applies: only the chain says
      for (const args of [
        ["mint", "BTC3L", "100"],
        ["mint", "BTC3L", "100", "--deadline", "90s"],
        ["redeem", "BTC3L", "10", "--max-slippage", "1%"],
        ["buy", "BTC3L", "10", "--max-slippage", "1%"],
      ]) {
        const run = await lt(args);
        expect(run.code, args.join(" ")).to.equal(1);
        expect(run.err, args.join(" ")).to.have.length(1);
        expect(run.err[0], args.join(" ")).to.include(noBook);
      }
    });

    it("names the side and the token in the refusal (a redeem request on the chain's word)", function () {
      const sentence = maxSlippageRefusal("redeem", "ETH3S");
      expect(sentence).to.match(/^--max-slippage does not apply to a redeem request: ETH3S's desk fills it/);
      expect(sentence).to.include("lt cancel ETH3S while its round is current");
    });
  });

  describe("the estimate", function () {
    const stale = vault.encodeErrorResult("StalePrice", [encodeBytes32String("BTC"), 1_796_000_000n, 3600n]);

    it("is the preview when it answers", async function () {
      expect(await requestEstimate(Promise.resolve(123n), "deposit", ectx)).to.equal(123n);
    });

    it("stops a mint or a redeem on a stale price, in the stale-price sentence", async function () {
      for (const side of ["deposit", "redeem"] as const) {
        let error: unknown;
        await requestEstimate(reverted(stale), side, ectx).catch((e: unknown) => (error = e));
        expect(error, side).to.be.instanceOf(CliError);
        expect((error as CliError).message, side).to.match(
          /^the BTC price is stale: last updated .+, longer ago than its 3600 s heartbeat; wait for the price feed to update$/,
        );
      }
    });

    it("stops it on a depleted, settled or closed token, and a mint on a paused one", async function () {
      const cases: [string, "deposit" | "redeem", string][] = [
        [token.encodeErrorResult("TokenDepleted", []), "redeem", "BTC3L is depleted"],
        [token.encodeErrorResult("InvalidState", [2]), "deposit", "BTC3L has been delisted and settled"],
        [token.encodeErrorResult("MintPaused", []), "deposit", "minting BTC3L is paused"],
        [desk.encodeErrorResult("RequestClosed", [1, false]), "deposit", "BTC3L is being delisted"],
        [
          vault.encodeErrorResult("InvalidPrice", [encodeBytes32String("ETH"), -1n]),
          "redeem",
          "ETH price feed",
        ],
      ];
      for (const [data, side, sentence] of cases) {
        let error: unknown;
        await requestEstimate(reverted(data), side, ectx).catch((e: unknown) => (error = e));
        expect(error, sentence).to.be.instanceOf(CliError);
        expect((error as CliError).message).to.include(sentence);
      }
    });

    it("is only left out on any other failure: a paused mint does not stop a redeem, nor a cap or the node", async function () {
      const others: [Promise<bigint>, "deposit" | "redeem"][] = [
        [reverted(token.encodeErrorResult("MintPaused", [])), "redeem"],
        [reverted(token.encodeErrorResult("SupplyCapExceeded", [10n, 5n])), "deposit"],
        [reverted("0x12345678"), "deposit"],
        [Promise.reject(new Error("socket hang up")), "redeem"],
      ];
      for (const [estimate, side] of others) {
        expect(await requestEstimate(estimate, side, ectx)).to.equal(undefined);
      }
    });
  });
});
