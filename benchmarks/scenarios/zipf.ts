import type { Store } from '../../src/index.js'
import { commitMany } from '../fill.js'
import { Payloads } from '../payload.js'
import { runStoreScenario } from '../store-run.js'
import type { Workload } from '../store-run.js'
import type { ScenarioContext, ThroughputResult } from '../types.js'
import type { Ledger } from '../verify.js'
import { mulberry32, streamSeed, zipf } from '../zipf.js'

/** Defaults of the `zipf` workload: 1,000 keys, a few of them hot (skew 0.99). */
export const defaults = { writers: 64, strategy: 'reject', keys: 1000, skew: 0.99 } as const

/** The stored key of zipf key number `index`. */
function zipfKey (index: number): string {
  return `z/${index}`
}

/**
 * A read-modify-write workload over zipf-distributed keys: each operation is a read (with
 * probability `readShare`) or a commit on the key's head, retried on conflict. The keys are
 * created before the clock starts so reads find values. Shared by `zipf` and `mixed`.
 */
export function zipfWorkload (ctx: ScenarioContext, store: Store, ledger: Ledger, readShare: number): Workload {
  const payloads = new Payloads(ctx.valueSize, ctx.seed)
  // One random stream per writer, so a writer's choices do not depend on how others are scheduled.
  const randoms = Array.from({ length: ctx.writers }, (_, w) => mulberry32(streamSeed(ctx.seed, w)))
  const draws = randoms.map((random) => zipf(defaults.keys, defaults.skew, random))
  const current = new Array<{ key: string, read: boolean }>(ctx.writers)
  const next = new Array<number>(ctx.writers).fill(0)
  return {
    prepare: async () => {
      await commitMany(store, ledger, defaults.keys, zipfKey, (i) => payloads.value(-1, i))
    },
    attempt: async (writer, retrying) => {
      let op = current[writer]
      if (op === undefined || !retrying) {
        // A retry repeats the same operation on the same key; only a new operation draws again.
        op = { key: zipfKey((draws[writer] as () => number)()), read: (randoms[writer] as () => number)() < readShare }
        current[writer] = op
      }
      if (op.read) {
        await store.get(op.key)
        return 0
      }
      const head = await store.head(op.key)
      const n = next[writer] as number
      const rev = await store.commit(op.key, payloads.value(writer, n), { parent: head?.id ?? null })
      ledger.acknowledge(op.key, rev.id)
      next[writer] = n + 1
      return 1
    }
  }
}

/** Every operation is a commit on a zipf-drawn key. */
export async function run (ctx: ScenarioContext): Promise<ThroughputResult> {
  return await runStoreScenario(ctx, 'zipf', (store, ledger) => zipfWorkload(ctx, store, ledger, 0))
}
