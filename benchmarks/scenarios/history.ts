import { performance } from 'node:perf_hooks'
import { Store } from '../../src/index.js'
import { dirBytes, freshDir, removeDir } from '../disk.js'
import { commitMany } from '../fill.js'
import { RssSampler } from '../memory.js'
import { settleLevelDB } from '../settle.js'
import { Payloads } from '../payload.js'
import type { HistoryPoint, HistoryResult, ScenarioContext } from '../types.js'
import { Ledger, verifyNothingLost } from '../verify.js'
import { timeMedian } from '../stats.js'
import { mulberry32 } from '../zipf.js'

/** Options of the `history` workload. */
export interface HistoryOptions {
  /** Heights to measure at; the chain is built up to each in turn. */
  heights: number[]
  /** Stop building once this much time went into building; the height reached is measured and reported. */
  buildBudgetMs: number
  /** Operations timed per measurement (medians are reported). */
  samples: number
}

/** Defaults of the `history` workload. */
export const defaults: HistoryOptions = { heights: [10, 10_000, 1_000_000], buildBudgetMs: 60_000, samples: 200 }

const KEY = 'chain'
const PAGE = 100
/** How many revision ids to remember for `get --rev` (a uniform sample of the chain). */
const RESERVOIR = 1000
/** Commits per building step; the time budget is checked between steps. */
const BUILD_CHUNK = 50_000

/**
 * One key with a long chain: commit, head, `get --rev` and a 100-entry `log` page timed at
 * each height. The store is reopened before each measurement so caches start cold at every
 * height, and `get --rev` reads distinct revisions spread over the whole chain.
 */
export async function run (ctx: ScenarioContext, options: HistoryOptions = defaults): Promise<HistoryResult> {
  const dir = freshDir(ctx.dir, 'history')
  const rss = new RssSampler()
  rss.start()
  try {
    const ledger = new Ledger()
    const payloads = new Payloads(ctx.valueSize, ctx.seed)
    const random = mulberry32(ctx.seed)
    const sample: string[] = []
    let sampled = 0
    const points: HistoryPoint[] = []
    let buildMs = 0
    let built = 0
    let outOfTime = false
    for (const target of [...options.heights].sort((a, b) => a - b)) {
      if (outOfTime) break
      // Built with large batches: building is set-up, not what is measured.
      const builder = await Store.open({ path: dir, sync: ctx.sync, batchSize: 1024 })
      for (let height = ledger.acknowledged(KEY).length; height < target; height = ledger.acknowledged(KEY).length) {
        if (buildMs >= options.buildBudgetMs) {
          // Out of building time: measure the height reached and report it as such.
          outOfTime = true
          break
        }
        ctx.status?.(`history: building height ${height.toLocaleString('en-US')} of ${target.toLocaleString('en-US')}`)
        const chunk = Math.min(target - height, BUILD_CHUNK)
        const before = performance.now()
        await commitMany(builder, ledger, chunk, () => KEY, (i) => payloads.value(0, i), height)
        buildMs += performance.now() - before
        built += chunk
      }
      await builder.close()
      // Keep a uniform sample of the chain's ids (reservoir sampling) for `get --rev`.
      const ids = ledger.acknowledged(KEY)
      for (; sampled < ids.length; sampled++) {
        const j = sampled < RESERVOIR ? sampled : Math.floor(random() * (sampled + 1))
        if (j < RESERVOIR) sample[j] = ids[sampled] as string
      }
      const height = ids.length
      if (points.some((p) => p.height === height)) break
      ctx.status?.(`history: letting LevelDB settle at height ${height.toLocaleString('en-US')}`)
      await settleLevelDB(dir)
      ctx.status?.(`history: measuring at height ${height.toLocaleString('en-US')}`)
      points.push(await measure(dir, ledger, sample, height, options.samples, ctx))
    }
    const peakRssBytes = rss.stop()
    const bytesOnDisk = dirBytes(dir)
    ctx.status?.('history: verifying')
    const store = await Store.open({ path: dir })
    const verified = await verifyNothingLost(store, ledger).finally(async () => { await store.close() })
    return {
      kind: 'history',
      requestedHeights: options.heights,
      points,
      buildRate: built / (buildMs / 1000),
      peakRssBytes,
      bytesPerRevision: bytesOnDisk / verified.revisions,
      verified
    }
  } finally {
    rss.stop()
    removeDir(dir)
  }
}

async function measure (dir: string, ledger: Ledger, sample: string[], height: number, samples: number, ctx: ScenarioContext): Promise<HistoryPoint> {
  const store = await Store.open({ path: dir, sync: ctx.sync })
  try {
    const headMs = await timeMedian(samples, async () => await store.head(KEY))
    // Distinct ids, each read once: a cold read at every height (a chain of 10 has only 10).
    const ids = sample.slice(0, samples)
    const getRevMs = await timeMedian(ids.length, async (i) => await store.get(KEY, { rev: ids[i] as string }))
    let logEntries = 0
    const logPageMs = await timeMedian(20, async () => {
      logEntries = 0
      for await (const rev of store.log(KEY, { limit: PAGE })) {
        void rev
        logEntries++
      }
    })
    const payloads = new Payloads(ctx.valueSize, ctx.seed + 1)
    const commitMs = await timeMedian(Math.min(samples, 100), async (i) => {
      const head = await store.head(KEY)
      const rev = await store.commit(KEY, payloads.value(1, i), { parent: head?.id ?? null })
      ledger.acknowledge(KEY, rev.id)
    })
    return { height, commitMs, headMs, getRevMs, logPageMs, logEntries, logPerEntryMs: logPageMs / Math.max(1, logEntries) }
  } finally {
    await store.close()
  }
}
