// The frame of an end-to-end suite on one node it starts itself (anvil.ts, hardhat-node.ts,
// journey.ts): the mocha hooks that start the node and tear everything down.
import type { Chain } from "./chain.ts";
import {
  buildForChildren,
  scratch,
  startTarget,
  type Child,
  type NodeKind,
  type Scratch,
  type Target,
} from "./processes.ts";

export interface NodeSuite {
  /** Address books, journals and other files of this suite; removed after it. */
  readonly dirs: Scratch;
  /** The processes a test starts (keepers, feeders): every one is killed after the suite. */
  readonly children: Child[];
  /** The node (set in `before`); a test that restarts it puts the new one here, to be stopped. */
  node: Child;
  /** The node's port (set in `before`). */
  port: number;
  /** Where the children reach the node (set in `before`). */
  target: Target;
}

/**
 * Registers, in the calling `describe`, the hooks of a suite on a node of `kind` on a free port:
 * before, the children's build (the first run compiles the contracts) and the node; after, the chain
 * handle `chain()` closed, then every child and the node killed and the scratch folder removed.
 */
export function nodeSuite(kind: NodeKind, chain: () => Chain | undefined): NodeSuite {
  const suite = { dirs: scratch(), children: [] as Child[] } as NodeSuite;
  before(async function () {
    this.timeout(600_000); // the first run compiles the contracts for the children
    await buildForChildren();
    Object.assign(suite, await startTarget(kind, suite.dirs));
  });
  after(async function () {
    chain()?.close();
    for (const c of suite.children) await c.stop("SIGKILL");
    await suite.node?.stop("SIGKILL"); // unset when `before` failed
    suite.dirs.remove();
  });
  return suite;
}
