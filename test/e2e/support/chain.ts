// Typed handles on a running node for end-to-end tests (plain ethers, no Hardhat runtime).
import { JsonRpcProvider, Network, type JsonRpcSigner } from "ethers";
import type { AddressBook } from "../../../src/chain/addressBook.ts";
import { USDT } from "../../../src/chain/params.ts";
import { LeveragedToken__factory } from "../../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { MockPriceFeed__factory } from "../../../types/ethers-contracts/factories/mocks/MockPriceFeed__factory.ts";
import { MockUSDT__factory } from "../../../types/ethers-contracts/factories/mocks/MockUSDT__factory.ts";

export class Chain {
  readonly provider: JsonRpcProvider;
  readonly book: AddressBook;

  constructor(url: string, book: AddressBook) {
    this.provider = new JsonRpcProvider(url, undefined, {
      staticNetwork: Network.from(book.chainId),
      pollingInterval: 100,
    });
    this.book = book;
  }

  signer(index: number): Promise<JsonRpcSigner> {
    return this.provider.getSigner(index);
  }

  async token(symbol: string, account = 0) {
    const address = this.book.tokens[symbol];
    if (address === undefined) throw new Error(`no ${symbol} in the address book`);
    return LeveragedToken__factory.connect(address, await this.signer(account));
  }

  async usdt(account = 0) {
    return MockUSDT__factory.connect(this.book.usdt, await this.signer(account));
  }

  async feed(market: string) {
    return MockPriceFeed__factory.connect(this.book.feeds[market]!, await this.signer(0));
  }

  /** Account 1 becomes a second keeper; accounts 2 and 3 mint every token. */
  async prepare(): Promise<void> {
    for (const symbol of Object.keys(this.book.tokens)) {
      const token = await this.token(symbol);
      await (
        await token.grantRole(await token.KEEPER_ROLE(), await (await this.signer(1)).getAddress())
      ).wait();
      for (const [account, amount] of [
        [2, 10_000n * USDT],
        [3, 4_000n * USDT],
      ] as const) {
        await (await (await this.usdt(account)).approve(await token.getAddress(), amount)).wait();
        const mine = await this.token(symbol, account);
        await // an explicit limit: anvil estimates in the last block's second, and a deposit mined in the
        // next one also accrues the management fee, which the bare estimate did not pay for
        (
          await mine["deposit(uint256,address)"](amount, await (await this.signer(account)).getAddress(), {
            gasLimit: 1_000_000n,
          })
        ).wait();
      }
    }
  }

  async rebalances(symbol: string, fromBlock: number): Promise<number> {
    const token = await this.token(symbol);
    return (await token.queryFilter(token.filters.Rebalanced(), fromBlock)).length;
  }

  close(): void {
    this.provider.destroy();
  }
}
