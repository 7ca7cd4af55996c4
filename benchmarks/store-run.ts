import { Store } from '../src/index.js'
import type { JsonValue } from '../src/index.js'
import { dirBytes, freshDir, removeDir } from './disk.js'
import { RssSampler } from './memory.js'
import type { ScenarioContext, ThroughputResult } from './types.js'
import { Ledger, verifyNothingLost } from './verify.js'
import { driveWriters } from './writers.js'
import { throughputResult } from './result.js'
import type { Attempt } from './writers.js'

/** A workload bound to an open store: optional set-up, then the writers' operation. */
export interface Workload {
  /** Runs before the clock starts (e.g. creates the keys that `mixed` reads). */
  prepare?: () => Promise<void>
  attempt: Attempt
}

/**
 * What the distinct and hot-merge workloads write through: a revkv store, or the
 * hand-written PostgreSQL baseline, so both run exactly the same operations.
 */
export interface VersionedTarget {
  /** The key's current revision id and value, or undefined. */
  read: (key: string) => Promise<{ id: string, value?: JsonValue | undefined } | undefined>
  /** Write `value` on top of revision `parent` (null: create); resolves to the new revision's id, throws a conflict when stale. */
  write: (key: string, value: JsonValue, parent: string | null) => Promise<string>
}

/** A revkv store as a VersionedTarget: head() and commit() with a parent. */
export function storeTarget (store: Store): VersionedTarget {
  return {
    read: async (key) => await store.head(key),
    write: async (key, value, parent) => (await store.commit(key, value, { parent })).id
  }
}

/**
 * Run one revkv workload in a fresh LevelDB directory: open, prepare, drive the writers,
 * close, weigh the directory, then reopen and prove nothing acknowledged was lost.
 */
export async function runStoreScenario (ctx: ScenarioContext, scenario: string, workload: (store: Store, ledger: Ledger) => Workload): Promise<ThroughputResult> {
  const dir = freshDir(ctx.dir, scenario)
  try {
    const ledger = new Ledger()
    const store = await Store.open({ path: dir, strategy: ctx.strategy, sync: ctx.sync })
    const { prepare, attempt } = workload(store, ledger)
    await prepare?.()
    const rss = new RssSampler()
    rss.start()
    const drive = await driveWriters({ writers: ctx.writers, durationMs: ctx.durationMs, ops: ctx.ops, attempt })
    const peakRssBytes = rss.stop()
    await store.close()
    const bytesOnDisk = dirBytes(dir)
    // Reopened, so the check reads what reached the disk, not what a cache remembers.
    ctx.status?.(`${scenario}: verifying`)
    const reopened = await Store.open({ path: dir })
    const verified = await verifyNothingLost(reopened, ledger).finally(async () => { await reopened.close() })
    return throughputResult(ctx, drive, { scenario, system: 'revkv', strategy: ctx.strategy, sync: ctx.sync, bytesOnDisk, revisions: verified.revisions, peakRssBytes, verified })
  } finally {
    removeDir(dir)
  }
}
