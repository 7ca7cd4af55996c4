import { performance } from 'node:perf_hooks'
import { build } from 'hdr-histogram-js'
import type { Histogram } from 'hdr-histogram-js'

/**
 * One operation of writer `writer`. Resolves with the number of commits it made (0 for a
 * read); throws a conflict to be retried. `retrying` is true when the same operation is
 * tried again after a conflict, so a workload keeps its key and intent instead of drawing anew.
 */
export type Attempt = (writer: number, retrying: boolean) => Promise<number>

/** How to run a set of closed-loop writers. Give `durationMs`, `ops`, or both (whichever ends first). */
export interface DriveOptions {
  writers: number
  durationMs?: number | undefined
  /** Stop once this many commits and reads have been started in all. */
  ops?: number | undefined
  attempt: Attempt
  /** True for an error that means "stale: re-read and retry" (default: revkv's conflict codes). */
  isConflict?: (err: unknown) => boolean
  /** Commits one operation makes (a batch of 64 makes 64), so an ops budget is not overshot. */
  opSize?: number
}

/** p50 / p99 / max latency in milliseconds. */
export interface LatencySummary {
  p50Ms: number
  p99Ms: number
  maxMs: number
}

/** What the writers did. */
export interface DriveResult {
  elapsedMs: number
  commits: number
  reads: number
  /** Conflicts met (each is retried unless time is up). */
  conflicts: number
  retries: number
  /** Successful commits of each writer. */
  commitsByWriter: number[]
  /** Writers that made no commit at all during the run (those with commits to make). */
  starvedWriters: number
  /** Per successful commit, from its first attempt to its success: retries included. */
  commitLatency: LatencySummary
  readLatency: LatencySummary | undefined
}

/** True for revkv's stale-write errors (ConflictError, MergeConflictError): branch on code, never on message. */
export function isRevkvConflict (err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'REVKV_CONFLICT' || code === 'REVKV_MERGE_CONFLICT'
}

/** Latency histogram in microseconds (1 µs to an hour, 3 significant digits). */
function histogram (): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })
}

function summary (h: Histogram): LatencySummary {
  return { p50Ms: h.getValueAtPercentile(50) / 1000, p99Ms: h.getValueAtPercentile(99) / 1000, maxMs: h.maxValue / 1000 }
}

/**
 * Run `writers` concurrent async clients in one process, each in a closed loop: one
 * operation at a time, the next only once the previous one succeeded (or gave up when
 * time ran out). A conflict is retried by the same writer, counted, and charged to the
 * latency of the commit that finally succeeds.
 */
export async function driveWriters (options: DriveOptions): Promise<DriveResult> {
  const { writers, attempt } = options
  const isConflict = options.isConflict ?? isRevkvConflict
  const opSize = options.opSize ?? 1
  if (options.durationMs === undefined && options.ops === undefined) throw new Error('driveWriters() needs durationMs or ops.')
  const commitHist = histogram()
  const readHist = histogram()
  const commitsByWriter = new Array<number>(writers).fill(0)
  const triedToCommit = new Array<boolean>(writers).fill(false)
  let reads = 0
  let conflicts = 0
  let retries = 0
  let ticketsLeft = options.ops ?? Infinity
  const start = performance.now()
  const deadline = options.durationMs === undefined ? Infinity : start + options.durationMs

  const writer = async (w: number): Promise<void> => {
    while (performance.now() < deadline && ticketsLeft >= opSize) {
      ticketsLeft -= opSize
      const began = performance.now()
      let retrying = false
      for (;;) {
        let made: number
        try {
          made = await attempt(w, retrying)
        } catch (err) {
          if (!isConflict(err)) throw err
          conflicts++
          triedToCommit[w] = true
          if (performance.now() >= deadline) return
          retries++
          // Retry at once, as a client would: the store answers a conflict only once the
          // head it names is on disk, so the re-read head is the one to build on.
          retrying = true
          continue
        }
        const micros = Math.max(1, Math.round((performance.now() - began) * 1000))
        if (made > 0) {
          commitsByWriter[w] = (commitsByWriter[w] as number) + made
          triedToCommit[w] = true
          commitHist.recordValue(micros)
        } else {
          reads++
          readHist.recordValue(micros)
        }
        break
      }
    }
  }

  await Promise.all(Array.from({ length: writers }, async (_, w) => await writer(w)))
  const elapsedMs = performance.now() - start
  const commits = commitsByWriter.reduce((a, b) => a + b, 0)
  // A writer that only read (mixed) or never got to commit is not starved; one that tried and never succeeded is.
  const starvedWriters = commitsByWriter.filter((n, w) => n === 0 && triedToCommit[w] === true).length
  return {
    elapsedMs,
    commits,
    reads,
    conflicts,
    retries,
    commitsByWriter,
    starvedWriters,
    commitLatency: summary(commitHist),
    readLatency: reads > 0 ? summary(readHist) : undefined
  }
}
