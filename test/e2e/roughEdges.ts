// The rough edges of `lt` a new user met, as a table: each row runs lt as a subprocess against a
// hardhat node this file starts and asserts the sentence it prints and its exit code.
import { expect } from "chai";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { writeAddressBook } from "../../src/chain/addressBook.ts";
import { deployOn, type Deployment, type LocalNode, startNode } from "./nodes.ts";
import { runLt, type Run, type RunOptions } from "./support/lt.ts";
import { freePort } from "./support/processes.ts";

interface Row {
  name: string;
  /** lt's arguments; "{deployments}" and "{restarted}" are the test's address book folders. */
  args: string[];
  env?: Record<string, string>;
  options?: RunOptions;
  code: number;
  /** The sentence on stderr after "lt: ", or "" for a run that prints nothing there. */
  stderr: string;
  /** With --json, the {"error"} printed on stdout. */
  jsonError?: string;
}

describe("lt's rough edges, each a sentence and an exit code", function () {
  this.timeout(120_000);
  let node: LocalNode | undefined;
  let dep: Deployment;
  let restarted: string;
  let deadUrl: string;

  before(async function () {
    node = await startNode("hardhat");
    dep = await deployOn(node.url);
    // the same book for "anvil" (reached through ANVIL_URL), and one whose contracts the node lacks
    copyFileSync(join(dep.dir, "localhost.json"), join(dep.dir, "anvil.json"));
    restarted = join(dep.dir, "restarted");
    writeAddressBook("localhost", { ...dep.book, factory: Wallet.createRandom().address }, restarted);
    deadUrl = `http://127.0.0.1:${await freePort()}`;
  });

  after(async function () {
    await dep?.close();
    await node?.stop();
  });

  const rows = (): Row[] => [
    {
      name: "a missing argument with --json is a JSON error",
      args: ["--json", "nav"],
      code: 1,
      stderr: "missing required argument 'symbol' (see lt --help)",
      jsonError: "missing required argument 'symbol' (see lt --help)",
    },
    {
      name: "an unknown command is a sentence",
      args: ["frob"],
      code: 1,
      stderr: "unknown command 'frob' (see lt --help)",
    },
    {
      name: "an amount with a decimal comma is refused, not read as 15",
      args: ["mint", "BTC3L", "1,5"],
      code: 1,
      stderr:
        '"1,5" is ambiguous: write the decimal point as a dot (1.5) and commas only between thousands (1,000)',
    },
    {
      name: "an ambiguous amount with --json is a JSON error",
      args: ["--json", "redeem", "BTC3L", "2,50"],
      code: 1,
      stderr:
        '"2,50" is ambiguous: write the decimal point as a dot (1.5) and commas only between thousands (1,000)',
      jsonError:
        '"2,50" is ambiguous: write the decimal point as a dot (1.5) and commas only between thousands (1,000)',
    },
    {
      name: "an address book from before a node restart says so instead of 'could not decode'",
      args: ["--deployments", restarted, "tokens"],
      code: 1,
      stderr: "there is no contract at the factory address",
    },
    {
      name: "--network anvil reaches the node at ANVIL_URL",
      args: ["--network", "anvil", "nav", "BTC3L"],
      env: { ANVIL_URL: node!.url, RPC_URL: deadUrl },
      code: 0,
      stderr: "",
    },
    {
      name: "a network without a URL asks for one",
      args: ["--network", "mainnet", "tokens"],
      env: { RPC_URL: "" },
      code: 1,
      stderr: 'no RPC URL for network "mainnet": pass --rpc <url> or set RPC_URL',
    },
    {
      name: "a reader that goes away (| head) stops lt quietly",
      args: ["tokens"],
      options: { closeStdout: true },
      code: 0,
      stderr: "",
    },
    {
      name: "help into a closed pipe stops quietly too",
      args: ["admin", "--help"],
      options: { closeStdout: true },
      code: 0,
      stderr: "",
    },
  ];

  // the rows need the node's URL, known only once `before` ran: one test walks the table
  it("says each in one sentence with the right exit code", async function () {
    for (const row of rows()) {
      const rpc = row.env?.ANVIL_URL !== undefined || row.env?.RPC_URL === "" ? [] : ["--rpc", node!.url];
      const deployments = row.args.includes("--deployments") ? [] : ["--deployments", dep.dir];
      const run: Run = await runLt([...rpc, ...deployments, ...row.args], row.env, row.options);
      expect(run.code, `${row.name}: exit code (${run.stderr})`).to.equal(row.code);
      if (row.stderr === "") {
        expect(run.stderr, row.name).to.equal("");
      } else {
        expect(run.stderr.trim().split("\n"), row.name).to.have.length(1);
        expect(run.stderr, row.name).to.match(/^lt: /);
        expect(run.stderr, row.name).to.include(row.stderr);
      }
      if (row.jsonError !== undefined) {
        expect(JSON.parse(run.stdout), row.name).to.deep.equal({ error: row.jsonError });
      }
    }
  });
});
