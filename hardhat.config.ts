import { createRequire } from "node:module";
import hardhatToolboxMochaEthersPlugin from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";
import { PATH_START } from "./src/feeds/paths.ts";

const require = createRequire(import.meta.url);

/**
 * Solidity is compiled offline with the official WebAssembly build from the npm `solc` package
 * (see ../shared/TOOLCHAIN.md). Keep `version` equal to that package's version.
 */
const solc = {
  version: "0.8.30",
  path: require.resolve("solc/soljson.js"),
  settings: {
    optimizer: { enabled: true, runs: 200 },
    viaIR: true,
    evmVersion: "cancun",
  },
};

function tuned(runs: number) {
  return { ...solc, settings: { ...solc.settings, optimizer: { enabled: true, runs } } };
}

/**
 * The hot contracts are optimized for calls rather than size (npm run bench:gas): the exchange at
 * 20,000 runs (-1,000 gas a trade, 15.9 KB), the token at 1,000 (-350 gas, 22.6 KB of the 24 KB
 * limit; 20,000 would leave it no room to grow).
 */
const compilers = {
  compilers: [solc],
  overrides: {
    "contracts/mocks/MockPerpVault.sol": tuned(20_000),
    "contracts/LeveragedToken.sol": tuned(1_000),
    // the gas baseline gets the most call-friendly setting used, so no ratio is flattered
    "contracts/bench/PlainVault.sol": tuned(20_000),
  },
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthersPlugin],
  solidity: {
    profiles: { default: compilers, production: compilers },
  },
  paths: {
    // separate build outputs for end-to-end test children (test/e2e/support/processes.ts), so a
    // coverage run's instrumented artifacts are never deployed to a real node
    artifacts: process.env.LT_ARTIFACTS_DIR ?? "artifacts",
    cache: process.env.LT_CACHE_DIR ?? "cache",
    tests: {
      mocha: "test",
      solidity: "test/solidity",
    },
  },
  test: {
    solidity: {
      // FUZZ_SEED, FUZZ_RUNS, INVARIANT_RUNS and INVARIANT_DEPTH make longer or different campaigns
      fuzz: { runs: Number(process.env.FUZZ_RUNS ?? 256), seed: process.env.FUZZ_SEED ?? "0x1eaf" },
      invariant: {
        runs: Number(process.env.INVARIANT_RUNS ?? 64),
        depth: Number(process.env.INVARIANT_DEPTH ?? 64),
        failOnRevert: false,
      },
    },
  },
  // A transaction sent without a gas limit gets its estimate + 20%: an estimate made in the latest
  // block's second misses the funding and management fee accrual of the block the transaction lands
  // in when the clock ticks in between (measured on anvil: 116,457 estimated, 121,440 used).
  networks: {
    // The in-process chain (tests, scripts run without --network, `hardhat node`) starts at a fixed
    // instant, 2026-01-01 00:00 UTC, not at the wall clock: a test's time of day, and with it the
    // daily 00:00 UTC rebalance, never depends on the hour it runs at (blocks then follow the
    // elapsed time; src/chain/clock.ts pins them too where a run must be exact to the unit).
    default: {
      type: "edr-simulated",
      chainType: "l1",
      initialDate: new Date(Number(PATH_START) * 1000),
    },
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.RPC_URL ?? "http://127.0.0.1:8545",
      gasMultiplier: 1.2,
    },
    anvil: {
      type: "http",
      chainType: "l1",
      url: process.env.ANVIL_URL ?? "http://127.0.0.1:8546",
      gasMultiplier: 1.2,
    },
  },
});
