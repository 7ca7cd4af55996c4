import { Payloads } from '../payload.js'
import { runStoreScenario } from '../store-run.js'
import type { ScenarioContext, ThroughputResult } from '../types.js'

/** Defaults of the `distinct` workload: every writer on its own keys, so nothing contends. */
export const defaults = { writers: 64, strategy: 'reject', keysPerWriter: 16 } as const

/** The key writer `writer` writes as its `n`th write; shared with the raw `put` baseline. */
export function distinctKey (writer: number, n: number): string {
  return `d/${writer}/${n % defaults.keysPerWriter}`
}

/** Each writer reads its key's head, commits a new value on it, and moves to its next key. */
export async function run (ctx: ScenarioContext): Promise<ThroughputResult> {
  const payloads = new Payloads(ctx.valueSize, ctx.seed)
  return await runStoreScenario(ctx, 'distinct', (store, ledger) => {
    const next = new Array<number>(ctx.writers).fill(0)
    return {
      attempt: async (writer) => {
        const n = next[writer] as number
        const key = distinctKey(writer, n)
        const head = await store.head(key)
        const rev = await store.commit(key, payloads.value(writer, n), { parent: head?.id ?? null })
        ledger.acknowledge(key, rev.id)
        next[writer] = n + 1
        return 1
      }
    }
  })
}
