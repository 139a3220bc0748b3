// The arbitrage's minimum expected profit: a trade the engine prices profitable but below the minimum
// is skipped (an `arb-skipped` line saying so) and sends nothing; at or above it the trade is opened.
import { expect } from "chai";
import { DEFAULT_MIN_PROFIT, type ArbContext } from "../../src/spot/arbitrage.ts";
import { usdtOption, usdtText } from "../../src/spot/arbShared.ts";
import { approveAll, arbContext, networkHelpers, once, pushPool, setup } from "./fixture.ts";

describe("Spot market: the arbitrage's minimum expected profit", function () {
  it("skips a profitable trade below the minimum, logged as such, and opens one at the minimum", async function () {
    const f = await networkHelpers.loadFixture(setup);
    await approveAll(f);
    // just above the band: a small trade
    await pushPool(f, "ETH3L", 1.008);
    // every pass below reads the same pending block (none mines one until the trade is opened)
    await networkHelpers.time.setNextBlockTimestamp((await networkHelpers.time.latest()) + 5);
    const desk = f.s.desks.ETH3L!;
    const { ctx: probe } = arbContext(f, ["ETH3L"]);
    const priced = await once({ ...probe, dryRun: true, minProfit: 0n });
    expect(priced.outcome, priced.why).to.equal("would-trade");
    const profit = priced.expectedProfit!;
    expect(profit > 0n).to.equal(true);

    const { ctx, lines } = arbContext(f, ["ETH3L"]);
    const above: ArbContext = { ...ctx, minProfit: profit + 1n };
    const skipped = await once(above);
    expect(skipped.outcome).to.equal("skipped");
    expect(skipped.belowMinProfit).to.equal(true);
    expect(skipped.expectedProfit).to.equal(profit);
    expect(skipped.why).to.equal(
      `the expected profit of ${usdtText(profit)} USDT is below the minimum of ${usdtText(profit + 1n)} USDT`,
    );
    const line = lines.find((l) => l.event === "arb-skipped");
    expect(line?.why).to.equal(skipped.why);
    expect(line?.belowMinProfit).to.equal(true);
    expect(await desk.pendingDepositRequest(0n, f.arb.address)).to.equal(0n);

    const opened = await once({ ...ctx, minProfit: profit });
    expect(opened.outcome, opened.why).to.equal("requested");
    expect(opened.expectedProfit).to.equal(profit);
    expect(await desk.pendingDepositRequest(0n, f.arb.address)).to.equal(opened.usdtIn);
  });

  it("defaults to 1 USDT and parses the option's USDT amounts exactly", function () {
    expect(DEFAULT_MIN_PROFIT).to.equal(1_000_000n);
    const parse = usdtOption("--min-profit");
    expect(parse("1")).to.equal(1_000_000n);
    expect(parse("0")).to.equal(0n);
    expect(parse("2.5")).to.equal(2_500_000n);
    expect(parse("0.000001")).to.equal(1n);
    for (const bad of ["-1", "1.0000001", "abc", "", "1e3"])
      expect(() => parse(bad), bad).to.throw("--min-profit must be an amount of USDT");
    expect(usdtText(2_500_000n)).to.equal("2.5");
    expect(usdtText(1n)).to.equal("0.000001");
  });
});
