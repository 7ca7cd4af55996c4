import { Level } from 'level'
import { dirBytes, freshDir, removeDir } from '../disk.js'
import { RssSampler } from '../memory.js'
import { Payloads } from '../payload.js'
import type { ScenarioContext, ThroughputResult } from '../types.js'
import { driveWriters } from '../writers.js'
import { throughputResult } from '../result.js'
import type { Attempt } from '../writers.js'
import { distinctKey } from './distinct.js'

/** The raw LevelDB baselines: unversioned `put`s, and batches of 64 (the storage ceiling). */
export type BaselineName = 'put' | 'batch64'

/** Defaults of the baselines: the same keys and value sizes as `distinct`. */
export const defaults = { writers: 64, batchSize: 64 } as const

/** A raw LevelDB workload bound to an open database: optional set-up, then the writers' operation. */
export interface LevelWorkload {
  /** Runs before the clock starts (e.g. fills the database). */
  prepare?: () => Promise<void>
  attempt: Attempt
  /** Entries one operation writes (a batch of 64 writes 64); default 1. */
  opSize?: number
}

/**
 * Run a raw `level` workload in a fresh directory with the context's writers: open,
 * prepare, drive the writers, close and weigh the directory. Raw LevelDB keeps no history,
 * so there is nothing to verify.
 */
export async function runLevelScenario (ctx: ScenarioContext, scenario: string, workload: (db: Level<string, string>) => LevelWorkload): Promise<ThroughputResult> {
  const dir = freshDir(ctx.dir, scenario)
  try {
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' })
    await db.open()
    const { prepare, attempt, opSize } = workload(db)
    await prepare?.()
    const rss = new RssSampler()
    rss.start()
    const drive = await driveWriters({ writers: ctx.writers, durationMs: ctx.durationMs, ops: ctx.ops, attempt, ...(opSize === undefined ? {} : { opSize }) })
    const peakRssBytes = rss.stop()
    await db.close()
    const bytesOnDisk = dirBytes(dir)
    return throughputResult(ctx, drive, { scenario, system: 'level', strategy: undefined, sync: ctx.sync, bytesOnDisk, revisions: drive.commits, peakRssBytes, verified: undefined })
  } finally {
    removeDir(dir)
  }
}

/**
 * Run a raw `level` baseline with the context's writers, value size and sync: each writer
 * puts its own keys (the keys `distinct` commits to), one value per `put`, or 64 per batch.
 */
export async function run (ctx: ScenarioContext, baseline: BaselineName): Promise<ThroughputResult> {
  return await runLevelScenario(ctx, baseline, (db) => {
    const payloads = new Payloads(ctx.valueSize, ctx.seed)
    const next = new Array<number>(ctx.writers).fill(0)
    const options = { sync: ctx.sync }
    const size = baseline === 'put' ? 1 : defaults.batchSize
    const attempt: Attempt = baseline === 'put'
      ? async (writer) => {
        const n = next[writer] as number
        next[writer] = n + 1
        await db.put(distinctKey(writer, n), JSON.stringify(payloads.value(writer, n)), options)
        return 1
      }
      : async (writer) => {
        // A chained batch, as revkv's write path uses: the cheaper form for the main thread.
        const batch = db.batch()
        for (let i = 0; i < size; i++) {
          const n = next[writer] as number
          next[writer] = n + 1
          batch.put(distinctKey(writer, n), JSON.stringify(payloads.value(writer, n)))
        }
        await batch.write(options)
        return size
      }
    return { attempt, opSize: size }
  })
}
