// The tokens as the chain knows them: every token `factory.allTokens()` lists, by the symbol the token
// itself reports, and each one's Uniswap V2 pool when the address book has a Uniswap factory. The
// wallet CLI, the keeper and the arbitrage bot read their token lists here, so a token created after
// the deploy (`lt admin create`) is quoted, rebalanced and arbitraged like the first four.
import { Contract, ZeroAddress, type ContractRunner, type Provider } from "ethers";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { LeveragedTokenFactory__factory } from "../../types/ethers-contracts/factories/LeveragedTokenFactory__factory.ts";
import type { AddressBook } from "./addressBook.ts";

/** The one Uniswap V2 factory view read here (src/spot/uniswap.ts has the full wrappers, above this layer). */
const GET_PAIR = ["function getPair(address tokenA, address tokenB) view returns (address pair)"];

/** A contract the address book names has no code on the node: the node was restarted or is another chain. */
export class MissingContractError extends Error {
  constructor(what: string, address: string) {
    super(
      `there is no contract at the ${what} address ${address} on this node: the node was restarted or reset since the address book was written; deploy again (npm run deploy)`,
    );
    this.name = "MissingContractError";
  }
}

/** Throws MissingContractError unless `address` holds code. */
export async function requireCode(provider: Provider, what: string, address: string): Promise<void> {
  if ((await provider.getCode(address)) === "0x") throw new MissingContractError(what, address);
}

/** symbol -> address of every token the factory deployed, oldest first. */
export async function listFactoryTokens(
  factoryAddress: string,
  runner: ContractRunner & { provider: Provider | null },
): Promise<Record<string, string>> {
  const provider = runner.provider;
  if (provider !== null) await requireCode(provider, "factory", factoryAddress);
  const addresses = await LeveragedTokenFactory__factory.connect(factoryAddress, runner).allTokens();
  const symbols = await Promise.all(
    addresses.map((a) => LeveragedToken__factory.connect(a, runner).symbol()),
  );
  return Object.fromEntries(symbols.map((s, i) => [s, addresses[i]!] as const));
}

/** symbol -> desk of every token made with a ForwardDesk (`token.desk()` is not the zero address). */
export async function listDesks(
  tokens: Record<string, string>,
  runner: ContractRunner & { provider: Provider | null },
): Promise<Record<string, string>> {
  const desks = await Promise.all(
    Object.entries(tokens).map(
      async ([symbol, address]) =>
        [symbol, await LeveragedToken__factory.connect(address, runner).desk()] as const,
    ),
  );
  return Object.fromEntries(desks.filter(([, desk]) => desk !== ZeroAddress));
}

/**
 * The address book with its tokens (and their desks) read from the factory, and the pools of tokens the book has none
 * for found in the Uniswap factory (when the book has one).
 */
export async function withChainTokens(
  book: AddressBook,
  runner: ContractRunner & { provider: Provider | null },
): Promise<AddressBook> {
  const tokens = await listFactoryTokens(book.factory, runner);
  const desks = await listDesks(tokens, runner);
  if (book.uniswap === undefined) return { ...book, tokens, desks };
  const uniswap = new Contract(book.uniswap.factory, GET_PAIR, runner);
  const pools: Record<string, string> = { ...book.pools };
  await Promise.all(
    Object.entries(tokens)
      .filter(([symbol]) => pools[symbol] === undefined)
      .map(async ([symbol, address]) => {
        const pair = (await uniswap.getFunction("getPair")(address, book.usdt)) as string;
        if (pair !== ZeroAddress) pools[symbol] = pair;
      }),
  );
  return { ...book, tokens, desks, pools };
}
