import { expect } from "chai";
import { parseDuration } from "../../src/common/options.ts";
import { csvPlan, gbmPlan, jumpPlan, parseJump, parseMarket } from "../../src/feeder/plan.ts";
import { parsePriceCsv } from "../../src/feeds/paths.ts";

const P = 10n ** 8n;

describe("feeder plans", function () {
  it("reads durations with units and rejects nonsense", function () {
    expect([
      parseDuration("1h"),
      parseDuration("30m"),
      parseDuration("1d"),
      parseDuration("15s"),
      parseDuration("90"),
    ]).to.deep.equal([3600, 1800, 86_400, 15, 90]);
    expect(() => parseDuration("soon")).to.throw('"soon" is not a duration');
    expect(() => parseDuration("0s")).to.throw("at least one second");
  });

  it("reads scripted jumps and names what is wrong with a bad one", function () {
    expect(parseJump("BTC:-12%")).to.deep.equal({ market: "BTC", move: -0.12, step: undefined });
    expect(parseJump("eth:+5%@3")).to.deep.equal({ market: "ETH", move: 0.05, step: 3 });
    expect(() => parseJump("BTC:-12")).to.throw("is not MARKET:MOVE%[@STEP]");
    // any market name parses; the feeder then checks it against the markets it found
    expect(parseJump("sol:+4%")).to.deep.equal({ market: "SOL", move: 0.04, step: undefined });
    expect(() => parseJump("DO-GE:5%")).to.throw("is not MARKET:MOVE%[@STEP]");
    expect(() => parseMarket("DOGE", ["BTC", "ETH", "SOL"])).to.throw(
      "the exchange lists no market DOGE (it lists BTC, ETH, SOL)",
    );
    expect(parseMarket(" sol ", ["BTC", "ETH", "SOL"])).to.equal("SOL");
    expect(() => parseMarket("S O L")).to.throw('"S O L" is not a market name');
    expect(() => parseJump("BTC:-100%")).to.throw("zero or below");
  });

  it("applies jumps cumulatively from the current price, one step apart", function () {
    const plan = jumpPlan(
      [parseJump("BTC:-12%"), parseJump("BTC:+10%"), parseJump("ETH:-50%@2")],
      { BTC: 100_000n * P, ETH: 4000n * P },
      3600,
    );
    expect(plan).to.deep.equal([
      { t: 3600, prices: { BTC: 88_000n * P } },
      { t: 7200, prices: { BTC: 96_800n * P, ETH: 2000n * P } },
    ]);
  });

  it("replays the same seeded GBM path for every market and step", function () {
    const o = {
      markets: ["BTC", "ETH"] as const,
      starts: { BTC: 100_000n * P, ETH: 4000n * P },
      seed: 7,
      drift: 0.1,
      volatility: 0.8,
      stepSeconds: 3600,
      steps: 48,
    };
    const a = gbmPlan(o);
    expect(a).to.have.length(48);
    expect(a[0]!.t).to.equal(3600);
    expect(a.every((s) => s.prices.BTC !== undefined && s.prices.ETH !== undefined)).to.equal(true);
    expect(gbmPlan(o)).to.deep.equal(a);
    expect(gbmPlan({ ...o, seed: 8 })).to.not.deep.equal(a);
    const flat = gbmPlan({ ...o, volatility: 0, drift: 0 });
    expect(flat.every((s) => s.prices.BTC === 100_000n * P)).to.equal(true);
  });

  it("pushes every CSV row, the first at offset zero", function () {
    const points = parsePriceCsv("timestamp,price\n1700000000,90000\n1700003600,91000.5\n");
    expect(csvPlan(points, "BTC")).to.deep.equal([
      { t: 0, prices: { BTC: 90_000n * P } },
      { t: 3600, prices: { BTC: 9_100_050_000_000n } },
    ]);
  });
});
