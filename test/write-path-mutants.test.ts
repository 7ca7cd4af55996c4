/**
 * How the write path decides a write: which parent and height a revision gets, what a
 * strategy is asked (base, ours, theirs, mode) and what each of its answers does, and the
 * exact errors. Written to kill the mutants of src/write-path.ts (its decision part) that
 * the store suite let live (see test/mutation/).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MemoryLevel } from 'memory-level'
import { ConflictError, InvalidInputError, MergeConflictError, NotFoundError, Store } from '../src/index.js'
import type { ResolveContext, Revision, Strategy } from '../src/index.js'
import { rejection } from './helpers.js'

const open = async (): Promise<Store> => await Store.open({ db: new MemoryLevel(), author: 'ada' })

/** A strategy that records what it is asked and answers with `answer`. */
function asking (answer: (ctx: ResolveContext) => unknown): { strategy: Strategy, asked: ResolveContext[] } {
  const asked: ResolveContext[] = []
  return { asked, strategy: { name: 'asking', resolve: (ctx) => { asked.push(ctx); return answer(ctx) as never } } }
}

const short = (rev: Revision): string => rev.id.slice(0, 12)

test('plain writes: parents and heights follow the head, create-only on a deleted key starts from the tombstone', async () => {
  const store = await open()
  const r1 = await store.commit('k', 1)
  assert.equal([r1.parents, r1.height], [[], 1])
  const r2 = await store.commit('k', 2, { parent: r1.id })
  assert.equal([r2.parents, r2.height], [[r1.id], 2])
  const r3 = await store.commit('k', 3)
  assert.equal([r3.parents, r3.height], [[r2.id], 3])
  const gone = await store.delete('k', { parent: r3.id })
  assert.equal([gone.parents, gone.height, gone.deleted], [[r3.id], 4, true])
  const again = await store.commit('k', 5, { parent: null })
  assert.equal([again.parents, again.height, again.value], [[gone.id], 5, 5])
  const fresh = await store.commit('new', 'x', { parent: null })
  assert.equal([fresh.parents, fresh.height], [[], 1])
  await store.close()
})

test('deleting what is not there names the key and says which case it is', async () => {
  const store = await open()
  const missing = await rejection(store.delete('nope'))
  assert.instance(missing, NotFoundError)
  assert.is(missing.message, 'Cannot delete key "nope": it does not exist.')
  await store.commit('k', 1)
  await store.delete('k')
  const twice = await rejection(store.delete('k'))
  assert.instance(twice, NotFoundError)
  assert.is(twice.message, 'Cannot delete key "k": it is already deleted.')
  await store.close()
})

test('a stale parent: its own revision is parent + 1 high, the strategy sees base, ours and theirs, the merge joins head and it', async () => {
  const store = await open()
  const base = await store.commit('k', { a: 1, b: 1 })
  const head = await store.commit('k', { a: 2, b: 1 }, { parent: base.id })
  const { strategy, asked } = asking((ctx) => ({ value: { ...(ctx.ours as object), ...(ctx.theirs as object), by: ctx.mode } }))
  const merged = await store.commit('k', { a: 1, b: 3 }, { parent: base.id, strategy, message: 'mine' })
  const ctx = asked[0] as ResolveContext
  assert.is(asked.length, 1)
  assert.is(ctx.key, 'k')
  assert.is(ctx.mode, 'commit')
  assert.equal([ctx.base, ctx.ours, ctx.theirs], [{ a: 1, b: 1 }, { a: 2, b: 1 }, { a: 1, b: 3 }])
  assert.is(ctx.baseRev?.id, base.id)
  assert.is(ctx.oursRev.id, head.id)
  const theirs = ctx.theirsRev
  assert.equal([theirs.parents, theirs.height, theirs.message, theirs.author], [[base.id], 2, 'mine', 'ada'])
  assert.equal(merged.parents, [head.id, theirs.id])
  assert.is(merged.height, 3)
  assert.is(merged.message, `Merge ${short(theirs)} into ${short(head)} (asking)`)
  assert.is(merged.strategy, 'asking')
  assert.is(merged.author, 'ada')
  assert.equal(merged.value, { a: 1, b: 3, by: 'commit' })
  assert.is((await store.head('k'))?.id, merged.id)
  await store.close()
})

test('a stale parent that is not an ancestor of the head: the base is their nearest common ancestor', async () => {
  const store = await open()
  const root = await store.commit('k', 0)
  const left = await store.commit('k', 1, { parent: root.id })
  const kept = (await rejection(store.commit('k', 2, { parent: root.id, strategy: 'manual' })) as ConflictError).kept as string
  const { strategy, asked } = asking(() => ({ value: 'settled' }))
  // Based on the kept side revision, which the head never saw: base = root.
  await store.commit('k', 3, { parent: kept, strategy })
  assert.is(asked[0]?.baseRev?.id, root.id)
  assert.equal([asked[0]?.base, asked[0]?.ours, asked[0]?.theirs], [0, 1, 3])
  assert.is(asked[0]?.oursRev.id, left.id)
  await store.close()
})

test('create-only on a live key: the strategy sees no base; reject says the key exists', async () => {
  const store = await open()
  const head = await store.commit('k', { a: 1 })
  const { strategy, asked } = asking(() => ({ reject: true }))
  const err = await rejection(store.commit('k', { a: 2 }, { parent: null, strategy }))
  assert.instance(err, ConflictError)
  assert.not.instance(err, MergeConflictError)
  assert.equal([asked[0]?.base, asked[0]?.baseRev, asked[0]?.theirsRev.parents, asked[0]?.theirsRev.height], [undefined, undefined, [], 1])
  assert.equal({ ...(err as ConflictError) }, { ...(err as ConflictError), key: 'k', expected: null, actual: head.id })
  assert.is(err.message, `Conflict: key "k" already exists (head ${short(head)}) and the write was create-only (parent null). ` +
    'Read the head again and redo the change, or choose a strategy (lww, merge, manual) that settles stale writes.')
  const stale = await store.commit('k', { a: 3 })
  const again = await rejection(store.commit('k', { a: 4 }, { parent: head.id }))
  assert.is(again.message, `Conflict: the write to key "k" was based on ${short(head)} but the head is now ${short(stale)}. ` +
    'Read the head again and redo the change, or choose a strategy (lww, merge, manual) that settles stale writes.')
  assert.equal([(again as ConflictError).expected, (again as ConflictError).actual], [head.id, stale.id])
  await store.close()
})

test('keep: the write is stored unmerged, the head stays, and the error says how to settle it', async () => {
  const store = await open()
  const base = await store.commit('k', 1)
  const head = await store.commit('k', 2)
  const err = await rejection(store.commit('k', 3, { parent: base.id, strategy: 'manual' })) as ConflictError
  const kept = err.kept as string
  assert.is(err.message, `Conflict on key "k": the write was based on ${short(base)} but the head is ${short(head)}. ` +
    `It was kept unmerged as revision ${kept}, so nothing was lost: merge it into the head to settle it.`)
  assert.equal([err.expected, err.actual], [base.id, head.id])
  assert.is((await store.head('k'))?.id, head.id)
  assert.equal((await store.conflicts('k')).map((r) => r.id), [kept])
  const created = await rejection(store.commit('k', 4, { parent: null, strategy: 'manual' }))
  assert.match(created.message, /based on nothing \(create only\) but the head is/)
  await store.close()
})

test('a merge conflict lists each place, the whole value as such, and writes nothing', async () => {
  const store = await open()
  const base = await store.commit('k', { a: 1, b: 1 })
  const head = await store.commit('k', { a: 2, b: 2 })
  const err = await rejection(store.commit('k', { a: 3, b: 3 }, { parent: base.id, strategy: 'merge' })) as MergeConflictError
  assert.instance(err, MergeConflictError)
  assert.is(err.message, 'Merge conflict on key "k" (strategy merge): both sides changed /a, /b differently. Nothing was written. ' +
    'Settle it with an explicit value, with onConflict \'ours\' or \'theirs\', place by place with merge() and resolutions ({ \'<path>\': \'ours\' | \'theirs\' | \'base\' | { value } }), or keep it for later with the manual strategy.')
  assert.equal([err.key, err.expected, err.actual], ['k', base.id, head.id])
  assert.equal(err.conflicts.map((c) => c.path), ['/a', '/b'])
  const whole = await rejection(store.commit('k', 7, { parent: base.id, strategy: asking(() => ({ conflicts: [{ path: '' }] })).strategy }))
  assert.match(whole.message, /both sides changed \(the whole value\) differently/)
  assert.is((await store.head('k'))?.id, head.id)
  await store.close()
})

test('a strategy may delete; a deleted head is undefined to it; its answer must be one of the documented shapes', async () => {
  const store = await open()
  const base = await store.commit('k', 1)
  const gone = await store.delete('k')
  const { strategy, asked } = asking(() => ({ deleted: true }))
  const merged = await store.commit('k', 2, { parent: base.id, strategy })
  assert.equal([asked[0]?.ours, asked[0]?.base, asked[0]?.theirs], [undefined, 1, 2])
  assert.equal([merged.deleted, merged.value, merged.parents[0]], [true, undefined, gone.id])
  const head = await store.commit('k', 5)
  for (const answer of [null, 5, {}, { conflicts: [] }, { conflicts: 'x' }, { deleted: false }, { reject: 1 }, { keep: 'yes' }]) {
    const err = await rejection(store.commit('k', 6, { parent: base.id, strategy: { name: 'junk', resolve: () => answer as never } }))
    assert.instance(err, InvalidInputError)
    assert.ok(err.message.startsWith('Strategy "junk" returned '), err.message)
    assert.ok(err.message.endsWith('; a strategy must return { value }, { deleted: true } or { conflicts: [...] } (non-empty).'), err.message)
  }
  assert.is((await store.head('k'))?.id, head.id, 'nothing was written')
  const kept = await rejection(store.commit('k', 7, { parent: base.id, strategy: { name: 'keeper', resolve: () => ({ keep: true }) } }))
  assert.instance(kept, ConflictError)
  assert.ok((kept as ConflictError).kept !== undefined, 'keep is a kept conflict')
  await store.close()
})

test('a value strategy result is accepted as is', async () => {
  const store = await open()
  const base = await store.commit('k', 1)
  await store.commit('k', 2)
  const merged = await store.commit('k', 3, { parent: base.id, strategy: { name: 'nul', resolve: () => ({ value: null }) } })
  assert.is(merged.value, null)
  await store.close()
})

test('store.merge: errors name the key and the revision; a revision already in history changes nothing', async () => {
  const store = await open()
  const missing = await rejection(store.merge('none', 'a'.repeat(64)))
  assert.instance(missing, NotFoundError)
  assert.is(missing.message, 'Key "none" does not exist, so there is nothing to merge into.')
  const r1 = await store.commit('k', 1)
  const other = await store.commit('other', 1)
  const foreign = await rejection(store.merge('k', other.id))
  assert.instance(foreign, NotFoundError)
  assert.is(foreign.message, `Revision ${other.id} is not a revision of key "k" (it belongs to key "other").`)
  const unknown = await rejection(store.merge('k', 'b'.repeat(64)))
  assert.is(unknown.message, `Revision ${'b'.repeat(64)} is not a revision of key "k".`)
  const parentElsewhere = await rejection(store.commit('k', 2, { parent: other.id }))
  assert.is(parentElsewhere.message, `Parent ${other.id} is not a revision of key "k" (it belongs to key "other").`)
  const badParent = await rejection(store.commit('k', 2, { parent: 'xyz' }))
  assert.instance(badParent, InvalidInputError)
  assert.match(badParent.message, /^Option parent must be a revision id/)
  const r2 = await store.commit('k', 2)
  assert.is((await store.merge('k', r1.id)).id, r2.id, 'already merged: the head comes back')
  assert.is((await store.head('k'))?.id, r2.id)
  await store.close()
})

test('store.merge: the strategy is asked in merge mode with the common base; reject and manual cannot settle; an explicit value is manual', async () => {
  const store = await open()
  const base = await store.commit('k', { a: 0 })
  const head = await store.commit('k', { a: 1 })
  const kept = (await rejection(store.commit('k', { a: 2 }, { parent: base.id, strategy: 'manual' })) as ConflictError).kept as string
  for (const name of ['reject', 'manual']) {
    const err = await rejection(store.merge('k', kept, { strategy: name }))
    assert.instance(err, InvalidInputError)
    assert.is(err.message, `Strategy "${name}" cannot settle a merge; use strategy 'merge' or 'lww', or give an explicit value.`)
  }
  const conflict = await rejection(store.merge('k', kept)) as MergeConflictError
  assert.instance(conflict, MergeConflictError)
  assert.equal([conflict.expected, conflict.actual, conflict.conflicts.map((c) => c.path)], [kept, head.id, ['/a']])
  const { strategy, asked } = asking(() => ({ value: { a: 9 } }))
  const merged = await store.merge('k', kept, { strategy })
  assert.equal([asked[0]?.mode, asked[0]?.baseRev?.id, asked[0]?.base, asked[0]?.ours, asked[0]?.theirs], ['merge', base.id, { a: 0 }, { a: 1 }, { a: 2 }])
  assert.equal([merged.parents, merged.height, merged.strategy, merged.value], [[head.id, kept], 3, 'asking', { a: 9 }])
  assert.is(merged.message, `Merge ${kept.slice(0, 12)} into ${short(head)} (asking)`)
  assert.equal(await store.conflicts('k'), [], 'merging a kept revision settles it')

  const kept2 = (await rejection(store.commit('k', { a: 3 }, { parent: base.id, strategy: 'manual' })) as ConflictError).kept as string
  const explicit = await store.merge('k', kept2, { value: { a: 'x' } })
  assert.equal([explicit.strategy, explicit.value, explicit.parents], ['manual', { a: 'x' }, [merged.id, kept2]])
  assert.equal(await store.conflicts('k'), [])
  await store.close()
})

test('store.merge: a custom strategy that answers reject or keep cannot settle a merge; the merge is one above the higher side', async () => {
  const store = await open()
  const base = await store.commit('k', 0)
  await store.commit('k', 1)
  const kept = (await rejection(store.commit('k', 1.5, { parent: base.id, strategy: 'manual' })) as ConflictError).kept as string
  // Three more on the head's line, so the head is higher than the kept side revision.
  for (let i = 2; i < 5; i++) await store.commit('k', i)
  const head = await store.head('k') as Revision
  for (const answer of [{ reject: true }, { keep: true }]) {
    const err = await rejection(store.merge('k', kept, { strategy: { name: 'custom', resolve: () => answer as never } }))
    assert.instance(err, InvalidInputError)
    assert.is(err.message, 'Strategy "custom" cannot settle a merge; use strategy \'merge\' or \'lww\', or give an explicit value.')
  }
  const merged = await store.merge('k', kept, { strategy: 'lww' })
  assert.is(merged.height, head.height + 1)
  await store.close()
})

test('a parent dropped by compaction is named as such', async () => {
  const store = await open()
  const old = await store.commit('k', 1)
  await store.commit('k', 2)
  await store.commit('k', 3)
  await store.compact({ keep: 1 })
  const err = await rejection(store.commit('k', 4, { parent: old.id }))
  assert.instance(err, NotFoundError)
  assert.is(err.message, `Parent ${old.id} of key "k" was dropped by compaction: history was cut before it.`)
  const other = await rejection(store.merge('other-key', old.id).catch(async () => await store.commit('j', 1).then(async () => await store.merge('j', old.id))))
  assert.match(other.message, /is not a revision of key "j"\.$/)
  await store.close()
})

test.run()
