// The rough edges a new user met, as a table: each row runs lt, the keeper, the feeder or the arbitrage
// bot as a subprocess against a hardhat node this file starts and asserts the sentence it prints and its
// exit code: usage errors, ambiguous amounts, a restarted node, every trade's --deadline, the same
// --network / ANVIL_URL / RPC_URL rules in every program, and a reader that goes away (EPIPE).
import { expect } from "chai";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { writeAddressBook } from "../../src/chain/addressBook.ts";
import { addressesOf, createPoolAtNav, deployUniswap } from "../../src/spot/uniswap.ts";
import { deployOn, type Deployment, type LocalNode, startNode } from "./nodes.ts";
import { mintThroughDesk } from "./support/desk.ts";
import { runScript, type Run, type RunOptions } from "./support/lt.ts";
import { freePort } from "./support/processes.ts";

type ProgramName = "lt" | "keeper" | "feeder" | "arb";

interface Row {
  name: string;
  /** Which program runs (default lt): scripts/<program>.ts. */
  program?: ProgramName;
  /** The program's arguments (--deployments and, unless `noRpc`, --rpc <the node> come first). */
  args: string[];
  /** Reach the node only through --network and the environment. */
  noRpc?: boolean;
  env?: Record<string, string>;
  options?: RunOptions;
  code: number;
  /** The sentence on stderr after "<program>: ", or "" for a run that prints nothing there. */
  stderr: string;
  /** With --json, the {"error"} printed on stdout. */
  jsonError?: string;
  /** Something stdout must hold (a JSON log line's event). */
  stdout?: string;
}

const DURATION = '"soon" is not a duration: use seconds or a number with s, m, h, d or w (e.g. 1h)';
/** A run of each long-running program that ends by itself, and the line it logs. */
const ONE_PASS: Record<Exclude<ProgramName, "lt">, { args: string[]; stdout: string }> = {
  keeper: { args: ["--once", "--dry-run"], stdout: '"event":"started"' },
  feeder: { args: ["--jump", "BTC:+1%"], stdout: '"event":"done"' },
  arb: { args: ["--once", "--dry-run", "--tokens", "BTC3L"], stdout: '"event":"arb-' },
};
/** A run of each that would go on for a while: only a reader going away stops it early. */
const LONG_RUN: Record<Exclude<ProgramName, "lt">, string[]> = {
  keeper: ["--dry-run"],
  feeder: ["--gbm", "--step", "1s", "--steps", "30"],
  arb: ["--dry-run"],
};

describe("rough edges of lt, the keeper, the feeder and the arbitrage bot: each a sentence and an exit code", function () {
  this.timeout(120_000);
  let node: LocalNode | undefined;
  let dep: Deployment;
  let restarted: string;
  let deadUrl: string;

  before(async function () {
    node = await startNode("hardhat");
    dep = await deployOn(node.url);
    // the same book for "anvil" (reached through ANVIL_URL), and one whose contracts the node lacks
    // a pool for the arbitrage bot, and the book for a network that has no URL of its own
    const [admin] = await dep.ethers.getSigners();
    // only the desk mints: the admin's seed of 1,000 BTC3L comes through it (request, round, fill, claim)
    const seed = 10n ** 21n;
    expect(await mintThroughDesk(dep, "BTC3L", 1_100n * 10n ** 6n)).to.be.greaterThan(seed);
    const uniswap = await deployUniswap(admin!);
    const pool = await createPoolAtNav(uniswap, dep.system.usdt, dep.system.tokens.BTC3L!, admin!, seed);
    dep.book = {
      ...dep.book,
      pools: { BTC3L: await pool.getAddress() },
      uniswap: await addressesOf(uniswap),
    };
    writeAddressBook("localhost", dep.book, dep.dir);
    copyFileSync(join(dep.dir, "localhost.json"), join(dep.dir, "mainnet.json"));
    restarted = join(dep.dir, "restarted");
    writeAddressBook("localhost", { ...dep.book, factory: Wallet.createRandom().address }, restarted);
    copyFileSync(join(dep.dir, "localhost.json"), join(dep.dir, "anvil.json"));
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
    ...(["mint BTC3L 10", "redeem BTC3L 1", "buy BTC3L 10", "sell BTC3L 1"] as const).map((trade): Row => ({
      name: `lt ${trade} takes a --deadline, and a bad one is a sentence`,
      args: [...trade.split(" "), "--deadline", "soon"],
      code: 1,
      stderr: `--deadline: ${DURATION}`,
    })),
    {
      name: "--timeout, the old name of a request's --deadline, is read as it",
      args: ["mint", "BTC3L", "10", "--timeout", "soon"],
      code: 1,
      stderr: `--deadline: ${DURATION}`,
    },
    ...programRows("lt", ["--json", "nav", "BTC3L"], ["tokens"], ["tokens"], '"nav"'),
    {
      name: "help into a closed pipe stops quietly too",
      args: ["admin", "--help"],
      options: { closeStdout: true },
      code: 0,
      stderr: "",
    },
  ];

  /**
   * The rules every program keeps: --network anvil reaches ANVIL_URL (not RPC_URL), localhost reaches
   * RPC_URL, a network without a URL of its own asks for one, and output into a reader that went away
   * (`| head`) stops it quietly, even one that would have run on.
   */
  function programRows(
    program: ProgramName,
    onePass: string[],
    noUrl: string[],
    longRun: string[],
    stdout: string,
  ): Row[] {
    return [
      {
        name: `${program}: --network anvil reaches the node at ANVIL_URL, not RPC_URL`,
        program,
        args: ["--network", "anvil", ...onePass],
        noRpc: true,
        env: { ANVIL_URL: node!.url, RPC_URL: deadUrl },
        code: 0,
        stderr: "",
        stdout,
      },
      {
        name: `${program}: --network localhost reaches the node at RPC_URL`,
        program,
        args: ["--network", "localhost", ...onePass],
        noRpc: true,
        env: { RPC_URL: node!.url, ANVIL_URL: deadUrl },
        code: 0,
        stderr: "",
        stdout,
      },
      {
        name: `${program}: a network without a URL asks for one`,
        program,
        args: ["--network", "mainnet", ...noUrl],
        noRpc: true,
        env: { RPC_URL: "" },
        code: 1,
        stderr: 'no RPC URL for network "mainnet": pass --rpc <url> or set RPC_URL',
      },
      {
        name: `${program}: a reader that goes away (| head) stops it quietly`,
        program,
        args: longRun,
        options: { closeStdout: true },
        code: 0,
        stderr: "",
      },
    ];
  }

  const programs = (): Row[] =>
    (["keeper", "feeder", "arb"] as const).flatMap((p) =>
      programRows(p, ONE_PASS[p].args, ONE_PASS[p].args, LONG_RUN[p], ONE_PASS[p].stdout),
    );

  async function check(row: Row): Promise<void> {
    const program = row.program ?? "lt";
    const rpc = row.noRpc === true ? [] : ["--rpc", node!.url];
    const deployments = row.args.includes("--deployments") ? [] : ["--deployments", dep.dir];
    const run: Run = await runScript(
      `scripts/${program}.ts`,
      [...rpc, ...deployments, ...row.args],
      row.env,
      row.options,
    );
    expect(run.code, `${row.name}: exit code (${run.stderr})`).to.equal(row.code);
    if (row.stderr === "") {
      expect(run.stderr, row.name).to.equal("");
    } else {
      expect(run.stderr.trim().split("\n"), row.name).to.have.length(1);
      expect(run.stderr, row.name).to.match(new RegExp(`^${program}: `));
      expect(run.stderr, row.name).to.include(row.stderr);
    }
    if (row.jsonError !== undefined) {
      expect(JSON.parse(run.stdout), row.name).to.deep.equal({ error: row.jsonError });
    }
    if (row.stdout !== undefined) expect(run.stdout, row.name).to.include(row.stdout);
  }

  // the rows need the node's URL, known only once `before` ran: one test walks each table
  it("lt says each in one sentence with the right exit code", async function () {
    for (const row of rows()) await check(row);
  });

  it("the keeper, the feeder and the arbitrage bot keep the same network rules and stop quietly on a closed pipe", async function () {
    for (const row of programs()) await check(row);
  });
});
