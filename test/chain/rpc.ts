import { expect } from "chai";
import type { JsonRpcProvider } from "ethers";
import { signerFor } from "../../src/chain/rpc.ts";

/** A node with `accounts` unlocked: all signerFor asks of it before it picks one. */
function nodeWith(accounts: string[]): JsonRpcProvider {
  const node = { send: async (method: string) => (method === "eth_accounts" ? accounts : null) };
  return node as unknown as JsonRpcProvider;
}

describe("signerFor", function () {
  it("names the program's own key variable when the node has no such unlocked account", async function () {
    for (const keyEnv of ["KEEPER_KEY", "FEEDER_KEY", "ARB_KEY"]) {
      let message = "";
      await signerFor(nodeWith([]), undefined, 2, keyEnv).catch((e: Error) => (message = e.message));
      expect(message).to.equal(
        `the node has no unlocked account #2; pass a private key with --key or ${keyEnv}`,
      );
    }
  });

  it("rejects a key that is not 32 bytes of hex, by name", async function () {
    let message = "";
    await signerFor(nodeWith([]), "0x1234", 0, "KEEPER_KEY").catch((e: Error) => (message = e.message));
    expect(message).to.equal("the private key is not a 32-byte hex string");
  });
});
