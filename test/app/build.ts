// The page's build keeps Node out of the browser: what the page imports builds with no Node built-in
// and no module stubbed, and a Node-only import reaching it (a built-in, lt's file-based connect,
// commander, even through src/common/options.ts) fails the build with a sentence naming the importer. Small entries bundled
// with the page's own plugin, in a few seconds and without a browser.
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as esbuild from "esbuild";
import { browserSafe, buildApp } from "../../src/app/build.ts";

const SRC = resolve(import.meta.dirname, "../../src");

describe("the page's build", function () {
  this.timeout(60_000);
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), "app-build-"));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Bundles `source` as the page's build would; the error's text, or undefined when it builds. */
  async function bundle(name: string, source: string): Promise<string | undefined> {
    const entry = join(dir, `${name}.ts`);
    writeFileSync(entry, source);
    try {
      await esbuild.build({
        entryPoints: [entry],
        bundle: true,
        write: false,
        format: "esm",
        platform: "browser",
        logLevel: "silent",
        plugins: [browserSafe()],
      });
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  it("builds the page with no Node built-in in it", async function () {
    const built = await buildApp(join(dir, "site"));
    expect(built.jsBytes).to.be.greaterThan(100_000);
    expect(built.jsGzipBytes).to.be.lessThan(built.jsBytes);
  });

  it("lets the page share lt's handles on a connection (src/cli/context.ts)", async function () {
    const error = await bundle(
      "handles",
      `import { tokenOf, usdtOf } from ${JSON.stringify(join(SRC, "cli/context.ts"))};\nconsole.log(tokenOf, usdtOf);`,
    );
    expect(error).to.equal(undefined);
  });

  it("fails on lt's file-based connect, naming the module that reads the file", async function () {
    const error = await bundle(
      "connect",
      `import { connect } from ${JSON.stringify(join(SRC, "cli/connect.ts"))};\nconsole.log(connect);`,
    );
    expect(error).to.include('src/chain/addressBook.ts imports the Node-only module "node:fs"');
  });

  it("fails on any Node built-in, naming the importer", async function () {
    const error = await bundle("builtin", `import { homedir } from "node:os";\nconsole.log(homedir());`);
    expect(error).to.match(/builtin\.ts imports the Node-only module "node:os", which the page cannot run/);
  });

  it("fails on commander, even through src/common/options.ts", async function () {
    const error = await bundle("commander", `import { Command } from "commander";\nconsole.log(Command);`);
    expect(error).to.match(/commander\.ts imports commander, which is Node-only/);
    const options = await bundle(
      "options",
      `import { duration } from ${JSON.stringify(join(SRC, "common/options.ts"))};\nconsole.log(duration);`,
    );
    expect(options).to.include("src/common/options.ts imports commander, which is Node-only");
  });
});
