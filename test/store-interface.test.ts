/**
 * The declared capabilities of each store (`supports`): frozen, stable, and exactly what the
 * README's table documents. That both classes implement RevkvStore is checked by the compiler
 * (their `implements` clauses).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RemoteStore, Store } from '../src/index.js'
import type { RevkvStore } from '../src/index.js'
import { serve } from '../src/server/index.js'
import { sharedCluster } from './pg/cluster.js'

const README = fileURLToPath(new URL('../../README.md', import.meta.url))

/** The README's capability table: per column (Store on LevelDB, on memory-level, on PostgreSQL, RemoteStore), each capability's value. */
function documented (): Array<Record<string, boolean>> {
  const text = readFileSync(README, 'utf8')
  const section = text.slice(text.indexOf('### `RevkvStore` and `store.supports`'))
  const columns: Array<Record<string, boolean>> = [{}, {}, {}, {}]
  for (const [, name, ...values] of section.matchAll(/^\| `(\w+)` \| `(true|false)` \| `(true|false)` \| `(true|false)` \| `(true|false)` \|/gm)) {
    values.forEach((value, column) => { (columns[column] as Record<string, boolean>)[name as string] = value === 'true' })
  }
  return columns
}

function checkSupports (store: RevkvStore, expected: Record<string, boolean> | undefined, what: string): void {
  assert.ok(Object.isFrozen(store.supports), `${what}: supports is frozen`)
  assert.is(store.supports, store.supports, `${what}: supports is one object for the store's life`)
  assert.equal({ ...store.supports }, expected, `${what}: supports has exactly the documented capabilities and values`)
  assert.throws(() => { (store.supports as { callOrder: boolean }).callOrder = !store.supports.callOrder }, TypeError)
}

test('the README documents three capabilities for each of the four kinds of store', () => {
  const columns = documented()
  assert.is(columns.length, 4)
  for (const column of columns) assert.equal(Object.keys(column).sort(), ['callOrder', 'customStrategies', 'sharedWriters'])
})

test('Store on a LevelDB directory and on memory-level, and RemoteStore, declare the documented supports', async () => {
  const [level, memory, , remote] = documented()
  const dir = mkdtempSync(join(tmpdir(), 'revkv-supports-'))
  const onDisk = await Store.open(dir)
  const inMemory = await Store.open({ db: new MemoryLevel() })
  const server = await serve(inMemory, { port: 0 })
  const client = await RemoteStore.open(server.url)
  try {
    checkSupports(onDisk, level, 'Store on LevelDB')
    checkSupports(inMemory, memory, 'Store on memory-level')
    checkSupports(client, remote, 'RemoteStore')
  } finally {
    await client.close()
    await server.close()
    await onDisk.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

const cluster = await sharedCluster()
const onPostgres = cluster === undefined ? test.skip : test
onPostgres('Store on PostgreSQL declares the documented supports', async () => {
  const store = await Store.open({ postgres: cluster?.url as string, schema: `supports_${process.pid}` })
  try {
    checkSupports(store, documented()[2], 'Store on PostgreSQL')
  } finally {
    await store.close()
  }
})

test.run()
