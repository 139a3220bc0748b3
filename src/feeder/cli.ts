// `npm run feeder -- [options]`: a price path into the feeds of deployments/<network>.json.
import { readFileSync } from "node:fs";
import { botCommand, startBot } from "../chain/bot.ts";
import { connect, type ConnectionOptions } from "../chain/connection.ts";
import {
  number,
  parseCommandLine,
  parseDuration,
  positiveInt,
  wholeNumber,
  wholeNumberOrZero,
} from "../common/options.ts";
import { parsePriceCsv } from "../feeds/paths.ts";
import { Feeder, type MarketRefresh } from "./feeder.ts";
import { listedFeeds } from "./markets.ts";
import {
  csvPlan,
  gbmJoin,
  gbmPlan,
  jumpPlan,
  parseJump,
  parseMarket,
  type FeedStep,
  type GbmPlanOptions,
  type JumpSpec,
  type MarketName,
} from "./plan.ts";

const CONNECTION = { signer: "the feeds' updater", keyEnv: "FEEDER_KEY", account: false };

export async function feederMain(argv: string[]): Promise<number> {
  const program = botCommand(
    "feeder",
    "Pushes prices into the feeds: a seeded GBM path, a CSV of timestamp,price, or scripted jumps",
    CONNECTION,
  )
    .option("--market <name>", "one market the exchange lists (BTC, ETH, SOL...) or all of them", "all")
    .option("--gbm", "a geometric Brownian motion from the current price", false)
    .option("--seed <n>", "GBM seed", wholeNumber("--seed"), 1)
    .option("--drift <mu>", "GBM annual drift (0.1 = 10%)", number("--drift"), 0)
    .option("--vol <sigma>", "GBM annual volatility (0.6 = 60%)", number("--vol"), 0.6)
    .option("--step <duration>", "time per step: 1h, 30m, 1d, 15s or seconds", "1h")
    .option("--steps <n>", "number of GBM steps", positiveInt("--steps"), 24)
    .option("--csv <file>", "a CSV file of timestamp,price rows (one market: pick it with --market)")
    .option("--jump <spec>", "a scripted move MARKET:MOVE%[@STEP], e.g. BTC:-12% (repeatable)", collect, [])
    .option(
      "--market-refresh <pushes>",
      "with every market (no --market): re-read the exchange's markets every this many pushes, to feed one listed since (0: only at the start)",
      wholeNumberOrZero,
      5,
    )
    .option("--fast", "local nodes only: move block time with the path instead of waiting", false)
    .option(
      "--speed <x>",
      "real time only: how many times faster than the path's clock",
      number("--speed"),
      1,
    );
  const stop = parseCommandLine(program, argv);
  if (stop !== undefined) return stop;
  const o = program.opts<
    ConnectionOptions & {
      market: string;
      gbm: boolean;
      seed: number;
      drift: number;
      vol: number;
      step: string;
      steps: number;
      csv?: string;
      jump: string[];
      marketRefresh: number;
      fast: boolean;
      speed: number;
    }
  >();
  const modes = [o.gbm, o.csv !== undefined, o.jump.length > 0].filter(Boolean).length;
  if (modes !== 1) throw new Error("pick exactly one source of prices: --gbm, --csv <file> or --jump <spec>");
  if (!(o.speed > 0)) throw new Error("--speed must be greater than zero");
  const stepSeconds = parseDuration(o.step);
  const all = o.market.toLowerCase() === "all";
  const chosen: MarketName | undefined = all ? undefined : parseMarket(o.market);
  // parse every input before touching the network, so bad input fails fast with its own message
  let csvText: string | undefined;
  if (o.csv !== undefined) {
    if (chosen === undefined)
      throw new Error("a CSV file holds one market's prices: pick it with --market, e.g. --market BTC");
    try {
      csvText = readFileSync(o.csv, "utf8");
    } catch (e) {
      throw new Error(`cannot read ${o.csv}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const csvPoints = csvText === undefined ? undefined : parsePriceCsv(csvText, o.csv);
  const jumps: JumpSpec[] = o.jump.map(parseJump);

  let feeder: Feeder | undefined;
  const { log, book, signal } = startBot(o, () => feeder?.stop());
  const { provider, signer } = await connect(o, book, CONNECTION.keyEnv, 250);
  // every market the exchange lists or the address book names, not only BTC and ETH
  const feeds = await listedFeeds(book, provider);
  const known = Object.keys(feeds);
  const markets: MarketName[] = chosen === undefined ? known : [parseMarket(chosen, known)];
  for (const j of jumps) parseMarket(j.market, known);
  const gbm = {
    seed: o.seed,
    drift: o.drift,
    volatility: o.vol,
    stepSeconds,
    steps: o.steps,
  };
  const refresh = refreshFor(
    chosen,
    o.marketRefresh,
    () => listedFeeds(book, provider),
    o.gbm ? gbm : undefined,
    known.length,
  );
  feeder = new Feeder(provider, signer, feeds, log, { fast: o.fast, speed: o.speed, refresh });
  if (signal.aborted) feeder.stop();

  const starts = await feeder.currentPrices();
  let plan: FeedStep[];
  if (csvPoints !== undefined) plan = csvPlan(csvPoints, markets[0]!);
  else if (jumps.length > 0) plan = jumpPlan(jumps, starts, stepSeconds);
  else plan = gbmPlan({ ...gbm, markets, starts });
  if (!o.fast && plan.length > 1 && stepSeconds / o.speed > 3600) {
    log("warning", {
      message:
        "steps are further apart than the feeds' heartbeat (3600 s): the exchange rejects stale prices between updates",
    });
  }
  // a feed this account may not update is one sentence before anything is printed or sent
  await feeder.checkUpdater(
    o.fast ? feeder.markets : [...new Set(plan.flatMap((p) => Object.keys(p.prices)))],
  );
  log("start", { network: o.network, markets, steps: plan.length, fast: o.fast, stepSeconds });
  await feeder.run(plan);
  provider.destroy();
  return 0;
}

/**
 * How the feeder finds markets listed while it runs: with every market (`chosen` undefined) it
 * re-reads `list` every `every` pushes, and a GBM run gives each new market a path of its own seeded
 * after the `first` markets it started with; an explicit market stays as given (undefined).
 */
export function refreshFor(
  chosen: MarketName | undefined,
  every: number,
  list: MarketRefresh["list"],
  gbm?: Omit<GbmPlanOptions, "markets" | "starts">,
  first = 0,
): MarketRefresh | undefined {
  if (chosen !== undefined) return undefined;
  let index = first;
  return {
    every,
    list,
    join: gbm === undefined ? undefined : (market, start, done) => gbmJoin(gbm, market, index++, start, done),
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
