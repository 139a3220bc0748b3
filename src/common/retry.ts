// Transient RPC failures (node down, restarting, timing out) and exponential backoff.

const TRANSIENT_CODES = new Set([
  "NETWORK_ERROR",
  "TIMEOUT",
  "SERVER_ERROR",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
]);
const TRANSIENT_TEXT =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|fetch failed|other side closed|network error|timeout|UND_ERR|missing response|bad response|could not detect network/i;

/** True for errors that mean "the RPC is unreachable or overloaded", worth retrying as they are. */
export function isTransient(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e !== "object") return TRANSIENT_TEXT.test(String(e));
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
    if (typeof message === "string" && TRANSIENT_TEXT.test(message)) return true;
    e = cause;
  }
  return false;
}

/** Delay before retry `attempt` (0-based): base x 2^attempt, capped, with +-20% jitter. */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(raw * (0.8 + 0.4 * random()));
}

export interface RetryOptions {
  retries: number;
  baseMs: number;
  maxMs: number;
  /** Stops retrying early (e.g. on shutdown). */
  aborted?: () => boolean;
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

/** Runs `fn`, retrying transient failures with exponential backoff; other errors pass through. */
export async function withRetry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || attempt >= o.retries || o.aborted?.() === true) throw e;
      const delay = backoffMs(attempt, o.baseMs, o.maxMs);
      o.onRetry?.(attempt + 1, delay, e);
      await sleep(delay);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
