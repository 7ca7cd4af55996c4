import type { JsonObject, Store } from '../../src/index.js'
import { isRevkvConflict } from '../writers.js'
import { Payloads } from '../payload.js'
import { runStoreScenario, storeTarget } from '../store-run.js'
import type { VersionedTarget, Workload } from '../store-run.js'
import type { ScenarioContext, ThroughputResult } from '../types.js'
import type { Ledger } from '../verify.js'

/** Defaults of the `hot` workload: every writer on one key. */
export const defaults = { writers: 64, strategy: 'merge', key: 'hot' } as const

/** The member of the shared object that writer `writer` owns under `merge`. */
function memberOf (writer: number): string {
  return `w${writer}`
}

/**
 * `merge`: one shared object with a member per writer. Each writer changes only its own
 * member, so a three-way merge of any two stale writes is clean: nothing may conflict,
 * and every writer's last value must be in the final object. (Through the hand-written
 * PostgreSQL baseline a stale write fails instead, and the writer's retry re-reads the
 * object and sets its member again: the same intent, merged by hand.)
 */
export function mergeWorkload (ctx: ScenarioContext, target: VersionedTarget, ledger: Ledger): Workload {
  const key = defaults.key
  const next = new Array<number>(ctx.writers).fill(1)
  return {
    prepare: async () => {
      const initial: JsonObject = {}
      for (let w = 0; w < ctx.writers; w++) initial[memberOf(w)] = `${w}:0`
      ledger.acknowledge(key, await target.write(key, initial, null))
    },
    attempt: async (writer) => {
      const head = await target.read(key)
      if (head === undefined || head.value === null || typeof head.value !== 'object' || Array.isArray(head.value)) {
        throw new Error(`The hot key ${key} lost its object: its head is ${head?.id ?? 'missing'}.`)
      }
      const member = memberOf(writer)
      const value = `${writer}:${next[writer] as number}`
      ledger.acknowledge(key, await target.write(key, { ...head.value, [member]: value }, head.id))
      ledger.member(key, member, value)
      next[writer] = (next[writer] as number) + 1
      return 1
    }
  }
}

/** Long enough that no writer's lease ends while it writes, even on a loaded machine. */
const LEASE_TTL_MS = 60_000
/** Queue for the lease this long: a writer gives up only if the run is broken. */
const LEASE_WAIT_MS = 60 * 60 * 1000

/**
 * `reject`, `lww`, `manual`: every writer replaces the whole value. Under `reject` a stale
 * write fails and is retried; under `lww` it wins; under `manual` it is kept unmerged
 * (recorded, then retried so the writer's value still lands on the head).
 * `leased`: pessimistic locking instead: each writer queues for the key's lease (first
 * come, first served), reads the head, commits on it with the lease's token and releases
 * it. No write is ever stale, so nothing conflicts or retries; the price is that writers
 * take turns, which the latency (lock wait included) and the commits per writer show.
 */
export function replaceWorkload (ctx: ScenarioContext, store: Store, ledger: Ledger, leased = false): Workload {
  const key = defaults.key
  const payloads = new Payloads(ctx.valueSize, ctx.seed)
  const next = new Array<number>(ctx.writers).fill(0)
  const write = async (writer: number, lock: number | undefined): Promise<void> => {
    const head = await store.head(key)
    const n = next[writer] as number
    try {
      const rev = await store.commit(key, payloads.value(writer, n), { parent: head?.id ?? null, ...(lock === undefined ? {} : { lock }) })
      ledger.acknowledge(key, rev.id)
    } catch (err) {
      const kept = (err as { kept?: unknown }).kept
      if (isRevkvConflict(err) && typeof kept === 'string') ledger.keep(key, kept)
      throw err
    }
    next[writer] = n + 1
  }
  return {
    prepare: async () => {
      const rev = await store.commit(key, payloads.value(-1, 0), { parent: null })
      ledger.acknowledge(key, rev.id)
    },
    attempt: async (writer) => {
      if (!leased) {
        await write(writer, undefined)
        return 1
      }
      const lease = await store.lock(key, { ttl: LEASE_TTL_MS, owner: `writer ${writer}`, wait: LEASE_WAIT_MS })
      try {
        await write(writer, lease.token)
      } finally {
        await store.unlock(key, lease.token)
      }
      return 1
    }
  }
}

/** Every writer reads the one hot key's head and commits on it, under the context's strategy. */
export async function run (ctx: ScenarioContext): Promise<ThroughputResult> {
  return await runStoreScenario(ctx, 'hot', (store, ledger) =>
    ctx.strategy === 'merge' ? mergeWorkload(ctx, storeTarget(store), ledger) : replaceWorkload(ctx, store, ledger))
}
