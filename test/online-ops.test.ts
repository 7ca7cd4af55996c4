/**
 * Operations on a served store: export from one snapshot while writes go on, import,
 * verify and compact, through the library, the HTTP routes and RemoteStore.
 */
import { request } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidInputError, RemoteError, RemoteStore, Store, ValueTooLargeError } from '../src/index.js'
import type { RevkvDatabase } from '../src/index.js'
import { serve } from '../src/server/index.js'
import type { RunningServer } from '../src/server/index.js'
import { all, rejection } from './helpers.js'

const dirs: string[] = []
function tempStoreDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-online-'))
  dirs.push(dir)
  return dir
}

/**
 * `count` keys k000…, each with two revisions and a revision kept unmerged by `manual`
 * (values padded to `pad` characters), so a dump has heads, histories and unmerged lists.
 */
async function fill (store: Store, count: number, pad = 0): Promise<void> {
  const filler = 'x'.repeat(pad)
  await Promise.all(Array.from({ length: count }, async (_, i) => {
    const key = `k${String(i).padStart(3, '0')}`
    const first = await store.commit(key, { n: 1, filler })
    await store.commit(key, { n: 2, filler }, { parent: first.id })
    await rejection(store.commit(key, { n: 3, filler }, { parent: first.id, strategy: 'manual' }))
  }))
}

/**
 * Writes that change every key after the first few: a new head, the kept revision merged
 * (the unmerged list empties), a tombstone, and a new key. A dump mixing before and after
 * would show a head without its kept revision, or a merged head still listing it.
 */
async function writeEverywhere (store: Store | RemoteStore, count: number): Promise<void> {
  for (let i = 2; i < count; i++) {
    const key = `k${String(i).padStart(3, '0')}`
    const kept = (await store.conflicts(key))[0]
    if (kept !== undefined && i % 2 === 0) await store.merge(key, kept.id, { strategy: 'lww' })
    else if (i % 3 === 0) await store.delete(key)
    else await store.commit(key, { n: 4 })
  }
  await store.commit('new-key', 1)
}

async function storeWith (db: RevkvDatabase | string): Promise<Store> {
  return typeof db === 'string' ? await Store.open({ path: db, strategy: 'reject' }) : await Store.open({ db })
}

for (const [backend, make] of [['memory-level', () => new MemoryLevel() as RevkvDatabase], ['LevelDB', tempStoreDir]] as const) {
  test(`export (${backend}) is the store at the reading of its first line: writes and compaction after it never show`, async () => {
    const store = await storeWith(make())
    try {
      await fill(store, 20)
      const before = await all(store.export())
      const dump = store.export()
      const first = await dump.next()
      assert.equal(JSON.parse(first.value as string), { revkv: 'dump', format: 1 })
      // Read a little of the dump, so the export is under way, then change everything.
      const second = await dump.next()
      await writeEverywhere(store, 20)
      assert.equal(await store.compact({ keep: 1 }), { keys: 9, dropped: 27 }, 'compaction drops revisions the dump still needs (of the keys merged meanwhile)')
      const rest = await all({ [Symbol.asyncIterator]: () => dump })
      const lines = [first.value as string, second.value as string, ...rest]
      assert.equal(lines, before, 'the dump is exactly the store before the writes')
      const copy = await Store.open({ db: new MemoryLevel() })
      assert.is((await copy.import(lines)).heads, 20)
      assert.equal((await copy.verify()).problems, [])
      assert.is((await copy.conflicts('k019')).length, 1, 'the kept revision merged meanwhile is still kept in the dump')
      await copy.close()
    } finally {
      await store.close()
    }
  })
}

test('a store over a database without explicit snapshots pauses writes for the export, and resumes them', async () => {
  const db = new MemoryLevel() as RevkvDatabase
  // The same database, claiming no explicit snapshots (as some abstract-level backends do).
  const supports = { ...db.supports, explicitSnapshots: false }
  Object.defineProperty(db, 'supports', { value: supports })
  const store = await Store.open({ db })
  try {
    await fill(store, 5)
    const before = await all(store.export())
    const dump = store.export()
    const head = [await dump.next(), await dump.next()].map((r) => r.value as string)
    let written = false
    const kept = (await store.conflicts('k004'))[0]?.id as string
    const write = store.merge('k004', kept, { strategy: 'lww', value: { n: 9 } }).then(() => { written = true })
    // Turns of the event loop in which an unpaused write to memory-level would land.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
    assert.not.ok(written, 'the write waits while the export runs')
    const rest = await all({ [Symbol.asyncIterator]: () => dump })
    assert.equal([...head, ...rest], before)
    await write
    assert.ok(written, 'the write went on after the export')
    assert.equal(await store.get('k004'), { n: 9 })
  } finally {
    await store.close()
  }
})

/** A store in a LevelDB directory served on port 0, and a RemoteStore client of it. */
async function served (options: { token?: string, db?: RevkvDatabase } = {}): Promise<{ store: Store, server: RunningServer, remote: RemoteStore }> {
  const store = await storeWith(options.db ?? tempStoreDir())
  const server = await serve(store, { port: 0, ...(options.token === undefined ? {} : { token: options.token }) })
  const remote = await RemoteStore.open({ url: server.url, ...(options.token === undefined ? {} : { token: options.token }) })
  return { store, server, remote }
}

/** GET a path and hold the response, paused: the test reads it when it chooses. */
async function pausedGet (url: string): Promise<IncomingMessage> {
  const req = request(url)
  req.end()
  const [res] = await once(req, 'response') as [IncomingMessage]
  res.pause()
  return res
}

async function nextChunk (res: IncomingMessage): Promise<Buffer> {
  const chunk = res.read() as Buffer | null
  if (chunk !== null) return chunk
  await once(res, 'readable')
  return await nextChunk(res)
}

test('GET /v1/export while writers commit: the dump is one moment, imports cleanly and verifies', async () => {
  const { store, server, remote } = await served()
  const copy = await served()
  try {
    // About 11 MB of dump: far more than the socket buffers hold while the client reads
    // nothing, so the server is still producing the export when the writes land (without the
    // snapshot, this test sees their effects in the dump).
    await fill(store, 60, 60_000)
    const before = await all(store.export())
    assert.ok(before.reduce((n, line) => n + line.length, 0) > 10_000_000)
    const res = await pausedGet(`${server.url}/v1/export`)
    assert.is(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), /^application\/x-ndjson/)
    const chunks = [await nextChunk(res)]
    // Writers through HTTP, several at once, while the export waits for its reader.
    await Promise.all([writeEverywhere(remote, 60), Promise.all(Array.from({ length: 8 }, async (_, i) => await remote.commit(`other${i}`, i)))])
    res.resume()
    for await (const chunk of res) chunks.push(chunk as Buffer)
    const lines = Buffer.concat(chunks).toString('utf8').split('\n')
    assert.is(lines.pop(), '', 'each line ends with a newline')
    assert.equal(lines, before, 'exactly the store at the moment the export began')
    assert.equal(await copy.remote.import(lines), { revisions: 180, heads: 60, keys: before.filter((l) => l.startsWith('{"head"')).map((l) => (JSON.parse(l) as { head: { key: string } }).head.key) })
    const report = await copy.remote.verify()
    assert.equal(report, { revisions: 180, keys: 60, problems: [] })
    const heads = before.map((l) => JSON.parse(l) as { head?: { key: string, head: string, unmerged?: string[] } }).flatMap((d) => d.head === undefined ? [] : [d.head])
    for (const { key, head, unmerged } of heads) {
      assert.is((await copy.remote.head(key))?.id, head, `head of ${key} as dumped`)
      assert.equal((await copy.remote.conflicts(key)).map((r) => r.id), unmerged, `kept revision of ${key} as dumped`)
    }
  } finally {
    await remote.close()
    await server.close()
    await copy.remote.close()
    await copy.server.close()
  }
})

test('RemoteStore.export, verify, compact and import over HTTP behave like the Store methods', async () => {
  const { store, server, remote } = await served()
  try {
    await fill(store, 5)
    assert.equal(await all(remote.export()), await all(store.export()))
    assert.equal(await all(remote.export({ prefix: 'k00' })), await all(store.export({ prefix: 'k00' })))
    let progressed = 0
    const report = await remote.verify({ onProgress: (n) => { progressed = n } })
    assert.equal(report, await store.verify())
    assert.equal(report, { revisions: 15, keys: 5, problems: [] })
    assert.ok(progressed > 0, 'progress comes through')
    assert.instance(await rejection(remote.compact({ keep: 0 })), InvalidInputError)
    assert.instance(await rejection(remote.compact({ keep: 2.5 })), InvalidInputError)
    await remote.merge('k000', (await remote.conflicts('k000'))[0]?.id as string, { strategy: 'lww' })
    assert.equal(await remote.compact({ keep: 1, prefix: 'k000' }), { keys: 1, dropped: 3 })
    assert.is((await all(store.log('k000'))).length, 1)
    assert.equal(await remote.compact({ keep: 1 }), { keys: 0, dropped: 0 }, 'kept conflicts keep what they need to merge')
    assert.equal((await remote.verify()).problems, [], 'compaction left a sound store')
    const dump = await all(remote.export())
    const refused = await rejection(remote.import(dump))
    assert.instance(refused, InvalidInputError)
    assert.match(refused.message, /already exists.*Nothing was imported/)
    const copy = await served()
    try {
      const tampered = dump.map((l) => l.replace('"n":2', '"n":7'))
      const err = await rejection(copy.remote.import(tampered))
      assert.instance(err, InvalidInputError)
      assert.match(err.message, /does not hash to its id/)
      assert.equal(await all(copy.remote.keys()), [], 'a tampered dump imports nothing')
      // A source that fails while being read fails the import with its own error; nothing is written.
      const failing = await rejection(copy.remote.import((async function * () { yield dump[0] as string; throw new Error('disk gone') })()))
      assert.is(failing.message, 'disk gone')
      assert.equal(await copy.remote.import(dump), { revisions: 13, heads: 5, keys: ['k000', 'k001', 'k002', 'k003', 'k004'] })
      assert.equal(await all(copy.remote.export()), dump, 'an export of the import is the same dump')
    } finally {
      await copy.remote.close()
      await copy.server.close()
    }
  } finally {
    await remote.close()
    await server.close()
  }
})

test('verify over HTTP finds damage: each problem with its kind, key, revision and message', async () => {
  const db = new MemoryLevel() as RevkvDatabase
  const { store, server, remote } = await served({ db })
  try {
    const first = await store.commit('a', { v: 1 })
    await store.commit('a', { v: 2 })
    // Damage underneath the store: the first revision's content changed, bypassing revkv.
    const record = await db.get(`r!${first.id}`, { keyEncoding: 'utf8', valueEncoding: 'utf8' }) as string
    await db.put(`r!${first.id}`, record.replace('"v":1', '"v":5'), { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    const report = await remote.verify()
    assert.is(report.revisions, 2)
    assert.is(report.keys, 1)
    assert.equal(report.problems, [{ kind: 'hash', revision: first.id, key: 'a', message: `Revision ${first.id} of key "a" does not hash to its id: its content was changed after it was written.` }])
  } finally {
    await remote.close()
    await server.close()
  }
})

test('the operations need the server\'s token; the OpenAPI document lists them', async () => {
  const { store, server, remote } = await served({ token: 'sesame' })
  try {
    await store.commit('a', 1)
    for (const [method, path, type, body] of [
      ['GET', '/v1/export', undefined, undefined],
      ['GET', '/v1/verify', undefined, undefined],
      ['POST', '/v1/compact', 'application/json', '{"keep":1}'],
      ['POST', '/v1/import', 'application/x-ndjson', '{"revkv":"dump","format":1}\n{"end":{"revisions":0,"heads":0}}\n']
    ] as const) {
      const res = await fetch(server.url + path, { method, ...(type === undefined ? {} : { headers: { 'content-type': type }, body }) })
      assert.is(res.status, 401, `${method} ${path} without the token`)
      assert.is(res.headers.get('content-type'), 'application/problem+json; charset=utf-8')
      await res.body?.cancel()
    }
    assert.equal(await store.get('a'), 1)
    assert.is((await remote.verify()).keys, 1, 'with the token it works')
    const wrong = await RemoteStore.open({ url: server.url, token: 'guess' }).then(() => undefined, (e: unknown) => e)
    assert.instance(wrong, RemoteError)
    const doc = await (await fetch(`${server.url}/v1/openapi.json`, { headers: { authorization: 'Bearer sesame' } })).json() as { paths: Record<string, Record<string, { operationId: string }>> }
    assert.is(doc.paths['/v1/export']?.get?.operationId, 'exportDump')
    assert.is(doc.paths['/v1/import']?.post?.operationId, 'importDump')
    assert.is(doc.paths['/v1/verify']?.get?.operationId, 'verify')
    assert.is(doc.paths['/v1/compact']?.post?.operationId, 'compact')
  } finally {
    await remote.close()
    await server.close()
  }
})

test('POST /v1/import takes NDJSON only; a bad compact body is a 400 problem', async () => {
  const { server, remote } = await served()
  try {
    const json = await fetch(`${server.url}/v1/import`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    assert.is(json.status, 415)
    assert.match(await json.text(), /application\/x-ndjson/)
    const bad = await fetch(`${server.url}/v1/compact`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"keep":0}' })
    assert.is(bad.status, 400)
    assert.match(await bad.text(), /keep/)
  } finally {
    await remote.close()
    await server.close()
  }
})

test('a value over the limit: the library says maxValueBytes, the server names its flag; Store.maxValueBytes sets the body limit', async () => {
  const store = await Store.open({ db: new MemoryLevel(), maxValueBytes: 100 })
  assert.is(store.maxValueBytes, 100)
  const local = await rejection(store.commit('k', 'x'.repeat(200)))
  assert.instance(local, ValueTooLargeError)
  assert.instance(local, InvalidInputError)
  assert.equal([(local as ValueTooLargeError).bytes, (local as ValueTooLargeError).limit], [202, 100])
  assert.match(local.message, /over the limit of 100 bytes.*larger maxValueBytes/)
  const server = await serve(store, { port: 0, bodyLimit: 20_000_000 })
  const remote = await RemoteStore.open(server.url)
  try {
    const err = await rejection(remote.commit('k', 'x'.repeat(200)))
    assert.instance(err, InvalidInputError)
    assert.match(err.message, /revkv serve --max-value-bytes/)
    assert.not.match(err.message, /open the store/)
  } finally {
    await remote.close()
    await server.close()
  }
  const big = await Store.open({ db: new MemoryLevel(), maxValueBytes: 3_000_000 })
  const bigServer = await serve(big, { port: 0 })
  const bigRemote = await RemoteStore.open(bigServer.url)
  try {
    // 2 MB: over the old fixed body limit of 1 MiB + 64 KiB, within this store's value limit.
    assert.is((await bigRemote.commit('k', 'x'.repeat(2_000_000))).key, 'k')
  } finally {
    await bigRemote.close()
    await bigServer.close()
  }
})

test.after(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

test.run()
