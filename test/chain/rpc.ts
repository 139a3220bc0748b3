import { expect } from "chai";
import { NonceManager, type JsonRpcProvider } from "ethers";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { withGasMargin } from "../../src/chain/deployNetwork.ts";
import { connectRpc, signerFor } from "../../src/chain/rpc.ts";

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

/** A JSON-RPC node whose account nonce goes up by one each time it is asked (as if a transaction was mined in between). */
async function countingNode(): Promise<{ server: Server; url: string; asked: () => number }> {
  let asked = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      const result = method === "eth_getTransactionCount" ? `0x${(asked++).toString(16)}` : null;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ jsonrpc: "2.0", id, result }));
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, asked: () => asked };
}

describe("connectRpc: nothing cached", function () {
  it("a nonce manager over a key gets the node's next nonce right after a reset, not ethers' 250 ms cached answer", async function () {
    const node = await countingNode();
    const provider = connectRpc(node.url, 31337);
    try {
      const wallet = await signerFor(provider, `0x${"11".repeat(32)}`, 0, "KEEPER_KEY");
      const manager = new NonceManager(wallet);
      expect(await manager.getNonce("pending")).to.equal(0);
      manager.reset(); // as the keeper does after a mined transaction reverted
      expect(await manager.getNonce("pending")).to.equal(1);
      expect(await provider.getTransactionCount(await wallet.getAddress(), "pending")).to.equal(2);
      expect(node.asked()).to.equal(3);
    } finally {
      provider.destroy();
      node.server.close();
    }
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
