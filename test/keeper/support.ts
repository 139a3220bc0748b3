// What the keeper's tests (and the spot fixture's address book) share: the address book of a System
// deployed in-process, and a Keeper that keeps its log lines. Each test file passes its own network
// connection's ethers.
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { Provider } from "ethers";
import type { AddressBook } from "../../src/chain/addressBook.ts";
import type { System } from "../../src/chain/deploy.ts";
import type { LogFields } from "../../src/common/log.ts";
import { Keeper, type KeeperOptions } from "../../src/keeper/keeper.ts";

/** A JSON log line as the keeper writes it, kept as an object. */
export interface Line extends LogFields {
  event: string;
}

/** The address book of `s` on the chain `ethers` is connected to: every feed, token and desk. */
export async function bookOf(ethers: HardhatEthers, s: System): Promise<AddressBook> {
  const addresses = async (group: Record<string, { getAddress(): Promise<string> }>) =>
    Object.fromEntries(
      await Promise.all(Object.entries(group).map(async ([k, c]) => [k, await c.getAddress()] as const)),
    );
  return {
    chainId: Number((await ethers.provider.getNetwork()).chainId),
    usdt: await s.usdt.getAddress(),
    perpVault: await s.vault.getAddress(),
    factory: await s.factory.getAddress(),
    feeds: await addresses(s.feeds),
    tokens: await addresses(s.tokens),
    desks: await addresses(s.desks),
    startBlock: 0,
  };
}

/**
 * `keeperWith(signer, book, options)`: a Keeper on `provider` that makes one pass per tick and
 * re-evaluates without waiting (`once`, no forced interval), with `defaults` and then `options`
 * over that; `lines` collects what it logs.
 */
export function keepersOn(provider: Provider, defaults: Partial<KeeperOptions> = {}) {
  return (signer: HardhatEthersSigner, book: AddressBook, options: Partial<KeeperOptions> = {}) => {
    const lines: Line[] = [];
    const keeper = new Keeper(provider, signer, book, (event, fields) => lines.push({ event, ...fields }), {
      once: true,
      forceEveryMs: 0,
      ...defaults,
      ...options,
    });
    return { keeper, lines };
  };
}
