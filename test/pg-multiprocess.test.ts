/**
 * Several processes share one store on PostgreSQL (issue 12): 4 writer processes × 16
 * writers commit to the same 10 keys under each strategy, and a watcher in this process
 * follows the changes they make. Bounded by write counts, not time. Skipped, and said so,
 * where PostgreSQL is not installed.
 */
import { suite } from 'uvu'
import type { Test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import type { Change } from '../src/index.js'
import { sharedCluster } from './pg/cluster.js'
import { Progress, startWriters } from './pg/children.js'
import type { WriterProcess } from './pg/children.js'
import { assertAckedInHistory, assertSound, reachable } from './pg/checks.js'
import type { Acked } from './pg/checks.js'
import { all } from './helpers.js'

const cluster = await sharedCluster()
const url = cluster?.url ?? ''
const base = suite('PostgreSQL, several processes')
const it: Test = cluster === undefined ? base.skip as unknown as Test : base

const PROCESSES = 4
const WRITERS = 16
/** Writes per writer: 4 × 16 × 12 = 768 acknowledged writes per strategy, a few seconds on 2 cores. */
const OPS = 12
const KEYS = Array.from({ length: 10 }, (_, i) => `k${i}`)
let schemas = 0
const freshSchema = (): string => `mp_${process.pid}_${++schemas}`

/** Runs every child to the end, killing them all if any fails. */
async function finish (children: WriterProcess[]): Promise<void> {
  try {
    await Promise.all(children.map(async (child) => await child.finished()))
  } finally {
    for (const child of children) child.kill()
  }
}

for (const strategy of ['reject', 'lww', 'merge'] as const) {
  it(`${PROCESSES} processes × ${WRITERS} writers on ${KEYS.length} keys under ${strategy}: nothing acknowledged lost, nothing else written, verify clean`, async () => {
    const schema = freshSchema()
    const store = await Store.open({ postgres: url, schema, poolSize: 4 })
    try {
      // The keys exist before the writers start, so every write has a parent and may be stale.
      const acked: Acked[] = []
      for (const key of KEYS) acked.push({ key, id: (await store.commit(key, {})).id })
      const progress = new Progress()
      const children = await startWriters(PROCESSES, { url, schema, strategy, writers: WRITERS, ops: OPS, keys: KEYS, notify: true, poolSize: 6 }, progress)
      await finish(children)
      for (const child of children) {
        assert.equal(child.errors, [], 'no write failed')
        assert.is(child.acks.length, WRITERS * OPS, 'every write was acknowledged')
        acked.push(...child.acks)
      }
      const retries = children.reduce((sum, child) => sum + (child.done?.retries ?? 0), 0)
      if (strategy === 'reject') assert.ok(retries > 0, 'writers did collide (some writes were refused as stale and redone)')

      const history = await reachable(store, KEYS)
      assertAckedInHistory(history, acked)
      const stored = await assertSound(store, url, schema, history)
      const ackedIds = new Set(acked.map((a) => a.id))
      for (const key of KEYS) {
        const head = await store.head(key)
        assert.ok(head !== undefined && ackedIds.has(head.id), `the head of ${key} is an acknowledged revision`)
      }
      if (strategy === 'reject') {
        // A refused write writes nothing: the heads' ancestors are exactly the acknowledged writes.
        assert.equal([...history.keys()].sort(), [...ackedIds].sort(), 'the heads\' ancestors are exactly the acknowledged writes')
        assert.is(stored, acked.length)
      } else {
        // Stale writes were merged in (their own revision plus a merge revision), never refused.
        assert.ok(stored > acked.length, 'stale writes were merged in')
      }
      if (strategy === 'merge') {
        // Each writer wrote its own member of each key: its last value survived every merge.
        for (const child of children) {
          for (const [writer, perKey] of Object.entries(child.done?.last ?? {})) {
            for (const [key, n] of Object.entries(perKey)) {
              const value = await store.get(key) as Record<string, unknown>
              assert.is(value[writer], n, `${writer}'s last value of ${key} is in the final object`)
            }
          }
        }
      }
      // Each acknowledged write moved its key's head once: one change each, numbered 1..N.
      const changes = await all(store.changes())
      assert.equal(changes.map((c) => c.seq), changes.map((_, i) => i + 1), 'change numbers run 1..N without gaps')
      assert.equal(changes.map((c) => c.rev).sort(), [...ackedIds].sort(), 'one change per acknowledged write')
    } finally {
      await store.close()
    }
  })
}

for (const notify of [true, false]) {
  it(`watch() sees every write of other processes once, in order, and changes({ since }) resumes exactly (notify: ${String(notify)})`, async () => {
    const schema = freshSchema()
    const store = await Store.open({ postgres: url, schema, poolSize: 4, notify })
    const controller = new AbortController()
    const progress = new Progress()
    const watched: Change[] = []
    let children: WriterProcess[] = []
    const acked = (): number => children.reduce((sum, child) => sum + child.acks.length, 0)
    try {
      // Started before any write, from the beginning: it must see all of them.
      const watching = (async () => {
        for await (const change of store.watch({ signal: controller.signal })) {
          watched.push(change)
          progress.changed()
        }
      })()
      children = await startWriters(2, { url, schema, strategy: 'lww', writers: 8, ops: 12, keys: KEYS.slice(0, 4), notify, poolSize: 4 }, progress)
      // A second watcher joins mid-way, from the last number the first one had seen then.
      await progress.until(() => watched.length >= 20, 'the watcher to see 20 changes')
      const since = watched.at(-1)?.seq ?? 0
      const late: Change[] = []
      const lateWatching = (async () => {
        for await (const change of store.watch({ since, signal: controller.signal })) {
          late.push(change)
          progress.changed()
        }
      })()
      await finish(children)
      const total = acked()
      assert.is(total, 2 * 8 * 12, 'every write was acknowledged')
      await progress.until(() => watched.length >= total && late.length >= total - since, `the watchers to see all ${total} changes`)
      controller.abort()
      await Promise.all([watching, lateWatching])

      const stored = await all(store.changes())
      assert.equal(watched, stored, 'the watcher saw exactly the stored changes, in order')
      assert.equal(watched.map((c) => c.seq), watched.map((_, i) => i + 1), 'in sequence order, no gap, nothing twice')
      const ackedIds = children.flatMap((child) => child.acks.map((a) => a.id))
      assert.equal(watched.map((c) => c.rev).sort(), ackedIds.sort(), 'each acknowledged write seen once')
      assert.equal(late, stored.slice(since), `a watcher from seq ${since} saw exactly what came after it`)
      for (const from of [0, since, total - 1, total]) {
        assert.equal(await all(store.changes({ since: from })), stored.slice(from), `changes({ since: ${from} }) resumes exactly`)
      }
      // Per key, the changes follow its history: each new head has the previous one as first parent.
      const previous = new Map<string, string>()
      for (const change of stored) {
        const rev = await store.revision(change.rev)
        const before = previous.get(change.key)
        if (before !== undefined) assert.is(rev?.parents[0], before, `change ${change.seq} moves ${change.key} on from its previous head`)
        previous.set(change.key, change.rev)
      }
    } finally {
      controller.abort()
      for (const child of children) child.kill()
      await store.close()
    }
  })
}

base.run()
