import { Store } from '../src/index.js'
import type { JsonValue, StoreOptions } from '../src/index.js'
import { dirBytes, freshDir, removeDir } from './disk.js'
import { RssSampler } from './memory.js'
import type { ScenarioContext, ThroughputResult, TransactionStats } from './types.js'
import { Ledger, verifyNothingLost } from './verify.js'
import type { Verification } from './verify.js'
import { driveWriters } from './writers.js'
import { throughputResult } from './result.js'
import type { Attempt } from './writers.js'

/** A workload bound to an open store: optional set-up, then the writers' operation. */
export interface Workload {
  /** Runs before the clock starts (e.g. creates the keys that `mixed` reads). */
  prepare?: () => Promise<void>
  attempt: Attempt
  /** Commits one operation makes (a batch of 100 makes 100); default 1. */
  opSize?: number
  /** The nothing-lost check on the reopened store, where the ledger cannot express it (default: verifyNothingLost of the ledger). */
  verify?: (store: Store) => Promise<Verification>
  /** Transaction counts, for a workload of store.transaction() calls; they replace the writers' conflict and retry counts. */
  transactions?: () => TransactionStats
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
 * `options` are the workload's own store options (e.g. a small head cache).
 */
export async function runStoreScenario (ctx: ScenarioContext, scenario: string, workload: (store: Store, ledger: Ledger) => Workload, options: Pick<StoreOptions, 'headCacheSize'> = {}): Promise<ThroughputResult> {
  const dir = freshDir(ctx.dir, scenario)
  try {
    const ledger = new Ledger()
    const store = await Store.open({ ...options, path: dir, strategy: ctx.strategy, sync: ctx.sync })
    const { prepare, attempt, opSize, verify, transactions } = workload(store, ledger)
    await prepare?.()
    const rss = new RssSampler()
    rss.start()
    const drive = await driveWriters({ writers: ctx.writers, durationMs: ctx.durationMs, ops: ctx.ops, attempt, ...(opSize === undefined ? {} : { opSize }) })
    const peakRssBytes = rss.stop()
    await store.close()
    const bytesOnDisk = dirBytes(dir)
    // Reopened, so the check reads what reached the disk, not what a cache remembers.
    ctx.status?.(`${scenario}: verifying`)
    const reopened = await Store.open({ path: dir })
    const verified = await (verify ?? (async (s: Store) => await verifyNothingLost(s, ledger)))(reopened).finally(async () => { await reopened.close() })
    const result = throughputResult(ctx, drive, { scenario, system: 'revkv', strategy: ctx.strategy, sync: ctx.sync, bytesOnDisk, revisions: verified.revisions, peakRssBytes, verified })
    return transactions === undefined ? result : withTransactions(result, transactions())
  } finally {
    removeDir(dir)
  }
}

/**
 * A result whose operations were transactions: a conflict is a run of a transaction's
 * function that did not commit, a retry is every run of it after its first.
 */
function withTransactions (result: ThroughputResult, stats: TransactionStats): ThroughputResult {
  const retries = stats.retries
  return { ...result, conflicts: stats.attempts - result.commits, retries, retriesPerCommit: result.commits === 0 ? 0 : retries / result.commits, transactions: stats }
}
