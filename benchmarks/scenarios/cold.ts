import { performance } from 'node:perf_hooks'
import type { Store } from '../../src/index.js'
import { FILL_BATCHES_IN_FLIGHT, fillStore } from '../fill.js'
import { Payloads } from '../payload.js'
import { runStoreScenario } from '../store-run.js'
import type { FilledStore, ScenarioContext, ThroughputResult } from '../types.js'
import { verifyNothingLost } from '../verify.js'
import type { Ledger } from '../verify.js'
import type { Attempt } from '../writers.js'
import { mulberry32, streamSeed } from '../zipf.js'
import { runLevelScenario } from './baselines.js'

/**
 * Defaults of the `cold` workload: a store of 1,000,000 keys (the figure), its head
 * cache a hundredth of that, so nearly every write finds its key's head on disk.
 */
export const defaults = { writers: 64, strategy: 'reject', keys: 1_000_000, keysPerHeadCacheEntry: 100, fillBatch: 1000 } as const

/** The head cache of a store of `keys` keys: far smaller than the key count. */
function coldHeadCache (keys: number): number {
  return Math.max(1, Math.round(keys / defaults.keysPerHeadCacheEntry))
}

/**
 * Creates per fill batch: at most 1,000, and few enough that the batches in flight fit in
 * the head cache. A key in a batch being written stays in the cache, so batches holding
 * more keys than the cache overfill it, and the fill slows several times over (measured:
 * 100,000 keys with a 1,000-key cache took 21 s in batches of 1,000, 4.5 s in batches of 200).
 */
function fillBatch (headCacheSize: number): number {
  return Math.max(1, Math.min(defaults.fillBatch, Math.floor(headCacheSize / FILL_BATCHES_IN_FLIGHT)))
}

/** The stored key of cold key number `index` (zero-padded, so the fill writes in key order). */
function coldKey (index: number): string {
  return `c/${String(index).padStart(7, '0')}`
}

/**
 * The key each writer updates next: uniformly random over the store, one seeded stream per
 * writer, so revkv and the raw baseline update the same keys in the same order. A retry
 * after a conflict keeps its key.
 */
function keyChooser (ctx: ScenarioContext, keys: number): (writer: number, retrying: boolean) => string {
  const randoms = Array.from({ length: ctx.writers }, (_, w) => mulberry32(streamSeed(ctx.seed, w)))
  const current = new Array<string>(ctx.writers)
  return (writer, retrying) => {
    const kept = current[writer]
    if (retrying && kept !== undefined) return kept
    const key = coldKey(Math.floor((randoms[writer] as () => number)() * keys))
    current[writer] = key
    return key
  }
}

/** Milliseconds since `start`, as a whole number. */
function since (start: number): number {
  return Math.round(performance.now() - start)
}

/**
 * `cold`: fill a store with `keys` keys before the clock starts (one revision each), then
 * every writer updates uniformly random keys, reading each head and committing on it. The
 * head cache holds a hundredth of the keys, so heads come from disk. The nothing-lost check
 * covers every write acknowledged in the run, and proves each touched key still holds its
 * fill revision: its history is exactly that revision plus its acknowledged writes.
 */
export async function run (ctx: ScenarioContext, keys: number = defaults.keys): Promise<ThroughputResult> {
  const headCacheSize = coldHeadCache(keys)
  let fillMs = 0
  const result = await runStoreScenario(ctx, 'cold', (store: Store, ledger: Ledger) => {
    const payloads = new Payloads(ctx.valueSize, ctx.seed)
    const choose = keyChooser(ctx, keys)
    const next = new Array<number>(ctx.writers).fill(0)
    return {
      prepare: async () => {
        ctx.status?.(`cold: filling ${keys.toLocaleString('en-US')} keys`)
        const start = performance.now()
        await fillStore(store, keys, fillBatch(headCacheSize), coldKey, (i) => payloads.value(-1, i))
        fillMs = since(start)
        ctx.status?.(`cold ×${ctx.writers}`)
      },
      attempt: async (writer, retrying) => {
        const key = choose(writer, retrying)
        const head = await store.head(key)
        if (head === undefined) throw new Error(`The cold store lost key ${key}: it was filled before the run, but has no head.`)
        const n = next[writer] as number
        ledger.acknowledge(key, (await store.commit(key, payloads.value(writer, n), { parent: head.id })).id)
        next[writer] = n + 1
        return 1
      },
      verify: async (reopened) => {
        const verified = await verifyNothingLost(reopened, ledger)
        if (verified.revisions !== verified.acknowledged + verified.keys) {
          throw new Error(`The cold store's ${verified.keys} updated keys hold ${verified.revisions} revisions, not their ${verified.keys} fill revisions plus ${verified.acknowledged} acknowledged writes: a fill revision was lost.`)
        }
        return verified
      }
    }
  }, { headCacheSize })
  return withFill(result, { keys, headCacheSize, fillMs })
}

/**
 * `cold`'s raw baseline, `get-put`: a LevelDB database filled with the same keys and values
 * (batches of the same size, one at a time), then every writer reads a uniformly random key and puts a new
 * value to it, the same keys in the same order as `cold`: the least a versioned write must do.
 */
export async function runBaseline (ctx: ScenarioContext, keys: number = defaults.keys): Promise<ThroughputResult> {
  const batchSize = fillBatch(coldHeadCache(keys))
  let fillMs = 0
  const result = await runLevelScenario(ctx, 'get-put', (db) => {
    const payloads = new Payloads(ctx.valueSize, ctx.seed)
    const choose = keyChooser(ctx, keys)
    const next = new Array<number>(ctx.writers).fill(0)
    const options = { sync: ctx.sync }
    const attempt: Attempt = async (writer) => {
      const key = choose(writer, false)
      if (await db.get(key) === undefined) throw new Error(`The get-put baseline lost key ${key}: it was filled before the run.`)
      const n = next[writer] as number
      next[writer] = n + 1
      await db.put(key, JSON.stringify(payloads.value(writer, n)), options)
      return 1
    }
    return {
      prepare: async () => {
        ctx.status?.(`get-put: filling ${keys.toLocaleString('en-US')} keys`)
        const start = performance.now()
        for (let from = 0; from < keys; from += batchSize) {
          const batch = db.batch()
          for (let i = from; i < Math.min(keys, from + batchSize); i++) batch.put(coldKey(i), JSON.stringify(payloads.value(-1, i)))
          await batch.write()
        }
        fillMs = since(start)
        ctx.status?.(`level get-put ×${ctx.writers}`)
      },
      attempt
    }
  })
  return withFill(result, { keys, headCacheSize: undefined, fillMs })
}

/** A result on a filled store: its bytes weighed over the fill's entries too, not only the run's writes. */
function withFill (result: ThroughputResult, store: FilledStore): ThroughputResult {
  const revisions = store.keys + result.commits
  return { ...result, store, revisions, bytesPerRevision: result.bytesOnDisk / revisions }
}
