// Typed handles on a running node for end-to-end tests (plain ethers, no Hardhat runtime).
import { JsonRpcProvider, Network, type JsonRpcSigner } from "ethers";
import type { AddressBook } from "../../../src/chain/addressBook.ts";
import { USDT } from "../../../src/common/params.ts";
import { ForwardDesk__factory } from "../../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { LeveragedToken__factory } from "../../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { LeveragedTokenFactory__factory } from "../../../types/ethers-contracts/factories/LeveragedTokenFactory__factory.ts";
import { InstantDesk__factory } from "../../../types/ethers-contracts/factories/mocks/InstantDesk__factory.ts";
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

  async desk(symbol: string, account = 0) {
    const address = this.book.desks?.[symbol];
    if (address === undefined) throw new Error(`${symbol} has no desk in the address book`);
    return ForwardDesk__factory.connect(address, await this.signer(account));
  }

  /** The token's InstantDesk, on a node deployed with INSTANT_TOKENS=1 (the factory knows it; the book does not). */
  async instantDesk(symbol: string, account = 0) {
    const token = await this.token(symbol);
    const factory = LeveragedTokenFactory__factory.connect(this.book.factory, await this.signer(0));
    return InstantDesk__factory.connect(
      await factory.deskOf(await token.getAddress()),
      await this.signer(account),
    );
  }

  /** A new price round in every market at the price it has (the feeds' updater is account 0). */
  async newRounds(): Promise<void> {
    for (const market of Object.keys(this.book.feeds)) {
      const feed = await this.feed(market);
      const [, answer] = await feed.latestRoundData();
      await (await feed.updateAnswer(answer)).wait();
    }
  }

  /**
   * Account 1 becomes a second keeper; accounts 2 and 3 mint every token: through its desk when it has
   * one (request, a new price round, the deployer's fill as keeper, the claim), else directly.
   */
  async prepare(): Promise<void> {
    const amounts = [
      [2, 10_000n * USDT],
      [3, 4_000n * USDT],
    ] as const;
    for (const symbol of Object.keys(this.book.tokens)) {
      const token = await this.token(symbol);
      await (
        await token.grantRole(await token.KEEPER_ROLE(), await (await this.signer(1)).getAddress())
      ).wait();
      const hasDesk = this.book.desks?.[symbol] !== undefined;
      for (const [account, amount] of amounts) {
        const me = await (await this.signer(account)).getAddress();
        if (hasDesk) {
          const desk = await this.desk(symbol, account);
          await (await (await this.usdt(account)).approve(await desk.getAddress(), amount)).wait();
          await (await desk.requestDeposit(amount, me, me)).wait();
          continue;
        }
        const instant = await this.instantDesk(symbol, account);
        await (await (await this.usdt(account)).approve(await instant.getAddress(), amount)).wait();
        await // an explicit limit: anvil estimates in the last block's second, and a deposit mined in the
        // next one also accrues the management fee, which the bare estimate did not pay for
        (await instant.deposit(amount, me, { gasLimit: 1_000_000n })).wait();
      }
    }
    if (this.book.desks === undefined || Object.keys(this.book.desks).length === 0) return;
    await this.newRounds();
    for (const symbol of Object.keys(this.book.desks)) {
      const desk = await this.desk(symbol);
      // a running keeper may fill first (then this fill has nothing left: NothingToFill)
      if ((await desk.fillNeeded())[0]) {
        await desk
          .fill({ gasLimit: 3_000_000n })
          .then((tx) => tx.wait())
          .catch(async (e: unknown) => {
            if ((await desk.fillNeeded())[0]) throw e;
          });
      }
      for (const [account] of amounts) {
        const mine = await this.desk(symbol, account);
        const me = await (await this.signer(account)).getAddress();
        const claimable = await mine.maxDeposit(me);
        if (claimable > 0n) await (await mine["deposit(uint256,address)"](claimable, me)).wait();
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
