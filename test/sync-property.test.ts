/**
 * The convergence property of sync (issue 14), with fast-check: three stores (random
 * strategies per key prefix) take random commits, deletes and stale writes, and random pulls
 * and pushes between random pairs; then full sync rounds until nothing changes. After that
 * every store holds exactly the same revisions, every revision ever acknowledged anywhere is
 * in every store, each key has the same tips everywhere (the head and the revisions kept
 * unmerged: the same head wherever nothing is kept), and verify() is clean.
 */
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import type { Revision } from '../src/index.js'
import { all } from './helpers.js'

const KEYS = ['m/a', 'm/b', 'l/a', 'l/b', 'r/a', 'x/a']
const STRATEGIES = { 'm/': 'merge', 'l/': 'lww', 'r/': 'reject', 'x/': 'manual' }

type Op =
  | { kind: 'commit', store: number, key: number, value: number, stale: boolean }
  | { kind: 'delete', store: number, key: number }
  | { kind: 'sync', pull: boolean, store: number, other: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('commit' as const), store: fc.nat(2), key: fc.nat(KEYS.length - 1), value: fc.nat(5), stale: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), store: fc.nat(2), key: fc.nat(KEYS.length - 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('sync' as const), pull: fc.boolean(), store: fc.nat(2), other: fc.nat(2) }) }
)

/** Each store's state, fingerprinted: its dump (heads, unmerged, every revision). */
async function state (stores: Store[]): Promise<string[]> {
  return await Promise.all(stores.map(async (s) => (await all(s.export())).join('\n')))
}

test('three stores with random edits and syncs converge after full sync rounds', async () => {
  await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
    let now = 1_000_000
    const clock = (): number => ++now
    const stores = await Promise.all([0, 1, 2].map(async () => await Store.open({ db: new MemoryLevel(), clock, strategies: STRATEGIES })))
    const acknowledged = new Set<string>()
    const note = (rev: Revision): void => { acknowledged.add(rev.id) }
    try {
      for (const o of ops) {
        const store = stores[o.store] as Store
        if (o.kind === 'sync') {
          const other = stores[o.other] as Store
          if (o.store !== o.other) await (o.pull ? store.pull(other) : store.push(other))
          continue
        }
        const key = KEYS[o.key] as string
        const head = await store.head(key)
        if (o.kind === 'delete') {
          if (head !== undefined && head.deleted !== true) note(await store.delete(key))
          continue
        }
        // A stale write, based on the head's first parent, is settled by the key's strategy.
        const parent = o.stale ? head?.parents[0] : undefined
        const value = { [`s${o.store}`]: o.value }
        try {
          note(await store.commit(key, value, parent === undefined ? {} : { parent }))
        } catch (err) {
          const e = err as { code?: string, kept?: string }
          if (e.code !== 'REVKV_CONFLICT' && e.code !== 'REVKV_MERGE_CONFLICT') throw err
          if (e.kept !== undefined) acknowledged.add(e.kept)
        }
      }
      let before = await state(stores)
      let settled = false
      for (let round = 0; round < 8 && !settled; round++) {
        for (const a of stores) for (const b of stores) if (a !== b) await a.pull(b)
        const after = await state(stores)
        settled = after.every((s, i) => s === before[i])
        before = after
      }
      assert.ok(settled, 'full sync rounds stop changing anything')
      assert.ok(before.every((s) => s === before[0]) || await sameTips(stores), 'the same revisions and tips everywhere')
      const revisionLines = before.map((s) => new Set(s.split('\n').filter((l) => l.startsWith('{"revision"'))))
      for (const lines of revisionLines) assert.equal([...lines].sort(), [...(revisionLines[0] as Set<string>)].sort(), 'every store holds the same revisions')
      for (const store of stores) {
        for (const id of acknowledged) assert.ok(await store.revision(id) !== undefined, `acknowledged revision ${id} is everywhere`)
        assert.equal((await store.verify()).problems, [])
      }
      assert.ok(await sameTips(stores))
    } finally {
      for (const store of stores) await store.close()
    }
  }), { numRuns: 60 })
})

/** Each key has the same tips (head and unmerged) in every store, and the same head wherever none is kept. */
async function sameTips (stores: Store[]): Promise<boolean> {
  for (const key of KEYS) {
    const tips = await Promise.all(stores.map(async (s) => {
      const head = await s.head(key)
      const kept = (await s.conflicts(key)).map((r) => r.id)
      return { head: head?.id, tips: [head?.id, ...kept].sort().join(','), kept: kept.length }
    }))
    const first = tips[0] as { head: string | undefined, tips: string, kept: number }
    for (const t of tips) {
      assert.is(t.tips, first.tips, `${key}: the same tips everywhere`)
      if (t.kept === 0 && first.kept === 0) assert.is(t.head, first.head, `${key}: the same head`)
    }
  }
  return true
}

test.run()
