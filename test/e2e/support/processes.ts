// The child processes of the end-to-end tests live in src/chain/processes.ts, shared with the soak.
export * from "../../../src/chain/processes.ts";
