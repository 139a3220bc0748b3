// Commander option parsers shared by the programs' command lines (keeper, feeder, demo, backtest):
// a bad value is a plain sentence naming the option, printed by commander with a non-zero exit.
import { type Command, InvalidArgumentError } from "commander";
import { parseDuration } from "./duration.ts";

export { parseDuration };

/** Any finite number. */
export function number(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n))
      throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}

/** A number greater than zero. */
export function positive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a number greater than zero`);
    return n;
  };
}

/** A whole number, 0 or more. */
export function wholeNumber(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
    return Number(value);
  };
}

/** A whole number, 0 or more (the message does not name the option). */
export function wholeNumberOrZero(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number, 0 or more");
  return Number(value);
}

/** A whole number, 1 or more. */
export function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1)
      throw new InvalidArgumentError(`${name} must be a positive whole number`);
    return Number(value);
  };
}

/** A duration in seconds: 1h, 30m, 1d, 15s or a number of seconds. */
export function duration(name: string) {
  return (value: string): number => {
    try {
      return parseDuration(value);
    } catch (e) {
      throw new InvalidArgumentError(`${name}: ${(e as Error).message}`);
    }
  };
}

/**
 * An instant in UTC as unix seconds: a date (2026-01-01, its 00:00 UTC), a date and time
 * (2026-01-01T06:00, 2026-01-01T06:00:00Z, taken as UTC when no zone is given) or unix seconds.
 */
export function dateTime(name: string) {
  return (value: string): bigint => {
    const v = value.trim();
    if (/^\d+$/.test(v)) return BigInt(v);
    const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(Z|[+-]\d{2}:\d{2})?)?$/.exec(v);
    const ms = m === null ? NaN : Date.parse(`${m[1]}T${m[2] ?? "00:00"}${m[3] ?? "Z"}`);
    // Date.parse rolls 2026-02-30 over to March: the day must read back as written
    const real =
      Number.isFinite(ms) && new Date(Date.parse(`${m![1]}T00:00Z`)).toISOString().startsWith(m![1]!);
    if (!real || ms < 0)
      throw new InvalidArgumentError(
        `${name} must be a date (2026-01-01), a date and time in UTC (2026-01-01T06:00) or unix seconds`,
      );
    return BigInt(ms / 1000);
  };
}

/**
 * Parses a program's command line (`argv` without node and the script). Commander prints a usage
 * error or the help itself; then the exit code to stop with, else undefined: go on.
 */
export function parseCommandLine(program: Command, argv: string[]): number | undefined {
  program.exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: "user" });
    return undefined;
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 1;
  }
}

/** A comma-separated list of names ("BTC3L, ETH3S"), blanks dropped; undefined stays undefined. */
export function nameList(text: string | undefined): string[] | undefined {
  return text
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Calls `stop` with the signal's name on the first SIGINT or SIGTERM. */
export function onStopSignal(stop: (signal: "SIGINT" | "SIGTERM") => void): void {
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}
