// What a deployment makes: its markets and its tokens. By default the four standard tokens on BTC and
// ETH (src/common/params.ts); `npm run deploy` takes another list (DEPLOY_TOKENS=BTC3L,ETH5S) or a
// parameters file (DEPLOY_PARAMETERS=deploy.json) that can also list markets beyond BTC and ETH:
//
//   { "tokens": ["BTC3L", "ETH5S", "SOL2L"], "markets": { "SOL": { "price": 150 } } }
//
// A token is named as the factory names it: market, whole leverage 2 to 5, L or S (ETH5S = ETH, 5x,
// short), with the band and ripcord of src/common/params.ts (tokenParams: bandFor) and the default fees.
import { readFileSync } from "node:fs";
import { encodeBytes32String, keccak256, parseUnits, toUtf8Bytes } from "ethers";
import { MARKETS, STANDARD_TOKENS, tokenParams, type TokenParams } from "../common/params.ts";

/** A market the deployment lists: a feed at `initialPrice` (8 decimals) pushing to the exchange. */
export interface DeployMarket {
  name: string;
  id: string; // bytes32
  description: string;
  initialPrice: bigint;
  heartbeat: number;
  fundingRate: bigint;
  priceImpact: bigint;
}

/** A token the deployment makes: TokenParams on any market the deployment lists. */
export type DeployToken = Omit<TokenParams, "market"> & { market: string };

export interface DeploySpec {
  markets: DeployMarket[];
  tokens: DeployToken[];
}

/** Whole leverage a token may have (as `lt admin create`). */
const MIN_LEVERAGE = 2n;
const MAX_LEVERAGE = 5n;

/** The default deployment: BTC and ETH, and BTC3L, BTC3S, ETH3L, ETH3S. */
export const DEFAULT_SPEC: DeploySpec = {
  markets: Object.values(MARKETS).map((m) => ({ ...m })),
  tokens: STANDARD_TOKENS.map((t) => ({ ...t })),
};

/** True for the default deployment (its Ignition module keeps the id "System"). */
export function isDefaultSpec(spec: DeploySpec): boolean {
  return specKey(spec) === specKey(DEFAULT_SPEC);
}

/** A short, stable name for a deployment's contents (part of its Ignition module id). */
export function specTag(spec: DeploySpec): string {
  return keccak256(toUtf8Bytes(specKey(spec))).slice(2, 10);
}

function specKey(spec: DeploySpec): string {
  return JSON.stringify({
    markets: spec.markets.map((m) => [m.name, String(m.initialPrice), m.heartbeat]),
    tokens: spec.tokens.map((t) => t.symbol),
  });
}

/** "ETH5S" as { market: "ETH", leverage: 5n, isLong: false }; a plain sentence for anything else. */
export function parseTokenSymbol(text: string): { market: string; leverage: bigint; isLong: boolean } {
  const m = /^([A-Z0-9]*[A-Z])(\d+)([LS])$/.exec(text.trim().toUpperCase());
  if (m === null) {
    throw new Error(
      `"${text}" is not a token symbol: write the market, a whole leverage and L or S, such as BTC3L or ETH5S`,
    );
  }
  const leverage = BigInt(m[2]!);
  if (leverage < MIN_LEVERAGE || leverage > MAX_LEVERAGE) {
    throw new Error(`${text.trim().toUpperCase()}: a token's leverage must be from 2x to 5x`);
  }
  return { market: m[1]!, leverage, isLong: m[3] === "L" };
}

/** The token `symbol` names, with the default band, ripcord and fees. */
export function tokenFromSymbol(symbol: string): DeployToken {
  const { market, leverage, isLong } = parseTokenSymbol(symbol);
  return tokenParams(market, leverage, isLong);
}

export interface MarketInput {
  /** USD, e.g. 150 or "0.25" */
  price: number | string;
  /** Seconds without an update before the price goes stale (default 3600). */
  heartbeat?: number;
}

export interface SpecInput {
  tokens?: string[];
  markets?: Record<string, MarketInput>;
}

/**
 * The deployment for `input`: BTC and ETH always, the markets it lists, and its tokens (the four
 * standard ones when it lists none). Every token's market must be listed; a plain sentence otherwise.
 */
export function deploySpec(input: SpecInput = {}): DeploySpec {
  const markets = DEFAULT_SPEC.markets.map((m) => ({ ...m }));
  for (const [nameText, given] of Object.entries(input.markets ?? {})) {
    const name = nameText.trim().toUpperCase();
    if (!/^[A-Z0-9]{1,31}$/.test(name)) {
      throw new Error(`"${nameText}" is not a market name: use letters and digits, such as SOL`);
    }
    const price = parsePrice(given?.price, name);
    const heartbeat = given.heartbeat ?? MARKETS.BTC.heartbeat;
    if (!Number.isInteger(heartbeat) || heartbeat < 60 || heartbeat > 86_400) {
      throw new Error(`the ${name} market's heartbeat must be whole seconds from 60 to 86400`);
    }
    const market: DeployMarket = {
      name,
      id: encodeBytes32String(name),
      description: `${name} / USD`,
      initialPrice: price,
      heartbeat,
      fundingRate: MARKETS.BTC.fundingRate,
      priceImpact: 0n,
    };
    const at = markets.findIndex((m) => m.name === name);
    if (at >= 0) markets[at] = market;
    else markets.push(market);
  }
  const symbols = input.tokens ?? DEFAULT_SPEC.tokens.map((t) => t.symbol);
  if (symbols.length === 0)
    throw new Error("the token list is empty: name at least one token, such as BTC3L");
  const tokens: DeployToken[] = [];
  for (const symbol of symbols) {
    const token = tokenFromSymbol(symbol);
    if (tokens.some((t) => t.symbol === token.symbol)) throw new Error(`${token.symbol} is listed twice`);
    if (!markets.some((m) => m.name === token.market)) {
      throw new Error(
        `${token.symbol} needs the ${token.market} market, which the deployment does not list: give its price in the parameters file ("markets": { "${token.market}": { "price": 150 } })`,
      );
    }
    tokens.push(token);
  }
  return { markets, tokens };
}

function parsePrice(value: unknown, market: string): bigint {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !/^\d+(\.\d{1,8})?$/.test(text.trim())) {
    throw new Error(`the ${market} market needs a price in USD, such as "price": 150`);
  }
  const price = parseUnits(text.trim(), 8);
  if (price === 0n) throw new Error(`the ${market} market's price must be above 0`);
  return price;
}

/**
 * The deployment `npm run deploy` makes from its environment: DEPLOY_PARAMETERS (a JSON file with
 * "tokens" and "markets") and DEPLOY_TOKENS (a comma-separated token list, which overrides the
 * file's). Neither: the default four.
 */
export function specFromEnvironment(env: NodeJS.ProcessEnv = process.env): DeploySpec {
  let input: SpecInput = {};
  const file = env.DEPLOY_PARAMETERS;
  if (file !== undefined && file !== "") {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new Error(`cannot read the parameters file ${file}: ${(e as NodeJS.ErrnoException).code ?? ""}`);
    }
    try {
      input = JSON.parse(text) as SpecInput;
    } catch (e) {
      throw new Error(`the parameters file ${file} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof input !== "object" || input === null) {
      throw new Error(`the parameters file ${file} must hold an object with "tokens" and "markets"`);
    }
    if (input.tokens !== undefined && !Array.isArray(input.tokens)) {
      throw new Error(`the parameters file's "tokens" must be a list of symbols, such as ["BTC3L", "ETH5S"]`);
    }
  }
  const list = env.DEPLOY_TOKENS;
  if (list !== undefined && list.trim() !== "") {
    input = {
      ...input,
      tokens: list
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    };
  }
  return deploySpec(input);
}
