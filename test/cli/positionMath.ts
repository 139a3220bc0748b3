// A holder's position from its events: average cost, realised on redeems, unrealised at NAV.
import { expect } from "chai";
import { feeSharesInUsdt, type PositionEvent, positionFrom } from "../../src/cli/positionMath.ts";

const USDT = 10n ** 6n;
const WAD = 10n ** 18n;
const NAV = (usdt: bigint) => usdt * 10n ** 12n; // USDT (6 decimals) per token -> 18 decimals

describe("position arithmetic", function () {
  it("keeps the cost basis at average cost and realises profit on a redeem", function () {
    const events: PositionEvent[] = [
      {
        kind: "mint",
        usdt: 1000n * USDT,
        shares: 1000n * WAD,
        fee: USDT / 2n,
        tradingCost: (3n * USDT) / 2n,
      },
      { kind: "mint", usdt: 1200n * USDT, shares: 1000n * WAD, fee: USDT / 2n, tradingCost: 0n },
      // average cost 1.1; 500 redeemed at 1.3
      { kind: "redeem", usdt: 650n * USDT, shares: 500n * WAD, fee: USDT, tradingCost: USDT },
    ];
    const p = positionFrom(events, NAV(1_400_000n)); // NAV 1.4
    expect(p.shares).to.equal(1500n * WAD);
    expect(p.costBasis).to.equal(1650n * USDT);
    expect(p.realised).to.equal(100n * USDT);
    expect(p.value).to.equal(2100n * USDT);
    expect(p.unrealised).to.equal(450n * USDT);
    expect(p.feesPaid).to.equal((9n * USDT) / 2n);
    expect(p.paidIn - p.paidOut).to.equal(1550n * USDT);
    // what was paid in and out and what is held add up to the profit and loss
    expect(p.realised + p.unrealised).to.equal(p.paidOut + p.value - p.paidIn);
  });

  it("values tokens received at NAV on arrival and lets tokens sent away leave at average cost", function () {
    const p = positionFrom(
      [
        { kind: "in", shares: 100n * WAD, navPerToken: NAV(2_000_000n) },
        { kind: "mint", usdt: 100n * USDT, shares: 100n * WAD, fee: 0n, tradingCost: 0n },
        { kind: "out", shares: 50n * WAD },
      ],
      NAV(1_000_000n),
    );
    expect(p.shares).to.equal(150n * WAD);
    expect(p.costBasis).to.equal(225n * USDT); // (200 + 100) x 150/200
    expect(p.realised).to.equal(0n);
    expect(p.unrealised).to.equal(-75n * USDT);
  });

  it("settles an empty position at zero and never goes below zero shares", function () {
    const p = positionFrom(
      [
        { kind: "mint", usdt: 10n * USDT, shares: 10n * WAD, fee: 0n, tradingCost: 0n },
        { kind: "redeem", usdt: 4n * USDT, shares: 12n * WAD, fee: 0n, tradingCost: 0n },
      ],
      0n,
    );
    expect(p).to.include({ shares: 0n, costBasis: 0n, value: 0n, unrealised: 0n });
    expect(p.realised).to.equal(-6n * USDT);
  });

  it("prices fee shares at the trade's own price", function () {
    expect(feeSharesInUsdt(WAD / 2n, 1000n * USDT, 1000n * WAD)).to.equal(USDT / 2n);
    expect(feeSharesInUsdt(WAD, 5n * USDT, 0n)).to.equal(0n);
  });
});
