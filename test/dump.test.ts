import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { createInterface } from 'node:readline'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConflictError, InvalidInputError, Store } from '../src/index.js'
import type { Revision } from '../src/index.js'
import { all, rejection } from './helpers.js'
import { hashRecord, parseRecord, sealRevision } from '../src/revision.js'
import { canonicalJson } from '../src/json.js'
import type { RevisionDraft } from '../src/revision.js'
import { importLines } from '../src/dump.js'
import { openLevelDatabase } from '../src/engines/level/engine.js'

/** A store with merges, a tombstone and a kept conflict. */
async function source (): Promise<Store> {
  const store = await Store.open({ db: new MemoryLevel(), strategy: 'merge' })
  const a1 = await store.commit('a', { x: 1, y: 1 }, { author: 'ada', message: 'first' })
  await store.commit('a', { x: 2, y: 1 }, { parent: a1.id })
  await store.commit('a', { x: 1, y: 2 }, { parent: a1.id })
  await store.commit('b', [1])
  await store.delete('b')
  const c1 = await store.commit('c/1', 'x')
  await store.commit('c/1', 'y', { parent: c1.id })
  await store.commit('c/1', 'z', { parent: c1.id, strategy: 'manual' }).catch((e: unknown) => { if (!(e instanceof ConflictError)) throw e })
  return store
}


test('import reads a dump from a readline interface, as the CLI and the dump benchmark do, without losing the lines it emits while the store is stamped', async () => {
  const from = await source()
  const text = (await all(from.export())).join('\n') + '\n'
  // A LevelDB directory: its import stamp is a real write on LevelDB's threads, long
  // enough for the interface to emit every line (and close) meanwhile.
  const dir = mkdtempSync(join(tmpdir(), 'revkv-dump-readline-'))
  const into = await Store.open({ path: dir })
  const report = await into.import(createInterface({ input: Readable.from([text]), crlfDelay: Infinity }))
  assert.is(report.revisions, (await all(from.export())).filter((line) => line.startsWith('{"revision"')).length)
  await Promise.all([from.close(), into.close()])
  rmSync(dir, { recursive: true, force: true })
})

test('export then import into an empty store gives the same store: fsck passes, log and get agree', async () => {
  const from = await source()
  const lines = await all(from.export())
  assert.equal(JSON.parse(lines[0] as string), { revkv: 'dump', format: 1 })
  assert.equal(JSON.parse(lines[lines.length - 1] as string), { end: { revisions: 9, heads: 3 } })
  // Parents come before children.
  const seen = new Set<string>()
  for (const line of lines) {
    const rev = (JSON.parse(line) as { revision?: Revision }).revision
    if (rev === undefined) continue
    for (const parent of rev.parents) assert.ok(seen.has(parent), `parent ${parent} before ${rev.id}`)
    seen.add(rev.id)
  }
  const to = await Store.open({ db: new MemoryLevel() })
  assert.equal(await to.import(lines), { revisions: 9, heads: 3, keys: ['a', 'b', 'c/1'] })
  assert.equal((await to.verify()).problems, [])
  for (const key of ['a', 'b', 'c/1']) {
    assert.equal(await all(to.log(key)), await all(from.log(key)), `log of ${key}`)
    assert.equal(await to.get(key), await from.get(key))
    assert.equal(await to.conflicts(key), await from.conflicts(key))
  }
  assert.equal(await all(to.keys()), await all(from.keys()))
  assert.equal(await all(to.conflictedKeys()), ['c/1'])
  // The imported store keeps working: its heads are live.
  const head = await to.head('a') as Revision
  assert.equal((await to.commit('a', { x: 9 }, { parent: head.id })).parents, [head.id])
  assert.equal(await all(from.export({ prefix: 'c/' })).then((l) => l.filter((x) => x.includes('"head":{')).length), 1)
  await from.close()
  await to.close()
})

test('a tampered, truncated or mismatched dump is refused and nothing is imported', async () => {
  const from = await source()
  const lines = await all(from.export())
  const cases: Array<[string, string[], RegExp]> = [
    ['tampered value', lines.map((l) => l.replace('"x":2', '"x":3')), /does not hash to its id/],
    ['truncated', lines.slice(0, -1), /truncated/],
    ['cut in the middle', lines.slice(0, 4), /truncated/],
    ['a revision missing its parent', lines.filter((_, i) => i !== 1), /names parent|counts/],
    ['not a dump', ['{"hello":1}'], /header/],
    ['garbage', [...lines.slice(0, 3), '{"revision": oops', ...lines.slice(3)], /not JSON/],
    ['empty', [], /empty/],
    ['an end line that miscounts', [...lines.slice(0, -1), JSON.stringify({ end: { ...(JSON.parse(lines[lines.length - 1] as string) as { end: object }).end, revisions: 1 } })], /end line counts 1 revisions/],
    ['a line of unknown kind', [...lines.slice(0, 2), '{"note":"hello"}', ...lines.slice(2)], /neither a revision, a head nor the end/],
    ['lines after the end', [...lines, lines[1] as string], /more after the end line/]
  ]
  for (const [what, dump, why] of cases) {
    const to = await Store.open({ db: new MemoryLevel() })
    const err = await rejection(to.import(dump))
    assert.instance(err, InvalidInputError, what)
    assert.match(err.message, why, what)
    assert.match(err.message, /Nothing was imported/)
    assert.equal(await all(to.keys()), [], `${what}: nothing imported`)
    assert.is((await to.verify()).revisions, 0, `${what}: no revision written`)
    await to.close()
  }
  const existing = await Store.open({ db: new MemoryLevel() })
  await existing.commit('a', 'mine')
  assert.match((await rejection(existing.import(lines))).message, /already exists/)
  assert.is(await existing.get('a'), 'mine')
  await existing.close()
  await from.close()
})

test('a key written while the dump is read is not overwritten; writes during the import wait, then go on', async () => {
  const from = await source()
  const lines = await all(from.export())
  const to = await Store.open({ db: new MemoryLevel() })
  let written: Revision | undefined
  async function * slow (): AsyncGenerator<string> {
    for (const [i, line] of lines.entries()) {
      // Before the end line, someone else creates one of the dump's keys.
      if (i === lines.length - 1) written = await to.commit('a', { from: 'client' })
      yield line
    }
  }
  const err = await rejection(to.import(slow()))
  assert.match(err.message, /written in this store while the dump was being read/)
  assert.equal(await to.get('a'), { from: 'client' })
  assert.is((await to.head('a'))?.id, written?.id)
  assert.equal(await all(to.keys()), ['a'], 'nothing of the dump was imported')
  // Writes to other keys made during an import wait for it and are not lost.
  const other = await Store.open({ db: new MemoryLevel() })
  const importing = other.import(lines)
  const during = other.commit('z', 1)
  await importing
  assert.is((await during).value, 1)
  assert.equal(await all(other.keys()), ['a', 'b', 'c/1', 'z'].filter((k) => k !== 'b'))
  await other.close()
  await to.close()
  await from.close()
})

test('dumps that would damage the store are refused: a second head line, a repeated unmerged id, a height below a kept parent', async () => {
  const from = await source()
  const lines = await all(from.export())
  const headLine = lines.find((l) => l.includes('"head":{"key":"a"')) as string
  const withTwoHeads = [...lines.slice(0, -1), headLine, JSON.stringify({ end: { revisions: 9, heads: 4 } })]
  const keptLine = lines.find((l) => l.includes('"unmerged"')) as string
  const doc = JSON.parse(keptLine) as { head: { unmerged: string[] } }
  doc.head.unmerged = [...doc.head.unmerged, ...doc.head.unmerged]
  const withRepeat = lines.map((l) => l === keptLine ? JSON.stringify(doc) : l)
  const cases: Array<[string[], RegExp]> = [[withTwoHeads, /second head line/], [withRepeat, /unmerged revision twice/]]
  for (const [dump, why] of cases) {
    const to = await Store.open({ db: new MemoryLevel() })
    assert.match((await rejection(to.import(dump))).message, why)
    assert.equal(await all(to.keys()), [])
    await to.close()
  }
  await from.close()
  // Behind a cut, a height may not fall below a parent that was kept (hashes made right on purpose).
  const seal = (parents: string[], height: number, value: number): Revision => sealRevision({ key: 'k', parents, height, time: 1, value }).revision
  const x1 = seal([], 1, 1)
  const x2 = seal([x1.id], 2, 2)
  const x3 = seal([x2.id], 3, 3)
  const dropped = 'd'.repeat(64)
  const crafted = (height: number): string[] => {
    const m = seal([x3.id, dropped], height, 4)
    return [
      JSON.stringify({ revkv: 'dump', format: 1 }),
      JSON.stringify({ dropped: { id: dropped, key: 'k' } }),
      ...[x1, x2, x3, m].map((revision) => JSON.stringify({ revision })),
      JSON.stringify({ head: { key: 'k', head: m.id } }),
      JSON.stringify({ end: { revisions: 4, heads: 1 } })
    ]
  }
  const to = await Store.open({ db: new MemoryLevel() })
  assert.match((await rejection(to.import(crafted(1)))).message, /has height 1; its parents make it 4/)
  assert.equal(await all(to.keys()), [])
  assert.is((await to.import(crafted(9))).revisions, 4, 'behind a cut a greater height is possible')
  assert.equal((await to.verify()).problems, [])
  await to.close()
})

/** A dump of hand-made revisions (hashes right, so only the content can be refused), one head per key. */
function dumpOf (drafts: RevisionDraft[]): string[] {
  // The value's JSON is given (members in order already), so sealing does not refuse what import must.
  const revisions = drafts.map((draft) => sealRevision(draft, JSON.stringify(draft.value)).revision)
  return [
    JSON.stringify({ revkv: 'dump', format: 1 }),
    ...revisions.map((revision) => JSON.stringify({ revision })),
    ...revisions.map((rev) => JSON.stringify({ head: { key: rev.key, head: rev.id } })),
    JSON.stringify({ end: { revisions: revisions.length, heads: revisions.length } })
  ]
}

test('a dump carrying a lone UTF-16 surrogate (key, author, message, value, member name) is refused with its line; nothing is imported', async () => {
  const draft = (fields: Partial<RevisionDraft>): RevisionDraft => ({ key: 'k', parents: [], height: 1, time: 1, value: 1, ...fields })
  const cases: Array<[RevisionDraft, RegExp]> = [
    [draft({ key: '\ud800' }), /^Import refused at line 3: Key "\\ud800" contains a lone UTF-16 surrogate/],
    [draft({ author: 'x\udc00' }), /line 3: the value at \/author contains a lone UTF-16 surrogate/],
    [draft({ message: '\udfff' }), /line 3: the value at \/message contains/],
    [draft({ value: { list: ['ok', 'no\ud83d'] } }), /line 3: the value at \/value\/list\/1 contains/],
    [draft({ value: { deep: { ['\udc00']: true } } }), /line 3: the value at \/value\/deep has a member name "\\udc00"/]
  ]
  for (const [bad, why] of cases) {
    const to = await Store.open({ db: new MemoryLevel() })
    // A good key first, so the refusal is shown to undo it too.
    const err = await rejection(to.import(dumpOf([draft({ key: 'good' }), bad])))
    assert.instance(err, InvalidInputError)
    assert.match(err.message, why)
    assert.match(err.message, /Nothing was imported\.$/)
    assert.equal(await all(to.keys()), [])
    assert.is((await to.verify()).revisions, 0)
    await to.close()
  }
})

/**
 * Import's work must grow linearly with the dump. Work is counted, not timed (tests must
 * not measure time on shared machines): importLines reports one unit per line and per
 * lookup in what it holds (see WorkCounter in src/dump.ts), so a scan over the lines read
 * so far, the quadratic defect this guards against, would count every entry it looked at.
 * The store behind it is a real memory-level database, read for every parent and key.
 */
test('import work grows linearly: 10x the keys costs well under 20x the work', async () => {
  const work = async (keys: number): Promise<number> => {
    const drafts: RevisionDraft[] = []
    for (let i = 0; i < keys; i++) drafts.push({ key: `user/${i}`, parents: [], height: 1, time: 1, value: { i } })
    const db = new MemoryLevel<string, string>()
    const engine = await openLevelDatabase(db)
    let units = 0
    const report = await importLines(engine, (async function * () { yield * dumpOf(drafts) })(),
      async (id) => { const record = await engine.revision(id); return record === undefined ? undefined : parseRecord(id, record) },
      async (task) => await task(),
      { sync: false, clock: Date.now },
      (n) => { units += n })
    assert.is(report.heads, keys)
    assert.is((await all(db.keys({ gt: 'h!', lt: 'h"' }))).length, keys, 'every key was written')
    await db.close()
    return units
  }
  const small = await work(300)
  const large = await work(3000)
  assert.ok(large / small < 12, `3,000 keys cost ${large} units, 300 keys ${small}: ${(large / small).toFixed(1)}x`)
})

test('import refuses what reads would call damage, and a key leased here, writing nothing', async () => {
  const header = JSON.stringify({ revkv: 'dump', format: 1 })
  const dropped = 'd'.repeat(64)
  // A record that hashes right but has no time: reads would refuse it as damaged.
  const fields = { key: 'b', parents: [], height: 1, value: 1 }
  const id = hashRecord(canonicalJson(fields))
  const cases: Array<[string[], RegExp]> = [
    [[header, JSON.stringify({ revision: { id, ...fields } }), JSON.stringify({ head: { key: 'b', head: id } }), JSON.stringify({ end: { revisions: 1, heads: 1 } })], /not a well-formed revision/],
    [[header, JSON.stringify({ dropped: { id: dropped, key: 'a' } }), JSON.stringify({ head: { key: 'a', head: dropped } }), JSON.stringify({ end: { revisions: 0, heads: 1 } })], /head of "a" is a revision compaction dropped/]
  ]
  const store = await Store.open({ db: new MemoryLevel() })
  for (const [lines, message] of cases) {
    const err = await rejection(store.import(lines))
    assert.instance(err, InvalidInputError)
    assert.match(err.message, message)
  }
  assert.equal(await all(store.keys()), [])
  // A key leased here refuses the import as it refuses a write without the lease's token.
  const from = await Store.open({ db: new MemoryLevel() })
  await from.commit('a', 1)
  const dump = await all(from.export())
  await store.lock('a', { ttl: 60_000, owner: 'ada' })
  const leased = await rejection(store.import(dump))
  assert.match(leased.message, /key "a" is leased in this store: .*ada/)
  assert.is(await store.get('a'), undefined)
  await Promise.all([store.close(), from.close()])
})

test.run()
