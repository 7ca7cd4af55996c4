import { runStoreScenario } from '../store-run.js'
import type { ScenarioContext, ThroughputResult } from '../types.js'
import { replaceWorkload } from './hot.js'

/** Defaults of the `lease` workload: every writer on the hot key, taking turns by lease. */
export const defaults = { writers: 64, strategy: 'reject' } as const

/** Every writer takes the hot key's lease, commits under it and releases it (see replaceWorkload). */
export async function run (ctx: ScenarioContext): Promise<ThroughputResult> {
  return await runStoreScenario(ctx, 'lease', (store, ledger) => replaceWorkload(ctx, store, ledger, true))
}
