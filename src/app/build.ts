// Builds the traders' page (issue 18) with esbuild: one ES module bundle of src/app/browser/main.ts
// (the project's own chain readers, engine and CLI wording, imported as they are, plus ethers), the
// HTML and the CSS, into one folder a plain static server can serve.
//
// Two things keep the bundle browser-safe and small, all done at build time and nowhere else:
// - no Node built-in reaches the page: any import of one (node:fs, node:path, ...) from a module the
//   page reaches fails the build, naming the importer, so a Node-only import added later is caught
//   here and not in a user's browser. lt's file-based connection is src/cli/connect.ts, which the page
//   never imports; the handles it shares with lt (src/cli/context.ts) import the browser-safe
//   src/chain/addressBookCore.ts. commander (Node-only) fails the build the same way: what the page
//   needs of the command-line helpers (parseDuration) is in commander-free src/common/duration.ts.
// - the typechain factories carry each contract's creation bytecode (about 140 KB minified for
//   the six the CLI's readers and error sentences use); the page deploys nothing, so it is left out.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

export const APP_SOURCE = resolve(import.meta.dirname);
const ROOT = resolve(APP_SOURCE, "../..");

const BUILTIN = /^(node:.*|fs|path|os|child_process|module|net|http|https|zlib|crypto|url|util|stream)$/;

/** The checks and the bytecode trimming above as an esbuild plugin; exported for test/app/build.ts. */
export function browserSafe(): esbuild.Plugin {
  return {
    name: "browser-safe",
    setup(build) {
      build.onResolve({ filter: BUILTIN }, (args) => ({
        errors: [
          {
            text: `${relative(ROOT, args.importer)} imports the Node-only module "${args.path}", which the page cannot run; move what the page needs into a browser-safe module (src/app/)`,
          },
        ],
      }));
      build.onResolve({ filter: /^commander$/ }, (args) => ({
        errors: [
          {
            text: `${relative(ROOT, args.importer)} imports commander, which is Node-only; move what the page needs into a module free of it (as src/common/duration.ts)`,
          },
        ],
      }));
      build.onLoad({ filter: /types[\\/]ethers-contracts[\\/]factories[\\/].*\.ts$/ }, (args) => ({
        contents: readFileSync(args.path, "utf8").replace(
          /const _bytecode =\s*"0x[0-9a-fA-F]*"/,
          'const _bytecode = "0x"',
        ),
        loader: "ts",
      }));
    },
  };
}

export interface BuildResult {
  dir: string;
  /** The script's size, minified, and gzipped as a server would send it. */
  jsBytes: number;
  jsGzipBytes: number;
  /** Everything the first load fetches (HTML, CSS, script), gzipped. */
  totalGzipBytes: number;
  ms: number;
}

/** Builds the page into `dir` (emptied first). */
export async function buildApp(dir: string): Promise<BuildResult> {
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(APP_SOURCE, "browser/main.ts")],
    outfile: join(dir, "app.js"),
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    legalComments: "none",
    logLevel: "silent",
    plugins: [browserSafe()],
  });
  for (const file of ["index.html", "style.css"])
    copyFileSync(join(APP_SOURCE, "static", file), join(dir, file));
  const gz = (file: string) => gzipSync(readFileSync(join(dir, file))).length;
  const js = readFileSync(join(dir, "app.js")).length;
  return {
    dir,
    jsBytes: js,
    jsGzipBytes: gz("app.js"),
    totalGzipBytes: gz("app.js") + gz("index.html") + gz("style.css"),
    ms: Date.now() - started,
  };
}
