// JSON-lines logs: one object per line with the time and an event name, bigints as decimal strings.

export type LogFields = Record<string, unknown>;
export type Logger = (event: string, fields?: LogFields) => void;

export function jsonLine(event: string, fields: LogFields = {}, now: Date = new Date()): string {
  return JSON.stringify({ time: now.toISOString(), event, ...fields }, (_k, v: unknown) =>
    typeof v === "bigint" ? v.toString() : v,
  );
}

/** A logger writing JSON lines to a stream (stdout by default). */
export function jsonLogger(write: (line: string) => void = (l) => process.stdout.write(l + "\n")): Logger {
  return (event, fields) => write(jsonLine(event, fields));
}
