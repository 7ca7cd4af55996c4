import type { Store } from '../../src/index.js'
import { Payloads } from '../payload.js'
import { runStoreScenario } from '../store-run.js'
import type { Workload } from '../store-run.js'
import type { ScenarioContext, ThroughputResult } from '../types.js'
import type { Ledger } from '../verify.js'

/** Defaults of the `batch` workload: each writer writes its own 100 keys, 100 ops per batch. */
export const defaults = { writers: 64, strategy: 'reject', size: 100 } as const

/** Key `i` of writer `writer`: each writer's keys are its own, so no op is ever stale. */
function batchKey (writer: number, i: number): string {
  return `b/${writer}/${i}`
}

/**
 * Each operation writes new values to all of the writer's 100 keys, on top of their heads:
 * as one store.batch() (`batched`), or as the same 100 writes made as single commits, all
 * started at once (`unbatched`), so both have the same writes in flight and differ only in
 * being one all-or-nothing commit. Shared by `batch` and `unbatched`.
 */
export function batchWorkload (ctx: ScenarioContext, store: Store, ledger: Ledger, batched: boolean): Workload {
  const payloads = new Payloads(ctx.valueSize, ctx.seed)
  const next = new Array<number>(ctx.writers).fill(0)
  const size = defaults.size
  return {
    opSize: size,
    attempt: async (writer) => {
      const n = next[writer] as number
      const ops = Array.from({ length: size }, (_, i) => ({ type: 'commit' as const, key: batchKey(writer, i), value: payloads.value(writer, n * size + i) }))
      const revisions = batched
        ? await store.batch(ops)
        : await Promise.all(ops.map(async (op) => await store.commit(op.key, op.value)))
      revisions.forEach((rev, i) => { ledger.acknowledge((ops[i] as { key: string }).key, rev.id) })
      next[writer] = n + 1
      return size
    }
  }
}

/** Batches of 100 commits, each one store.batch(). */
export async function run (ctx: ScenarioContext): Promise<ThroughputResult> {
  return await runStoreScenario(ctx, 'batch', (store, ledger) => batchWorkload(ctx, store, ledger, true))
}
