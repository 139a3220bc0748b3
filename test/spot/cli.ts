// lt buy/sell: the Router's slippage revert becomes a plain sentence naming the minimum.
import { expect } from "chai";
import { AbiCoder } from "ethers";
import { swapErrorMessage } from "../../src/cli/spot.ts";

const revert = (reason: string) => ({
  code: "CALL_EXCEPTION",
  data: "0x08c379a0" + AbiCoder.defaultAbiCoder().encode(["string"], [reason]).slice(2),
});

describe("lt buy/sell errors", function () {
  it("maps UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT to a slippage sentence", function () {
    const e = swapErrorMessage(revert("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"), {}, "99.5 BTC3L");
    expect(e.message).to.equal(
      "slippage exceeded: the pool would pay less than the 99.5 BTC3L you accepted; nothing was swapped",
    );
  });

  it("leaves other reverts to the CLI's usual explanation", function () {
    const e = swapErrorMessage(revert("UniswapV2: K"), {}, "1 USDT");
    expect(e.message).to.equal("the transaction would revert: UniswapV2: K");
  });
});
