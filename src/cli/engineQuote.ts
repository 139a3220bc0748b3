// The reference engine's side of `lt quote`: the token's and the exchange's state read at the node's
// pending block (src/chain/tokenBook.ts: status, limits, supply, size, equity, price, trade costs),
// then priced by the engine's own BigInt twin of the token's arithmetic (src/engine), not by the
// contract's previews.
import { readTokenBook, type TokenBook } from "../chain/tokenBook.ts";
import { quoteDepositBook, quoteRedeemOnBook } from "../engine/index.ts";
import { type Context, tokenOf, vaultOf } from "./context.ts";
import type { QuoteSource } from "./quote.ts";

/** The inputs of the token's quote at the pending block: what its `_bookNow` reads. */
function readBook(ctx: Context, symbol: string): Promise<TokenBook> {
  return readTokenBook(ctx.provider, tokenOf(ctx, symbol), vaultOf(ctx), "pending");
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
      if (t.settled) return tokenOf(ctx, symbol).previewRedeem(shares, { blockTag: "pending" });
      return quoteRedeemOnBook(t.book, shares).assets;
    },
  };
}
