import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConflictError, InvalidInputError, NotFoundError, Store } from '../src/index.js'
import type { Revision } from '../src/index.js'
import { all, rejection } from './helpers.js'


function bytes (dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)
}

test('compact keeps the newest N of each key; log ends at the cut; dropped revisions say so', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const revs: Revision[] = []
  for (let i = 0; i < 20; i++) revs.push(await store.commit('k', i))
  await store.commit('short', 1)
  assert.equal(await store.compact({ keep: 5 }), { keys: 1, dropped: 15 })
  const log = await all(store.log('k'))
  assert.equal(log.map((r) => r.value), [19, 18, 17, 16, 15])
  assert.is(await store.get('k'), 19)
  assert.is(await store.get('k', { rev: (revs[15] as Revision).id }), 15)
  const err = await rejection(store.get('k', { rev: (revs[3] as Revision).id }))
  assert.instance(err, NotFoundError)
  assert.match(err.message, /dropped by compaction/)
  assert.instance(await rejection(store.resolveRevision('HEAD~7', { key: 'k' })), NotFoundError)
  assert.equal((await store.verify()).problems, [])
  // The store goes on: writes, diffs, merges of what is kept.
  const next = await store.commit('k', 20, { parent: (revs[19] as Revision).id })
  assert.equal(next.parents, [(revs[19] as Revision).id])
  assert.equal(await store.diff('k', (revs[15] as Revision).id, next.id), [{ op: 'replace', path: '', value: 20 }])
  assert.equal(await store.compact({ keep: 100 }), { keys: 0, dropped: 0 }, 'nothing more to drop')
  assert.instance(await rejection(store.compact({ keep: 0 })), InvalidInputError)
  await store.close()
})

test('compact keeps merged-in side revisions above the cut, and what a kept conflict needs to merge', async () => {
  const store = await Store.open({ db: new MemoryLevel(), strategy: 'lww' })
  const base = await store.commit('k', { a: 0 })
  for (let i = 1; i <= 5; i++) await store.commit('k', { a: i })
  const old = await store.head('k') as Revision
  for (let i = 6; i <= 12; i++) await store.commit('k', { a: i })
  // A write based on an old revision, kept for a person to merge.
  const kept = (await rejection(store.commit('k', { a: 5, b: 1 }, { parent: old.id, strategy: 'manual' })) as ConflictError).kept as string
  const report = await store.compact({ keep: 3 })
  assert.is(report.dropped, 5, `the 5 revisions below the kept write's merge base go (the base ${old.id.slice(0, 8)} stays)`)
  assert.ok(await store.revision(old.id) !== undefined)
  assert.is(await store.revision(base.id), undefined)
  const merged = await store.merge('k', kept, { strategy: 'merge' })
  assert.equal(merged.value, { a: 12, b: 1 }, 'the kept write still merges three-way against its base')
  assert.equal((await store.verify()).problems, [])
  // Export and import carry the cut along.
  const copy = await Store.open({ db: new MemoryLevel() })
  await copy.import(await all(store.export()))
  assert.equal((await copy.verify()).problems, [])
  assert.equal(await all(copy.log('k')), await all(store.log('k')))
  await copy.close()
  await store.close()
})

test('compact gives disk space back on a LevelDB directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-compact-'))
  try {
    const store = await Store.open(dir)
    const big = 'x'.repeat(4000)
    for (let i = 0; i < 600; i++) await store.commit(`k${i % 3}`, { i, big })
    await store.close()
    const before = bytes(dir)
    const again = await Store.open(dir)
    assert.equal(await again.compact({ keep: 2 }), { keys: 3, dropped: 594 })
    await again.close()
    const after = bytes(dir)
    assert.ok(after < before / 2, `on disk: ${before} bytes before, ${after} after`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
