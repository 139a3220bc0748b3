// Which markets the feeder pushes: every market the exchange lists (its `MarketAdded` events, each
// with the feed the exchange reads now, `marketInfo(market).feed`) and every feed the address book
// names (`lt admin market SOL 150` records SOL's there). The exchange's feed wins where the two differ.
import { decodeBytes32String, type Provider } from "ethers";
import { MockPerpVault__factory } from "../../types/ethers-contracts/factories/mocks/MockPerpVault__factory.ts";
import type { AddressBook } from "../chain/addressBook.ts";

/** market name -> feed address: the address book's feeds first (in its order), then any other listed market. */
export async function listedFeeds(book: AddressBook, provider: Provider): Promise<Record<string, string>> {
  const vault = MockPerpVault__factory.connect(book.perpVault, provider);
  const from = typeof book.startBlock === "number" ? book.startBlock : 0;
  const added = await vault.queryFilter(vault.filters.MarketAdded(), from);
  const feeds: Record<string, string> = { ...book.feeds };
  for (const event of added) {
    let name: string;
    try {
      name = decodeBytes32String(event.args.market);
    } catch {
      continue; // not a text key: no name to give it
    }
    feeds[name] = (await vault.marketInfo(event.args.market)).feed;
  }
  return feeds;
}
