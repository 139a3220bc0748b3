// Funding is charged by time and price, not by who trades (issue 17): every price update charges the
// interval the replaced answer priced, at that answer. Two runs of one price path, one with other
// traders on the market between the updates and one without, charge the token the same to the unit.
import { expect } from "chai";
import { USDT } from "../../src/common/params.ts";
import { fundingIndexDelta } from "../../src/engine/math.ts";
import {
  instant,
  networkHelpers,
  PENDING,
  priceOf,
  seededFixture,
  setPrice,
  type Deployed,
} from "../token/fixture.ts";

const HOUR = 3600;
const MOVES = [101n, 98n, 102n, 99n]; // percent of the previous price, one an hour

/** The path from the seeded fixture's last block; `busy` adds trades of other accounts between updates. */
async function run(busy: boolean): Promise<{ owed: bigint; index: bigint; d: Deployed }> {
  const d = await networkHelpers.loadFixture(seededFixture);
  const start = await networkHelpers.time.latest();
  const market = await d.btc3l.market();
  for (const [i, move] of MOVES.entries()) {
    if (busy) {
      // another token's holder and a direct trader touch the market halfway through the hour
      await networkHelpers.time.setNextBlockTimestamp(start + i * HOUR + HOUR / 2);
      await instant(d.btc3s)
        .connect(d.carol)
        .deposit(50_000n * USDT, d.carol.address);
      await d.sys.vault.connect(d.bob).deposit(market, d.bob.address, 100_000n * USDT);
      await d.sys.vault.connect(d.bob).trade(market, 10n ** 18n, 0, d.bob.address);
    }
    await networkHelpers.time.setNextBlockTimestamp(start + (i + 1) * HOUR);
    await setPrice(d.sys, "BTC", ((await priceOf(d.sys, "BTC")) * move) / 100n);
  }
  await networkHelpers.time.setNextBlockTimestamp(start + MOVES.length * HOUR + 600);
  await networkHelpers.mine();
  const token = await d.btc3l.getAddress();
  return {
    owed: await d.sys.vault.fundingOwed(market, token, PENDING),
    index: await d.sys.vault.fundingIndex(market),
    d,
  };
}

describe("Funding by time and price", function () {
  it("charges a token the same funding to the unit whether or not others trade the market", async function () {
    const quiet = await run(false);
    const busy = await run(true);
    expect(quiet.owed).to.be.greaterThan(0n); // a long pays at the default positive rate
    expect(busy.owed).to.equal(quiet.owed);
    expect(busy.index).to.equal(quiet.index);
  });

  it("moves the index by the replaced answer's price x rate x time at each update", async function () {
    const d = await networkHelpers.loadFixture(seededFixture);
    const market = await d.btc3l.market();
    const info = await d.sys.vault.marketInfo(market);
    const price = await priceOf(d.sys, "BTC");
    const at = Number(info.updatedAt) + HOUR;
    await networkHelpers.time.setNextBlockTimestamp(at);
    await setPrice(d.sys, "BTC", price * 2n); // the hour before is charged at the old price
    const after = await d.sys.vault.marketInfo(market);
    expect(after.fundingIndex - info.fundingIndex).to.equal(
      fundingIndexDelta(price, info.fundingRate, BigInt(HOUR)),
    );
  });
});
