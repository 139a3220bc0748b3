// `lt admin create|market|pool`: a new token from the factory, a new market on the exchange (a price
// feed that pushes to it, listed), and a token's Uniswap V2 pool seeded at NAV. Each checks the role
// and the rule before sending; the address book gains what was made (the other tools also find
// tokens and pools on chain).
import { readFileSync } from "node:fs";
import { encodeBytes32String, keccak256, ZeroAddress } from "ethers";
import type { ILeveragedToken } from "../../types/ethers-contracts/LeveragedTokenFactory.ts";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { LeveragedTokenFactory__factory } from "../../types/ethers-contracts/factories/LeveragedTokenFactory__factory.ts";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import { MockPriceFeed__factory } from "../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";
import { readAddressBook, writeAddressBook, type AddressBook } from "../chain/addressBook.ts";
import { DEFAULT_FEES, DESK, MARKETS, SPOT } from "../common/params.ts";
import { reservesOf } from "../spot/arbitrage.ts";
import { connectFactory, connectPair, connectRouter, createPoolAtNav } from "../spot/uniswap.ts";
import {
  newTokenSpec,
  parseLeverageWad,
  parseMarketName,
  parseSide,
  parseTokenLeverage,
  tokenSpecProblem,
} from "./adminRules.ts";
import { requireRole, sendTx } from "./adminSend.ts";
import { type Context, resolveSymbol, signerOf, tokenOf, usdtOf } from "./context.ts";
import { CliError, decodeCustomError, findRevertData, STATE, STATE_NAMES } from "./errors.ts";
import {
  decimalString,
  formatLeverage,
  formatNav,
  formatPrice,
  formatShares,
  formatUsdt,
  lines,
  parseAmount,
  parsePercent,
  PRICE_DECIMALS,
  SHARE_DECIMALS,
  USDT_DECIMALS,
  WAD_DECIMALS,
  type Report,
} from "./format.ts";

const NO_CAP = 2n ** 128n - 1n;
/** MockPerpVault's limits on a market's heartbeat (seconds). */
const DEFAULT_HEARTBEAT = MARKETS.BTC.heartbeat;

/** Rewrites deployments/<network>.json with `change` applied (read fresh, so nothing else is lost). */
function updateAddressBook(ctx: Context, change: (book: AddressBook) => void): void {
  const book = readAddressBook(ctx.options.network, ctx.options.deployments);
  change(book);
  writeAddressBook(ctx.options.network, book, ctx.options.deployments);
}

/** Whether the exchange lists `marketId` (markPrice reverts UnknownMarket when it does not). */
async function isListed(ctx: Context, marketId: string): Promise<boolean> {
  try {
    await MockPerpVault__factory.connect(ctx.book.perpVault, ctx.provider).markPrice(marketId);
    return true;
  } catch (e) {
    const data = findRevertData(e);
    const decoded = data === null ? null : decodeCustomError(data);
    if (decoded?.name === "UnknownMarket") return false;
    if (decoded !== null) return true; // listed, but its price is stale or invalid
    throw e;
  }
}

/** The token's creation code: `artifact` (a JSON with "bytecode") or the one this checkout built. */
function creationCode(
  artifact: string | undefined,
  built: string = LeveragedToken__factory.bytecode,
): string {
  if (artifact === undefined) return built;
  let parsed: { bytecode?: unknown };
  try {
    parsed = JSON.parse(readFileSync(artifact, "utf8")) as { bytecode?: unknown };
  } catch (e) {
    throw new CliError(`cannot read the artifact ${artifact}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (typeof parsed.bytecode !== "string" || !/^0x[0-9a-fA-F]+$/.test(parsed.bytecode)) {
    throw new CliError(`${artifact} has no "bytecode" field`);
  }
  return parsed.bytecode;
}

export interface CreateOptions {
  min?: string;
  max?: string;
  ripcord?: string;
  keeper?: string;
  treasury?: string;
  artifact?: string;
  /** The deployed ForwardDesk artifact, if not this checkout's. */
  deskArtifact?: string;
}

export async function createCommand(
  ctx: Context,
  marketText: string,
  leverageText: string,
  sideText: string,
  opts: CreateOptions,
): Promise<Report> {
  const market = parseMarketName(marketText);
  const spec = newTokenSpec(market, parseTokenLeverage(leverageText), parseSide(sideText), {
    ...(opts.min !== undefined ? { minLeverage: parseLeverageWad(opts.min, "--min") } : {}),
    ...(opts.max !== undefined ? { maxLeverage: parseLeverageWad(opts.max, "--max") } : {}),
    ...(opts.ripcord !== undefined ? { ripcordLeverage: parseLeverageWad(opts.ripcord, "--ripcord") } : {}),
  });
  const signer = await signerOf(ctx);
  const account = await signer.getAddress();
  const factory = LeveragedTokenFactory__factory.connect(ctx.book.factory, signer);
  const vault = MockPerpVault__factory.connect(ctx.book.perpVault, ctx.provider);
  const marketId = encodeBytes32String(market);

  await requireRole(factory, "DEPLOYER_ROLE", account, `create ${spec.symbol}`, "the factory");
  const problem = tokenSpecProblem(spec, await vault.maxLeverage());
  if (problem) throw new CliError(`${spec.symbol} would be refused: ${problem}`);
  if (!(await isListed(ctx, marketId))) {
    throw new CliError(
      `the exchange does not list ${market}; list it first: lt admin market ${market} <price>`,
    );
  }
  const taken = await factory.tokenBySymbol(spec.symbol);
  if (taken !== ZeroAddress) throw new CliError(`${spec.symbol} exists already, at ${taken}`);
  const same = await factory.tokenFor(await factory.keyOf(marketId, spec.targetLeverage, spec.isLong));
  if (same !== ZeroAddress) {
    throw new CliError(
      `a ${market} ${formatLeverage(spec.targetLeverage)} ${spec.isLong ? "long" : "short"} token exists already, at ${same}`,
    );
  }
  const code = creationCode(opts.artifact);
  const [codeHash, expected] = [keccak256(code), await factory.tokenCodeHash()];
  if (codeHash !== expected) {
    throw new CliError(
      `the factory accepts only token code with hash ${expected}, and this checkout's LeveragedToken hashes to ${codeHash}; build the version that was deployed, or pass its artifact with --artifact`,
    );
  }
  // the new token's fees go where the first token's do, unless told otherwise
  const first = Object.values(ctx.book.tokens)[0];
  const treasury =
    opts.treasury ??
    (first ? await LeveragedToken__factory.connect(first, ctx.provider).treasury() : account);
  const config: ILeveragedToken.ConfigStruct = {
    name: spec.name,
    symbol: spec.symbol,
    vault: ctx.book.perpVault,
    market: marketId,
    isLong: spec.isLong,
    targetLeverage: spec.targetLeverage,
    minLeverage: spec.minLeverage,
    maxLeverage: spec.maxLeverage,
    ripcordLeverage: spec.ripcordLeverage,
    rebalanceEpsilon: spec.rebalanceEpsilon,
    ...DEFAULT_FEES,
    supplyCap: NO_CAP,
    treasury,
    admin: account,
    keeper: opts.keeper ?? account,
    desk: ZeroAddress,
  };
  const deskCode = creationCode(opts.deskArtifact, ForwardDesk__factory.bytecode);
  const [deskHash, expectedDesk] = [keccak256(deskCode), await factory.deskCodeHash()];
  if (deskHash !== expectedDesk) {
    throw new CliError(
      `the factory accepts only desk code with hash ${expectedDesk}, and this checkout's ForwardDesk hashes to ${deskHash}; build the version that was deployed, or pass its artifact with --desk-artifact`,
    );
  }
  const receipt = await sendTx(
    factory.createTokenWithDesk,
    config,
    code,
    deskCode,
    DESK.fillDelay,
    DESK.fillBounty,
  );
  const address = await factory.tokenBySymbol(spec.symbol);
  const desk = await factory.deskOf(address);
  updateAddressBook(ctx, (book) => {
    book.tokens[spec.symbol] = address;
    book.desks = { ...book.desks, [spec.symbol]: desk };
  });
  const band = `band ${formatLeverage(spec.minLeverage)} - ${formatLeverage(spec.maxLeverage)}, ripcord ${formatLeverage(spec.ripcordLeverage)}`;
  return {
    data: {
      action: "create",
      symbol: spec.symbol,
      name: spec.name,
      address,
      desk,
      market,
      side: spec.isLong ? "long" : "short",
      targetLeverage: decimalString(spec.targetLeverage, WAD_DECIMALS),
      band: [decimalString(spec.minLeverage, WAD_DECIMALS), decimalString(spec.maxLeverage, WAD_DECIMALS)],
      ripcordLeverage: decimalString(spec.ripcordLeverage, WAD_DECIMALS),
      treasury,
      keeper: opts.keeper ?? account,
      tx: receipt.hash,
      block: receipt.blockNumber,
    },
    text: lines([
      ["created", `${spec.symbol} (${spec.name}) at ${address}`],
      [
        "desk",
        `${desk}: mints and redeems are requests filled at the next price round (fill delay ${DESK.fillDelay} s, bounty ${formatUsdt(DESK.fillBounty)} USDT)`,
      ],
      ["leverage", `target ${formatLeverage(spec.targetLeverage)}, ${band}`],
      [
        "next",
        `mint the first ${spec.symbol} (lt mint ${spec.symbol} <usdt>), then give it a pool (lt admin pool ${spec.symbol})`,
      ],
      ["tx", `${receipt.hash} (block ${receipt.blockNumber})`],
    ]),
  };
}

export interface MarketOptions {
  heartbeat: string;
  funding: string;
}

export async function marketCommand(
  ctx: Context,
  marketText: string,
  priceText: string,
  opts: MarketOptions,
): Promise<Report> {
  const market = parseMarketName(marketText);
  const price = parseAmount(priceText, PRICE_DECIMALS, "USD");
  if (!/^\d+$/.test(opts.heartbeat.trim()) || Number(opts.heartbeat) < 1) {
    throw new CliError(`--heartbeat must be a whole number of seconds (got ${opts.heartbeat})`);
  }
  const heartbeat = Number(opts.heartbeat);
  const funding = parsePercent(opts.funding, "--funding");
  const signer = await signerOf(ctx);
  const account = await signer.getAddress();
  const vault = MockPerpVault__factory.connect(ctx.book.perpVault, signer);
  const marketId = encodeBytes32String(market);
  await requireRole(vault, "DEFAULT_ADMIN_ROLE", account, `list ${market}`, "the exchange");
  if (await isListed(ctx, marketId)) throw new CliError(`the exchange lists ${market} already`);

  const feed = await new MockPriceFeed__factory(signer).deploy(`${market} / USD`, price, account);
  await feed.waitForDeployment();
  const feedAddress = await feed.getAddress();
  await sendTx(feed.setListener, ctx.book.perpVault, marketId);
  const receipt = await sendTx(vault.addMarket, marketId, feedAddress, heartbeat, funding, 0n);
  updateAddressBook(ctx, (book) => (book.feeds[market] = feedAddress));
  return {
    data: {
      action: "market",
      market,
      feed: feedAddress,
      price: decimalString(price, PRICE_DECIMALS),
      heartbeat,
      fundingRatePer8h: decimalString(funding, WAD_DECIMALS),
      tx: receipt.hash,
      block: receipt.blockNumber,
    },
    text: lines([
      [
        "listed",
        `${market} at ${formatPrice(price)}, feed ${feedAddress} (pushes every answer to the exchange)`,
      ],
      [
        "note",
        `the price goes stale ${heartbeat} s after its last update: keep it fed (its updater is ${account}); then create tokens: lt admin create ${market} 3 long`,
      ],
      ["tx", `${receipt.hash} (block ${receipt.blockNumber})`],
    ]),
  };
}

export interface PoolOptions {
  tokens?: string;
}

export async function poolCommand(ctx: Context, input: string, opts: PoolOptions): Promise<Report> {
  const symbol = resolveSymbol(ctx.book, input);
  const uniswap = ctx.book.uniswap;
  if (uniswap === undefined) {
    throw new CliError(
      `the address book for ${ctx.options.network} has no Uniswap deployment; deploy with: npm run deploy -- --network ${ctx.options.network}`,
    );
  }
  const seed = opts.tokens === undefined ? SPOT.seedTokens : parseAmount(opts.tokens, SHARE_DECIMALS, symbol);
  const signer = await signerOf(ctx);
  const account = await signer.getAddress();
  const token = tokenOf(ctx, symbol, signer);
  const existing = ctx.book.pools?.[symbol];
  if (existing !== undefined) {
    const reserves = await reservesOf(connectPair(existing, ctx.provider), ctx.book.usdt);
    if (reserves.token !== 0n) throw new CliError(`${symbol} has a pool already, at ${existing}`);
  }
  const status = await token.status();
  if (Number(status.state) !== STATE.Active) {
    throw new CliError(
      `${symbol} is ${STATE_NAMES[Number(status.state)] ?? status.state}: a pool is seeded at NAV only for an active token`,
    );
  }
  const usdt = usdtOf(ctx, signer);
  await requireRole(usdt, "MINTER_ROLE", account, `seed ${symbol}'s pool with test USDT`, "USDT");
  // a token mints only through its desk, at the next price round: the pool takes the operator's own tokens
  const held = await token.balanceOf(account);
  if (held < seed) {
    throw new CliError(
      `${symbol} mints only through its desk, at the next price round, so its pool is seeded from your own ${symbol}: you hold ${formatShares(held)}, the pool needs ${formatShares(seed)}; mint them first (lt mint ${symbol} <usdt>) or pass a smaller --tokens`,
    );
  }
  const u = {
    factory: connectFactory(uniswap.factory, signer),
    router: connectRouter(uniswap.router, signer),
    weth: uniswap.weth,
  };
  const pair = await createPoolAtNav(u, usdt, token, signer, seed);
  const pairAddress = await pair.getAddress();
  const [reserves, nav] = await Promise.all([reservesOf(pair, ctx.book.usdt), token.nav()]);
  updateAddressBook(ctx, (book) => (book.pools = { ...book.pools, [symbol]: pairAddress }));
  return {
    data: {
      action: "pool",
      symbol,
      pool: pairAddress,
      reserveTokens: decimalString(reserves.token, SHARE_DECIMALS),
      reserveUsdt: decimalString(reserves.usdt, USDT_DECIMALS),
      nav: decimalString(nav, USDT_DECIMALS),
    },
    text: lines([
      ["pool", `${symbol}/USDT at ${pairAddress}`],
      [
        "seeded",
        `${formatShares(reserves.token)} ${symbol} and ${formatUsdt(reserves.usdt)} USDT (NAV ${formatNav(nav)} USDT)`,
      ],
      ["next", `the arbitrage bot keeps it near NAV (npm run arb); lt price ${symbol} shows it`],
    ]),
  };
}
