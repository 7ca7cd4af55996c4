import { Payloads } from '../payload.js'
import { runStoreScenario } from '../store-run.js'
import type { Workload } from '../store-run.js'
import type { ScenarioContext, ThroughputResult } from '../types.js'
import type { Ledger } from '../verify.js'
import type { Store } from '../../src/index.js'

/** Defaults of the `insert` workload: every commit creates a key nobody wrote before. */
export const defaults = { writers: 64, strategy: 'reject' } as const

/**
 * Each writer commits to its next new key, never read first: with `parent: null` (create
 * only, as an import or a new document would) when `createOnly`, else with no parent
 * (the head, whatever it is: there is none). Keys are fresh, so no write is ever stale.
 */
export function insertWorkload (ctx: ScenarioContext, store: Store, ledger: Ledger, createOnly: boolean): Workload {
  const payloads = new Payloads(ctx.valueSize, ctx.seed)
  const next = new Array<number>(ctx.writers).fill(0)
  const options = createOnly ? { parent: null } : {}
  return {
    attempt: async (writer) => {
      const n = next[writer] as number
      next[writer] = n + 1
      const key = `i/${writer}/${n}`
      ledger.acknowledge(key, (await store.commit(key, payloads.value(writer, n), options)).id)
      return 1
    }
  }
}

/** `insert`: commits with `parent: null` to new keys, in a fresh LevelDB store. */
export async function run (ctx: ScenarioContext): Promise<ThroughputResult> {
  return await runStoreScenario(ctx, 'insert', (store, ledger) => insertWorkload(ctx, store, ledger, true))
}

/** `insert-blind`: commits with no parent to new keys, in a fresh LevelDB store; run beside `insert`. */
export async function runBlind (ctx: ScenarioContext): Promise<ThroughputResult> {
  return await runStoreScenario(ctx, 'insert-blind', (store, ledger) => insertWorkload(ctx, store, ledger, false))
}
