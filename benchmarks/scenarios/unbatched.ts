import { runStoreScenario } from '../store-run.js'
import type { ScenarioContext, ThroughputResult } from '../types.js'
import { batchWorkload, defaults as batchDefaults } from './batch.js'

/** Defaults of `unbatched`, the comparison run of `batch`: its writers and writes. */
export const defaults = { writers: batchDefaults.writers, strategy: 'reject' } as const

/** The writes of `batch`, each a single commit: 100 started together per operation. */
export async function run (ctx: ScenarioContext): Promise<ThroughputResult> {
  return await runStoreScenario(ctx, 'unbatched', (store, ledger) => batchWorkload(ctx, store, ledger, false))
}
