/**
 * Sync with a server (issue 14): clone, pull and push between a Store and a RemoteStore over
 * a real server on port 0, the routes in the OpenAPI document, the bearer token, and a
 * tampered push refused key by key.
 */
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ReadOnlyError, RemoteStore, Store } from '../src/index.js'
import type { StoreOptions } from '../src/index.js'
import { serve } from '../src/server/index.js'
import type { RunningServer } from '../src/server/index.js'
import { kSync } from '../src/sync/types.js'
import { all, rejection } from './helpers.js'

const it = suite('sync over HTTP')
const TOKEN = 'sync-secret'
let served: Store
let server: RunningServer
let remote: RemoteStore
let clocks = 0

function fakeClock (start: number): () => number {
  let now = start
  return () => ++now
}

async function memory (options: Partial<StoreOptions> = {}): Promise<Store> {
  return await Store.open({ db: new MemoryLevel(), clock: fakeClock(1_000_000 + 1000 * clocks++), ...options })
}

it.before.each(async () => {
  served = await memory({ strategy: 'merge' })
  server = await serve(served, { port: 0, token: TOKEN })
  remote = await RemoteStore.open({ url: server.url, token: TOKEN })
})
it.after.each(async () => {
  await remote.close()
  await server.close()
  await served.close()
})

it('clone from a server, then pull only what changed there', async () => {
  for (let i = 0; i < 20; i++) await served.commit(`k${i}`, { i })
  await served.delete('k0')
  const copy = await Store.clone(remote, { db: new MemoryLevel() })
  assert.equal(await all(copy.export()), await all(served.export()))
  await served.commit('k5', 'changed')
  const report = await copy.pull(remote)
  assert.equal([report.keys, report.fastForwards, report.revisions], [1, 1, 1])
  const again = await copy.pull(remote)
  assert.equal([again.keys, again.revisions, again.bytes], [0, 0, 0])
  await copy.close()
})

it('push to a server and pull back: edits on both sides converge under merge', async () => {
  const local = await memory({ strategy: 'merge' })
  await local.commit('doc', { a: 0, b: 0 })
  const first = await local.push(remote)
  assert.equal([first.keys, first.fastForwards], [1, 1])
  await local.commit('doc', { a: 1, b: 0 })
  await served.commit('doc', { a: 0, b: 1 })
  await local.commit('mine', true)
  const pushed = await local.push(remote)
  assert.equal([pushed.merges, pushed.fastForwards], [1, 1], 'the server merged the diverged key with its strategy')
  assert.equal(await served.get('doc'), { a: 1, b: 1 })
  const pulled = await local.pull(remote)
  assert.equal(pulled.fastForwards, 1, 'the server\'s merge fast-forwards here')
  assert.equal(await all(local.export()), await all(served.export()))
  assert.equal((await served.verify()).problems, [])
  await local.close()
})

it('a tampered push is refused for its key only; a truncated one is a 400', async () => {
  const local = await memory()
  await local.commit('good', 1)
  await local.commit('bad', { v: 1 })
  const lines = await all(local[kSync]().send([{ key: 'good', haves: [] }, { key: 'bad', haves: [] }]))
  const tampered = lines.map((line) => line.replace('"v":1', '"v":2'))
  const post = async (body: string[]): Promise<Response> => await fetch(`${server.url}/v1/sync/receive`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
    body: body.join('\n') + '\n'
  })
  const response = await post(tampered)
  assert.is(response.status, 200)
  const report = await response.json() as { refused: Array<{ key: string }>, fastForwards: number }
  assert.equal(report.refused.map((r) => r.key), ['bad'])
  assert.is(report.fastForwards, 1)
  assert.is(await served.head('bad'), undefined)
  const truncated = await post(lines.slice(0, -1))
  assert.is(truncated.status, 400)
  await local.close()
})

it('the sync routes need the token and are in the OpenAPI document', async () => {
  const bare = await fetch(`${server.url}/v1/sync/info`)
  assert.is(bare.status, 401)
  const info = await fetch(`${server.url}/v1/sync/info`, { headers: { authorization: `Bearer ${TOKEN}` } })
  const body = await info.json() as { id: string, seq: number }
  assert.type(body.id, 'string')
  assert.type(body.seq, 'number')
  const doc = await (await fetch(`${server.url}/v1/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as { paths: Record<string, unknown> }
  for (const path of ['/v1/sync/info', '/v1/sync/heads', '/v1/sync/send', '/v1/sync/receive']) assert.ok(path in doc.paths, path)
})

it('a --read-only server answers pulls and refuses pushes and writes with 403, changing nothing', async () => {
  await served.commit('k', 1)
  const readOnly = await serve(served, { port: 0, readOnly: true })
  const client = await RemoteStore.open(readOnly.url)
  try {
    const local = await Store.clone(client, { db: new MemoryLevel() })
    assert.equal(await local.get('k'), 1, 'pulls (and the POST routes they read with) are served')
    await local.commit('k', 2)
    const before = await all(served.export())
    const err = await rejection(local.push(client)) as ReadOnlyError
    assert.instance(err, ReadOnlyError)
    assert.is(err.code, 'REVKV_READ_ONLY')
    assert.is(err.status, 403)
    assert.match(err.message, /read-only/)
    const put = await fetch(`${readOnly.url}/v1/keys/k`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '3' })
    assert.is(put.status, 403)
    assert.is(((await put.json()) as { code: string }).code, 'REVKV_READ_ONLY')
    assert.equal(await all(served.export()), before, 'nothing changed')
    await local.close()
  } finally {
    await client.close()
    await readOnly.app.close()
  }
})

it('a push with a strategy object is refused: a server takes a strategy\'s name', async () => {
  const local = await memory()
  await local.commit('k', 1)
  await served.commit('k', 2)
  const err = await local.push(remote, { strategy: { name: 'mine', resolve: () => ({ value: 1 }) } }).catch((e: unknown) => e as Error)
  assert.match((err as Error).message, /name/)
  await local.close()
})

it.run()
