/**
 * Sync with the PostgreSQL engine (issue 14): either direction between a PostgreSQL store and
 * a LevelDB (memory-level) one, two schemas syncing with each other, and a store made before
 * sync marks existed getting their table at open. Skipped, and said so, without PostgreSQL.
 */
import { MemoryLevel } from 'memory-level'
import pg from 'pg'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import type { StoreOptions } from '../src/index.js'
import { all } from './helpers.js'
import { sharedCluster, skipReason } from './pg/cluster.js'

const cluster = await sharedCluster()
if (cluster === undefined) {
  test.skip(`sync on PostgreSQL (${skipReason ?? 'no server'})`, () => {})
  test.run()
} else {
  let schemas = 0
  let clocks = 0
  const clock = (): (() => number) => {
    let now = 1_000_000 + 1000 * clocks++
    return () => ++now
  }
  const onPostgres = async (options: Partial<StoreOptions> = {}, schema = `sync_${process.pid}_${++schemas}`): Promise<Store> =>
    await Store.open({ postgres: cluster.url, schema, poolSize: 4, clock: clock(), ...options })
  const inMemory = async (options: Partial<StoreOptions> = {}): Promise<Store> => await Store.open({ db: new MemoryLevel(), clock: clock(), ...options })

  test('PostgreSQL to LevelDB and back: clone, incremental pull, diverged edits converge under merge', async () => {
    const pgStore = await onPostgres({ strategy: 'merge' })
    for (let i = 0; i < 30; i++) await pgStore.commit(`k${i}`, { i, side: 'pg' })
    await pgStore.delete('k29')
    const level = await Store.clone(pgStore, { db: new MemoryLevel(), clock: clock(), strategy: 'merge' })
    assert.equal(await all(level.export()), await all(pgStore.export()))
    await pgStore.commit('k1', { i: 1, side: 'pg', more: true })
    await level.commit('k1', { i: 100, side: 'pg' })
    await level.commit('k2', 'level')
    const pulled = await level.pull(pgStore)
    assert.equal([pulled.keys, pulled.merges], [1, 1], 'only k1 changed there, and it diverged')
    const pushed = await level.push(pgStore)
    assert.equal(pushed.fastForwards, 2, 'k1 (the merge) and k2 fast-forward on PostgreSQL')
    assert.equal(await all(level.export()), await all(pgStore.export()))
    assert.equal(await pgStore.get('k1'), { i: 100, side: 'pg', more: true })
    assert.equal((await pgStore.verify()).problems, [])
    const k2 = (await level.head('k2'))?.id
    assert.ok((await all(pgStore.changes())).some((c) => c.key === 'k2' && c.rev === k2), 'a pushed head is in the changes feed')
    await level.close()
    await pgStore.close()
  })

  test('two PostgreSQL schemas pull from each other under lww and converge', async () => {
    const a = await onPostgres({ strategy: 'lww' })
    const b = await onPostgres({ strategy: 'lww' })
    await a.commit('x', 1)
    await b.pull(a)
    await a.commit('x', 2)
    await b.commit('x', 3)
    await a.pull(b)
    await b.pull(a)
    assert.equal((await a.head('x'))?.id, (await b.head('x'))?.id)
    assert.equal(await a.get('x'), 3, 'the later write wins on both')
    // b's fast-forward to a's merge is a change there, so a looks at x once more, and finds it the same.
    const again = await a.pull(b)
    assert.equal([again.keys, again.revisions, again.fastForwards, again.merges], [1, 0, 0, 0])
    const quiet = await a.pull(b)
    assert.equal(quiet.keys, 0)
    await a.close()
    await b.close()
  })

  test('a store made before sync marks gets their table at open, and its marks persist', async () => {
    const schema = `sync_old_${process.pid}`
    const old = await onPostgres({}, schema)
    await old.commit('k', 1)
    await old.close()
    const client = new pg.Client({ connectionString: cluster.url })
    await client.connect()
    try {
      await client.query(`DROP TABLE ${schema}.sync`)
    } finally {
      await client.end()
    }
    const reopened = await onPostgres({}, schema)
    const src = await inMemory()
    await src.commit('j', 1)
    assert.equal((await reopened.pull(src)).keys, 1)
    await reopened.close()
    const third = await onPostgres({}, schema)
    await src.commit('j', 2)
    assert.equal((await third.pull(src)).keys, 1, 'the mark survived a reopen')
    assert.equal((await third.verify()).problems, [])
    await third.close()
    await src.close()
  })

  test.run()
}
