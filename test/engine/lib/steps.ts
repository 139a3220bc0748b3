// Steps of the differential test: plain data (JSON with bigints as "123n" strings) so a failing
// sequence can be printed and replayed, and the fast-check arbitrary that generates them.
import fc from "fast-check";

/** A mint or redeem fee: mostly whole pips (1e-6, what the status slot stores) up to past the 1% cap,
 * sometimes any WAD value (refused unless it is a whole pip). */
const mintRedeemFee = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 12_000n }).map((pips) => pips * 10n ** 12n) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 12n * 10n ** 15n }) },
);

export const ACTORS = 4; // alice, bob, carol, treasury (index 3); the admin (keeper) is index 4
export const CALLERS = 5;
export const TOKENS = 2;

export type Step =
  | { kind: "deposit"; dt: number; actor: number; token: number; assets: bigint }
  | { kind: "mint"; dt: number; actor: number; token: number; shares: bigint }
  | { kind: "redeem"; dt: number; actor: number; owner: number; token: number; bps: number; raw: bigint }
  | { kind: "withdraw"; dt: number; actor: number; owner: number; token: number; bps: number; raw: bigint }
  | { kind: "approve"; dt: number; actor: number; spender: number; token: number; amount: bigint }
  | {
      kind: "fees";
      dt: number;
      actor: number;
      token: number;
      mintFee: bigint;
      redeemFee: bigint;
      managementFee: bigint;
      bounty: bigint;
    }
  | { kind: "cap"; dt: number; token: number; extra: bigint }
  | { kind: "treasury"; dt: number; token: number; to: number }
  | { kind: "exchangeFees"; dt: number; takerFee: bigint; liquidationReward: bigint }
  | { kind: "transfer"; dt: number; actor: number; to: number; token: number; bps: number }
  | { kind: "price"; dt: number; moveBps: number }
  | { kind: "time"; dt: number; token: number }
  | { kind: "funding"; dt: number; rate: bigint }
  | { kind: "rebalance"; dt: number; actor: number; token: number }
  | { kind: "delist"; dt: number; token: number; notice: number }
  | { kind: "settle"; dt: number; actor: number; token: number }
  | { kind: "settleHolders"; dt: number; actor: number; token: number }
  | { kind: "pause"; dt: number; token: number; paused: boolean }
  | { kind: "liquidate"; dt: number; actor: number; token: number }
  | { kind: "settlePnl"; dt: number; actor: number; token: number }
  | { kind: "addLiquidity"; dt: number; actor: number; amount: bigint }
  | { kind: "removeLiquidity"; dt: number; actor: number; bps: number };

const HOUR = 3600;
const DAY = 86400;

/** A positive bigint spread over many orders of magnitude: m x 10^e. */
function logBigInt(maxExp: number): fc.Arbitrary<bigint> {
  return fc
    .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: maxExp }))
    .map(([m, e]) => BigInt(m) * 10n ** BigInt(e));
}

const dt = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 120 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: HOUR }) },
);
const actor = fc.integer({ min: 0, max: ACTORS - 1 });
const caller = fc.integer({ min: 0, max: CALLERS - 1 });
const token = fc.integer({ min: 0, max: TOKENS - 1 });
/** Mostly the actor itself, sometimes someone else (then an allowance is needed). */
const owner = (a: number) =>
  fc.oneof({ weight: 5, arbitrary: fc.constant(a) }, { weight: 1, arbitrary: actor });
const redeemLike = <K extends "redeem" | "withdraw">(kind: K, rawExp: number) =>
  fc
    .tuple(actor, dt, token, bps, logBigInt(rawExp))
    .chain(([a, d, t, b, raw]) =>
      owner(a).map((o) => ({ kind, dt: d, actor: a, owner: o, token: t, bps: b, raw })),
    );
const bps = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 10_000 }) },
  { weight: 2, arbitrary: fc.constant(10_000) },
  { weight: 1, arbitrary: fc.constant(-1) },
);
const move = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -300, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: -1_500, max: 1_500 }) },
  // gaps past the ripcord and to depletion (a 3x long is gone at -33%, a short at +33%)
  { weight: 1, arbitrary: fc.integer({ min: -6_000, max: 6_000 }) },
);

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant("deposit" as const),
      dt,
      actor,
      token,
      assets: fc.oneof(
        { weight: 6, arbitrary: logBigInt(9) },
        { weight: 3, arbitrary: logBigInt(4) },
        { weight: 1, arbitrary: fc.constant(0n) },
      ),
    }),
  },
  // mint by shares always reverts UseTheDesk, withdraw by USDT works only once settled: rarer
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("mint" as const), dt, actor, token, shares: logBigInt(21) }),
  },
  {
    weight: 11,
    arbitrary: redeemLike("redeem", 21),
  },
  {
    weight: 2,
    arbitrary: redeemLike("withdraw", 9),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("transfer" as const), dt, actor, to: actor, token, bps }),
  },
  {
    weight: 16,
    arbitrary: fc.record({
      kind: fc.constant("price" as const),
      dt: fc.oneof(
        { weight: 4, arbitrary: dt },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 * DAY }) },
      ),
      moveBps: move,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("time" as const),
      dt: fc.integer({ min: 1, max: 2 * DAY }),
      token,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("funding" as const),
      dt,
      rate: fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }),
    }),
  },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("rebalance" as const), dt, actor: caller, token }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("delist" as const),
      dt,
      token,
      notice: fc.integer({ min: 3 * DAY - 10, max: 4 * DAY }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("settle" as const), dt, actor: caller, token }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("settleHolders" as const), dt, actor: caller, token }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("pause" as const),
      dt,
      token,
      paused: fc.constantFrom(true, false, false),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("liquidate" as const), dt, actor, token }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("settlePnl" as const), dt, actor, token }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("addLiquidity" as const), dt, actor, amount: logBigInt(12) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("removeLiquidity" as const),
      dt,
      actor,
      bps: fc.integer({ min: 1, max: 10_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("approve" as const),
      dt,
      actor,
      spender: actor,
      token,
      amount: fc.oneof(logBigInt(21), fc.constant(2n ** 256n - 1n)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("fees" as const),
      dt,
      actor: fc.oneof({ weight: 4, arbitrary: fc.constant(CALLERS - 1) }, { weight: 1, arbitrary: actor }),
      token,
      mintFee: mintRedeemFee,
      redeemFee: mintRedeemFee,
      managementFee: fc.bigInt({ min: 0n, max: 6n * 10n ** 16n }),
      bounty: fc.bigInt({ min: 0n, max: 120n * 10n ** 6n }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("cap" as const),
      dt,
      token,
      extra: fc.oneof(logBigInt(21), fc.constant(0n), fc.constant(2n ** 128n - 1n)),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("treasury" as const), dt, token, to: actor }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("exchangeFees" as const),
      dt,
      takerFee: fc.bigInt({ min: 0n, max: 11n * 10n ** 15n }),
      liquidationReward: fc.bigInt({ min: 0n, max: 100_000_000n }),
    }),
  },
);

export function stepsToJson(steps: readonly Step[]): string {
  return JSON.stringify(steps, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
}

export function stepsFromJson(text: string): Step[] {
  return JSON.parse(text, (_k, v: unknown) =>
    typeof v === "string" && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
  ) as Step[];
}
