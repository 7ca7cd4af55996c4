import type { ScenarioContext, ThroughputResult } from './types.js'
import type { Verification } from './verify.js'
import type { DriveResult } from './writers.js'

/** What differs between revkv, baseline and peer runs; the rest of a result follows from the drive. */
export interface ResultParts {
  scenario: string
  system: ThroughputResult['system']
  strategy: ThroughputResult['strategy']
  sync: boolean
  bytesOnDisk: number
  /** Entries stored: revisions found by verification, or (baselines) puts made. */
  revisions: number
  peakRssBytes: number
  verified: Verification | undefined
}

/** One throughput row, with rates and ratios derived from the writers' drive. */
export function throughputResult (ctx: ScenarioContext, drive: DriveResult, parts: ResultParts): ThroughputResult {
  const seconds = drive.elapsedMs / 1000
  return {
    kind: 'throughput',
    ...parts,
    writers: ctx.writers,
    valueSize: ctx.valueSize,
    round: ctx.round,
    elapsedMs: drive.elapsedMs,
    commits: drive.commits,
    commitsPerSec: drive.commits / seconds,
    reads: drive.reads,
    readsPerSec: drive.reads / seconds,
    latency: drive.commitLatency,
    readLatency: drive.readLatency,
    conflicts: drive.conflicts,
    retries: drive.retries,
    retriesPerCommit: drive.commits === 0 ? 0 : drive.retries / drive.commits,
    starvedWriters: drive.starvedWriters,
    perWriter: { min: Math.min(...drive.commitsByWriter), max: Math.max(...drive.commitsByWriter) },
    bytesPerRevision: parts.revisions === 0 ? 0 : parts.bytesOnDisk / parts.revisions,
    vsPut: undefined
  }
}
