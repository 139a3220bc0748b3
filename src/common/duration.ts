// Durations as people write them ("1h", "30m", "1d"), in seconds. Its own module, free of
// commander, so the web page can use it (src/app/build.ts refuses commander in the page).

/** "1h", "30m", "1d", "15s" or plain seconds ("3600") as seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?$/.exec(text.trim());
  if (m === null)
    throw new Error(`"${text}" is not a duration: use seconds or a number with s, m, h, d or w (e.g. 1h)`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[(m[2] ?? "s") as "s" | "m" | "h" | "d" | "w"];
  const seconds = Math.round(Number(m[1]) * unit);
  if (seconds < 1) throw new Error(`duration "${text}" must be at least one second`);
  return seconds;
}
