/**
 * More of how the write path decides (the second half of write-path-mutants): timestamp
 * validation (ifUnmodifiedSince), duplicate creation (onExists, rename functions and their
 * limits), a transaction's checked reads, `manual` in a batch, store.merge() of revisions
 * with no common ancestor or already merged, the kinds of a custom strategy's conflict
 * places, and the time revisions get from the store's clock. Written against the mutants of
 * src/write-path.ts that survived the first file (see test/mutation/).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MemoryLevel } from 'memory-level'
import { BatchConflictError, ConflictError, InvalidInputError, MergeConflictError, NotFoundError, Store } from '../src/index.js'
import type { ResolveContext, Revision, Strategy } from '../src/index.js'
import { rejection } from './helpers.js'

const short = (rev: Revision | string): string => (typeof rev === 'string' ? rev : rev.id).slice(0, 12)
const iso = (ms: number): string => new Date(ms).toISOString()

/** A store on a fake clock: `at(t)` sets the time new revisions get. */
async function clocked (db = new MemoryLevel<string, string>()): Promise<{ store: Store, at: (t: number) => void, db: MemoryLevel<string, string> }> {
  let now = 1_000
  const store = await Store.open({ db, author: 'ada', clock: () => now })
  return { store, db, at: (t) => { now = t } }
}

/**
 * A real memory-level whose synchronous reads are not declared, as for a database that
 * reads only asynchronously (PostgreSQL's engine has none either): revisions not in the
 * store's caches then load through promises.
 */
function asyncOnlyDb (): MemoryLevel<string, string> {
  const db = new MemoryLevel<string, string>()
  Object.defineProperty(db, 'supports', { value: { ...db.supports, getSync: false } })
  return db
}

const UNMODIFIED_TAIL = '. Nothing was written. Read the key again and redo the change with the new head\'s time.'
const SAME_MS = ' (in the same millisecond as a revision before it, so which one was read cannot be told)'

test('ifUnmodifiedSince: goes ahead while the head is the one read, is refused once it was written or deleted after the date', async () => {
  const { store, at } = await clocked()
  // A key that never existed has no date: the write goes ahead.
  const r1 = await store.commit('k', 1, { ifUnmodifiedSince: new Date(0) })
  assert.equal([r1.time, r1.parents], [1_000, []])
  at(2_000)
  const r2 = await store.commit('k', 2, { ifUnmodifiedSince: new Date(r1.time) })
  assert.equal([r2.time, r2.parents], [2_000, [r1.id]])
  at(3_000)
  // The head (at 2,000) is the one read even though its date is the very millisecond given:
  // its parent was written earlier, so it is the only revision of that millisecond.
  const r3 = await store.commit('k', 3, { ifUnmodifiedSince: new Date(r2.time) })
  assert.equal([r3.parents, r3.value], [[r2.id], 3])

  const later = await rejection(store.commit('k', 4, { ifUnmodifiedSince: new Date(2_500) })) as ConflictError
  assert.instance(later, ConflictError)
  assert.is(later.message, `Conflict: key "k" may have changed since ${iso(2_500)}: its head ${short(r3)} was written at ${iso(3_000)}${UNMODIFIED_TAIL}`)
  assert.equal([later.key, later.expected, later.actual], ['k', null, r3.id])
  // Combined with a parent, both must hold; the error's expected is the parent given.
  const both = await rejection(store.commit('k', 4, { parent: r3.id, ifUnmodifiedSince: new Date(2_999) })) as ConflictError
  assert.instance(both, ConflictError)
  assert.equal([both.key, both.expected, both.actual], ['k', r3.id, r3.id])
  assert.is((await store.head('k'))?.id, r3.id, 'nothing was written')

  at(4_000)
  const gone = await store.delete('k', { ifUnmodifiedSince: new Date(3_000) })
  at(5_000)
  const deleted = await rejection(store.commit('k', 5, { ifUnmodifiedSince: new Date(3_500) }))
  assert.instance(deleted, ConflictError)
  assert.is(deleted.message, `Conflict: key "k" may have changed since ${iso(3_500)}: its head ${short(gone)} was deleted at ${iso(4_000)}${UNMODIFIED_TAIL}`)
  await store.close()
})

test('ifUnmodifiedSince: a head written in the same millisecond as its parent is refused, and the message says why', async () => {
  const { store, at } = await clocked()
  at(7_000)
  const first = await store.commit('k', 1)
  const second = await store.commit('k', 2)
  assert.is(second.time, 7_000)
  const err = await rejection(store.commit('k', 3, { ifUnmodifiedSince: new Date(7_000) }))
  assert.instance(err, ConflictError)
  assert.is(err.message, `Conflict: key "k" may have changed since ${iso(7_000)}: its head ${short(second)} was written at ${iso(7_000)}${SAME_MS}${UNMODIFIED_TAIL}`)
  assert.is((err as ConflictError).actual, second.id)
  // The first revision of a key has no parent: in its own millisecond it is the one read.
  const other = await store.commit('j', 1)
  assert.is((await store.commit('j', 2, { ifUnmodifiedSince: new Date(7_000) })).parents[0], other.id)
  assert.ok(first.id !== second.id)
  await store.close()
})

/**
 * A store reopened (so nothing is cached) on a key of two revisions, at 1,000 and 2,000 ms;
 * `compact` first cuts the older one.
 */
async function reopenedOnTwo (db: MemoryLevel<string, string>, compact: boolean): Promise<{ store: Store, head: Revision }> {
  const { store, at } = await clocked(db)
  await store.commit('k', 1)
  at(2_000)
  const head = await store.commit('k', 2)
  if (compact) await store.compact({ keep: 1 })
  await store.close()
  return { store: await Store.open({ db, clock: () => 3_000 }), head }
}

test('ifUnmodifiedSince: the parent\'s time is read from the database when it is not cached', async () => {
  // Reopened: the head is read with the key, its parent only when the date needs it.
  const { store, head } = await reopenedOnTwo(asyncOnlyDb(), false)
  const next = await store.commit('k', 3, { ifUnmodifiedSince: new Date(head.time) })
  assert.equal(next.parents, [head.id])
  await store.close()
})

test('ifUnmodifiedSince: a parent cut by compaction has an unknown time, so a head in the date\'s millisecond counts as modified', async () => {
  const { store, head } = await reopenedOnTwo(new MemoryLevel(), true)
  const err = await rejection(store.commit('k', 3, { ifUnmodifiedSince: new Date(head.time) }))
  assert.instance(err, ConflictError)
  assert.is(err.message, `Conflict: key "k" may have changed since ${iso(2_000)}: its head ${short(head)} was written at ${iso(2_000)}${SAME_MS}${UNMODIFIED_TAIL}`)
  await store.close()
})

test('onExists: replace writes on top of a live head, rename creates under the first free numbered name', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const head = await store.commit('report.json', 1)
  const replaced = await store.commit('report.json', 2, { parent: null, onExists: 'replace' })
  assert.equal([replaced.key, replaced.parents, replaced.height, replaced.value], ['report.json', [head.id], 2, 2])
  const one = await store.commit('report.json', 3, { parent: null, onExists: 'rename' })
  assert.equal([one.key, one.parents, one.height, one.value], ['report (1).json', [], 1, 3])
  const two = await store.commit('report.json', 4, { parent: null, onExists: 'rename' })
  assert.is(two.key, 'report (2).json')
  assert.is((await store.head('report.json'))?.id, replaced.id, 'the name asked for is untouched')
  // A free name is created under its own name, rename or not.
  assert.is((await store.commit('free', 1, { parent: null, onExists: 'rename' })).key, 'free')
  await store.close()
})

test('rename: the function is asked (key asked for, n) for n = 1, 2, ... until a free name', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  for (const key of ['a', 'a-1', 'a-2']) await store.commit(key, 0)
  const asked: Array<[string, number]> = []
  const rename = (key: string, n: number): string => { asked.push([key, n]); return `${key}-${n}` }
  const rev = await store.commit('a', 1, { parent: null, onExists: 'rename', rename })
  assert.is(rev.key, 'a-3')
  assert.equal(asked, [['a', 1], ['a', 2], ['a', 3]])
  await store.close()
})

test('rename: a function that returns a non-string, the name asked for, a name it gave before, or an invalid key is refused; nothing is written', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  await store.commit('k', 0)
  await store.commit('taken', 0)
  const create = async (rename: (key: string, n: number) => string): Promise<Error> =>
    await rejection(store.commit('k', 1, { parent: null, onExists: 'rename', rename }))

  const number = await create(() => 5 as unknown as string)
  assert.instance(number, InvalidInputError)
  assert.match(number.message, /^The rename function returned .*5.* for \("k", 1\); it must return a key \(a string\)\. Nothing was written\.$/)

  const same = await create((key) => key)
  assert.instance(same, InvalidInputError)
  assert.is(same.message, 'The rename function returned "k" for ("k", 1), a name already found taken; it must give a different name for each n. Nothing was written.')

  // 'taken' is tried for n = 1, found taken, and returned again for n = 2.
  const again = await create(() => 'taken')
  assert.instance(again, InvalidInputError)
  assert.is(again.message, 'The rename function returned "taken" for ("k", 2), a name already found taken; it must give a different name for each n. Nothing was written.')

  // 'taken' for n = 1, then the name first asked for.
  const back = await create((key, n) => n === 1 ? 'taken' : key)
  assert.instance(back, InvalidInputError)
  assert.is(back.message, 'The rename function returned "k" for ("k", 2), a name already found taken; it must give a different name for each n. Nothing was written.')

  const invalid = await create(() => '')
  assert.instance(invalid, InvalidInputError)
  assert.ok(invalid.message.startsWith('The rename function returned "" for ("k", 1), which is not a valid key: '), invalid.message)
  assert.ok(invalid.message.endsWith(' Nothing was written.'), invalid.message)
  assert.instance((invalid as Error & { cause?: unknown }).cause, InvalidInputError)

  const keys: string[] = []
  for await (const key of store.keys()) keys.push(key)
  assert.equal(keys, ['k', 'taken'])
  await store.close()
})

test('rename: the 1,000th candidate may be used; past it the create fails naming the last candidate', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const rename = (key: string, n: number): string => `${key}-${n}`
  await store.batch(Array.from({ length: 1000 }, (_, n) => ({ type: 'commit' as const, key: n === 0 ? 'a' : `a-${n}`, value: n })))
  const last = await store.commit('a', 'last', { parent: null, onExists: 'rename', rename })
  assert.is(last.key, 'a-1000')
  const err = await rejection(store.commit('a', 'more', { parent: null, onExists: 'rename', rename })) as ConflictError
  assert.instance(err, ConflictError)
  assert.is(err.message, `Cannot create "a" under a new name: the first 1000 candidate names are all taken (the last, "a-1000", has head ${short(last)}). ` +
    'Nothing was written. Choose another name, or give a rename function that names more.')
  assert.equal([err.key, err.expected, err.actual], ['a', null, last.id])
  await store.close()
})

test('a parent that is not a revision id, or names a revision of another key when this one has none, is refused', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const head = await store.commit('k', 1)
  const upper = await rejection(store.commit('k', 2, { parent: 'A'.repeat(64) }))
  assert.instance(upper, InvalidInputError)
  assert.is(upper.message, `Option parent must be a revision id (64 lowercase hex characters), got "${'A'.repeat(64)}".`)
  const none = await rejection(store.commit('fresh', 2, { parent: head.id }))
  assert.instance(none, NotFoundError)
  assert.is(none.message, `Parent ${head.id} is not a revision of key "fresh" (it belongs to key "k").`)
  await store.close()
})

test('a transaction\'s read that moved: the refusal says how it was read and what the head is now', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const a1 = await store.commit('a', 1)
  let moved: Revision[] = []
  const err = await rejection(store.transaction(async (tx) => {
    await tx.get('a')
    await tx.get('b')
    // Writes between the snapshot and the commit, as concurrent writers would make.
    moved = [await store.commit('a', 2), await store.commit('b', 1)]
    tx.commit('c', 1)
  }, { retries: 0 })) as BatchConflictError
  assert.instance(err, BatchConflictError)
  const [a2, b1] = moved as [Revision, Revision]
  assert.equal(err.conflicts.map((c) => [c.key, c.code, c.expected, c.actual]), [['a', 'REVKV_CONFLICT', a1.id, a2.id], ['b', 'REVKV_CONFLICT', null, b1.id]])
  assert.is(err.conflicts[0]?.message, `Conflict: key "a" was read at ${short(a1)} but its head is now ${short(a2)}.`)
  assert.is(err.conflicts[1]?.message, `Conflict: key "b" was read absent but its head is now ${short(b1)}.`)
  assert.is(await store.head('c'), undefined, 'nothing was written')
  await store.close()
})

test('a transaction that read a key as absent, still absent, commits', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const result = await store.transaction(async (tx) => {
    assert.is(await tx.get('missing'), undefined)
    tx.commit('other', 1)
    return 'done'
  }, { retries: 0 })
  assert.is(result, 'done')
  assert.is(await store.get('other'), 1)
  assert.is(await store.head('missing'), undefined)
  await store.close()
})

test('manual in a batch: a stale op is refused, not kept, and the refusal says what it was based on', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const base = await store.commit('k', 1)
  const head = await store.commit('k', 2)
  const live = await store.commit('j', 1)
  const err = await rejection(store.batch([
    { type: 'commit', key: 'x', value: 1 },
    { type: 'commit', key: 'k', value: 3, parent: base.id, strategy: 'manual' },
    { type: 'commit', key: 'j', value: 2, parent: null, strategy: 'manual' }
  ])) as BatchConflictError
  assert.instance(err, BatchConflictError)
  const tail = 'Under the manual strategy a single write would be kept unmerged, but a batch is all or nothing, so nothing of it was written.'
  assert.equal(err.conflicts.map((c) => [c.index, c.key, c.code, c.expected, c.actual]), [[1, 'k', 'REVKV_CONFLICT', base.id, head.id], [2, 'j', 'REVKV_CONFLICT', null, live.id]])
  assert.is(err.conflicts[0]?.message, `Conflict on key "k": the write was based on ${short(base)} but the head is ${short(head)}. ${tail}`)
  assert.is(err.conflicts[1]?.message, `Conflict on key "j": the write was based on nothing (create only) but the head is ${short(live)}. ${tail}`)
  assert.equal(await store.conflicts('k'), [], 'nothing kept')
  assert.is(await store.head('x'), undefined)
  await store.close()
})

test('store.merge: a revision with no common ancestor is merged with no base; the merge revision is stored', async () => {
  const store = await Store.open({ db: new MemoryLevel(), author: 'ada' })
  const head = await store.commit('k', { a: 1 })
  // A create-only write kept unmerged: a root of its own, sharing no history with the head.
  const kept = (await rejection(store.commit('k', { b: 2 }, { parent: null, strategy: 'manual' })) as ConflictError).kept as string
  const asked: ResolveContext[] = []
  const strategy: Strategy = { name: 'both', resolve: (ctx) => { asked.push(ctx); return { value: { ...(ctx.ours as object), ...(ctx.theirs as object) } } } }
  const merged = await store.merge('k', kept, { strategy })
  assert.equal([asked[0]?.base, asked[0]?.baseRev, asked[0]?.mode], [undefined, undefined, 'merge'])
  assert.equal([merged.parents, merged.height, merged.value, merged.strategy], [[head.id, kept], 2, { a: 1, b: 2 }, 'both'])
  assert.equal(await store.revision(merged.id), merged)
  assert.equal(await store.conflicts('k'), [])
  await store.close()
})

test('a stale write settled by a strategy: both its own revision and the merge are stored', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const base = await store.commit('k', 1)
  await store.commit('k', 2)
  const merged = await store.commit('k', 3, { parent: base.id, strategy: 'lww' })
  const own = await store.revision(merged.parents[1] as string)
  assert.equal([own?.parents, own?.value], [[base.id], 3])
  assert.equal(await store.revision(merged.id), merged)
  await store.close()
})

test('store.merge: a kept revision already in the head\'s history leaves conflicts() and changes nothing else', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const base = await store.commit('k', 1)
  await store.commit('k', 2)
  const kept = (await rejection(store.commit('k', 3, { parent: base.id, strategy: 'manual' })) as ConflictError).kept as string
  // A write based on the kept revision, settled by lww: the head now holds it in its history.
  const head = await store.commit('k', 4, { parent: kept, strategy: 'lww' })
  assert.equal((await store.conflicts('k')).map((r) => r.id), [kept])
  const merged = await store.merge('k', kept)
  assert.is(merged.id, head.id)
  assert.equal(await store.conflicts('k'), [])
  assert.is((await store.head('k'))?.id, head.id)
  await store.close()
})

/**
 * A store whose head is an ancestor of a revision it keeps unmerged. A single store cannot
 * make one (its head only moves forward); sync can: `here` and `there` diverge, `there`
 * keeps here's head unmerged and writes on top of it (kept too), and pulling that back
 * here, under manual, keeps both of there's revisions beside this head.
 */
async function headBelowKept (): Promise<{ here: Store, there: Store, head: Revision, kept: string }> {
  const here = await Store.open({ db: new MemoryLevel() })
  await here.commit('k', { n: 0 })
  const there = await Store.clone(here, { db: new MemoryLevel() })
  await there.commit('k', { n: 1, there: true })
  const head = await here.commit('k', { n: 2 })
  await there.pull(here, { strategy: 'manual' })
  const kept = (await rejection(there.commit('k', { n: 3 }, { parent: head.id, strategy: 'manual' })) as ConflictError).kept as string
  await here.pull(there, { strategy: 'manual' })
  assert.is((await here.head('k'))?.id, head.id)
  assert.ok((await here.conflicts('k')).some((r) => r.id === kept), 'kept here too')
  return { here, there, head, kept }
}

test('store.merge: a revision that has the head in its history fast-forwards, and leaves conflicts()', async () => {
  const { here, there, head, kept } = await headBelowKept()
  const asked: ResolveContext[] = []
  const moved = await here.merge('k', kept, { strategy: { name: 'never', resolve: (ctx) => { asked.push(ctx); return { value: null } } } })
  assert.is(asked.length, 0, 'no strategy is asked')
  assert.equal([moved.id, moved.parents], [kept, [head.id]])
  assert.is((await here.head('k'))?.id, kept)
  assert.not.ok((await here.conflicts('k')).some((r) => r.id === kept))
  await here.close()
  await there.close()
})

test('store.merge: an explicit value records a merge revision even where the merge could fast-forward', async () => {
  const { here, there, head, kept } = await headBelowKept()
  const merged = await here.merge('k', kept, { value: { n: 4 } })
  assert.equal([merged.parents, merged.height, merged.strategy, merged.value], [[head.id, kept], 4, 'manual', { n: 4 }])
  assert.is((await here.head('k'))?.id, merged.id)
  assert.not.ok((await here.conflicts('k')).some((r) => r.id === kept))
  await here.close()
  await there.close()
})

test('a custom strategy\'s object stays its own: the stored value is a copy, and the object is not frozen', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const base = await store.commit('k', { n: 0 })
  await store.commit('k', { n: 1 })
  const results: Array<{ n: number }> = []
  const strategy: Strategy = { name: 'mine', resolve: () => { const value = { n: 9 }; results.push(value); return { value } } }
  const merged = await store.commit('k', { n: 2 }, { parent: base.id, strategy })
  const kept = (await rejection(store.commit('k', { n: 3 }, { parent: base.id, strategy: 'manual' })) as ConflictError).kept as string
  const joined = await store.merge('k', kept, { strategy })
  for (const value of results) {
    assert.not.ok(Object.isFrozen(value), 'the strategy\'s object is not frozen')
    value.n = 100
  }
  assert.equal([merged.value, joined.value], [{ n: 9 }, { n: 9 }])
  assert.equal(await store.get('k'), { n: 9 })
  await store.close()
})

test('a custom strategy\'s conflict places keep their kind; a place without one is a value place', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const base = await store.commit('k', { list: [1, 2] })
  await store.commit('k', { list: [1, 3] })
  const range = { kind: 'range', path: '/list/1', base: [2], ours: [3], theirs: [4] }
  const strategy = { name: 'places', resolve: () => ({ conflicts: [{ path: '/x', ours: 1, theirs: 2 }, range] }) } as unknown as Strategy
  const err = await rejection(store.commit('k', { list: [1, 4] }, { parent: base.id, strategy })) as MergeConflictError
  assert.instance(err, MergeConflictError)
  assert.equal(err.conflicts, [{ path: '/x', ours: 1, theirs: 2, kind: 'value' }, range])
  await store.close()
})

test('a revision\'s time is the store clock\'s when its write is decided; a batch\'s revisions, merges included, share one reading', async () => {
  let now = 10_000
  const store = await Store.open({ db: new MemoryLevel(), clock: () => now++ })
  const base = await store.commit('k', 1)
  assert.ok(Number.isInteger(base.time) && base.time >= 10_000, `a write has the clock's time (${base.time})`)
  await store.commit('k', 2)
  const merged = await store.commit('k', 3, { parent: base.id, strategy: 'lww' })
  assert.ok(Number.isInteger(merged.time) && merged.time > 10_001, `a merge has a time (${merged.time})`)
  const own = await store.revision(merged.parents[1] as string)
  assert.ok(Number.isInteger(own?.time), 'a stale write\'s own revision has a time')
  const [a, k] = await store.batch([
    { type: 'commit', key: 'a', value: 1 },
    { type: 'commit', key: 'k', value: 4, parent: base.id, strategy: 'lww' }
  ])
  const side = await store.revision(k?.parents[1] as string)
  assert.ok(Number.isInteger(a?.time), 'a batch revision has a time')
  assert.equal([k?.time, side?.time], [a?.time, a?.time], 'one reading for the whole batch')
  await store.close()
})

test.run()
