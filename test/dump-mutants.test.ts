/**
 * Export and import line by line: the exact lines a store exports (order, markers of cut
 * history, head lines), and the exact refusal, with its line number, of each kind of bad
 * dump line. Real memory-level stores. Written to kill the mutants of src/dump.ts that
 * dump.test.ts let live (see test/mutation/).
 */
import { randomBytes } from 'node:crypto'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConflictError, InvalidInputError, Store } from '../src/index.js'
import type { Revision } from '../src/index.js'
import { importLines } from '../src/dump.js'
import { openLevelDatabase } from '../src/engines/level/engine.js'
import { canonicalJson } from '../src/json.js'
import { hashRecord, parseRecord } from '../src/revision.js'
import { all, instrumentedDb, rejection } from './helpers.js'
import { sharedCluster } from './pg/cluster.js'

const HEADER = JSON.stringify({ revkv: 'dump', format: 1 })
const q = JSON.stringify

/** The line export writes for a revision: its id, then its other fields in canonical order. */
function revisionLine ({ id, ...fields }: Revision): string {
  return `{"revision":{"id":"${id}",${canonicalJson(fields).slice(1)}}`
}

/** A revision line for hand-made fields, its id the hash of their canonical JSON (so only the content can be refused). */
function crafted (fields: Record<string, unknown>): { id: string, line: string } {
  const id = hashRecord(canonicalJson(fields))
  return { id, line: q({ revision: { id, ...fields } }) }
}

const root = (key: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ key, parents: [], height: 1, time: 1, value: 1, ...extra })

/** The refusal of importing `lines` into a new store, checked to have left the store empty. */
async function refusal (lines: string[]): Promise<string> {
  const to = await Store.open({ db: new MemoryLevel() })
  try {
    const err = await rejection(to.import(lines))
    assert.instance(err, InvalidInputError)
    assert.equal(await all(to.keys()), [])
    return err.message
  } finally {
    await to.close()
  }
}

const refused = (line: number, why: string): string => `Import refused at line ${line}: ${why} Nothing was imported.`

test('export: a header, each key\'s revisions parents first (ties by id), its head line with flags, then the counts', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const a1 = await store.commit('a', { n: 1 }, { author: 'ada', message: 'first' })
  const a2 = await store.commit('a', { n: 2 }, { parent: a1.id })
  const b1 = await store.commit('b', 'one')
  const b2 = await store.delete('b', { parent: b1.id })
  const c1 = await store.commit('c', 'x')
  const c2 = await store.commit('c', 'y', { parent: c1.id })
  const c3 = await store.revision(await store.commit('c', 'z', { parent: c1.id, strategy: 'manual' }).then(() => '', (e: ConflictError) => e.kept as string)) as Revision
  const [first, second] = [c2, c3].sort((x, y) => x.id < y.id ? -1 : 1) as [Revision, Revision]
  const expected = [
    HEADER,
    revisionLine(a1), revisionLine(a2), q({ head: { key: 'a', head: a2.id } }),
    revisionLine(b1), revisionLine(b2), q({ head: { key: 'b', head: b2.id, deleted: true } }),
    revisionLine(c1), revisionLine(first), revisionLine(second), q({ head: { key: 'c', head: c2.id, unmerged: [c3.id] } }),
    q({ end: { revisions: 7, heads: 3 } })
  ]
  assert.equal(await all(store.export()), expected)
  assert.equal(await all(store.export({ prefix: 'c' })), [HEADER, ...expected.slice(7, 11), q({ end: { revisions: 3, heads: 1 } })])

  // Cut history travels as markers; the import takes them back and exports the same lines.
  await store.compact({ keep: 1, prefix: 'a' })
  const cut = await all(store.export({ prefix: 'a' }))
  assert.equal(cut, [HEADER, q({ dropped: { id: a1.id, key: 'a' } }), revisionLine(a2), q({ head: { key: 'a', head: a2.id } }), q({ end: { revisions: 1, heads: 1 } })])
  const db = new MemoryLevel<string, string>()
  const to = await Store.open({ db })
  assert.equal(await to.import(cut), { revisions: 1, heads: 1, keys: ['a'] })
  assert.equal(await all(to.export()), cut)
  assert.equal(await all(db.iterator({ gt: 'd!', lt: 'd"' })), [[`d!${a1.id}`, 'a']], 'exactly the marker of the dump')
  assert.equal((await to.verify()).problems, [])
  await to.close()
  await store.close()
})

test('export: revisions of one height come in id order, whatever order the walk found them in', async () => {
  // A fixed clock makes the ids fixed: the head's id falls between the two kept revisions',
  // so id order is neither the order found (head first, then the kept ones) nor its reverse.
  const store = await Store.open({ db: new MemoryLevel(), clock: () => 1_000_000 })
  const c1 = await store.commit('c', 'x')
  const head = await store.commit('c', 'y0', { parent: c1.id })
  const kept: string[] = []
  for (const value of ['z1', 'z2']) kept.push(await store.commit('c', value, { parent: c1.id, strategy: 'manual' }).then(() => '', (e: ConflictError) => e.kept as string))
  kept.sort()
  assert.ok((kept[0] as string) < head.id && head.id < (kept[1] as string), 'the ids this test relies on')
  const ids = (await all(store.export())).filter((l) => l.startsWith('{"revision"')).map((l) => (JSON.parse(l) as { revision: Revision }).revision.id)
  assert.equal(ids, [c1.id, kept[0], head.id, kept[1]])
  await store.close()
})

test('export: many keys (more than are read ahead), each once, in key order, with their own histories', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const keys = Array.from({ length: 21 }, (_, i) => `k${String(i).padStart(2, '0')}`)
  for (const key of keys) {
    const one = await store.commit(key, 1)
    await store.commit(key, 2, { parent: one.id })
  }
  const lines = await all(store.export())
  assert.is(lines.length, 1 + keys.length * 3 + 1)
  assert.equal(lines.filter((l) => l.startsWith('{"head"')).map((l) => (JSON.parse(l) as { head: { key: string } }).head.key), keys)
  assert.equal(lines[lines.length - 1], q({ end: { revisions: 42, heads: 21 } }))
  const to = await Store.open({ db: new MemoryLevel() })
  assert.equal((await to.import(lines)).heads, 21)
  for (const key of keys) assert.is(await to.get(key), 2)
  await to.close()
  await store.close()
})

test('import: blank lines are skipped but counted; the tombstone flag comes from the revision, not the line', async () => {
  const live = crafted(root('a'))
  const dead = crafted({ key: 'b', parents: [], height: 1, time: 1, deleted: true })
  const lines = ['', HEADER, '   ', live.line, dead.line,
    q({ head: { key: 'a', head: live.id, deleted: true } }), q({ head: { key: 'b', head: dead.id } }), '', q({ end: { revisions: 2, heads: 2 } }), '  ']
  const to = await Store.open({ db: new MemoryLevel() })
  assert.equal(await to.import(lines), { revisions: 2, heads: 2, keys: ['a', 'b'] })
  assert.is(await to.get('a'), 1)
  assert.is(await to.get('b'), undefined)
  assert.equal(await all(to.keys()), ['a'])
  await to.close()
  assert.is(await refusal(['', HEADER, '', '{']), refused(4, 'the line is not JSON (the dump is damaged or truncated).'))
})

test('import refuses each bad line with its number and why', async () => {
  const a = crafted(root('a'))
  const b = crafted(root('b'))
  const aHead = q({ head: { key: 'a', head: a.id } })
  const end = (revisions: number, heads: number): string => q({ end: { revisions, heads } })
  const child = (fields: Record<string, unknown>): { id: string, line: string } => crafted({ key: 'a', parents: [a.id], height: 2, time: 2, value: 2, ...fields })
  const cases: Array<[string[], number, string]> = [
    [[q({ revkv: 'dump', format: 2 })], 1, 'dump format 2 is not one this revkv reads (1).'],
    [[q({ revkv: 'other', format: 1 })], 1, 'the first line is not a revkv dump header ({"revkv":"dump",...}).'],
    [[HEADER, q({ revision: { key: 'a' } })], 2, 'a revision has no id.'],
    [[HEADER, crafted(root('')).line], 2, 'Key must not be empty.'],
    [[HEADER, crafted(root(7)).line], 2, 'Key must be a string, got number 7.'],
    [[HEADER, crafted(root('a', { parents: 'x' })).line], 2, `revision ${crafted(root('a', { parents: 'x' })).id} has malformed parents.`],
    [[HEADER, a.line, crafted(root('a', { parents: [a.id, a.id, a.id] })).line], 3, `revision ${crafted(root('a', { parents: [a.id, a.id, a.id] })).id} has malformed parents.`],
    [[HEADER, crafted(root('a', { parents: [1] })).line], 2, `revision ${crafted(root('a', { parents: [1] })).id} has malformed parents.`],
    [[HEADER, crafted(root('a', { height: 0 })).line], 2, `revision ${crafted(root('a', { height: 0 })).id} has a malformed height.`],
    [[HEADER, crafted(root('a', { height: 1.5 })).line], 2, `revision ${crafted(root('a', { height: 1.5 })).id} has a malformed height.`],
    [[HEADER, crafted(root('a', { height: 2 })).line], 2, `revision ${crafted(root('a', { height: 2 })).id} has height 2; its parents make it 1.`],
    [[HEADER, a.line, child({ height: 3 }).line], 3, `revision ${child({ height: 3 }).id} has height 3; its parents make it 2.`],
    [[HEADER, b.line, child({ parents: [b.id] }).line], 3, `revision ${child({ parents: [b.id] }).id} of key "a" names parent ${b.id} of key "b".`],
    [[HEADER, child({}).line], 2, `revision ${child({}).id} names parent ${a.id}, which comes neither before it in the dump nor from the store.`],
    [[HEADER, q({ dropped: { id: 'nope', key: 'a' } })], 2, 'a dropped marker has no revision id.'],
    [[HEADER, a.line, q({ head: { key: 'a', head: 'nope' } })], 3, 'the head line of "a" names no revision id.'],
    [[HEADER, a.line, q({ head: { key: 'a', head: a.id, unmerged: 'x' } })], 3, 'the unmerged list of "a" is not a list of revision ids.'],
    [[HEADER, a.line, q({ head: { key: 'a', head: a.id, unmerged: ['x'] } })], 3, 'the unmerged list of "a" is not a list of revision ids.'],
    [[HEADER, a.line, q({ head: { key: 'a', head: a.id, unmerged: ['f'.repeat(64), 'x'] } })], 3, 'the unmerged list of "a" is not a list of revision ids.'],
    [[HEADER, b.line, q({ head: { key: 'a', head: b.id } })], 3, 'the head of "a" is not one of its revisions.'],
    [[HEADER, q({ head: { key: 'a', head: a.id } })], 2, 'the head of "a" is not one of its revisions.'],
    [[HEADER, a.line, b.line, q({ head: { key: 'a', head: a.id, unmerged: [b.id] } })], 4, `unmerged revision ${b.id} of "a" is not one of its revisions.`],
    [[HEADER, a.line, q({ head: { key: 'a', head: a.id, unmerged: ['f'.repeat(64)] } })], 3, `unmerged revision ${'f'.repeat(64)} of "a" is not one of its revisions.`],
    [[HEADER, a.line, aHead, end(1, 1), aHead], 5, 'there is more after the end line.'],
    [[HEADER, a.line, aHead, end(1, 2)], 4, 'the end line counts 1 revisions and 2 heads, but the dump holds 1 and 1.'],
    [[HEADER, a.line, aHead, end(2, 1)], 4, 'the end line counts 2 revisions and 1 heads, but the dump holds 1 and 1.'],
    [[HEADER, q({ other: 1 })], 2, 'the line is neither a revision, a head nor the end.'],
    [[], 0, 'the dump is empty.'],
    [['', ' '], 2, 'the dump is empty.'],
    [[HEADER, a.line, aHead], 3, 'the dump has no end line: it is truncated.']
  ]
  // A value that cannot be stored: the reason as the JSON check words it, made a sentence.
  const surrogate = root('a', { value: 'x\ud800' })
  const shape = (() => { try { canonicalJson(surrogate) } catch (err) { return (err as Error).message } return 'accepted' })()
  assert.ok(!shape.endsWith('.'), shape)
  cases.push([[HEADER, q({ revision: { id: 'f'.repeat(64), ...surrogate } })], 2, `${shape}.`])
  // Behind a cut, a kept parent still sets the least height; reaching it exactly is fine.
  const dropped = 'd'.repeat(64)
  const cutChild = (height: number): { id: string, line: string } => crafted({ key: 'a', parents: [a.id, dropped], height, time: 2, value: 2 })
  const cutDump = (height: number): string[] => [HEADER, q({ dropped: { id: dropped, key: 'a' } }), a.line, cutChild(height).line, q({ head: { key: 'a', head: cutChild(height).id } }), end(2, 1)]
  cases.push([cutDump(1), 4, `revision ${cutChild(1).id} has height 1; its parents make it 2.`])
  for (const [lines, line, why] of cases) assert.is(await refusal(lines), refused(line, why), `${lines.join('\n')}`)
  const behind = await Store.open({ db: new MemoryLevel() })
  assert.equal(await behind.import(cutDump(2)), { revisions: 2, heads: 1, keys: ['a'] })
  await behind.close()
  // The counts of a sound dump, for the two end-line cases above.
  const to = await Store.open({ db: new MemoryLevel() })
  assert.equal(await to.import([HEADER, a.line, aHead, end(1, 1)]), { revisions: 1, heads: 1, keys: ['a'] })
  await to.close()
})

test('import: a key that exists refuses the whole dump; so does a key leased here, and on PostgreSQL one leased by another process meanwhile', async () => {
  const to = await Store.open({ db: new MemoryLevel() })
  const base = await to.commit('x', 1)
  const a = crafted(root('a'))
  // A revision whose parent is in the store is fine, but x has a head already.
  const onBase = crafted({ key: 'x', parents: [base.id], height: 2, time: 2, value: 2 })
  assert.is((await rejection(to.import([HEADER, a.line, onBase.line, q({ head: { key: 'x', head: onBase.id } }), q({ end: { revisions: 2, heads: 1 } })]))).message,
    refused(4, 'key "x" already exists in this store; import into an empty store, or one without these keys.'))
  assert.is(await to.revision(a.id), undefined, 'nothing of the dump was written')
  await to.close()

  const cluster = await sharedCluster()
  if (cluster === undefined) return
  // Only a shared engine judges leases when it writes: its head rows hold them (see the engines).
  const schema = `dmut_${randomBytes(6).toString('hex')}`
  const pg = await Store.open({ postgres: cluster.url, schema, poolSize: 2 })
  try {
    await pg.lock('a', { ttl: 60_000, owner: 'someone' })
    const b = crafted(root('b'))
    const dump = [HEADER, a.line, b.line, q({ head: { key: 'a', head: a.id } }), q({ head: { key: 'b', head: b.id } }), q({ end: { revisions: 2, heads: 2 } })]
    // A lease this store knows of is named as such, before anything is written.
    assert.match((await rejection(pg.import(dump))).message, /^Import refused at line 6: key "a" is leased in this store: Key "a" is locked: someone holds its lease/)
    await pg.unlock('a', (await pg.locks())[0]?.token as number)
    // One another process takes (unknown here) is refused by the engine's compare-and-set.
    const other = await Store.open({ postgres: cluster.url, schema, poolSize: 2 })
    try {
      await other.lock('b', { ttl: 60_000, owner: 'elsewhere' })
      assert.is((await rejection(pg.import(dump))).message, refused(6, 'key "b" was written (or leased) in this store while the dump was being read.'))
    } finally {
      await other.close()
    }
    assert.equal(await all(pg.keys()), [], 'nothing of the dump was written, not even the key no lease held')
    assert.is(await pg.revision(b.id), undefined)
  } finally {
    await pg.close()
  }
})

test('import writes with the store\'s sync setting', async () => {
  for (const sync of [true, false]) {
    const { db, writes } = instrumentedDb()
    const to = await Store.open({ db, sync })
    const a = crafted(root('a'))
    const before = writes.length
    await to.import([HEADER, a.line, q({ head: { key: 'a', head: a.id } }), q({ end: { revisions: 1, heads: 1 } })])
    assert.equal(writes.slice(before).map((w) => w.options.sync), [sync])
    await to.close()
  }
})

test('import work: one unit per line, per lookup and per key checked', async () => {
  const db = new MemoryLevel<string, string>()
  const engine = await openLevelDatabase(db)
  const a = crafted(root('a'))
  const child = crafted({ key: 'a', parents: [a.id], height: 2, time: 2, value: 2 })
  const b = crafted(root('b'))
  let units = 0
  const lines = [HEADER, a.line, child.line, b.line, q({ head: { key: 'a', head: child.id, unmerged: [a.id] } }), q({ head: { key: 'b', head: b.id } }), q({ end: { revisions: 3, heads: 2 } })]
  const report = await importLines(engine, (async function * () { yield * lines })(),
    async (id) => { const record = await engine.revision(id); return record === undefined ? undefined : parseRecord(id, record) },
    async (task) => await task(), { sync: false, clock: () => 0 }, (n) => { units += n })
  assert.equal(report, { revisions: 3, heads: 2, keys: ['a', 'b'] })
  // 7 lines; lookups: 1 parent, 2 heads, 1 kept; 2 units per head line (its second-head and exists checks); 2 keys in the final check.
  assert.is(units, 7 + 4 + 4 + 2)
  assert.equal(await engine.unmerged('a'), [a.id])
  assert.equal(await engine.head('a'), { head: child.id, unmerged: 1 })
  await db.close()
})

test.run()
