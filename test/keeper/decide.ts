import { expect } from "chai";
import {
  batches,
  decide,
  decideFill,
  formatLeverage,
  TokenState,
  type TokenSnapshot,
} from "../../src/keeper/decide.ts";
import { gasLimitFrom } from "../../src/chain/gas.ts";
import { rpcUrlFor } from "../../src/chain/rpc.ts";
import { Command } from "commander";
import { jsonLine } from "../../src/common/log.ts";
import { nameList, parseCommandLine, positiveInt } from "../../src/common/options.ts";
import { backoffMs, isTransient, withRetry } from "../../src/common/retry.ts";

const DAY = 86_400;
const base: TokenSnapshot = {
  state: TokenState.Active,
  needed: false,
  reason: 0,
  supply: 10n ** 21n,
  lastFeeAccrual: 1_000_000,
  delistingTime: 0,
  now: 1_000_100,
};
const opts = { feeIntervalSeconds: DAY };

describe("keeper decisions", function () {
  it("fills a desk at once with KEEPER_ROLE, without it only once the fill is late, and never when none is needed", function () {
    const d = { needed: true, lateAt: 5_000, now: 4_000, isKeeper: true };
    expect(decideFill(d)).to.equal(true);
    expect(decideFill({ ...d, isKeeper: false })).to.equal(false);
    expect(decideFill({ ...d, isKeeper: false, now: 5_000 })).to.equal(true);
    expect(decideFill({ ...d, needed: false })).to.equal(false);
    expect(decideFill({ ...d, needed: false, isKeeper: false, now: 9_000 })).to.equal(false);
  });

  it("settles a losing token's loss into the pool only when the pool is short of what winners are owed", function () {
    expect(decide({ ...base, poolShort: true, atLoss: true }, opts)).to.deep.equal({ kind: "settlePnl" });
    expect(decide({ ...base, poolShort: true, atLoss: false }, opts)).to.equal(undefined);
    expect(decide({ ...base, poolShort: false, atLoss: true }, opts)).to.equal(undefined);
    // before a rebalance: the rebalance of a winner may be what needs the cash
    expect(decide({ ...base, poolShort: true, atLoss: true, needed: true, reason: 1 }, opts)).to.deep.equal({
      kind: "settlePnl",
    });
  });

  it("does nothing for a token at target whose fee was accrued recently", function () {
    expect(decide(base, opts)).to.equal(undefined);
  });

  it("rebalances when rebalanceNeeded() says so, with its reason", function () {
    expect(decide({ ...base, needed: true, reason: 1 }, opts)).to.deep.equal({
      kind: "rebalance",
      reason: 1,
    });
    expect(decide({ ...base, needed: true, reason: 3 }, opts)).to.deep.equal({
      kind: "rebalance",
      reason: 3,
    });
  });

  it("accrues the fee once the interval of chain time has passed, never for an empty token", function () {
    const due = { ...base, now: base.lastFeeAccrual + DAY };
    expect(decide(due, opts)).to.deep.equal({ kind: "accrueFee", elapsed: DAY });
    expect(decide({ ...due, now: due.now - 1 }, opts)).to.equal(undefined);
    expect(decide({ ...due, supply: 0n }, opts)).to.equal(undefined);
    expect(decide(due, { feeIntervalSeconds: 0 })).to.equal(undefined);
  });

  it("settles a delisting token from its delisting time on, before any rebalance", function () {
    const delisting = {
      ...base,
      state: TokenState.Delisting,
      delistingTime: base.now + 10,
      needed: true,
      reason: 1,
    };
    expect(decide(delisting, opts)).to.deep.equal({ kind: "rebalance", reason: 1 });
    expect(decide({ ...delisting, now: delisting.delistingTime }, opts)).to.deep.equal({ kind: "settle" });
  });

  it("settles a depleted token and pays the holders of a settled one", function () {
    expect(decide({ ...base, state: TokenState.Depleted }, opts)).to.deep.equal({ kind: "settle" });
    expect(decide({ ...base, state: TokenState.Settled }, opts)).to.deep.equal({ kind: "settleHolders" });
  });

  it("splits holders into batches and rejects a batch size below one", function () {
    expect(batches([1, 2, 3, 4, 5], 2)).to.deep.equal([[1, 2], [3, 4], [5]]);
    expect(batches([], 3)).to.deep.equal([]);
    expect(() => batches([1], 0)).to.throw("batch size must be at least 1");
  });

  it("formats WAD leverage with six decimals, rounded down", function () {
    expect(formatLeverage(3n * 10n ** 18n)).to.equal("3.000000");
    expect(formatLeverage(4_125_000_999_999_999_999n)).to.equal("4.125000");
    expect(formatLeverage(2n ** 256n - 1n)).to.equal("infinite");
  });

  it("sets the gas limit 20% above the estimate, rounded up", function () {
    expect(gasLimitFrom(100_000n)).to.equal(120_000n);
    expect(gasLimitFrom(1n)).to.equal(2n);
  });
});

describe("keeper plumbing", function () {
  it("writes one JSON object per line with bigints as decimal strings", function () {
    const line = jsonLine("rebalanced", { gasUsed: 123n }, new Date(0));
    expect(line).to.not.include("\n");
    expect(JSON.parse(line)).to.deep.equal({
      time: "1970-01-01T00:00:00.000Z",
      event: "rebalanced",
      gasUsed: "123",
    });
  });

  it("tells a dead RPC from a revert", function () {
    expect(isTransient(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), {}))).to.equal(true);
    expect(isTransient({ code: "TIMEOUT", message: "timeout" })).to.equal(true);
    expect(isTransient(new Error("fetch failed", { cause: { code: "ECONNRESET" } }))).to.equal(true);
    expect(isTransient({ code: "CALL_EXCEPTION", message: "execution reverted" })).to.equal(false);
  });

  it("backs off exponentially up to the cap", function () {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 100, 1000, mid))).to.deep.equal([
      100, 200, 400, 800, 1000,
    ]);
  });

  it("retries transient failures and passes other errors through at once", async function () {
    let calls = 0;
    const value = await withRetry(
      async () => {
        if (++calls < 3) throw new Error("ECONNREFUSED");
        return 42;
      },
      { retries: 5, baseMs: 1, maxMs: 2 },
    );
    expect([value, calls]).to.deep.equal([42, 3]);
    let reverts = 0;
    const failed = await withRetry(
      async () => {
        reverts++;
        throw new Error("execution reverted");
      },
      { retries: 5, baseMs: 1, maxMs: 2 },
    ).catch((e: Error) => e.message);
    expect(failed).to.equal("execution reverted");
    expect(reverts).to.equal(1);
  });

  it("finds the RPC URL of a network name and says what to do for a URL or an unknown name", function () {
    expect(rpcUrlFor("localhost", {})).to.equal("http://127.0.0.1:8545");
    expect(rpcUrlFor("localhost", { RPC_URL: "http://10.0.0.1:9000" })).to.equal("http://10.0.0.1:9000");
    expect(rpcUrlFor("anvil", { ANVIL_URL: "http://127.0.0.1:9545" })).to.equal("http://127.0.0.1:9545");
    expect(() => rpcUrlFor("http://127.0.0.1:8545", {})).to.throw("pass the URL with --rpc");
    expect(() => rpcUrlFor("sepolia", {})).to.throw('no RPC URL for network "sepolia"');
  });

  it("parses every program's command line the same way: a stop code for a bad option, a name list without blanks", function () {
    const program = () =>
      new Command("keeper").option("--interval <ms>", "poll interval", positiveInt("--interval"), 1000);
    const errors: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => errors.push(s) > 0) as typeof process.stderr.write;
    let bad: number | undefined;
    try {
      bad = parseCommandLine(program(), ["--interval", "0"]);
    } finally {
      process.stderr.write = write;
    }
    expect(bad).to.equal(1);
    expect(errors.join("")).to.include("--interval must be a positive whole number");
    const good = program();
    expect(parseCommandLine(good, ["--interval", "250"])).to.equal(undefined);
    expect(good.opts<{ interval: number }>().interval).to.equal(250);
    expect(nameList(" BTC3L, ,ETH3S ,")).to.deep.equal(["BTC3L", "ETH3S"]);
    expect(nameList(undefined)).to.equal(undefined);
  });
});
