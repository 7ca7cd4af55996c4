import PouchDB from 'pouchdb'
import type { PouchDatabase, PouchDocument } from 'pouchdb'
import type { JsonValue } from '../../src/index.js'
import { dirBytes, freshDir, removeDir } from '../disk.js'
import { RssSampler } from '../memory.js'
import { Payloads } from '../payload.js'
import type { ScenarioContext, ThroughputResult } from '../types.js'
import { Ledger, verifyNothingLost } from '../verify.js'
import type { VerifiableStore } from '../verify.js'
import { driveWriters } from '../writers.js'
import { throughputResult } from '../result.js'
import type { Attempt } from '../writers.js'
import { distinctKey } from './distinct.js'

/** The workloads run on the peer: revkv's `distinct` and `hot` in PouchDB's terms. */
export type PeerWorkload = 'distinct' | 'hot'

/** Defaults of the PouchDB peer runs. */
export const defaults = { writers: 64, key: 'hot' } as const

/** PouchDB refuses a write on a stale `_rev` with status 409: the same idea as a revkv conflict. */
function isPouchConflict (err: unknown): boolean {
  return (err as { status?: unknown } | null)?.status === 409
}

/** PouchDB behind the verifier's interface: heads are `_rev`s, history is the doc's rev list. */
function verifiable (db: PouchDatabase): VerifiableStore {
  const doc = async (key: string, revs = false): Promise<PouchDocument | undefined> => {
    try {
      return await db.get(key, { revs })
    } catch (err) {
      if ((err as { status?: unknown }).status === 404) return undefined
      throw err
    }
  }
  return {
    head: async (key) => {
      const d = await doc(key)
      return d?._rev === undefined ? undefined : { id: d._rev }
    },
    log: async function * (key) {
      const revisions = (await doc(key, true))?._revisions
      if (revisions === undefined) return
      for (const [i, id] of revisions.ids.entries()) yield { id: `${revisions.start - i}-${id}` }
    },
    conflicts: async () => [],
    get: async (key) => {
      const d = await doc(key)
      if (d === undefined) return undefined
      // The user's members only: PouchDB's own fields all start with an underscore.
      const value: Record<string, JsonValue> = {}
      for (const [member, v] of Object.entries(d)) if (!member.startsWith('_')) value[member] = v as JsonValue
      return value
    }
  }
}

/**
 * Run `distinct` or `hot` on PouchDB (LevelDB underneath, through leveldown): closed-loop
 * writers that read a doc and put it back with its `_rev`, retrying on 409. On `hot` each
 * writer changes only its own member of the one shared doc, as revkv's `hot` with `merge` does.
 */
export async function run (ctx: ScenarioContext, workload: PeerWorkload): Promise<ThroughputResult> {
  const dir = freshDir(ctx.dir, `pouchdb-${workload}`)
  try {
    // revs_limit high enough that no acknowledged revision is pruned before it is verified.
    const db = new PouchDB(dir, { revs_limit: 1_000_000 })
    const ledger = new Ledger()
    const payloads = new Payloads(ctx.valueSize, ctx.seed)
    const next = new Array<number>(ctx.writers).fill(1)
    const read = async (key: string): Promise<PouchDocument> => {
      try {
        return await db.get(key)
      } catch (err) {
        if ((err as { status?: unknown }).status === 404) return { _id: key }
        throw err
      }
    }
    let attempt: Attempt
    if (workload === 'hot') {
      const key = defaults.key
      const initial: PouchDocument = { _id: key }
      for (let w = 0; w < ctx.writers; w++) initial[`w${w}`] = `${w}:0`
      ledger.acknowledge(key, (await db.put(initial)).rev)
      attempt = async (writer) => {
        const n = next[writer] as number
        const value = `${writer}:${n}`
        const doc = await read(key)
        const { rev } = await db.put({ ...doc, [`w${writer}`]: value })
        ledger.acknowledge(key, rev)
        ledger.member(key, `w${writer}`, value)
        next[writer] = n + 1
        return 1
      }
    } else {
      attempt = async (writer) => {
        const n = next[writer] as number
        const key = distinctKey(writer, n)
        const doc = await read(key)
        const { rev } = await db.put({ ...payloads.value(writer, n), _id: key, ...(doc._rev === undefined ? {} : { _rev: doc._rev }) })
        ledger.acknowledge(key, rev)
        next[writer] = n + 1
        return 1
      }
    }
    const rss = new RssSampler()
    rss.start()
    const drive = await driveWriters({ writers: ctx.writers, durationMs: ctx.durationMs, ops: ctx.ops, attempt, isConflict: isPouchConflict })
    const peakRssBytes = rss.stop()
    ctx.status?.(`pouchdb ${workload}: verifying`)
    const verified = await verifyNothingLost(verifiable(db), ledger)
    await db.close()
    const bytesOnDisk = dirBytes(dir)
    return throughputResult(ctx, drive, { scenario: `pouchdb-${workload}`, system: 'pouchdb', strategy: undefined, sync: false, bytesOnDisk, revisions: verified.revisions, peakRssBytes, verified })
  } finally {
    removeDir(dir)
  }
}
