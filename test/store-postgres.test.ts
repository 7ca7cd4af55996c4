/**
 * The behavioural suite every backend runs, on the PostgreSQL engine: a real server that
 * the test starts itself (test/pg/cluster.ts), one schema per store. Skipped, and said so,
 * where PostgreSQL is not installed (REVKV_REQUIRE_POSTGRES=1 makes that a failure).
 */
import { test } from 'uvu'
import { Store } from '../src/index.js'
import type { RevkvStore, StoreOptions } from '../src/index.js'
import type { StoreFactory } from './store-suite.js'
import { storeSuite } from './store-suite.js'
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
}
