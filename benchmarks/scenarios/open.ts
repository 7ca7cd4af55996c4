import { performance } from 'node:perf_hooks'
import { Store } from '../../src/index.js'
import { dirBytes, freshDir, removeDir } from '../disk.js'
import { commitMany, userKey } from '../fill.js'
import { RssSampler } from '../memory.js'
import { settleLevelDB } from '../settle.js'
import { Payloads } from '../payload.js'
import { median } from '../stats.js'
import type { OpenPoint, OpenResult, ScenarioContext } from '../types.js'
import { Ledger, verifyNothingLost } from '../verify.js'
import { mulberry32 } from '../zipf.js'

/** Options of the `open` workload. */
export interface OpenOptions {
  /** Store sizes (keys) to measure at; one store grows to each in turn. */
  keys: number[]
  /** Stop building once this much time went into building; the size reached is measured and reported. */
  buildBudgetMs: number
  /** Opens timed per size (the median is reported). */
  repeats: number
}

/** Defaults of the `open` workload. */
export const defaults: OpenOptions = { keys: [10_000, 1_000_000], buildBudgetMs: 60_000, repeats: 9 }

/** Keys per building step; the time budget is checked between steps. */
const BUILD_CHUNK = 50_000

/**
 * Time to open a store and answer the first `get`, on stores of growing size, and the
 * resident memory that costs. A store that reads nothing at open costs the same at any size.
 */
export async function run (ctx: ScenarioContext, options: OpenOptions = defaults): Promise<OpenResult> {
  const dir = freshDir(ctx.dir, 'open')
  const rss = new RssSampler()
  rss.start()
  try {
    const ledger = new Ledger()
    const payloads = new Payloads(ctx.valueSize, ctx.seed)
    const random = mulberry32(ctx.seed)
    const points: OpenPoint[] = []
    let size = 0
    let buildMs = 0
    let outOfTime = false
    for (const target of [...options.keys].sort((a, b) => a - b)) {
      if (outOfTime) break
      const builder = await Store.open({ path: dir, sync: ctx.sync, batchSize: 1024 })
      while (size < target) {
        if (buildMs >= options.buildBudgetMs) {
          outOfTime = true
          break
        }
        ctx.status?.(`open: building ${size.toLocaleString('en-US')} of ${target.toLocaleString('en-US')} keys`)
        const chunk = Math.min(target - size, BUILD_CHUNK)
        const before = performance.now()
        await commitMany(builder, ledger, chunk, userKey, (i) => payloads.value(0, i), size)
        buildMs += performance.now() - before
        size += chunk
      }
      await builder.close()
      if (points.some((p) => p.keys === size)) break
      ctx.status?.(`open: letting LevelDB settle at ${size.toLocaleString('en-US')} keys`)
      await settleLevelDB(dir)
      ctx.status?.(`open: timing opens of ${size.toLocaleString('en-US')} keys`)
      points.push(await measure(dir, size, options.repeats, random))
    }
    const peakRssBytes = rss.stop()
    ctx.status?.('open: verifying')
    const store = await Store.open({ path: dir })
    const verified = await verifyNothingLost(store, ledger).finally(async () => { await store.close() })
    return { kind: 'open', requestedKeys: options.keys, points, buildRate: size / (buildMs / 1000), peakRssBytes, verified }
  } finally {
    rss.stop()
    removeDir(dir)
  }
}

async function measure (dir: string, keys: number, repeats: number, random: () => number): Promise<OpenPoint> {
  const open: number[] = []
  const firstGet: number[] = []
  const rssDelta: number[] = []
  for (let i = 0; i < repeats; i++) {
    const key = userKey(Math.floor(random() * keys))
    const rssBefore = process.memoryUsage.rss()
    const start = performance.now()
    const store = await Store.open({ path: dir })
    const opened = performance.now()
    const value = await store.get(key)
    const end = performance.now()
    rssDelta.push(process.memoryUsage.rss() - rssBefore)
    await store.close()
    if (value === undefined) throw new Error(`Lost key ${key}: the first get after opening a store of ${keys} keys found nothing.`)
    open.push(end - start)
    firstGet.push(end - opened)
  }
  return { keys, openMs: median(open), firstGetMs: median(firstGet), rssDeltaBytes: median(rssDelta), bytesOnDisk: dirBytes(dir) }
}
