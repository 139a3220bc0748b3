// A program whose output is piped into a reader that stops early (`lt tokens | head -1`, `npm run
// keeper | head -1`) gets EPIPE on its next write; Node.js would die on it with a stack trace. Every
// program's script calls this first, so it stops quietly instead, as command-line tools do.
import type { Writable } from "node:stream";

/** The code a program exits with when its reader went away: success, it was not asked for more. */
export const BROKEN_PIPE_EXIT = 0;

/** Exits quietly (BROKEN_PIPE_EXIT) on EPIPE from any of `streams`; other stream errors are thrown. */
export function stopQuietlyOnBrokenPipe(
  streams: Writable[] = [process.stdout, process.stderr],
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  for (const stream of streams) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") throw e;
      exit(BROKEN_PIPE_EXIT);
    });
  }
}

/**
 * A program's script in one call: stops quietly on a broken pipe, runs `main` on the command line,
 * prints what it throws as one sentence after the program's name (exit 1), and exits with its code
 * once stdout and stderr have taken every write. The exit is explicit: a natural one waits for Node
 * to tear down whatever the run leaves behind, and the demo's in-process chain after the whole
 * 2014-2021 history took about two minutes to go.
 */
export async function runProgram(name: string, main: (argv: string[]) => Promise<number>): Promise<never> {
  stopQuietlyOnBrokenPipe();
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (e) {
    console.error(`${name}: ${(e as Error).message}`);
    code = 1;
  }
  await Promise.all(
    [process.stdout, process.stderr].map((s) => new Promise<void>((done) => s.write("", () => done()))),
  );
  process.exit(code);
}
