import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, encodeBytes32String, getAddress, Interface, makeError } from "ethers";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { MockUSDT__factory } from "../../types/ethers-contracts/factories/mocks/MockUSDT__factory.ts";
import { deploySystem } from "../../src/chain/deploy.ts";
import {
  CliError,
  type ErrorContext,
  explainError,
  findRevertData,
  revertDataMessage,
} from "../../src/cli/errors.ts";

const token = new Interface(LeveragedToken__factory.abi);
const vault = new Interface(MockPerpVault__factory.abi);
const usdt = new Interface(MockUSDT__factory.abi);
const desk = new Interface(ForwardDesk__factory.abi);
const USDT = 10n ** 6n;
const SHARE = 10n ** 18n;
const BTC = encodeBytes32String("BTC");
const ALICE = "0x00000000000000000000000000000000000A11CE";
const mint: ErrorContext = { symbol: "BTC3L", action: "mint" };
const redeem: ErrorContext = { symbol: "BTC3L", action: "redeem" };

describe("CLI errors in plain words", function () {
  it("names each of the token's errors", function () {
    const cases: [string, unknown[], ErrorContext, string][] = [
      ["TokenDepleted", [], mint, "BTC3L is depleted: its equity reached zero"],
      ["MintPaused", [], mint, "minting BTC3L is paused by its operator; redeeming stays open"],
      ["InvalidState", [1], mint, "BTC3L is being delisted: minting is closed, redeeming stays open"],
      ["InvalidState", [2], mint, "BTC3L has been delisted and settled: minting is closed"],
      [
        "UseTheDesk",
        ["0x00000000000000000000000000000000000000D5"],
        mint,
        "BTC3L mints by amount of tokens never, and pays out by amount of USDT only once settled: request a mint of USDT or a redeem of tokens at its desk 0x00000000000000000000000000000000000000D5 (lt mint, lt redeem)",
      ],
      [
        "SupplyCapExceeded",
        [2n * SHARE, SHARE],
        mint,
        "the mint would take BTC3L's supply to 2, above its cap of 1",
      ],
      [
        "ExceedsBalance",
        [5n * SHARE, 2n * SHARE],
        redeem,
        "cannot redeem 5 BTC3L: only 2 BTC3L are there to redeem",
      ],
      ["DepositTooSmall", [1n], mint, "0.000001 USDT is too small to mint any BTC3L"],
      ["ZeroAmount", [], mint, "the amount must be greater than zero"],
      [
        "ExchangeMismatch",
        [1n, 2n],
        mint,
        "the exchange's result differed from BTC3L's quote, so nothing was done",
      ],
    ];
    for (const [name, args, ctx, sentence] of cases) {
      expect(revertDataMessage(token.encodeErrorResult(name, args), ctx), name).to.include(sentence);
    }
  });

  it("names USDT's balance and allowance errors and the exchange's price errors", function () {
    expect(
      revertDataMessage(
        usdt.encodeErrorResult("ERC20InsufficientBalance", [ALICE, 20n * USDT, 50n * USDT]),
        mint,
      ),
    ).to.equal("insufficient USDT: the account holds 20.00 USDT, the mint needs 50.00 USDT");
    expect(
      revertDataMessage(usdt.encodeErrorResult("ERC20InsufficientAllowance", [ALICE, 0n, 5n * USDT]), mint),
    ).to.equal(
      "insufficient USDT allowance: BTC3L may spend 0.00 of your USDT, the mint needs 5.00; approve it first (run without --no-approve)",
    );
    expect(
      revertDataMessage(
        token.encodeErrorResult("ERC20InsufficientBalance", [ALICE, SHARE, 3n * SHARE]),
        redeem,
      ),
    ).to.equal("insufficient BTC3L: the account holds 1 BTC3L, fewer than the 3 BTC3L to redeem");
    // 2026-01-01 00:00:00 UTC
    expect(
      revertDataMessage(vault.encodeErrorResult("StalePrice", [BTC, 1_767_225_600n, 3600n]), mint),
    ).to.equal(
      "the BTC price is stale: last updated 2026-01-01 00:00:00 UTC, longer ago than its 3600 s heartbeat; wait for the price feed to update",
    );
    expect(revertDataMessage(vault.encodeErrorResult("InvalidPrice", [BTC, -1n]), mint)).to.equal(
      "the BTC price feed reports an invalid price (-1)",
    );
    expect(
      revertDataMessage(vault.encodeErrorResult("InsufficientLiquidity", [5n * USDT, USDT]), mint),
    ).to.equal("the exchange's pool cannot pay 5.00 USDT now (it holds 1.00 USDT)");
  });

  it("names each of the desk's errors (forward pricing), and the token's refusal of anyone but its desk", function () {
    const DESK = getAddress("0x00000000000000000000000000000000000de5c0");
    const cases: [string, unknown[], ErrorContext, string][] = [
      [
        "RequestClosed",
        [0, true],
        mint,
        "minting BTC3L is paused by its operator; redeeming stays open, so its desk takes no mint request",
      ],
      ["RequestClosed", [1, false], mint, "BTC3L's desk takes no mint request now: BTC3L is being delisted"],
      [
        "RequestPending",
        [4n],
        redeem,
        "your earlier redeem request on BTC3L (epoch 4) still waits for its fill",
      ],
      [
        "NothingToFill",
        [1767225600n],
        mint,
        "nothing to fill on BTC3L: every waiting request was placed in the current price round (2026-01-01 00:00:00 UTC)",
      ],
      [
        "FillNotLate",
        [1767229200n],
        mint,
        "the fill is not late yet: only BTC3L's keeper fills before 2026-01-01 01:00:00 UTC",
      ],
      [
        "NotCancellable",
        [3n],
        mint,
        "the request can no longer be cancelled: a newer price round exists; wait for the fill",
      ],
      ["NotCancellable", [0n], mint, "there is no request on BTC3L to cancel"],
      ["NotOperator", [ALICE, DESK], mint, `the account ${DESK} may not act for ${getAddress(ALICE)}`],
      ["AsyncFlow", [], mint, "BTC3L's desk fills at the next price round, so it has no preview"],
      ["ExceedsClaimable", [5n, 3n], mint, "cannot claim 5 units: only 3 are claimable"],
      ["FillOutOfGas", [], mint, "the fill ran short of gas inside the token"],
      [
        "PermitRejected",
        [ALICE, 5n, 7n],
        mint,
        `the USDT permit was not accepted (a wrong signature, a passed deadline or a used nonce) and the allowance of ${getAddress(ALICE)} to BTC3L's desk is 5 units, under the 7 requested`,
      ],
    ];
    for (const [name, args, ctx, sentence] of cases) {
      expect(revertDataMessage(desk.encodeErrorResult(name, args), ctx), name).to.include(sentence);
    }
    expect(revertDataMessage(token.encodeErrorResult("OnlyDesk", [ALICE, DESK]), mint)).to.equal(
      `BTC3L mints, and redeems at a live price, only through its desk ${DESK}: lt mint and lt redeem place a request there`,
    );
  });

  it("reads require messages, panics and errors no contract defines", function () {
    const coder = AbiCoder.defaultAbiCoder();
    expect(revertDataMessage("0x08c379a0" + coder.encode(["string"], ["no way"]).slice(2), mint)).to.equal(
      "the transaction would revert: no way",
    );
    expect(revertDataMessage("0x4e487b71" + coder.encode(["uint256"], [0x11]).slice(2), mint)).to.equal(
      "the contract failed: an arithmetic overflow or underflow",
    );
    expect(revertDataMessage("0xdeadbeef", mint)).to.equal(
      "the transaction would revert with an error no known contract defines (0xdeadbeef)",
    );
    // a known error without special wording still names itself and its arguments
    expect(revertDataMessage(vault.encodeErrorResult("NotLiquidatable", [5n, 6n]), mint)).to.equal(
      "the transaction would revert with NotLiquidatable(5, 6)",
    );
  });

  it("finds revert data wherever ethers or the node nests it", function () {
    const data = token.encodeErrorResult("MintPaused", []);
    expect(findRevertData({ data })).to.equal(data);
    expect(findRevertData({ error: { data } })).to.equal(data);
    expect(findRevertData({ info: { error: { data: { data } } } })).to.equal(data);
    expect(findRevertData({ cause: { error: { data } } })).to.equal(data);
    expect(findRevertData({ data: "0x" })).to.equal(null);
    expect(explainError({ info: { error: { data } } }, mint).message).to.equal(
      "minting BTC3L is paused by its operator; redeeming stays open",
    );
  });

  it("says the node cannot be reached, and turns anything else into one line", function () {
    const refused = Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
    });
    expect(explainError(refused, { rpcUrl: "http://127.0.0.1:9" }).message).to.equal(
      "cannot reach the node at http://127.0.0.1:9; start one (npx hardhat node) or pass --rpc <url>",
    );
    expect(
      explainError(makeError("could not connect", "SERVER_ERROR", { request: {} as never }), {}).message,
    ).to.match(/^cannot reach the node at /);
    expect(
      explainError(makeError("insufficient funds", "INSUFFICIENT_FUNDS", { transaction: {} })).message,
    ).to.equal("the account has too little ETH to pay for gas");
    expect(
      explainError(
        makeError("could not coalesce error", "UNKNOWN_ERROR", { error: { message: "nonce too low" } }),
      ).message,
    ).to.equal("the node refused the request: nonce too low");
    const kept = new CliError("already plain");
    expect(explainError(kept)).to.equal(kept);
    const multiline = explainError(new Error("first line\n    at somewhere (file.ts:1:1)"));
    expect(multiline).to.be.instanceOf(CliError);
    expect(multiline.message).to.equal("first line");
  });

  it("decodes what the token really reverts with through a provider", async function () {
    const { ethers, networkHelpers } = await network.create();
    // the token's own revert reasons, one deposit at a time: through the pass-through InstantDesk
    const system = await deploySystem(ethers, { desk: "instant" });
    const [admin] = await ethers.getSigners();
    const btc3l = system.tokens.BTC3L!;
    const desk = system.instantDesks.BTC3L!;
    await system.usdt.mint(admin!.address, 1_000n * USDT);
    await system.usdt.approve(await desk.getAddress(), 1_000n * USDT);
    await desk.deposit(100n * USDT, admin!.address);

    await btc3l.setMintPaused(true);
    const paused = await desk.deposit(USDT, admin!.address).catch((e: unknown) => e);
    expect(explainError(paused, mint).message).to.equal(
      "minting BTC3L is paused by its operator; redeeming stays open",
    );
    await btc3l.setMintPaused(false);

    const tooMuch = await desk.deposit(10_000n * USDT, admin!.address).catch((e: unknown) => e);
    expect(explainError(tooMuch, mint).message).to.equal(
      "insufficient USDT allowance: BTC3L may spend 900.00 of your USDT, the mint needs 10,000.00; approve it first (run without --no-approve)",
    );

    await networkHelpers.time.increase(3601);
    const stale = await btc3l.previewDeposit(USDT).catch((e: unknown) => e);
    expect(explainError(stale, mint).message).to.match(
      /^the BTC price is stale: last updated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, longer ago than its 3600 s heartbeat/,
    );
  });
});
