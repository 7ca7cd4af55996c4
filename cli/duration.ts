/**
 * Durations as people type them on a command line (`30s`, `500ms`, `5m`, `1h`), turned
 * into the milliseconds the library takes. A bare number is milliseconds, as everywhere
 * else in revkv (the global --wait, the library, the HTTP API).
 */

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Milliseconds of a duration like `30s`, `1.5m` or `250` (ms); throws a message naming the option and the fix. */
export function parseDuration (text: string | number, option: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(String(text))
  if (match === null) {
    throw new Error(`${option} must be a duration like 500ms, 30s, 5m, 1h or a number of milliseconds, got ${JSON.stringify(String(text))}.`)
  }
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? 'ms'] as number))
}
