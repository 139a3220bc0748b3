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
