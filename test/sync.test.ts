/**
 * Sync between stores (issue 14): clone, pull and push store to store, on memory-level and
 * a LevelDB directory. Convergence is checked the strongest way there is: after syncing both
 * ways, the two stores export identical dumps (same heads, same unmerged, same revisions).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidInputError, Store } from '../src/index.js'
import type { StoreOptions, SyncReport } from '../src/index.js'
import { kSync } from '../src/sync/types.js'
import { all, rejection } from './helpers.js'

const it = suite('sync')

/** A clock the test moves on every read, so revision times are distinct and known. */
function fakeClock (start: number): () => number {
  let now = start
  return () => ++now
}

let clocks = 0
async function memory (options: Partial<StoreOptions> = {}): Promise<Store> {
  // Each store its own clock range, so "later" between stores is decided by the test's order.
  return await Store.open({ db: new MemoryLevel(), clock: fakeClock(1_000_000 + 1000 * clocks++), ...options })
}

async function dump (store: Store): Promise<string[]> {
  return await all(store.export())
}

function moved (r: SyncReport): number {
  return r.revisions + r.fastForwards + r.merges
}

/** Pull both ways until a round changes nothing. */
async function converge (a: Store, b: Store): Promise<number> {
  for (let round = 1; round <= 4; round++) {
    const one = await a.pull(b)
    const two = await b.pull(a)
    if (moved(one) + moved(two) === 0) return round
  }
  throw new Error('the stores did not converge in 4 rounds')
}

/** Swallow the ConflictError of a write kept by `manual`. */
async function kept (write: Promise<unknown>): Promise<void> {
  await write.catch((err: { code?: string }) => { if (err.code !== 'REVKV_CONFLICT') throw err })
}

it('merge() fast-forwards when the head is in the merged revision\'s history', async () => {
  // A kept revision that descends from the head only arises through sync: S keeps L's head
  // l2 unmerged, writes K on top of it (kept too), and L, pulling with reject, keeps both.
  const l = await memory({ strategy: 'manual' })
  const s = await memory({ strategy: 'manual' })
  const h = await l.commit('k', { n: 1 })
  await s.pull(l)
  await s.commit('k', { n: 2 })
  const l2 = await l.commit('k', { n: 3 })
  await s.pull(l)
  assert.equal((await s.conflicts('k')).map((r) => r.id), [l2.id])
  await kept(s.commit('k', { n: 4 }, { parent: l2.id }))
  const k = (await s.conflicts('k')).find((r) => r.id !== l2.id)
  assert.ok(k !== undefined)
  const report = await l.pull(s, { strategy: 'reject' })
  assert.equal(report.conflicts, ['k'])
  assert.equal((await l.head('k'))?.id, l2.id, 'diverged under reject: the head stays')
  assert.ok((await l.conflicts('k')).some((r) => r.id === k.id), 'the side revision came with it, kept')
  const merged = await l.merge('k', k.id)
  assert.is(merged.id, k.id, 'fast-forward: the head is now K itself, no merge revision')
  assert.equal((await l.head('k'))?.id, k.id)
  assert.not.ok((await l.conflicts('k')).some((r) => r.id === k.id), 'and K left the unmerged set')
  assert.ok(h.id !== k.id)
  await l.close()
  await s.close()
})

it('clone copies every key, revision, tombstone and kept conflict; the copy exports the same dump', async () => {
  const src = await memory({ strategy: 'merge' })
  const a1 = await src.commit('a', { x: 1, y: 1 }, { author: 'ada' })
  await src.commit('a', { x: 2, y: 1 }, { parent: a1.id })
  await src.commit('a', { x: 1, y: 2 }, { parent: a1.id })
  await src.commit('b', [1])
  await src.delete('b')
  const c1 = await src.commit('c', 'x')
  await src.commit('c', 'y')
  await kept(src.commit('c', 'z', { parent: c1.id, strategy: 'manual' }))
  const copy = await Store.clone(src, { db: new MemoryLevel() })
  assert.equal(await dump(copy), await dump(src))
  assert.equal((await copy.verify()).problems, [])
  assert.is(await copy.get('b'), undefined, 'the tombstone came along')
  assert.equal((await copy.conflicts('c')).length, 1)
  const again = await copy.pull(src)
  assert.equal([again.revisions, again.fastForwards, again.merges, again.keys], [0, 0, 0, 0], 'a second pull finds nothing changed')
  await copy.close()
  await src.close()
})

it('clone into a store that holds keys is refused, and nothing is pulled', async () => {
  const src = await memory()
  await src.commit('a', 1)
  const db = new MemoryLevel<string, string>()
  const full = await Store.open({ db })
  await full.commit('mine', 1)
  await full.close()
  const err = await rejection(Store.clone(src, { db }))
  assert.instance(err, InvalidInputError)
  assert.match(err.message, /empty store/)
  const reopened = await Store.open({ db })
  assert.equal(await all(reopened.keys()), ['mine'])
  await reopened.close()
  await src.close()
})

it('an incremental pull compares only the keys changed since the last one', async () => {
  const src = await memory()
  for (let i = 0; i < 50; i++) await src.commit(`k${i}`, i)
  const dst = await memory()
  const first = await dst.pull(src)
  assert.equal([first.keys, first.fastForwards, first.revisions], [50, 50, 50])
  await src.commit('k3', 'changed')
  await src.commit('k7', 'changed')
  await src.delete('k9')
  await src.commit('new', true)
  const second = await dst.pull(src)
  assert.equal([second.keys, second.fastForwards, second.revisions, second.merges], [4, 4, 4, 0], 'four keys changed: only they were compared')
  assert.ok(second.bytes > 0 && second.bytes < first.bytes)
  const third = await dst.pull(src)
  assert.equal([third.keys, third.revisions, third.bytes], [0, 0, 0], 'nothing changed: nothing compared or sent')
  assert.equal(await dump(dst), await dump(src))
  const full = await dst.pull(src, { full: true })
  assert.equal([full.keys, full.revisions, full.fastForwards], [51, 0, 0], 'full: every key compared, nothing to do')
  // A pull of another prefix is its own mark: its first run compares all of its keys.
  const prefixed = await dst.pull(src, { prefix: 'k1' })
  assert.equal(prefixed.keys, 11)
  await src.close()
  await dst.close()
})

for (const strategy of ['merge', 'lww'] as const) {
  it(`two stores edited on both sides converge under ${strategy}: same heads, same revisions, nothing lost`, async () => {
    const a = await memory({ strategy })
    const b = await memory({ strategy })
    await a.commit('doc', { title: 'one', tags: ['x'] })
    await a.commit('gone', 1)
    await b.pull(a)
    const ra = await a.commit('doc', { title: 'two', tags: ['x'] })
    const rb = await b.commit('doc', { title: 'one', tags: ['x'], extra: true })
    await b.delete('gone')
    await b.commit('onlyB', 'b')
    await a.commit('onlyA', 'a')
    const report = await a.pull(b)
    assert.equal(report.merges, 1, 'doc diverged: one merge')
    assert.equal(report.fastForwards, 2, 'gone (a tombstone) and onlyB fast-forward')
    const rounds = await converge(a, b)
    assert.ok(rounds <= 2)
    assert.equal(await dump(a), await dump(b), 'identical stores')
    for (const id of [ra.id, rb.id]) {
      assert.ok(await a.revision(id) !== undefined && await b.revision(id) !== undefined, 'both sides keep both edits in history')
    }
    const doc = await a.get('doc')
    if (strategy === 'merge') assert.equal(doc, { title: 'two', tags: ['x'], extra: true })
    else assert.equal(doc, { title: 'one', tags: ['x'], extra: true }, 'lww: the later head (b\'s) wins')
    assert.is(await b.get('gone'), undefined)
    assert.equal((await a.verify()).problems, [])
    assert.equal((await b.verify()).problems, [])
    await a.close()
    await b.close()
  })

  it(`stores that pull from each other at the same time make the same ${strategy} merge`, async () => {
    const a = await memory({ strategy })
    const b = await memory({ strategy })
    await a.commit('k', { a: 0, b: 0 })
    await b.pull(a)
    await a.commit('k', { a: 1, b: 0 })
    await b.commit('k', { a: 0, b: 1 })
    // Both fetch before either merges: each makes its merge on its own.
    const [ra, rb] = await Promise.all([a.pull(b), b.pull(a)])
    assert.equal([ra.merges, rb.merges], [1, 1])
    assert.equal((await a.head('k'))?.id, (await b.head('k'))?.id, 'the same merge revision on both sides')
    assert.equal(await converge(a, b), 1)
    await a.close()
    await b.close()
  })
}

for (const strategy of ['reject', 'manual'] as const) {
  it(`diverged under ${strategy}: the incoming head is kept unmerged, listed, and merge() settles it`, async () => {
    const a = await memory({ strategy })
    const b = await memory({ strategy })
    await a.commit('k', 1)
    await b.pull(a)
    const mine = await a.commit('k', 2)
    const theirs = await b.commit('k', 3)
    const report = await a.pull(b)
    assert.equal(report.conflicts, ['k'])
    assert.equal((await a.head('k'))?.id, mine.id, 'the head stays')
    assert.equal((await a.conflicts('k')).map((r) => r.id), [theirs.id])
    const changes = await all(a.changes())
    assert.ok(changes.some((c) => c.kept === true && c.rev === theirs.id), 'the kept revision is in the changes feed')
    const again = await a.pull(b)
    assert.equal([again.revisions, again.merges, again.fastForwards], [0, 0, 0], 'pulling again changes nothing')
    assert.equal((await a.conflicts('k')).length, 1)
    const settled = await a.merge('k', theirs.id, { value: 5 })
    await b.pull(a)
    assert.equal((await b.head('k'))?.id, settled.id, 'the settlement fast-forwards on the other side')
    await a.close()
    await b.close()
  })
}

it('push sends only what the target lacks, settled by the target\'s strategy', async () => {
  const a = await memory()
  const b = await memory({ strategy: 'lww' })
  for (let i = 0; i < 10; i++) await a.commit(`k${i}`, i)
  const first = await a.push(b)
  assert.equal([first.keys, first.fastForwards, first.revisions], [10, 10, 10])
  assert.equal(await dump(b), await dump(a))
  await a.commit('k1', 'a')
  await b.commit('k1', 'b')
  await a.commit('k2', 'a')
  const second = await a.push(b)
  assert.equal([second.keys, second.fastForwards, second.merges], [2, 1, 1], 'two keys changed here; k1 diverged and b merged it with lww')
  assert.equal(await b.get('k1'), 'b', 'lww on b: b\'s later write wins')
  const third = await a.push(b)
  assert.equal([third.keys, third.revisions, third.bytes], [0, 0, 0])
  // b is ahead on k2: a push sends nothing for it.
  await b.commit('k2', 'b')
  await a.commit('k5', 'a')
  const fourth = await a.push(b)
  assert.equal([fourth.keys, fourth.revisions], [1, 1])
  await a.close()
  await b.close()
})

it('a tampered revision refuses its key\'s whole pull; other keys apply, and the mark stays', async () => {
  const src = await memory()
  await src.commit('good', 1)
  await src.commit('bad', { v: 1 })
  await src.commit('bad', { v: 2 })
  const dst = await memory()
  const lines = await all(src[kSync]().send([{ key: 'good', haves: [] }, { key: 'bad', haves: [] }]))
  const tampered = lines.map((line) => line.includes('"v":1') ? line.replace('"v":1', '"v":9') : line)
  assert.ok(tampered.some((line, i) => line !== lines[i]))
  const report = await dst[kSync]().receive((async function * () { yield * tampered })(), {})
  assert.equal(report.refused.map((r) => r.key), ['bad'])
  assert.match(report.refused[0]?.reason ?? '', /does not hash to its id/)
  assert.is(await dst.head('bad'), undefined, 'nothing of the tampered key was applied')
  assert.equal(await dst.get('good'), 1)
  assert.equal((await dst.verify()).problems, [])
  await src.close()
  await dst.close()
})

it('a truncated stream is refused: keys without their head line are not applied', async () => {
  const src = await memory()
  await src.commit('a', 1)
  const dst = await memory()
  const lines = await all(src[kSync]().send([{ key: 'a', haves: [] }]))
  const err = await rejection(dst[kSync]().receive((async function * () { yield * lines.slice(0, -2) })(), {}))
  assert.instance(err, InvalidInputError)
  assert.match(err.message, /truncated/)
  assert.is(await dst.head('a'), undefined)
  await src.close()
  await dst.close()
})

it('a compacted source sends shallow history, its cut marked; the copy verifies clean and merges above the cut', async () => {
  const src = await memory({ strategy: 'merge' })
  for (let i = 0; i < 6; i++) await src.commit('k', { n: i, other: 0 })
  await src.compact({ keep: 2 })
  const copy = await Store.clone(src, { db: new MemoryLevel(), strategy: 'merge' })
  assert.equal(await dump(copy), await dump(src))
  assert.equal((await all(copy.log('k'))).length, 2, 'only what the source kept')
  assert.equal((await copy.verify()).problems, [])
  await src.commit('k', { n: 6, other: 0 })
  await copy.commit('k', { n: 5, other: 1 })
  const report = await copy.pull(src)
  assert.equal(report.merges, 1)
  assert.equal(await copy.get('k'), { n: 6, other: 1 })
  await src.close()
  await copy.close()
})

it('pull and push on a LevelDB directory persist their marks across a reopen', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'revkv-sync-'))
  try {
    const src = await memory()
    for (let i = 0; i < 5; i++) await src.commit(`k${i}`, i)
    let dst = await Store.open(join(dir, 'db'))
    assert.equal((await dst.pull(src)).keys, 5)
    await dst.close()
    await src.commit('k0', 'again')
    dst = await Store.open(join(dir, 'db'))
    const report = await dst.pull(src)
    assert.equal([report.keys, report.fastForwards], [1, 1], 'the mark survived the reopen')
    assert.equal(await dump(dst), await dump(src))
    assert.equal((await dst.verify()).problems, [], 'sync marks are records verify knows')
    await dst.close()
    await src.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

it('pull refuses a source that is not a store, or the store itself, before reading anything', async () => {
  const a = await memory()
  assert.instance(await rejection(a.pull({} as never)), InvalidInputError)
  assert.match((await rejection(a.pull(a))).message, /itself/)
  const b = await memory()
  await b.commit('k', 1)
  assert.match((await rejection(a.pull(b, { strategy: 'nope' }))).message, /nope/)
  assert.is(await a.head('k'), undefined)
  await a.close()
  await b.close()
})

it.run()
