// Many views in one request (src/spot/viewBatch.ts): the bytecode is its source compiled; the hand
// encoding is the ABI's; on the in-process network a batch answers what the calls alone answer, at the
// pending block's time, in one request, and a call that reverts in it fails as it fails alone.
import { createRequire } from "node:module";
import { expect } from "chai";
import { AbiCoder, hexlify, randomBytes, Wallet } from "ethers";
import {
  decodeAnswers,
  encodeCalls,
  VIEW_BATCH_BYTECODE,
  VIEW_BATCH_SOURCE,
  ViewBatcher,
} from "../../src/spot/viewBatch.ts";
import { LeveragedToken__factory } from "../../types/ethers-contracts/factories/LeveragedToken__factory.ts";
import { ForwardDesk__factory } from "../../types/ethers-contracts/factories/ForwardDesk.sol/ForwardDesk__factory.ts";
import { rawRpcOf } from "../../src/chain/tokenBook.ts";
import { ethers, networkHelpers, setup } from "./fixture.ts";

const require = createRequire(import.meta.url);
const abi = AbiCoder.defaultAbiCoder();

describe("Spot market: views in one request (ViewBatcher)", function () {
  it("carries the bytecode solc 0.8.30 makes of its source", function () {
    const solc = require("solc") as { compile(input: string): string; version(): string };
    expect(solc.version()).to.match(/^0\.8\.30\+/);
    const out = JSON.parse(
      solc.compile(
        JSON.stringify({
          language: "Solidity",
          sources: { "ViewBatch.sol": { content: VIEW_BATCH_SOURCE } },
          settings: {
            optimizer: { enabled: true, runs: 200 },
            evmVersion: "cancun",
            metadata: { appendCBOR: false },
            outputSelection: { "*": { "*": ["evm.bytecode.object"] } },
          },
        }),
      ),
    ) as { contracts: Record<string, Record<string, { evm: { bytecode: { object: string } } }>> };
    expect("0x" + out.contracts["ViewBatch.sol"]!.ViewBatch!.evm.bytecode.object).to.equal(
      VIEW_BATCH_BYTECODE,
    );
  });

  it("encodes the calls as the ABI does and decodes the ABI's answers", function () {
    for (const sizes of [[], [0], [4, 36, 68], [31, 32, 33, 100]]) {
      const calls = sizes.map((n) => ({ to: Wallet.createRandom().address, data: hexlify(randomBytes(n)) }));
      expect("0x" + encodeCalls(calls), String(sizes)).to.equal(
        abi.encode(["address[]", "bytes[]"], [calls.map((c) => c.to), calls.map((c) => c.data)]),
      );
      const ok = sizes.map((_, i) => i % 2 === 0);
      const data = calls.map((c) => c.data);
      const answer = abi.encode(["uint256", "bool[]", "bytes[]"], [123456789n, ok, data]);
      expect(decodeAnswers(answer, calls.length)).to.deep.equal({ time: 123456789n, ok, out: data });
    }
    expect(() =>
      decodeAnswers(abi.encode(["uint256", "bool[]", "bytes[]"], [1n, [true], ["0x"]]), 2),
    ).to.throw("a different number of calls");
  });

  it("answers a pass's views in one request, as the calls alone answer them, at the pending block's time", async function () {
    const f = await networkHelpers.loadFixture(setup);
    const batcher = new ViewBatcher(ethers.provider);
    const address = await f.s.tokens.BTC3L!.getAddress();
    const token = LeveragedToken__factory.connect(address, batcher);
    const plain = f.s.tokens.BTC3L!;
    const desk = ForwardDesk__factory.connect(await f.s.desks.BTC3L!.getAddress(), batcher);
    const t = (await networkHelpers.time.latest()) + 7;
    await networkHelpers.time.setNextBlockTimestamp(t);
    const pending = { blockTag: "pending" } as const;
    const rpc = batcher.rpc(rawRpcOf(ethers.provider));
    const [time, nav, fees, supply, assets, balance] = await Promise.all([
      rpc.send("eth_getBlockByNumber", ["pending", false]) as Promise<{ timestamp: string }>,
      token.nav(pending),
      token.fees(pending),
      token.totalSupply(pending),
      token.totalAssets(pending),
      token.balanceOf(f.admin.address, pending),
    ]);
    expect(batcher.stats).to.deep.equal({ requests: 1, views: 5 });
    expect(BigInt(time.timestamp)).to.equal(BigInt(t));
    expect(nav).to.equal(await plain.nav(pending));
    expect([...fees]).to.deep.equal([...(await plain.fees(pending))]);
    expect(supply).to.equal(await plain.totalSupply(pending));
    expect(assets).to.equal(await plain.totalAssets(pending));
    expect(balance).to.equal(await plain.balanceOf(f.admin.address, pending));
    // a view that reverts (a desk's previews: AsyncFlow) fails as alone, the others still answer
    const [failed, still] = await Promise.allSettled([desk.previewDeposit(1n, pending), token.nav(pending)]);
    expect(failed.status).to.equal("rejected");
    const alone = await f.s.desks.BTC3L!.previewDeposit(1n, pending).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((failed as PromiseRejectedResult).reason).to.have.property("message", (alone as Error).message);
    expect(still).to.deep.equal({ status: "fulfilled", value: nav });
    // the batch, then the failed call on its own
    expect(batcher.stats).to.deep.equal({ requests: 3, views: 7 });
  });
});
