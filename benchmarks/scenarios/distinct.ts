import { Payloads } from '../payload.js'
import { runStoreScenario, storeTarget } from '../store-run.js'
import type { VersionedTarget, Workload } from '../store-run.js'
import type { ScenarioContext, ThroughputResult } from '../types.js'
import type { Ledger } from '../verify.js'

/** Defaults of the `distinct` workload: every writer on its own keys, so nothing contends. */
export const defaults = { writers: 64, strategy: 'reject', keysPerWriter: 16 } as const

/** The key writer `writer` writes as its `n`th write; shared with the raw `put` baseline. */
export function distinctKey (writer: number, n: number): string {
  return `d/${writer}/${n % defaults.keysPerWriter}`
}

/** Each writer reads its key's head, commits a new value on it, and moves to its next key. */
export function distinctWorkload (ctx: ScenarioContext, target: VersionedTarget, ledger: Ledger): Workload {
  const payloads = new Payloads(ctx.valueSize, ctx.seed)
  const next = new Array<number>(ctx.writers).fill(0)
  return {
    attempt: async (writer) => {
      const n = next[writer] as number
      const key = distinctKey(writer, n)
      const head = await target.read(key)
      ledger.acknowledge(key, await target.write(key, payloads.value(writer, n), head?.id ?? null))
      next[writer] = n + 1
      return 1
    }
  }
}

/** The `distinct` workload in a fresh LevelDB store. */
export async function run (ctx: ScenarioContext): Promise<ThroughputResult> {
  return await runStoreScenario(ctx, 'distinct', (store, ledger) => distinctWorkload(ctx, storeTarget(store), ledger))
}
