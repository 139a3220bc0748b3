// `lt quote` reads the token's preview and the engine's quote at one block: the pending block is
// looked at before and after both reads, and the reads are made again when it moved on in between
// (a block mined, or its time moved a second), until both looks agree; then the quote names it.
import { expect } from "chai";
import type { RawRpc } from "../../src/chain/tokenBook.ts";
import { ONE_BLOCK_TRIES, readAtOneBlock } from "../../src/cli/quote.ts";

/** A node whose latest block and pending time follow `chain`, one state per call of the two looks. */
function fakeNode(states: { latest: number; time: number }[]): { rpc: RawRpc; calls: () => number } {
  let look = 0;
  let calls = 0;
  const at = () => states[Math.min(Math.floor(look / 2), states.length - 1)]!;
  return {
    calls: () => calls,
    rpc: {
      send(method: string, params: unknown[]) {
        calls++;
        expect(method).to.equal("eth_getBlockByNumber");
        const s = at();
        look++;
        if (params[0] === "latest") {
          return Promise.resolve({ hash: `0xb${s.latest}`, number: `0x${s.latest.toString(16)}` });
        }
        return Promise.resolve({ parentHash: `0xb${s.latest}`, timestamp: `0x${s.time.toString(16)}` });
      },
    },
  };
}

describe("lt quote: one block", function () {
  it("returns the reads with the pending block's number and time when nothing moved", async function () {
    const { rpc } = fakeNode([{ latest: 41, time: 1_767_225_600 }]);
    let reads = 0;
    const r = await readAtOneBlock(rpc, () => Promise.resolve(++reads));
    expect(r).to.deep.equal({ value: 1, block: 42, timestamp: 1_767_225_600n });
  });

  it("reads again when a block was mined or the pending block's time moved during the reads", async function () {
    // look 1 and 2 (first try): block 41 then 42 mined; try 2: the time moved a second; try 3: still
    const { rpc } = fakeNode([
      { latest: 41, time: 100 },
      { latest: 42, time: 101 },
      { latest: 42, time: 101 },
      { latest: 42, time: 102 },
      { latest: 42, time: 102 },
      { latest: 42, time: 102 },
    ]);
    let reads = 0;
    const r = await readAtOneBlock(rpc, () => Promise.resolve(++reads));
    expect(r).to.deep.equal({ value: 3, block: 43, timestamp: 102n });
  });

  it("gives up in one sentence when the chain moves on during every try", async function () {
    const moving = Array.from({ length: 4 * ONE_BLOCK_TRIES }, (_, i) => ({ latest: 10 + i, time: 100 + i }));
    const { rpc } = fakeNode(moving);
    let message = "";
    await readAtOneBlock(rpc, () => Promise.resolve(0)).catch(
      (e: unknown) => (message = (e as Error).message),
    );
    expect(message).to.equal(
      `the chain moved on during each of ${ONE_BLOCK_TRIES} tries to read the token's preview and the engine's quote at one block; try again`,
    );
  });
});
