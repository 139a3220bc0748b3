import { expect } from "chai";
import type { JsonRpcProvider } from "ethers";
import { withGasMargin } from "../../src/chain/deployNetwork.ts";
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

describe("withGasMargin (the deploy's provider for Ignition)", function () {
  it("adds 20% to every gas estimate, rounded up, and passes every other answer through", async function () {
    const calls: string[] = [];
    const node = {
      request: async (args: { method: string; params?: unknown[] }): Promise<unknown> => {
        calls.push(args.method);
        return args.method === "eth_estimateGas" ? "0x1c6e9" : ["0xabc"]; // 116,457
      },
    };
    const wrapped = withGasMargin(node);
    expect(await wrapped.request({ method: "eth_estimateGas", params: [{}] })).to.equal(
      "0x" + 139_749n.toString(16), // ceil(116,457 x 1.2): above the 121,440 the mint used a second later
    );
    expect(await wrapped.request({ method: "eth_accounts" })).to.deep.equal(["0xabc"]);
    expect(calls).to.deep.equal(["eth_estimateGas", "eth_accounts"]);
  });
});
