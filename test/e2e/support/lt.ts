// Running the wallet CLI `lt` as a subprocess, and the assertions every CLI test makes on a run.
import { expect } from "chai";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./processes.ts";

const LT = "scripts/lt.ts";

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Close the reading end of lt's stdout at once, as `lt ... | head -0` would. */
  closeStdout?: boolean;
}

/** Runs `node scripts/lt.ts <args>` and collects its output and exit code (LT_PRIVATE_KEY only when given). */
export function runLt(
  args: string[],
  env: Record<string, string> = {},
  options: RunOptions = {},
): Promise<Run> {
  return runScript(LT, args, env, options);
}

/** Runs `node <script> <args>` (lt, arb) with no signing key from the parent unless given in `env`. */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  options: RunOptions = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    const childEnv = { ...process.env, ...env };
    for (const key of ["LT_PRIVATE_KEY", "ARB_KEY"]) if (!env[key]) delete childEnv[key];
    const child = spawn(process.execPath, [join(ROOT, script), ...args], { cwd: ROOT, env: childEnv });
    if (options.closeStdout) child.stdout.destroy();
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", fail);
    child.once("close", (code) => done({ code, stdout, stderr }));
  });
}

/** Asserts a run failed with exactly one plain sentence containing `sentence`, and no stack trace. */
export function expectPlainError(run: Run, sentence: string): void {
  expect(run.code, `exit code; stdout: ${run.stdout}`).to.equal(1);
  expect(run.stderr).to.include(sentence);
  expect(run.stderr.trim().split("\n"), run.stderr).to.have.length(1);
  expect(run.stderr).to.match(/^lt: /);
  expect(run.stderr).not.to.match(/\n\s+at |Error:/);
}

/** The JSON a successful run printed. */
export function json<T = Record<string, unknown>>(run: Run): T {
  expect(run.code, run.stderr).to.equal(0);
  return JSON.parse(run.stdout) as T;
}
