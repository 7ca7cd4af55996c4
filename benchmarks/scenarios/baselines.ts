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

/**
 * Run a raw `level` baseline with the context's writers, value size and sync: each writer
 * puts its own keys (the keys `distinct` commits to), one value per `put`, or 64 per batch.
 */
export async function run (ctx: ScenarioContext, baseline: BaselineName): Promise<ThroughputResult> {
  const dir = freshDir(ctx.dir, baseline)
  try {
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' })
    await db.open()
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
    const rss = new RssSampler()
    rss.start()
    const drive = await driveWriters({ writers: ctx.writers, durationMs: ctx.durationMs, ops: ctx.ops, attempt, opSize: size })
    const peakRssBytes = rss.stop()
    await db.close()
    const bytesOnDisk = dirBytes(dir)
    return throughputResult(ctx, drive, { scenario: baseline, system: 'level', strategy: undefined, sync: ctx.sync, bytesOnDisk, revisions: drive.commits, peakRssBytes, verified: undefined })
  } finally {
    removeDir(dir)
  }
}
