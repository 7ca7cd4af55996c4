/**
 * The behavioural suite every backend runs, on the PostgreSQL engine: a real server that
 * the test starts itself (test/pg/cluster.ts), one schema per store. Skipped, and said so,
 * where PostgreSQL is not installed (REVKV_REQUIRE_POSTGRES=1 makes that a failure).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConflictError, Store } from '../src/index.js'
import type { RevkvStore, StoreOptions } from '../src/index.js'
import type { StoreFactory } from './store-suite.js'
import { storeSuite } from './store-suite.js'
import { all, rejection } from './helpers.js'
import { sharedCluster, skipReason } from './pg/cluster.js'

const cluster = await sharedCluster()
if (cluster === undefined) {
  test.skip(`the behavioural suite on PostgreSQL (${skipReason ?? 'no server'})`, () => {})
  test.run()
} else {
  let schemas = 0
  const schemaOf = new Map<RevkvStore, string>()
  const openIn = async (schema: string, options: StoreOptions): Promise<Store> => {
    const store = await Store.open({ ...options, postgres: cluster.url, schema, poolSize: 4 })
    schemaOf.set(store, schema)
    return store
  }
  const postgres: StoreFactory = {
    name: 'PostgreSQL',
    open: async (options = {}) => await openIn(`suite_${process.pid}_${++schemas}`, options),
    reopen: async (store, options = {}) => {
      await store.close()
      return await openIn(schemaOf.get(store) as string, options)
    }
  }
  await storeSuite(postgres)

  test('two stores on one schema (as two processes): a watch started late sees every change of both, in order, once', async () => {
    const schema = `two_${process.pid}`
    const [a, b] = [await openIn(schema, {}), await openIn(schema, {})]
    try {
      // Both write the same keys at once, so some of a's batches find keys moved by b.
      const write = async (store: Store, n: number, tag: string): Promise<void> => {
        await Promise.all(Array.from({ length: n }, async (_, i) => await store.commit(`k${i % 5}`, { tag, i }, { strategy: 'lww', parent: (await store.head(`k${i % 5}`))?.id ?? null })))
      }
      await Promise.all([write(a, 60, 'a'), write(b, 60, 'b')])
      const seen: number[] = []
      let wake = (): void => {}
      const controller = new AbortController()
      const watching = (async () => {
        for await (const change of a.watch({ since: 0, signal: controller.signal })) {
          seen.push(change.seq)
          wake()
        }
      })()
      await Promise.all([write(a, 20, 'a2'), write(b, 20, 'b2')])
      const total = (await all(b.changes())).length
      // The watch ends once it has as many changes as the feed holds (no timing involved).
      while (seen.length < total) await new Promise<void>((resolve) => { wake = resolve })
      controller.abort()
      await watching
      assert.equal(seen, Array.from({ length: total }, (_, i) => i + 1), 'every change once, in sequence order, no gaps')
    } finally {
      await a.close()
      await b.close()
    }
  })
  test('a store whose cached head is out of date (another process wrote) does not refuse on it: it reads the head again first', async () => {
    const schema = `stale_${process.pid}`
    const [a, b] = [await openIn(schema, {}), await openIn(schema, {})]
    try {
      const first = await a.commit('k', { n: 1 })
      // b moves k on; a's in-memory state still has `first` as the head.
      const second = await b.commit('k', { n: 2 }, { parent: first.id })
      // Based on the real head: accepted, not a ConflictError judged against the cached one.
      const third = await a.commit('k', { n: 3 }, { parent: second.id })
      assert.equal(third.parents, [second.id])
      // A key b created that a had looked up (and cached as missing) can be deleted through a.
      assert.is(await a.head('fresh'), undefined)
      await a.commit('other', 1)
      const created = await b.commit('fresh', { made: 'by b' })
      const gone = await a.delete('fresh', { parent: created.id })
      assert.equal(gone.parents, [created.id])
      // A refusal that holds against the stored head is still a refusal, with the stored head as actual.
      const err = await rejection(a.commit('k', { n: 4 }, { parent: first.id }))
      assert.instance(err, ConflictError)
      assert.is((err as ConflictError).actual, third.id)
    } finally {
      await a.close()
      await b.close()
    }
  })
  test.run()
}
