import { suite } from 'uvu'
import type { Test } from 'uvu'
import * as assert from 'uvu/assert'
import { all, rejection } from './helpers.js'
import { createSuite } from './store-suite-create.js'
import { leaseSuite } from './store-suite-leases.js'
import { asOfSuite } from './store-suite-as-of.js'
import { batchSuite } from './store-suite-batch.js'
import { syncSuite } from './store-suite-sync.js'
import {
  ConflictError, InvalidInputError, MergeConflictError, NotFoundError, RevkvError, mergeStrategy
} from '../src/index.js'
import type { Change, JsonValue, Revision, RevkvStore, StoreCapabilities, StoreOptions, Strategy } from '../src/index.js'

/** How the behavioural suite gets a store: a fresh one, and (where the backend keeps data) the same one again. */
export interface StoreFactory {
  name: string
  /** A new, empty store opened with these options. */
  open: (options?: Omit<StoreOptions, 'path' | 'db'>) => Promise<RevkvStore>
  /** Close `store` and open the same data again; undefined where the backend cannot. */
  reopen?: (store: RevkvStore, options?: Omit<StoreOptions, 'path' | 'db'>) => Promise<RevkvStore>
}

/** What the factory's stores declare they can do, read from one opened for the purpose (abstract-level's `supports`). */
async function capabilitiesOf (factory: StoreFactory): Promise<StoreCapabilities> {
  const store = await factory.open()
  try {
    return store.supports
  } finally {
    await store.close()
  }
}

/** Every revision id reachable from a key's head. */

async function history (store: RevkvStore, key: string): Promise<Revision[]> {
  const revs: Revision[] = []
  for await (const rev of store.log(key)) revs.push(rev)
  return revs
}

/** A uvu suite on `factory`'s stores: `open` makes one; every store in `opened` is closed after each test. */
export function backendSuite (title: string, factory: StoreFactory): { it: Test, open: (options?: Omit<StoreOptions, 'path' | 'db'>) => Promise<RevkvStore>, opened: RevkvStore[] } {
  const it = suite(`${title} (${factory.name})`)
  const opened: RevkvStore[] = []
  const open = async (options?: Omit<StoreOptions, 'path' | 'db'>): Promise<RevkvStore> => {
    const store = await factory.open(options)
    opened.push(store)
    return store
  }
  it.after.each(async () => {
    for (const store of opened.splice(0)) await store.close()
  })
  return { it, open, opened }
}

/** The behavioural test suite every Store backend must pass (abstract-level style). */
export async function storeSuite (factory: StoreFactory): Promise<void> {
  const supports = await capabilitiesOf(factory)
  const { it, open, opened } = backendSuite('store', factory)
  /** `it`, or `it.skip` where the backend lacks the capability: a test turned off shows as skipped in the totals. */
  const itIf = (capable: boolean): typeof it => capable ? it : it.skip as unknown as typeof it

  it('commit creates a content-addressed revision chain', async () => {
    const store = await open({ author: 'ada' })
    const r1 = await store.commit('user:1', { name: 'Ada' }, { message: 'create' })
    assert.match(r1.id, /^[0-9a-f]{64}$/)
    assert.equal(r1.parents, [])
    assert.is(r1.height, 1)
    assert.is(r1.key, 'user:1')
    assert.is(r1.author, 'ada')
    assert.is(r1.message, 'create')
    assert.type(r1.time, 'number')
    const r2 = await store.commit('user:1', { name: 'Ada L.' }, { parent: r1.id, author: 'bob' })
    assert.equal(r2.parents, [r1.id])
    assert.is(r2.height, 2)
    assert.is(r2.author, 'bob')
    assert.equal(await store.get('user:1'), { name: 'Ada L.' })
    assert.equal(await store.get('user:1', { rev: r1.id }), { name: 'Ada' })
    assert.equal((await store.head('user:1'))?.id, r2.id)
    assert.equal((await store.revision(r1.id))?.value, { name: 'Ada' })
    assert.is(await store.revision('0'.repeat(64)), undefined)
    assert.is(await store.head('nobody'), undefined)
    assert.is(await store.get('nobody'), undefined)
  })

  it('revisions are frozen, so a caller cannot corrupt shared history', async () => {
    const store = await open()
    const value = { list: [1] }
    const rev = await store.commit('k', value)
    value.list.push(2)
    assert.equal(await store.get('k'), { list: [1] }, 'the stored value does not follow the caller object')
    const head = await store.head('k') as Revision
    assert.throws(() => { (head.value as { list: number[] }).list.push(3) })
    assert.equal((await store.revision(rev.id))?.value, { list: [1] })
  })

  it('every JSON value kind round-trips, including root scalars', async () => {
    const store = await open()
    const values: JsonValue[] = [null, true, false, 0, -1.5, 1e21, '', 'ünïcødé ✓', [], {}, [1, 'a', null, { b: [true] }], { nested: { deep: { x: [[]] } } }]
    for (const [i, value] of values.entries()) {
      await store.commit(`v${i}`, value)
      assert.equal(await store.get(`v${i}`), value)
    }
  })

  it('delete writes a tombstone and keeps history', async () => {
    const store = await open()
    const r1 = await store.commit('k', { a: 1 })
    const t = await store.delete('k', { parent: r1.id, message: 'gone' })
    assert.is(t.deleted, true)
    assert.not.ok('value' in t)
    assert.equal(t.parents, [r1.id])
    assert.is(await store.get('k'), undefined)
    assert.is((await store.head('k'))?.id, t.id, 'head of a deleted key is its tombstone')
    assert.equal(await store.get('k', { rev: r1.id }), { a: 1 })
    assert.equal((await history(store, 'k')).map((r) => r.id), [t.id, r1.id])
    const again = await rejection(store.delete('k'))
    assert.instance(again, NotFoundError)
    assert.instance(await rejection(store.delete('never')), NotFoundError)
    const back = await store.commit('k', { a: 2 }, { parent: null })
    assert.equal(back.parents, [t.id], 'create-only on a deleted key continues its history')
  })

  it('parent undefined is never stale: concurrent writes to one key chain, none lost', async () => {
    const store = await open()
    const n = 300
    const revs = await Promise.all(Array.from({ length: n }, async (_, i) => await store.commit('hot', { i })))
    const ids = new Set(revs.map((r) => r.id))
    assert.is(ids.size, n)
    const log = await history(store, 'hot')
    assert.is(log.length, n)
    for (const id of ids) assert.ok(log.some((r) => r.id === id), `revision ${id} is in history`)
    assert.equal(log.map((r) => r.height), Array.from({ length: n }, (_, i) => n - i))
    // Arrival order is commit order: the last call made is the head.
    if (supports.callOrder) assert.equal(await store.get('hot'), { i: n - 1 })
  })

  it('concurrent writes with the same parent under reject: one success, N-1 ConflictErrors', async () => {
    const store = await open()
    const base = await store.commit('k', { v: 0 })
    const n = 100
    const results = await Promise.allSettled(Array.from({ length: n }, async (_, i) => await store.commit('k', { v: i + 1 }, { parent: base.id })))
    const ok = results.filter((r) => r.status === 'fulfilled')
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    assert.is(ok.length, 1)
    assert.is(failed.length, n - 1)
    for (const f of failed) {
      assert.instance(f.reason, ConflictError)
      assert.is((f.reason as ConflictError).code, 'REVKV_CONFLICT')
    }
    assert.is((await history(store, 'k')).length, 2, 'rejected writes leave nothing behind')
  })

  it('writers that retry at once after a conflict all make progress (no livelock, no starvation)', async () => {
    const store = await open()
    const writers = 8
    const goal = 10
    const done = await Promise.all(Array.from({ length: writers }, async (_, w) => {
      let commits = 0
      // Bounded: a livelock would spin here without the event loop ever turning, so count attempts.
      for (let attempt = 0; commits < goal && attempt < 2000; attempt++) {
        const head = await store.head('contended')
        try {
          await store.commit('contended', { w, commits }, { parent: head?.id ?? null })
          commits++
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err
        }
      }
      return commits
    }))
    assert.equal(done, Array.from({ length: writers }, () => goal))
    assert.is((await history(store, 'contended')).length, writers * goal)
  })

  // Over separate HTTP connections the order requests arrive in is the network's, so only
  // in-process clients can be held to this.
  itIf(supports.callOrder)('under reject on a hot key the winner changes: no writer starves while others commit', async () => {
    const store = await open()
    const writers = 16
    const wins = new Array<number>(writers).fill(0)
    let total = 0
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      for (let attempt = 0; total < writers * 4 && attempt < 5000; attempt++) {
        const head = await store.head('fair')
        try {
          await store.commit('fair', { w }, { parent: head?.id ?? null })
          wins[w] = (wins[w] ?? 0) + 1
          total++
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err
        }
      }
    }))
    assert.ok(wins.every((n) => n > 0), `every writer committed at least once: ${wins.join(',')}`)
  })

  it('many writers on many keys: every acknowledged write is found in history', async () => {
    const store = await open({ strategy: 'merge' })
    const keys = 40
    const writers = 200
    const acked: Revision[] = []
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      for (let round = 0; round < 5; round++) {
        const key = `k${(w * 7 + round) % keys}`
        const head = await store.head(key)
        const value = { ...(head?.value as Record<string, JsonValue> | undefined), [`w${w}`]: round }
        acked.push(await store.commit(key, value, { parent: head?.id ?? null }))
      }
    }))
    for (let k = 0; k < keys; k++) {
      const ids = new Set((await history(store, `k${k}`)).map((r) => r.id))
      for (const rev of acked.filter((r) => r.key === `k${k}`)) assert.ok(ids.has(rev.id), `acknowledged ${rev.id} of k${k} is in history`)
    }
    // Under merge nothing conflicts here, so every writer's last round survives in its last key.
    for (let w = 0; w < writers; w++) {
      const key = `k${(w * 7 + 4) % keys}`
      assert.is(((await store.get(key)) as Record<string, JsonValue>)[`w${w}`], 4, `writer ${w}'s last write survives in ${key}`)
    }
  })

  it('parent null is create-only', async () => {
    const store = await open()
    const r1 = await store.commit('k', 1, { parent: null })
    const err = await rejection(store.commit('k', 2, { parent: null })) as ConflictError
    assert.instance(err, ConflictError)
    assert.is(err.expected, null)
    assert.is(err.actual, r1.id)
    assert.is(err.key, 'k')
    assert.match(err.message, /already exists/)
  })

  it('a stale parent under reject throws ConflictError with expected and actual', async () => {
    const store = await open()
    const r1 = await store.commit('k', { a: 1 })
    const r2 = await store.commit('k', { a: 2 }, { parent: r1.id })
    const err = await rejection(store.commit('k', { a: 3 }, { parent: r1.id })) as ConflictError
    assert.instance(err, ConflictError)
    assert.instance(err, RevkvError)
    assert.is(err.code, 'REVKV_CONFLICT')
    assert.is(err.status, 409)
    assert.is(err.expected, r1.id)
    assert.is(err.actual, r2.id)
    assert.is(err.kept, undefined)
    assert.is(err.toJSON().actual, r2.id)
    assert.equal(await store.get('k'), { a: 2 })
  })

  it('a parent that is not a revision of the key is NotFoundError, not a conflict', async () => {
    const store = await open()
    const other = await store.commit('other', 1)
    await store.commit('k', 1)
    const e1 = await rejection(store.commit('k', 2, { parent: other.id }))
    assert.instance(e1, NotFoundError)
    assert.is((e1 as NotFoundError).status, 404)
    assert.match(e1.message, /belongs to key "other"/)
    const e2 = await rejection(store.commit('k', 2, { parent: 'f'.repeat(64) }))
    assert.instance(e2, NotFoundError)
    assert.is((e2 as NotFoundError).code, 'REVKV_NOT_FOUND')
    assert.is((await history(store, 'k')).length, 1)
  })

  it('lww: the stale write wins and the overwritten one stays in history', async () => {
    const store = await open({ strategy: 'lww' })
    const r1 = await store.commit('k', { a: 1 })
    const r2 = await store.commit('k', { a: 2 }, { parent: r1.id })
    const m = await store.commit('k', { a: 3 }, { parent: r1.id })
    assert.equal(m.value, { a: 3 })
    assert.is(m.strategy, 'lww')
    assert.is(m.parents.length, 2)
    assert.is(m.parents[0], r2.id)
    const incoming = await store.revision(m.parents[1] as string) as Revision
    assert.equal(incoming.parents, [r1.id])
    assert.equal(incoming.value, { a: 3 })
    assert.is(m.height, 3)
    const ids = (await history(store, 'k')).map((r) => r.id)
    assert.ok(ids.includes(r2.id) && ids.includes(incoming.id) && ids.includes(r1.id))
    // A stale delete under lww deletes.
    const d = await store.delete('k', { parent: r2.id })
    assert.is(d.deleted, true)
    assert.is(await store.get('k'), undefined)
  })

  it('merge strategy: disjoint edits merge into a merge revision', async () => {
    const store = await open({ strategies: { 'doc:': 'merge' } })
    const r1 = await store.commit('doc:1', { title: 'a', tags: ['x'], meta: { n: 1 } })
    await store.commit('doc:1', { title: 'b', tags: ['x'], meta: { n: 1 } }, { parent: r1.id })
    const m = await store.commit('doc:1', { title: 'a', tags: ['x', 'y'], meta: { n: 2 } }, { parent: r1.id })
    assert.equal(m.value, { title: 'b', tags: ['x', 'y'], meta: { n: 2 } })
    assert.is(m.strategy, 'merge')
    // Outside the prefix the default (reject) applies.
    const r = await store.commit('other', 1)
    await store.commit('other', 2, { parent: r.id })
    assert.instance(await rejection(store.commit('other', 3, { parent: r.id })), ConflictError)
  })

  it('merge strategy: arrays merge the way people expect', async () => {
    const store = await open({ strategy: 'merge' })
    const base = await store.commit('list', ['a', 'b', 'c'])
    await store.commit('list', ['a', 'b', 'c', 'ours'], { parent: base.id })
    const m = await store.commit('list', ['a', 'b', 'c', 'theirs'], { parent: base.id })
    assert.equal(m.value, ['a', 'b', 'c', 'ours', 'theirs'], 'both appends kept, ours first')
    const b2 = await store.commit('l2', [1, 2, 3, 4, 5, 6])
    await store.commit('l2', [0, 1, 2, 3, 4, 5, 6], { parent: b2.id })
    const m2 = await store.commit('l2', [1, 2, 3, 4, 5, 60], { parent: b2.id })
    assert.equal(m2.value, [0, 1, 2, 3, 4, 5, 60], 'an insert and an edit in different regions both survive')
  })

  it('merge strategy: conflicts are reported per JSON Pointer and nothing is written', async () => {
    const store = await open({ strategy: 'merge' })
    const base = await store.commit('k', { a: 1, b: [1, 2, 3], c: 'same' })
    const ours = await store.commit('k', { a: 2, b: [1, 20, 3], c: 'same' }, { parent: base.id })
    const err = await rejection(store.commit('k', { a: 3, b: [1, 200, 3], c: 'same' }, { parent: base.id })) as MergeConflictError
    assert.instance(err, MergeConflictError)
    assert.instance(err, ConflictError)
    assert.is(err.code, 'REVKV_MERGE_CONFLICT')
    assert.is(err.status, 409)
    assert.is(err.actual, ours.id)
    assert.is(err.expected, base.id)
    assert.equal(err.conflicts, [
      { kind: 'value', path: '/a', base: 1, ours: 2, theirs: 3 },
      { kind: 'value', path: '/b/1', base: 2, ours: 20, theirs: 200 }
    ])
    assert.equal(err.toJSON().conflicts, err.conflicts)
    assert.is((await history(store, 'k')).length, 2)
    assert.is((await store.head('k'))?.id, ours.id)
  })

  it('merge strategy: onConflict settles only the conflicting places', async () => {
    const store = await open()
    const base = await store.commit('k', { a: 1, b: 1 })
    await store.commit('k', { a: 2, b: 1 }, { parent: base.id })
    const theirs = await store.commit('k', { a: 3, b: 5 }, { parent: base.id, strategy: mergeStrategy({ onConflict: 'theirs' }) })
    assert.equal(theirs.value, { a: 3, b: 5 })
    const head = theirs
    await store.commit('k', { a: 10, b: 5 }, { parent: head.id })
    const ours = await store.commit('k', { a: 20, b: 6 }, { parent: head.id, strategy: mergeStrategy({ onConflict: 'ours' }) })
    assert.equal(ours.value, { a: 10, b: 6 })
    assert.instance(await rejection(Promise.resolve().then(() => mergeStrategy({ onConflict: 'mine' as 'ours' }))), InvalidInputError)
  })

  it('merge strategy: delete against an edit conflicts; against no change it deletes', async () => {
    const store = await open({ strategy: 'merge' })
    const base = await store.commit('k', { a: 1 })
    await store.commit('k', { a: 2 }, { parent: base.id })
    const err = await rejection(store.delete('k', { parent: base.id })) as MergeConflictError
    assert.instance(err, MergeConflictError)
    assert.equal(err.conflicts, [{ kind: 'value', path: '', base: { a: 1 }, ours: { a: 2 } }])
    const b2 = await store.commit('j', { a: 1 })
    await store.commit('j', { a: 1, b: 2 }, { parent: b2.id })
    const ours = await store.head('j') as Revision
    await store.delete('j', { parent: ours.id })
    const e2 = await rejection(store.commit('j', { a: 5 }, { parent: ours.id })) as MergeConflictError
    assert.equal(e2.conflicts, [{ kind: 'value', path: '', base: { a: 1, b: 2 }, theirs: { a: 5 } }], 'edit against a deleted head conflicts')
    const b3 = await store.commit('m', { a: 1 })
    await store.commit('m', { a: 1, z: 0 }, { parent: b3.id })
    const edited = await store.head('m') as Revision
    await store.commit('m', { a: 1, z: 0 }, { parent: edited.id })
    const d = await store.delete('m', { parent: edited.id })
    assert.is(d.deleted, true, 'a stale delete of unchanged content deletes')
  })

  it('merge strategy: root scalars and type changes conflict at the root', async () => {
    const store = await open({ strategy: 'merge' })
    const base = await store.commit('k', 1)
    await store.commit('k', 2, { parent: base.id })
    const err = await rejection(store.commit('k', 3, { parent: base.id })) as MergeConflictError
    assert.equal(err.conflicts, [{ kind: 'value', path: '', base: 1, ours: 2, theirs: 3 }])
    const same = await store.commit('k', 2, { parent: base.id })
    assert.is(same.value, 2, 'identical changes on both sides are not a conflict')
    const t = await store.commit('t', { a: 1 })
    await store.commit('t', [1], { parent: t.id })
    const e2 = await rejection(store.commit('t', { a: 2 }, { parent: t.id })) as MergeConflictError
    assert.equal(e2.conflicts, [{ kind: 'value', path: '', base: { a: 1 }, ours: [1], theirs: { a: 2 } }])
  })

  it('manual: the stale write is kept unmerged, reported, listed and settled', async () => {
    const store = await open({ strategy: 'manual' })
    const base = await store.commit('k', { a: 1, b: 1 })
    const ours = await store.commit('k', { a: 2, b: 1 }, { parent: base.id })
    const err = await rejection(store.commit('k', { a: 1, b: 2 }, { parent: base.id })) as ConflictError
    assert.instance(err, ConflictError)
    assert.match(err.kept ?? '', /^[0-9a-f]{64}$/)
    assert.is(err.actual, ours.id)
    assert.is((await store.head('k'))?.id, ours.id, 'the head did not move')
    const kept = await store.revision(err.kept as string) as Revision
    assert.equal(kept.value, { a: 1, b: 2 })
    assert.equal(kept.parents, [base.id])
    assert.equal((await store.conflicts('k')).map((r) => r.id), [kept.id])
    const keys: string[] = []
    for await (const key of store.conflictedKeys()) keys.push(key)
    assert.equal(keys, ['k'])
    const merged = await store.merge('k', kept.id, { strategy: 'merge' })
    assert.equal(merged.value, { a: 2, b: 2 })
    assert.equal(merged.parents, [ours.id, kept.id])
    assert.equal(await store.conflicts('k'), [])
    const after: string[] = []
    for await (const key of store.conflictedKeys()) after.push(key)
    assert.equal(after, [])
    // Merging again is a no-op: it is already in the head's history.
    assert.is((await store.merge('k', kept.id)).id, merged.id)
  })

  it('manual: an explicit value settles a conflict', async () => {
    const store = await open({ strategy: 'manual' })
    const base = await store.commit('k', 'x')
    await store.commit('k', 'y', { parent: base.id })
    const err = await rejection(store.commit('k', 'z', { parent: base.id })) as ConflictError
    const settled = await store.merge('k', err.kept as string, { value: 'yz', message: 'picked both' })
    assert.is(settled.value, 'yz')
    assert.is(settled.message, 'picked both')
    assert.equal(await store.conflicts('k'), [])
    const again = await rejection(store.commit('k', 'w', { parent: base.id })) as ConflictError
    const e = await rejection(store.merge('k', again.kept as string, { strategy: 'merge' })) as MergeConflictError
    assert.instance(e, MergeConflictError)
    assert.equal(e.conflicts, [{ kind: 'value', path: '', base: 'x', ours: 'yz', theirs: 'w' }])
    assert.instance(await rejection(store.merge('k', again.kept as string, { strategy: 'manual' })), InvalidInputError)
    assert.instance(await rejection(store.merge('k', again.kept as string, { strategy: 'lww', onConflict: 'ours' })), InvalidInputError)
    const head = await store.head('k') as Revision
    const side = await store.revision(again.kept as string) as Revision
    const sideWins = side.time > head.time || (side.time === head.time && side.id > head.id)
    const lww = await store.merge('k', side.id, { strategy: 'lww' })
    assert.is(lww.value, sideWins ? 'w' : 'yz', 'lww merge: the later revision wins, ties to the larger id')
  })

  it('merge() of an unknown revision or one of another key is NotFoundError', async () => {
    const store = await open()
    await store.commit('k', 1)
    const other = await store.commit('o', 1)
    assert.instance(await rejection(store.merge('k', other.id)), NotFoundError)
    assert.instance(await rejection(store.merge('k', 'a'.repeat(64))), NotFoundError)
    assert.instance(await rejection(store.merge('nope', other.id)), NotFoundError)
  })

  itIf(supports.customStrategies)('custom strategies: as objects, registered by name, sync and async', async () => {
    const store = await open()
    const seen: string[] = []
    const sum: Strategy = {
      name: 'sum',
      resolve (ctx) {
        seen.push(`${ctx.mode}:${String(ctx.base)}/${String(ctx.ours)}/${String(ctx.theirs)}`)
        assert.is(ctx.baseRev?.value, ctx.base)
        assert.is(ctx.oursRev.value, ctx.ours)
        assert.is(ctx.theirsRev.value, ctx.theirs)
        return { value: (ctx.ours as number) + (ctx.theirs as number) - (ctx.base as number) }
      }
    }
    const base = await store.commit('n', 10)
    await store.commit('n', 15, { parent: base.id })
    const m = await store.commit('n', 12, { parent: base.id, strategy: sum })
    assert.is(m.value, 17)
    assert.is(m.strategy, 'sum')
    assert.equal(seen, ['commit:10/15/12'])
    store.registerStrategy({ name: 'tomb', resolve: async () => await Promise.resolve({ deleted: true as const }) })
    const d = await store.commit('n', 1, { parent: base.id, strategy: 'tomb' })
    assert.is(d.deleted, true)
    store.registerStrategy({ name: 'picky', resolve: () => ({ conflicts: [{ kind: 'value', path: '/x', base: 1, ours: 2, theirs: 3 }] }) })
    const e = await rejection(store.commit('n', 1, { parent: base.id, strategy: 'picky' })) as MergeConflictError
    assert.equal(e.conflicts, [{ kind: 'value', path: '/x', base: 1, ours: 2, theirs: 3 }])
    store.registerStrategy({ name: 'junk', resolve: () => ({ value: Number.NaN }) })
    assert.instance(await rejection(store.commit('n', 1, { parent: base.id, strategy: 'junk' })), InvalidInputError)
    store.registerStrategy({ name: 'empty', resolve: () => ({}) as never })
    assert.instance(await rejection(store.commit('n', 1, { parent: base.id, strategy: 'empty' })), InvalidInputError)
    store.registerStrategy({ name: 'boom', resolve: () => { throw new Error('strategy bug') } })
    assert.is((await rejection(store.commit('n', 1, { parent: base.id, strategy: 'boom' }))).message, 'strategy bug')
    assert.is(await store.get('n'), undefined, 'failed strategies wrote nothing')
    assert.instance(await rejection(store.commit('n', 1, { strategy: 'nope' })), InvalidInputError)
    assert.throws(() => store.registerStrategy({ name: '' } as unknown as Strategy), (err: Error) => err instanceof InvalidInputError)
  })

  it('an unknown strategy name fails at open and at commit', async () => {
    const err = await rejection(factory.open({ strategy: 'fancy' }))
    assert.instance(err, InvalidInputError)
    assert.match(err.message, /Unknown strategy "fancy".*reject, lww, merge, manual/)
    assert.instance(await rejection(factory.open({ strategies: { 'a:': 'fancy' } })), InvalidInputError)
    const store = await open({ strategies: { 'a:': 'lww', 'a:b:': 'merge' } })
    const base = await store.commit('a:b:1', { x: 1, y: 1 })
    await store.commit('a:b:1', { x: 2, y: 1 }, { parent: base.id })
    const m = await store.commit('a:b:1', { x: 1, y: 2 }, { parent: base.id })
    assert.equal(m.value, { x: 2, y: 2 }, 'longest prefix (merge) wins over a:')
  })

  it('bad keys and values are refused with InvalidInputError and nothing is stored', async () => {
    const store = await open({ maxValueBytes: 100 })
    const badKeys: unknown[] = ['', 'a\u0000b', 'x'.repeat(1025), 'é'.repeat(513), 42, null, undefined]
    for (const key of badKeys) {
      const err = await rejection(store.commit(key as string, 1))
      assert.instance(err, InvalidInputError, `key ${String(key).slice(0, 10)} is refused`)
      assert.is((err as InvalidInputError).code, 'REVKV_INVALID')
      assert.is((err as InvalidInputError).status, 400)
    }
    await store.commit('x'.repeat(1024), 1)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const badValues: unknown[] = [undefined, Number.NaN, Infinity, { a: () => 1 }, new Date(), cyclic, [1, Symbol('s')], 10n, { big: 'x'.repeat(200) }]
    for (const value of badValues) {
      const err = await rejection(store.commit('v', value as JsonValue))
      assert.instance(err, InvalidInputError)
    }
    assert.match((await rejection(store.commit('v', { a: [1, Number.NaN] } as JsonValue))).message, /\/a\/1/)
    assert.match((await rejection(store.commit('v', { big: 'x'.repeat(200) }))).message, /maxValueBytes/)
    assert.instance(await rejection(store.commit('v', 1, { parent: 'abc' })), InvalidInputError)
    assert.instance(await rejection(store.delete('v', { parent: null })), InvalidInputError)
    assert.instance(await rejection(store.get('v', { rev: 'zz' })), InvalidInputError)
    assert.instance(await rejection(store.revision('nope')), InvalidInputError)
    assert.is(await store.head('v'), undefined, 'nothing was stored for refused values')
  })

  it('log: newest first, limit, firstParent', async () => {
    const store = await open({ strategy: 'lww' })
    const r1 = await store.commit('k', 1)
    const r2 = await store.commit('k', 2)
    const side = await store.commit('k', 3, { parent: r1.id })
    const log = await history(store, 'k')
    assert.is(log[0]?.id, side.id)
    assert.is(log.length, 4)
    for (let i = 1; i < log.length; i++) assert.ok((log[i - 1] as Revision).height >= (log[i] as Revision).height)
    const first: Revision[] = []
    for await (const rev of store.log('k', { firstParent: true })) first.push(rev)
    assert.equal(first.map((r) => r.id), [side.id, r2.id, r1.id])
    const limited: Revision[] = []
    for await (const rev of store.log('k', { limit: 2 })) limited.push(rev)
    assert.is(limited.length, 2)
    assert.equal(await history(store, 'missing'), [])
  })

  it('diff gives RFC 6902 operations between two revisions', async () => {
    const store = await open()
    const r1 = await store.commit('k', { a: 1, b: [1] })
    const r2 = await store.commit('k', { a: 2, b: [1, 2], c: null })
    const ops = await store.diff('k', r1.id, r2.id)
    // fast-json-patch lists changes to existing members (deepest first) before added ones.
    assert.equal(ops, [
      { op: 'add', path: '/b/1', value: 2 },
      { op: 'replace', path: '/a', value: 2 },
      { op: 'add', path: '/c', value: null }
    ])
    assert.equal(await store.diff('k', r2.id, r2.id), [])
    const t = await store.delete('k')
    assert.equal(await store.diff('k', r2.id, t.id), [{ op: 'remove', path: '' }])
    const s1 = await store.commit('s', 'a')
    const s2 = await store.commit('s', ['a'])
    assert.equal(await store.diff('s', s1.id, s2.id), [{ op: 'replace', path: '', value: ['a'] }])
    assert.instance(await rejection(store.diff('k', s1.id, r2.id)), NotFoundError)
  })

  it('keys lists live keys in order, with prefix, limit and after', async () => {
    const store = await open()
    for (const key of ['b', 'a', 'c/1', 'c/2', 'c/3', 'd']) await store.commit(key, 1)
    await store.delete('d')
    const list = async (options = {}): Promise<string[]> => {
      const out: string[] = []
      for await (const key of store.keys(options)) out.push(key)
      return out
    }
    assert.equal(await list(), ['a', 'b', 'c/1', 'c/2', 'c/3'])
    assert.equal(await list({ prefix: 'c/' }), ['c/1', 'c/2', 'c/3'])
    assert.equal(await list({ prefix: 'c/', limit: 2 }), ['c/1', 'c/2'])
    assert.equal(await list({ prefix: 'c/', after: 'c/1' }), ['c/2', 'c/3'])
    assert.equal(await list({ limit: 0 }), [])
    assert.instance(await rejection(list({ limit: -1 })), InvalidInputError)
  })

  it('resolveRevision: prefixes, ambiguity, HEAD and HEAD~N', async () => {
    const store = await open()
    const revs: Revision[] = []
    for (let i = 0; i < 3; i++) revs.push(await store.commit('k', i))
    const [r0, r1, r2] = revs as [Revision, Revision, Revision]
    assert.is(await store.resolveRevision(r1.id.slice(0, 10)), r1.id)
    assert.is(await store.resolveRevision(r1.id.toUpperCase().slice(0, 8)), r1.id)
    assert.is(await store.resolveRevision('HEAD', { key: 'k' }), r2.id)
    assert.is(await store.resolveRevision('HEAD~2', { key: 'k' }), r0.id)
    assert.instance(await rejection(store.resolveRevision('HEAD~3', { key: 'k' })), NotFoundError)
    assert.instance(await rejection(store.resolveRevision('HEAD')), InvalidInputError)
    assert.instance(await rejection(store.resolveRevision('abc')), InvalidInputError)
    assert.instance(await rejection(store.resolveRevision('xyz123')), InvalidInputError)
    // Make two revisions whose ids share a 4-character prefix (bounded: 65,536 prefixes, birthday bound ~300).
    const byPrefix = new Map<string, string>()
    let pair: [string, string] | undefined
    for (let i = 0; pair === undefined && i < 5000; i++) {
      const rev = await store.commit(`p${i % 7}`, i)
      const prefix = rev.id.slice(0, 4)
      const seen = byPrefix.get(prefix)
      if (seen !== undefined) pair = [seen, rev.id]
      else byPrefix.set(prefix, rev.id)
    }
    assert.ok(pair !== undefined)
    const err = await rejection(store.resolveRevision(pair[0].slice(0, 4)))
    assert.instance(err, InvalidInputError)
    assert.ok(err.message.includes(pair[0]) && err.message.includes(pair[1]), 'the error lists the candidates')
  })

  it('changes: every write gets a strictly increasing sequence number; since, prefix and limit', async () => {
    const store = await open({ strategy: 'manual' })
    const a1 = await store.commit('a', 1)
    const b1 = await store.commit('b/1', 1)
    const a2 = await store.commit('a', 2, { parent: a1.id })
    const kept = (await rejection(store.commit('a', 3, { parent: a1.id })) as ConflictError).kept as string
    const gone = await store.delete('b/1')
    const all: Change[] = []
    for await (const change of store.changes()) all.push(change)
    assert.equal(all.map((c) => [c.key, c.rev, c.deleted === true, c.kept === true]), [
      ['a', a1.id, false, false], ['b/1', b1.id, false, false], ['a', a2.id, false, false], ['a', kept, false, true], ['b/1', gone.id, true, false]
    ])
    for (let i = 1; i < all.length; i++) assert.ok((all[i] as Change).seq > (all[i - 1] as Change).seq, 'strictly increasing')
    const after: Change[] = []
    for await (const change of store.changes({ since: (all[1] as Change).seq })) after.push(change)
    assert.equal(after, all.slice(2))
    const prefixed: Change[] = []
    for await (const change of store.changes({ prefix: 'b/', limit: 1 })) prefixed.push(change)
    assert.equal(prefixed, [all[1]])
    assert.instance(await rejection((async () => { for await (const _ of store.changes({ since: -1 })) break })()), InvalidInputError)
  })

  it('watch: replays from since, then delivers each new change once; a restart from the last seq misses nothing', async () => {
    const store = await open()
    await store.commit('w', 0)
    const seen: Change[] = []
    const abort = new AbortController()
    const watching = (async () => {
      for await (const change of store.watch({ signal: abort.signal })) {
        seen.push(change)
        if (seen.length === 6) abort.abort()
      }
    })()
    for (let i = 1; i <= 5; i++) await store.commit('w', i)
    await watching
    assert.is(seen.length, 6)
    assert.equal(seen.map((c) => c.seq), [...new Set(seen.map((c) => c.seq))].sort((x, y) => x - y), 'in order, each once')
    const history = (await all(store.log('w'))).reverse().map((r) => r.id)
    assert.equal(seen.map((c) => c.rev), history)
    // Resume from the third change: exactly the rest, then the new ones.
    const resumed: Change[] = []
    const again = new AbortController()
    const resuming = (async () => {
      for await (const change of store.watch({ since: (seen[2] as Change).seq, signal: again.signal })) {
        resumed.push(change)
        if (resumed.length === 4) again.abort()
      }
    })()
    await store.commit('w', 6)
    await resuming
    assert.equal(resumed.slice(0, 3), seen.slice(3))
    assert.is((resumed[3] as Change).rev, (await store.head('w'))?.id)
  })

  it('operations on a closed store fail with REVKV_CLOSED; close waits for writes', async () => {
    const store = await factory.open()
    const writes = Array.from({ length: 50 }, async (_, i) => await store.commit(`c${i % 5}`, i))
    await store.close()
    const done = await Promise.allSettled(writes)
    assert.ok(done.every((r) => r.status === 'fulfilled'), 'writes accepted before close() complete')
    const err = await rejection(store.commit('k', 1))
    assert.is((err as RevkvError).code, 'REVKV_CLOSED')
    await store.close()
  })

  /** Refused as bad input, naming the lone surrogate (escaped, so it can be read) and the fix. */
  const refusedText = (err: Error, what: RegExp): void => {
    assert.instance(err, InvalidInputError, err.message)
    assert.is((err as RevkvError).code, 'REVKV_INVALID')
    assert.match(err.message, /lone UTF-16 surrogate/)
    assert.match(err.message, /toWellFormed/)
    assert.match(err.message, what)
  }

  it('keys and strings with lone UTF-16 surrogates are refused before anything is written', async () => {
    const store = await open()
    // Stored as UTF-8, all three would become one LevelDB key (U+FFFD).
    for (const key of ['\ud800', '\udc00']) {
      refusedText(await rejection(store.commit(key, key.codePointAt(0) as number)), /^Key "\\ud[8c]00"/)
      refusedText(await rejection(store.get(key)), /^Key/)
      refusedText(await rejection(store.head(key)), /^Key/)
      refusedText(await rejection(store.delete(key)), /^Key/)
      refusedText(await rejection(all(store.log(key))), /^Key/)
    }
    const fffd = await store.commit('\ufffd', 0xfffd)
    assert.equal(await all(store.keys()), ['\ufffd'])
    // Strings that go into the record: author, message, and any string in the value, member names included.
    refusedText(await rejection(store.commit('k', 1, { author: 'a\ud800' })), /^Option author "a\\ud800"/)
    refusedText(await rejection(store.commit('k', 1, { message: '\udfff!' })), /^Option message/)
    refusedText(await rejection(store.commit('k', { a: [{ b: 'x\udc00' }] })), /the value at \/a\/0\/b contains/)
    refusedText(await rejection(store.commit('k', { a: { ['\ud83d']: 1 } })), /the value at \/a has a member name "\\ud83d"/)
    refusedText(await rejection(store.merge('\ufffd', fffd.id, { author: '\ud800' })), /^Option author/)
    refusedText(await rejection(store.merge('\ufffd', fffd.id, { value: ['\ud800'] })), /\/0/)
    // Prefixes and paging keys are refused too, not silently matched against U+FFFD.
    refusedText(await rejection(all(store.keys({ prefix: '\ud800' }))), /prefix/)
    refusedText(await rejection(all(store.keys({ after: '\ud800' }))), /^Key/)
    refusedText(await rejection(all(store.changes({ prefix: '\udc00' }))), /prefix/)
    refusedText(await rejection(all(store.watch({ prefix: '\udc00' }))), /prefix/)
    // Nothing but the one good write happened.
    assert.equal(await all(store.keys()), ['\ufffd'])
    assert.equal((await all(store.changes())).map((c) => c.key), ['\ufffd'])
    assert.is(await store.get('\ufffd'), 0xfffd)
    assert.is(await store.get('k'), undefined)
    // A surrogate pair is well-formed: an emoji key and value are fine.
    await store.commit('\ud83d\ude00', '\ud83d\ude00')
    assert.is(await store.get('\ud83d\ude00'), '\ud83d\ude00')
  })

  itIf(factory.reopen !== undefined)('after lone surrogates were refused, a reopened store still tells U+FFFD apart from everything else', async () => {
    const reopen = factory.reopen as NonNullable<StoreFactory['reopen']>
    let store = await factory.open()
    await store.commit('\ufffd', 0xfffd)
    for (const key of ['\ud800', '\udc00']) assert.instance(await rejection(store.commit(key, 1)), InvalidInputError)
    store = await reopen(store)
    opened.push(store)
    assert.is(await store.get('\ufffd'), 0xfffd)
    assert.equal(await all(store.keys()), ['\ufffd'])
    assert.equal((await history(store, '\ufffd')).length, 1, 'no other key\'s revision became its parent')
    assert.instance(await rejection(store.get('\ud800')), InvalidInputError)
    if ('verify' in store) assert.equal((await store.verify()).problems, [])
  })

  itIf(factory.reopen !== undefined)('reopen after close keeps everything: heads, history, tombstones, unmerged', async () => {
    const reopen = factory.reopen as NonNullable<StoreFactory['reopen']>
    let store = await factory.open({ strategy: 'manual' })
    const r1 = await store.commit('k', { a: 1 })
    await store.commit('k', { a: 2 }, { parent: r1.id })
    const kept = (await rejection(store.commit('k', { a: 3 }, { parent: r1.id })) as ConflictError).kept as string
    await store.commit('gone', 1)
    await store.delete('gone')
    const before = (await history(store, 'k')).map((r) => r.id)
    store = await reopen(store, { strategy: 'manual' })
    opened.push(store)
    assert.equal((await history(store, 'k')).map((r) => r.id), before)
    assert.equal(await store.get('k'), { a: 2 })
    assert.equal((await store.conflicts('k')).map((r) => r.id), [kept])
    assert.is(await store.get('gone'), undefined)
    assert.is((await store.head('gone'))?.deleted, true)
    const merged = await store.merge('k', kept, { value: { a: 3 } })
    assert.equal(merged.value, { a: 3 })
    assert.equal(await store.conflicts('k'), [])
    // The changes feed goes on from where it was: sequence numbers keep increasing.
    const feed = await all(store.changes())
    const next = await store.commit('k', { a: 4 })
    const newest = (await all(store.changes({ since: (feed[feed.length - 1] as Change).seq })))
    assert.equal(newest.map((c) => c.rev), [next.id])
    assert.equal(feed.slice(-1).map((c) => c.rev), [merged.id], 'the merge made after reopening is in the feed')
    const seqs = feed.map((c) => c.seq)
    assert.equal(seqs, [...seqs].sort((x, y) => x - y))
    assert.is(new Set(seqs).size, seqs.length, 'no sequence number is used twice across the reopen')
  })

  it.run()
  createSuite(factory, supports)
  leaseSuite(factory, supports)
  await asOfSuite(factory)
  batchSuite(factory)
  syncSuite(factory)
}
