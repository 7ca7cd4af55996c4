import { runStoreScenario } from '../store-run.js'
import type { ScenarioContext, ThroughputResult } from '../types.js'
import { zipfWorkload } from './zipf.js'

/** Defaults of the `mixed` workload: 90% reads, 10% commits over the zipf keys. */
export const defaults = { writers: 64, strategy: 'reject', readShare: 0.9 } as const

/** Reads and read-modify-write commits over zipf-drawn keys. */
export async function run (ctx: ScenarioContext): Promise<ThroughputResult> {
  return await runStoreScenario(ctx, 'mixed', (store, ledger) => zipfWorkload(ctx, store, ledger, defaults.readShare))
}
