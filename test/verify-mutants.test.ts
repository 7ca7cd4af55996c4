/**
 * verify() on small stores damaged one record at a time, each report compared whole: every
 * problem's kind, key, revision and message, and nothing else. A real memory-level store
 * (fast: a mutant costs one run of these tests), read by the LevelDB engine, as
 * verify.test.ts does on disk. Written to kill the mutants of src/verify.ts that
 * verify.test.ts let live (see test/mutation/).
 */
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConflictError, Store } from '../src/index.js'
import type { VerifyProblem, VerifyReport } from '../src/index.js'
import { hashRecord } from '../src/revision.js'
import { verifyStore } from '../src/verify.js'
import { LevelEngine } from '../src/engines/level/engine.js'
import type { RevkvDatabase } from '../src/engines/level/layout.js'

interface Sample {
  a1: string
  a2: string
  b1: string
  b2: string
  c1: string
  c2: string
  c3: string
}

type Db = MemoryLevel<string, string>

/**
 * A store of 7 revisions: a1 → a2; b1 → b2 (a tombstone); c1 → c2, and c3 (a child of c1)
 * kept unmerged beside c2. Damaged by `change`, then verified.
 */
async function verified (change: (db: Db, s: Sample) => Promise<void> = async () => {}, options: { compact?: boolean } = {}): Promise<VerifyReport & { s: Sample }> {
  const db: Db = new MemoryLevel<string, string>()
  const store = await Store.open({ db })
  const a1 = (await store.commit('a', { n: 1 })).id
  const a2 = (await store.commit('a', { n: 2 }, { parent: a1 })).id
  const b1 = (await store.commit('b', 'one')).id
  const b2 = (await store.delete('b', { parent: b1 })).id
  const c1 = (await store.commit('c', 'x')).id
  const c2 = (await store.commit('c', 'y', { parent: c1 })).id
  const c3 = await store.commit('c', 'z', { parent: c1, strategy: 'manual' }).then(() => '', (e: ConflictError) => e.kept as string)
  if (options.compact === true) await store.compact({ keep: 1, prefix: 'a' })
  const s = { a1, a2, b1, b2, c1, c2, c3 }
  await change(db, s)
  const report = await verifyStore(new LevelEngine(db as unknown as RevkvDatabase, 'memory'))
  await store.close()
  return { ...report, s }
}

const q = JSON.stringify

/** Rewrite a stored revision record's fields (its id stays: the hash no longer matches). */
async function rewrite (db: Db, id: string, change: (record: Record<string, unknown>) => void): Promise<void> {
  const record = JSON.parse(await db.get(`r!${id}`) as string) as Record<string, unknown>
  change(record)
  await db.put(`r!${id}`, JSON.stringify(record))
}

const hash = (id: string, key: string): VerifyProblem => ({ kind: 'hash', revision: id, key, message: `Revision ${id} of key ${q(key)} does not hash to its id: its content was changed after it was written.` })

/** Problems in a fixed order, for reports whose order follows revision ids. */
const unordered = (problems: VerifyProblem[]): string[] => problems.map((p) => q(p)).sort()

const NOT_JSON = 'its record is not valid JSON'
const other = 'f'.repeat(64)

test('a sound store: nothing wrong, every revision and key counted; a compacted one too', async () => {
  const report = await verified()
  assert.equal(report.problems, [])
  assert.is(report.revisions, 7)
  assert.is(report.keys, 3)
  const compacted = await verified(async () => {}, { compact: true })
  assert.equal(compacted.problems, [], 'a parent dropped by compaction is no problem, nor its change')
  assert.is(compacted.revisions, 6)
})

test('progress: every 1,000 records read, then the total', async () => {
  const db: Db = new MemoryLevel<string, string>()
  const store = await Store.open({ db })
  let parent: string | null = null
  // 600 commits: 600 revisions, 600 change records, a head and the format record.
  for (let i = 0; i < 600; i++) parent = (await store.commit('k', i, { parent })).id
  const calls: number[] = []
  const report = await verifyStore(new LevelEngine(db as unknown as RevkvDatabase, 'memory'), { onProgress: (n) => calls.push(n) })
  assert.equal(report.problems, [])
  assert.equal(calls, [1000, 1202])
  assert.equal((await verifyStore(new LevelEngine(db as unknown as RevkvDatabase, 'memory'))).problems, [], 'progress is optional')
  await store.close()
})

test('a changed value, a wrong height, a parent of another key or missing', async () => {
  const value = await verified(async (db, s) => { await rewrite(db, s.a2, (r) => { r.value = { n: 3 } }) })
  assert.equal(value.problems, [hash(value.s.a2, 'a')])
  const height = await verified(async (db, s) => { await rewrite(db, s.a2, (r) => { r.height = 5 }) })
  assert.equal(height.problems, [hash(height.s.a2, 'a'), { kind: 'height', key: 'a', revision: height.s.a2, message: `Revision ${height.s.a2} of key "a" has height 5; its parents make it 2.` }])
  const root = await verified(async (db, s) => { await rewrite(db, s.a1, (r) => { r.height = 2 }) })
  // Revisions are checked in id order, which differs from run to run (ids hash the time).
  assert.equal(unordered(root.problems), unordered([hash(root.s.a1, 'a'), { kind: 'height', key: 'a', revision: root.s.a1, message: `Revision ${root.s.a1} of key "a" has height 2; its parents make it 1.` },
    { kind: 'height', key: 'a', revision: root.s.a2, message: `Revision ${root.s.a2} of key "a" has height 2; its parents make it 3.` }]), 'a root is height 1, and its child follows the stored height')
  const foreign = await verified(async (db, s) => { await rewrite(db, s.a2, (r) => { r.parents = [s.b1] }) })
  assert.equal(foreign.problems, [hash(foreign.s.a2, 'a'),
    { kind: 'parent', key: 'a', revision: foreign.s.a2, message: `Revision ${foreign.s.a2} of key "a" names parent ${foreign.s.b1}, a revision of key "b".` }])
  const gone = await verified(async (db, s) => { await db.del(`r!${s.b1}`) })
  assert.equal(gone.problems, [
    { kind: 'parent', key: 'b', revision: gone.s.b2, message: `Revision ${gone.s.b2} of key "b" names parent ${gone.s.b1}, which is missing.` },
    { kind: 'index', key: 'b', revision: gone.s.b1, message: `The changes feed names revision ${gone.s.b1} of key "b", which is missing.` }
  ])
  assert.is(gone.revisions, 6)
  // A parent of another key beside one of its own: the height is not judged (one parent is wrong already).
  const mixed = await verified(async (db, s) => { await rewrite(db, s.c2, (r) => { r.parents = [s.c1, s.b1]; r.height = 5 }) })
  assert.equal(mixed.problems, [hash(mixed.s.c2, 'c'),
    { kind: 'parent', key: 'c', revision: mixed.s.c2, message: `Revision ${mixed.s.c2} of key "c" names parent ${mixed.s.b1}, a revision of key "b".` }])
  // Two parents: the height follows the higher one.
  const merged = await verified(async (db, s) => { await rewrite(db, s.c2, (r) => { r.parents = [s.c1, s.c3]; r.height = 2 }) })
  assert.equal(merged.problems, [hash(merged.s.c2, 'c'), { kind: 'height', key: 'c', revision: merged.s.c2, message: `Revision ${merged.s.c2} of key "c" has height 2; its parents make it 3.` }])
})

test('history cut by compaction: a child may stand higher than its kept parents, not lower; a marker of another key does not cut', async () => {
  const equal = await verified(async (db, s) => { await rewrite(db, s.a2, (r) => { r.height = 1 }) }, { compact: true })
  assert.equal(equal.problems, [hash(equal.s.a2, 'a')], 'height 1 above a dropped parent: nothing is known to be wrong')
  const taller = await verified(async (db, s) => { await rewrite(db, s.a2, (r) => { r.height = 9 }) }, { compact: true })
  assert.equal(taller.problems, [hash(taller.s.a2, 'a')])
  // Beside a dropped parent, a kept one still sets the least height.
  const low = await verified(async (db, s) => {
    // c1 dropped as compaction drops a revision: its record goes, a marker naming its key stays.
    await db.del(`r!${s.c1}`)
    await db.put(`d!${s.c1}`, 'c')
    await rewrite(db, s.c2, (r) => { r.parents = [s.c1, s.c3] })
  })
  assert.equal(low.problems, [hash(low.s.c2, 'c'), { kind: 'height', key: 'c', revision: low.s.c2, message: `Revision ${low.s.c2} of key "c" has height 2; its parents make it 3.` }])
  // A marker beside a record that is still there (as no compaction leaves it): the record counts, not the marker.
  const both = await verified(async (db, s) => {
    await db.put(`d!${s.a1}`, 'a')
    await rewrite(db, s.a2, (r) => { r.height = 5 })
  })
  assert.equal(both.problems, [hash(both.s.a2, 'a'), { kind: 'height', key: 'a', revision: both.s.a2, message: `Revision ${both.s.a2} of key "a" has height 5; its parents make it 2.` }])
  const foreign = await verified(async (db, s) => { await db.put(`d!${s.a1}`, 'b') }, { compact: true })
  assert.equal(foreign.problems, [
    { kind: 'parent', key: 'a', revision: foreign.s.a2, message: `Revision ${foreign.s.a2} of key "a" names parent ${foreign.s.a1}, which is missing.` },
    { kind: 'index', key: 'a', revision: foreign.s.a1, message: `The changes feed names revision ${foreign.s.a1} of key "a", which is missing.` }
  ])
})

test('damaged revision records are reported once each, with the key a reference gives them', async () => {
  const parent = await verified(async (db, s) => { await db.put(`r!${s.a1}`, '{"key":') })
  assert.equal(parent.problems, [{ kind: 'corrupt', revision: parent.s.a1, key: 'a', message: `Revision ${parent.s.a1} of key "a" cannot be read: ${NOT_JSON}.` }])
  assert.is(parent.revisions, 7, 'a damaged record is still counted')
  const head = await verified(async (db, s) => { await db.put(`r!${s.c2}`, '[') })
  assert.equal(head.problems, [{ kind: 'corrupt', revision: head.s.c2, key: 'c', message: `Revision ${head.s.c2} of key "c" cannot be read: ${NOT_JSON}; it is the head of the key, so get, log, commit and export of it fail.` }])
  const kept = await verified(async (db, s) => { await db.put(`r!${s.c3}`, '[') })
  assert.equal(kept.problems, [{ kind: 'corrupt', revision: kept.s.c3, key: 'c', message: `Revision ${kept.s.c3} of key "c" cannot be read: ${NOT_JSON}.` }])
  const orphan = await verified(async (db) => { await db.put(`r!${other}`, '[') })
  assert.equal(orphan.problems, [{ kind: 'corrupt', revision: other, message: `Revision ${other} (of a key nothing names) cannot be read: ${NOT_JSON}.` }])
  assert.is(orphan.revisions, 8)
  // Named only by the changes feed.
  const fed = await verified(async (db, s) => {
    await db.put(`r!${other}`, '[')
    await db.put('s!ffffffffffffff00', JSON.stringify([['b', other, 0]]))
  })
  assert.equal(fed.problems, [{ kind: 'corrupt', revision: other, key: 'b', message: `Revision ${other} of key "b" cannot be read: ${NOT_JSON}.` }])
  // Readable and sound, but holding a lone surrogate: no hash problem, but it cannot travel in a dump.
  let stored = ''
  const surrogate = await verified(async (db, s) => {
    const text = JSON.stringify({ ...JSON.parse(await db.get(`r!${s.a1}`) as string) as object, value: '\ud800' })
    stored = hashRecord(text)
    await db.put(`r!${stored}`, text)
  })
  assert.is(surrogate.problems.length, 1, q(surrogate.problems))
  const [problem] = surrogate.problems
  assert.equal({ ...problem, message: '' }, { kind: 'corrupt', key: 'a', revision: stored, message: '' })
  assert.ok(problem?.message.startsWith(`Revision ${stored} of key "a" cannot be exported and imported again: `), problem?.message)
  assert.ok(problem?.message.endsWith('.'))
})

test('heads: missing, of another key, tombstone flags either way, a damaged head record', async () => {
  const missing = await verified(async (db) => { await db.put('h!a', q({ head: other })) })
  assert.equal(missing.problems, [{ kind: 'head', key: 'a', revision: other, message: `The head of key "a" is revision ${other}, which is missing.` }])
  const foreign = await verified(async (db, s) => { await db.put('h!a', q({ head: s.b1 })) })
  assert.equal(foreign.problems, [{ kind: 'head', key: 'a', revision: foreign.s.b1, message: `The head of key "a" is revision ${foreign.s.b1}, a revision of key "b".` }])
  const live = await verified(async (db, s) => { await db.put('h!b', q({ head: s.b2 })) })
  assert.equal(live.problems, [{ kind: 'head', key: 'b', revision: live.s.b2, message: `The head record of key "b" says live, but its head revision is a tombstone.` }])
  const dead = await verified(async (db, s) => { await db.put('h!a', q({ head: s.a2, deleted: true })) })
  assert.equal(dead.problems, [{ kind: 'head', key: 'a', revision: dead.s.a2, message: `The head record of key "a" says deleted, but its head revision is not a tombstone.` }])
  const damaged = await verified(async (db) => { await db.put('h!a', 'no') })
  assert.equal(damaged.problems.map((p) => [p.kind, p.key, p.revision]), [['corrupt', 'a', undefined]])
  assert.match(damaged.problems[0]?.message ?? '', /^The head record of key "a" cannot be read: .+\.$/)
  assert.is(damaged.keys, 2, 'a damaged head record is not counted as a key')
})

test('unmerged entries and the conflict index, against heads and revisions', async () => {
  const uncounted = await verified(async (db, s) => { await db.put('h!c', q({ head: s.c2 })) })
  assert.equal(uncounted.problems, [{ kind: 'unmerged', key: 'c', message: 'The head record of key "c" counts 0 unmerged revisions; 1 are stored.' }])
  const overcounted = await verified(async (db, s) => { await db.put('h!a', q({ head: s.a2, unmerged: 2 })) })
  assert.equal(overcounted.problems, [{ kind: 'unmerged', key: 'a', message: 'The head record of key "a" counts 2 unmerged revisions; 0 are stored.' }])
  const unindexed = await verified(async (db) => { await db.del('c!c') })
  assert.equal(unindexed.problems, [{ kind: 'index', key: 'c', message: 'The conflict index misses key "c", which has 1 unmerged revisions.' }])
  const indexed = await verified(async (db) => { await db.put('c!a', '') })
  assert.equal(indexed.problems, [{ kind: 'index', key: 'a', message: 'The conflict index lists key "a", which has 0 unmerged revisions.' }])
  const headless = await verified(async (db) => { await db.put('c!zz', '') })
  assert.equal(headless.problems, [{ kind: 'index', key: 'zz', message: 'The conflict index lists key "zz", which has no head record.' }])
  const stray = await verified(async (db, s) => { await db.put(`u!zz\u0000${s.c3}`, '') })
  assert.equal(stray.problems, [
    { kind: 'unmerged', key: 'zz', message: 'Key "zz" has unmerged revisions but no head record.' },
    { kind: 'unmerged', key: 'zz', revision: stray.s.c3, message: `Unmerged revision ${stray.s.c3} of key "zz" belongs to key "c".` }
  ])
  const lost = await verified(async (db, s) => {
    await db.put(`u!c\u0000${other}`, '')
    await db.put('h!c', q({ head: s.c2, unmerged: 2 }))
  })
  assert.equal(lost.problems, [{ kind: 'unmerged', key: 'c', revision: other, message: `Unmerged revision ${other} of key "c" is missing.` }])
  const damaged = await verified(async (db, s) => { await db.put(`r!${s.c3}`, '[') })
  assert.equal(damaged.problems.map((p) => p.kind), ['corrupt'], 'a damaged kept revision is reported as damaged, not as missing')
})

test('the changes feed: a revision missing or of another key, a damaged change record', async () => {
  const missing = await verified(async (db) => { await db.put('s!ffffffffffffff00', q([['a', other, 0]])) })
  assert.equal(missing.problems, [{ kind: 'index', key: 'a', revision: other, message: `The changes feed names revision ${other} of key "a", which is missing.` }])
  const foreign = await verified(async (db, s) => { await db.put('s!ffffffffffffff00', q([['a', s.c1, 0], ['c', s.c1, 0]])) })
  assert.equal(foreign.problems, [{ kind: 'index', key: 'a', revision: foreign.s.c1, message: `The changes feed names revision ${foreign.s.c1} of key "a", which belongs to key "c".` }])
  // A marker saying the revision was dropped from key a does not excuse it: its record is there, of key c.
  const marked = await verified(async (db, s) => {
    await db.put(`d!${s.c1}`, 'a')
    await db.put('s!ffffffffffffff00', q([['a', s.c1, 0]]))
  })
  assert.equal(marked.problems, [{ kind: 'index', key: 'a', revision: marked.s.c1, message: `The changes feed names revision ${marked.s.c1} of key "a", which belongs to key "c".` }])
  const damaged = await verified(async (db) => { await db.put('s!ffffffffffffff00', '[[') })
  assert.equal(damaged.problems.map((p) => [p.kind, p.key, p.revision]), [['corrupt', undefined, undefined]])
  assert.match(damaged.problems[0]?.message ?? '', /^The change record s!ffffffffffffff00 cannot be read: .+\.$/)
})

test('leases and fencing tokens: sound ones pass, damaged ones are named; unknown records; the layout version', async () => {
  const sound = await verified(async (db) => {
    await db.put('l!a', q({ token: 3, owner: 'w', expires: 1 }))
    await db.put('f!a', '3')
  })
  assert.equal(sound.problems, [])
  const damaged = await verified(async (db) => {
    await db.put('l!a', 'x')
    await db.put('f!b', 'x')
  })
  assert.equal(damaged.problems.map((p) => [p.kind, p.key]), [['corrupt', 'b'], ['corrupt', 'a']])
  assert.match(damaged.problems[0]?.message ?? '', /^The fencing token record of key "b" cannot be read: .+\.$/)
  assert.match(damaged.problems[1]?.message ?? '', /^The lease record of key "a" cannot be read: .+\.$/)
  const long = `zz${'y'.repeat(100)}`
  const unknown = await verified(async (db) => { await db.put(long, '1') })
  assert.equal(unknown.problems, [{ kind: 'unknown', message: `Record ${q(long.slice(0, 80))} is not one revkv writes.` }])
  const unversioned = await verified(async (db) => { await db.del('m!format') })
  assert.equal(unversioned.problems, [{ kind: 'format', message: 'The layout version record is missing.' }])
  const future = await verified(async (db) => { await db.put('m!format', '999') })
  assert.equal(future.problems, [{ kind: 'format', message: 'Unknown layout version 999.' }])
})

test.run()
