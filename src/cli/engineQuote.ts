// The reference engine's side of `lt quote`: the token's and the exchange's state read at the node's
// pending block (status, limits, supply, size, equity, price, trade costs), then priced by the
// engine's own BigInt twin of the token's arithmetic (src/engine), not by the contract's previews.
import { type Book, quoteDepositBook, quoteRedeemOnBook, TokenState } from "../engine/index.ts";
import { managementFeeSharesDown } from "../engine/math.ts";
import { type Context, tokenOf, vaultOf } from "./context.ts";
import type { QuoteSource } from "./quote.ts";

const PENDING = { blockTag: "pending" } as const;

interface TokenBook {
  book: Book;
  targetLeverage: bigint;
  isLong: boolean;
  settled: boolean;
}

/** The inputs of the token's quote at the pending block: what its `_bookNow` reads. */
async function readBook(ctx: Context, symbol: string): Promise<TokenBook> {
  const token = tokenOf(ctx, symbol);
  const [block, status, fees, supply, supplyCap, market, targetLeverage, isLong] = await Promise.all([
    // raw: Hardhat's pending block has no number, which ethers' getBlock refuses
    ctx.provider.send("eth_getBlockByNumber", ["pending", false]) as Promise<{ timestamp: string } | null>,
    token.status(PENDING),
    token.fees(PENDING),
    token.totalSupply(PENDING),
    token.supplyCap(PENDING),
    token.market(),
    token.targetLeverage(),
    token.isLong(),
  ]);
  if (block === null) throw new Error("the node has no pending block");
  const state = Number(status.state);
  const snapshot = await vaultOf(ctx).tradingSnapshot(market, await token.getAddress(), PENDING);
  // totalSupply() already counts the pending fee shares; add the management fee due by this block
  let accrued = supply;
  if (accrued !== 0n && (state === TokenState.Active || state === TokenState.Delisting)) {
    accrued += managementFeeSharesDown(
      supply,
      status.managementFee,
      BigInt(block.timestamp) - status.lastFeeAccrual,
    );
  }
  return {
    book: {
      supply: accrued,
      size: snapshot.size,
      equity: snapshot.equity,
      price: snapshot.price,
      takerFee: snapshot.takerFee,
      priceImpact: snapshot.priceImpact,
      limits: { mintFee: fees.mintFee, redeemFee: fees.redeemFee, supplyCap },
      managementFee: status.managementFee,
    },
    targetLeverage,
    isLong,
    settled: state === TokenState.Settled,
  };
}

/** Engine quotes for a live token; a settled token's redemptions are priced by its preview. */
export function engineQuoteSource(ctx: Context): QuoteSource {
  return {
    async quoteMint(symbol, usdt) {
      const t = await readBook(ctx, symbol);
      return quoteDepositBook(t.book, usdt, t.targetLeverage, t.isLong).shares;
    },
    async quoteRedeem(symbol, shares) {
      const t = await readBook(ctx, symbol);
      if (t.settled) return tokenOf(ctx, symbol).previewRedeem(shares, PENDING);
      return quoteRedeemOnBook(t.book, shares).assets;
    },
  };
}
