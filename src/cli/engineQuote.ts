// The reference engine's side of `lt quote`: the token's and the exchange's state read at the node's
// pending block (src/chain/tokenBook.ts: status, limits, supply, size, equity, price, trade costs),
// then priced by the engine's own BigInt twin of the token's arithmetic (src/engine), not by the
// contract's previews.
import { readTokenBook, type TokenBook } from "../chain/tokenBook.ts";
import { quoteDepositBook, quoteRedeemOnBook } from "../engine/index.ts";
import { notionalUp, tradeCostUp } from "../engine/math.ts";
import { feeSharesInUsdt } from "./positionMath.ts";
import { type Context, tokenOf, vaultOf } from "./context.ts";
import type { CostBreakdown, QuoteSide, QuoteSource } from "./quote.ts";

/** The inputs of the token's quote at the pending block: what its `_bookNow` reads. */
function readBook(ctx: Context, symbol: string): Promise<TokenBook> {
  return readTokenBook(ctx.provider, tokenOf(ctx, symbol), vaultOf(ctx), "pending");
}

/**
 * What a mint of `amount` USDT or a redeem of `amount` shares pays, part by part (USDT): the mint or
 * redeem fee (its fee shares at the trade's own price), the exchange's taker fee and its price impact
 * on the token's slice of the trade. A settled token trades nothing, so all are zero.
 */
export async function costBreakdown(
  ctx: Context,
  side: QuoteSide,
  symbol: string,
  amount: bigint,
): Promise<CostBreakdown> {
  const t = await readBook(ctx, symbol);
  if (t.settled) return { fee: 0n, tradingCost: 0n, priceImpact: 0n };
  const trade = (q: { sizeDelta: bigint; price: bigint }) =>
    tradeCostUp(
      notionalUp(q.sizeDelta < 0n ? -q.sizeDelta : q.sizeDelta, q.price),
      t.book.takerFee,
      t.book.priceImpact,
    );
  // the fee shares are valued at NAV after the trade: the equity the trade leaves per share
  if (side === "mint") {
    const d = quoteDepositBook(t.book, amount, t.targetLeverage, t.isLong);
    const parts = trade(d.quote);
    const added = amount - parts.fee - parts.impactCost;
    const fee = feeSharesInUsdt(d.feeShares, added, d.shares + d.feeShares);
    return { fee, tradingCost: parts.fee, priceImpact: parts.impactCost };
  }
  const r = quoteRedeemOnBook(t.book, amount);
  const parts = trade(r.quote);
  const fee = feeSharesInUsdt(r.feeShares, r.assets, amount - r.feeShares);
  return { fee, tradingCost: parts.fee, priceImpact: parts.impactCost };
}

/** Engine quotes for a live token; a settled token's redemptions are priced by its preview. */
export function engineQuoteSource(ctx: Context): QuoteSource {
  return {
    breakdown: (side, symbol, amount) => costBreakdown(ctx, side, symbol, amount),
    async quoteMint(symbol, usdt) {
      const t = await readBook(ctx, symbol);
      return quoteDepositBook(t.book, usdt, t.targetLeverage, t.isLong).shares;
    },
    async quoteRedeem(symbol, shares) {
      const t = await readBook(ctx, symbol);
      if (t.settled) return tokenOf(ctx, symbol).previewRedeem(shares, { blockTag: "pending" });
      return quoteRedeemOnBook(t.book, shares).assets;
    },
  };
}
