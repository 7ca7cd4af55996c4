/**
 * A store moves between engines (issue 12): a LevelDB store exported and imported into a
 * PostgreSQL store, and back into a new LevelDB store, is the same store each time: the
 * same heads, histories, kept conflicts and compaction cuts, and verify() finds nothing.
 * Skipped, and said so, where PostgreSQL is not installed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import type { Test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConflictError, Store } from '../src/index.js'
import { sharedCluster } from './pg/cluster.js'
import { all } from './helpers.js'

const cluster = await sharedCluster()
const base = suite('LevelDB ⇄ PostgreSQL')
const it: Test = cluster === undefined ? base.skip as unknown as Test : base

/** Keys of the source store, deleted and compacted ones included (keys() lists live keys only). */
const KEYS = ['a', 'b', 'c/1', 'long', 'ünï ☃ 𝄞', 'z']

/** A LevelDB store with what a dump must carry: merges, lww, a tombstone, kept conflicts, a compacted history, unicode. */
async function fill (store: Store): Promise<void> {
  const a1 = await store.commit('a', { x: 1, y: 1 }, { author: 'ada', message: 'first' })
  await store.commit('a', { x: 2, y: 1 }, { parent: a1.id })
  await store.commit('a', { x: 1, y: 2 }, { parent: a1.id, strategy: 'merge' })
  await store.commit('b', [1])
  await store.delete('b')
  const c1 = await store.commit('c/1', 'x')
  await store.commit('c/1', 'y', { parent: c1.id })
  for (const value of ['z', 'w']) {
    await store.commit('c/1', value, { parent: c1.id, strategy: 'manual' }).catch((e: unknown) => { if (!(e instanceof ConflictError)) throw e })
  }
  let parent: string | undefined
  for (let i = 0; i < 30; i++) parent = (await store.commit('long', { i }, { parent, message: `step ${i}` })).id
  await store.compact({ keep: 5, prefix: 'long' })
  const u = await store.commit('ünï ☃ 𝄞', { s: '𝄞 ☃' })
  await store.commit('ünï ☃ 𝄞', { s: 'later' })
  await store.commit('ünï ☃ 𝄞', { s: 'stale' }, { parent: u.id, strategy: 'lww' })
  await store.commit('z', null)
}

/** Everything a reader can see of the store's keys: heads, full histories, kept conflicts, live keys. */
async function snapshot (store: Store): Promise<unknown> {
  const keys: Record<string, unknown> = {}
  for (const key of KEYS) {
    keys[key] = { head: await store.head(key), log: await all(store.log(key)), conflicts: await store.conflicts(key) }
  }
  return { keys, live: await all(store.keys()), conflicted: await all(store.conflictedKeys()) }
}

async function assertClean (store: Store, what: string): Promise<void> {
  const report = await store.verify()
  assert.equal(report.problems, [], `verify() of ${what} finds nothing`)
}

it('export from LevelDB, import into PostgreSQL, export and import into LevelDB again: the same store each time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-transfer-'))
  const stores: Store[] = []
  const open = async (options: Parameters<typeof Store.open>[0]): Promise<Store> => {
    const store = await Store.open(options)
    stores.push(store)
    return store
  }
  try {
    const level = await open(join(dir, 'from'))
    await fill(level)
    const dump = await all(level.export())
    const expected = await snapshot(level)
    assert.ok((expected as { keys: Record<string, { log: unknown[] }> }).keys.long?.log.length === 5, 'the compacted key keeps 5 revisions')

    const postgres = await open({ postgres: cluster?.url ?? '', schema: `transfer_${process.pid}`, poolSize: 3 })
    const report = await postgres.import(dump)
    assert.equal(report.keys.slice().sort(), KEYS.slice().sort(), 'every key imported')
    assert.equal(await snapshot(postgres), expected, 'PostgreSQL holds the same heads, histories and conflicts')
    await assertClean(postgres, 'the PostgreSQL store')
    const again = await all(postgres.export())
    assert.equal(again, dump, 'PostgreSQL exports the very same dump, line for line')

    const back = await open(join(dir, 'back'))
    await back.import(again)
    assert.equal(await snapshot(back), expected, 'back in LevelDB: the same store')
    await assertClean(back, 'the LevelDB store imported back')
    assert.equal(await all(back.export()), dump)

    // The imported store works on: a stale write merges against the imported history.
    const head = await postgres.head('a')
    const a1 = (await all(postgres.log('a'))).at(-1)
    const merged = await postgres.commit('a', { x: 1, y: 1, z: 3 }, { parent: a1?.id, strategy: 'merge' })
    assert.equal(merged.parents[0], head?.id)
    assert.equal(merged.value, { x: 2, y: 2, z: 3 })
    await assertClean(postgres, 'the PostgreSQL store after a merge')
  } finally {
    for (const store of stores) await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

base.run()
