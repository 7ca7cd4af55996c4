import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import { serve } from '../src/server/index.js'
import type { ListenOptions, RunningServer } from '../src/server/index.js'
import { ROUTES } from '../src/server/routes.js'
import { instrumentedDb } from './helpers.js'

interface Answer {
  status: number
  headers: Headers
  body: unknown
  text: string
}

/** A store served on an ephemeral loopback port, and a fetch helper for it. */
async function start (options: ListenOptions = {}, storeOptions: { strategy?: string } = {}, db = new MemoryLevel<string, string>()): Promise<{ server: RunningServer, store: Store, call: (method: string, path: string, init?: { body?: string, headers?: Record<string, string> }) => Promise<Answer> }> {
  const store = await Store.open({ db, ...storeOptions })
  const server = await serve(store, { port: 0, ...options })
  const call = async (method: string, path: string, init: { body?: string, headers?: Record<string, string> } = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers }
    const response = await fetch(server.url + path, { method, headers, ...(init.body === undefined ? {} : { body: init.body }) })
    const text = await response.text()
    let body: unknown = text
    try { body = JSON.parse(text) } catch {}
    return { status: response.status, headers: response.headers, body, text }
  }
  return { server, store, call }
}

const it = suite('HTTP server')
let current: RunningServer | undefined
it.after.each(async () => {
  await current?.close()
  current = undefined
})
const open = async (options: ListenOptions = {}, storeOptions: { strategy?: string } = {}, db?: MemoryLevel<string, string>): ReturnType<typeof start> => {
  const started = await start(options, storeOptions, db)
  current = started.server
  return started
}
const etag = (a: Answer): string => a.headers.get('etag') ?? ''
const idOf = (a: Answer): string => etag(a).replace(/"/g, '')
const problemOf = (a: Answer): Record<string, unknown> => a.body as Record<string, unknown>

it('listens on loopback by default; --port 0 picks a free port', async () => {
  const { server, call } = await open()
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.not.match(server.url, /:7070$/)
  const health = await call('GET', '/v1/health')
  assert.is(health.status, 200)
  assert.is((health.body as { status: string }).status, 'ok')
})

it('PUT creates (201) then updates (200) with ETag; GET and HEAD return value and ETag; 304 when unchanged', async () => {
  const { call } = await open()
  const created = await call('PUT', '/v1/keys/a', { body: '{"x":1}' })
  assert.is(created.status, 201)
  assert.match(etag(created), /^"[0-9a-f]{64}"$/)
  assert.is(created.headers.get('location'), '/v1/keys/a')
  const rev = created.body as Record<string, unknown>
  assert.is(rev.id, idOf(created))
  assert.not.ok('value' in rev, 'the body is the revision without its value')
  const updated = await call('PUT', '/v1/keys/a', { body: '{"x":2}' })
  assert.is(updated.status, 200)
  const got = await call('GET', '/v1/keys/a')
  assert.equal(got.body, { x: 2 })
  assert.is(etag(got), etag(updated))
  const head = await call('HEAD', '/v1/keys/a')
  assert.is(head.status, 200)
  assert.is(head.text, '')
  assert.is(etag(head), etag(updated))
  const notModified = await call('GET', '/v1/keys/a', { headers: { 'if-none-match': etag(updated) } })
  assert.is(notModified.status, 304)
  assert.is((await call('GET', '/v1/keys/a', { headers: { 'if-none-match': etag(created) } })).status, 200)
  const old = await call('GET', `/v1/keys/a?rev=${idOf(created).slice(0, 8)}`)
  assert.equal(old.body, { x: 1 })
  assert.is(etag(old), etag(created))
  const scalar = await call('PUT', '/v1/keys/s', { body: '"just a string"' })
  assert.is(scalar.status, 201)
  assert.is((await call('GET', '/v1/keys/s')).text, '"just a string"', 'JSON strings are sent as JSON')
})

it('keys with any characters round-trip through percent-encoding', async () => {
  const { call } = await open()
  for (const key of ['a/b', 'a/log', 'é x', '%', '?#&=+', 'emoji 🙂', 'trailing/']) {
    const path = `/v1/keys/${encodeURIComponent(key)}`
    assert.is((await call('PUT', path, { body: JSON.stringify(key) })).status, 201, key)
    assert.is((await call('GET', path)).body, key)
  }
  const listed = await call('GET', '/v1/keys')
  assert.equal((listed.body as { keys: string[] }).keys.sort(), ['a/b', 'a/log', 'é x', '%', '?#&=+', 'emoji 🙂', 'trailing/'].sort())
})

it('If-Match is a precondition: 412 and nothing written when it does not name the head, whatever the strategy', async () => {
  const { call, store } = await open({}, { strategy: 'lww' })
  const v1 = await call('PUT', '/v1/keys/k', { body: '1' })
  const v2 = await call('PUT', '/v1/keys/k', { body: '2', headers: { 'if-match': etag(v1) } })
  assert.is(v2.status, 200)
  const stale = await call('PUT', '/v1/keys/k', { body: '3', headers: { 'if-match': etag(v1) } })
  assert.is(stale.status, 412)
  assert.match(stale.headers.get('content-type') ?? '', /application\/problem\+json/)
  assert.is(problemOf(stale).status, 412)
  assert.is(problemOf(stale).actual, idOf(v2))
  assert.is(await store.get('k'), 2)
  let n = 0
  for await (const _ of store.log('k')) n++
  assert.is(n, 2, 'a failed precondition writes nothing, even under lww')
  assert.is((await call('PUT', '/v1/keys/k', { body: '3', headers: { 'if-match': `W/${etag(v2)}` } })).status, 412, 'If-Match uses strong comparison')
  assert.is((await call('PUT', '/v1/keys/new', { body: '1', headers: { 'if-match': '*' } })).status, 412, 'If-Match: * needs the key to exist')
  assert.is((await call('PUT', '/v1/keys/k', { body: '4', headers: { 'if-match': '*' } })).status, 200)
  assert.is((await call('PUT', '/v1/keys/k', { body: '5', headers: { 'if-none-match': '*' } })).status, 412, 'If-None-Match: * is create only')
  assert.is((await call('PUT', '/v1/keys/fresh', { body: '5', headers: { 'if-none-match': '*' } })).status, 201)
  assert.is((await call('PUT', '/v1/keys/k', { body: '5', headers: { 'if-match': 'nonsense' } })).status, 400)
  assert.is((await call('DELETE', '/v1/keys/k', { headers: { 'if-match': etag(v1) } })).status, 412)
  assert.is((await call('DELETE', '/v1/keys/k', { headers: { 'if-none-match': '*' } })).status, 412, 'delete only if it does not exist: it exists')
  assert.is((await call('DELETE', '/v1/keys/nothing', { headers: { 'if-none-match': '*' } })).status, 404)
})

it('a stale parent is a versioned edit: 409 under reject, merged under merge, kept under manual', async () => {
  const { call } = await open()
  const v1 = await call('PUT', '/v1/keys/doc', { body: '{"a":1,"b":1}' })
  await call('PUT', `/v1/keys/doc?parent=${idOf(v1)}`, { body: '{"a":2,"b":1}' })
  const rejected = await call('PUT', `/v1/keys/doc?parent=${idOf(v1)}`, { body: '{"a":1,"b":2}' })
  assert.is(rejected.status, 409)
  const p = problemOf(rejected)
  assert.is(p.code, 'REVKV_CONFLICT')
  assert.is(p.type, 'urn:revkv:problem:conflict')
  assert.is(p.title, 'Conflict')
  assert.is(p.key, 'doc')
  assert.is(p.expected, idOf(v1))
  assert.match(String(p.detail), /stale|based on/)
  const merged = await call('PUT', `/v1/keys/doc?strategy=merge`, { body: '{"a":1,"b":2}', headers: { 'revkv-parent': idOf(v1) } })
  assert.is(merged.status, 200)
  assert.equal((await call('GET', '/v1/keys/doc')).body, { a: 2, b: 2 })
  const conflict = await call('PUT', `/v1/keys/doc?parent=${idOf(v1)}&strategy=merge`, { body: '{"a":3,"b":1}' })
  assert.is(conflict.status, 409)
  assert.equal(problemOf(conflict).conflicts, [{ path: '/a', base: 1, ours: 2, theirs: 3 }])
  const kept = await call('PUT', `/v1/keys/doc?parent=${idOf(v1)}&strategy=manual`, { body: '{"a":3,"b":1}' })
  assert.is(kept.status, 409)
  const keptId = problemOf(kept).kept as string
  assert.match(keptId, /^[0-9a-f]{64}$/)
  const listed = await call('GET', '/v1/keys/doc/conflicts')
  assert.equal((listed.body as { revisions: Array<{ id: string }> }).revisions.map((r) => r.id), [keptId])
  assert.equal((await call('GET', '/v1/conflicts')).body, { keys: ['doc'] })
  const settled = await call('POST', '/v1/keys/doc/merge', { body: JSON.stringify({ rev: keptId.slice(0, 10), strategy: 'merge', onConflict: 'theirs' }) })
  assert.is(settled.status, 200)
  assert.equal((await call('GET', '/v1/keys/doc')).body, { a: 3, b: 2 })
  const onConflict = await call('PUT', `/v1/keys/doc?parent=${idOf(v1)}&onConflict=ours`, { body: '{"a":9,"b":1}' })
  assert.is(onConflict.status, 200, 'onConflict implies the merge strategy')
  assert.is((await call('PUT', '/v1/keys/doc?parent=abc', { body: '1' })).status, 400)
  assert.is((await call('PUT', `/v1/keys/doc?parent=${'f'.repeat(64)}`, { body: '1' })).status, 404)
  assert.is((await call('PUT', `/v1/keys/doc?strategy=fancy&parent=${idOf(v1)}`, { body: '1' })).status, 400)
  assert.is((await call('PUT', '/v1/keys/doc?parent=null', { body: '1' })).status, 409, 'parent=null is create-only')
})

it('--require-parent answers 428 to writes without a parent or precondition', async () => {
  const { call } = await open({ requireParent: true })
  const blind = await call('PUT', '/v1/keys/k', { body: '1' })
  assert.is(blind.status, 428)
  assert.is(problemOf(blind).code, 'REVKV_PRECONDITION_REQUIRED')
  const created = await call('PUT', '/v1/keys/k', { body: '1', headers: { 'if-none-match': '*' } })
  assert.is(created.status, 201)
  assert.is((await call('PUT', `/v1/keys/k?parent=${idOf(created)}`, { body: '2' })).status, 200)
  assert.is((await call('DELETE', '/v1/keys/k')).status, 428)
})

it('PATCH applies JSON Patch and Merge Patch at the parent; a stale patch is merged by the strategy', async () => {
  const { call } = await open({}, { strategy: 'merge' })
  const v1 = await call('PUT', '/v1/keys/p', { body: '{"a":1,"list":[1,2],"o":{"x":1}}' })
  const jp = await call('PATCH', '/v1/keys/p', { body: '[{"op":"replace","path":"/a","value":2},{"op":"add","path":"/list/-","value":3}]', headers: { 'content-type': 'application/json-patch+json' } })
  assert.is(jp.status, 200)
  assert.equal((await call('GET', '/v1/keys/p')).body, { a: 2, list: [1, 2, 3], o: { x: 1 } })
  // A merge patch written against v1 is applied to v1's value, then merged with the newer head.
  const mp = await call('PATCH', `/v1/keys/p?parent=${idOf(v1)}`, { body: '{"o":{"x":null,"y":2}}', headers: { 'content-type': 'application/merge-patch+json' } })
  assert.is(mp.status, 200)
  assert.equal((await call('GET', '/v1/keys/p')).body, { a: 2, list: [1, 2, 3], o: { y: 2 } })
  const failedTest = await call('PATCH', '/v1/keys/p', { body: '[{"op":"test","path":"/a","value":99}]', headers: { 'content-type': 'application/json-patch+json' } })
  assert.is(failedTest.status, 422)
  const badPath = await call('PATCH', '/v1/keys/p', { body: '[{"op":"remove","path":"/nope"}]', headers: { 'content-type': 'application/json-patch+json' } })
  assert.is(badPath.status, 422)
  assert.is((await call('PATCH', '/v1/keys/p', { body: '[{"op":"explode","path":"/a"}]', headers: { 'content-type': 'application/json-patch+json' } })).status, 400)
  assert.is((await call('PATCH', '/v1/keys/p', { body: '{"a":1}' })).status, 415, 'plain JSON is not a patch')
  assert.is((await call('PATCH', '/v1/keys/none', { body: '[]', headers: { 'content-type': 'application/json-patch+json' } })).status, 404)
  const created = await call('PATCH', '/v1/keys/none', { body: '{"fresh":true}', headers: { 'content-type': 'application/merge-patch+json' } })
  assert.is(created.status, 201)
})

it('DELETE writes a tombstone; GET then 404s and the log keeps history', async () => {
  const { call } = await open()
  await call('PUT', '/v1/keys/d', { body: '1' })
  const deleted = await call('DELETE', '/v1/keys/d')
  assert.is(deleted.status, 200)
  assert.is((deleted.body as { deleted: boolean }).deleted, true)
  assert.is((await call('GET', '/v1/keys/d')).status, 404)
  assert.is((await call('DELETE', '/v1/keys/d')).status, 404)
  assert.is((await call('GET', '/v1/keys/d/head')).status, 200)
  const log = await call('GET', '/v1/keys/d/log')
  assert.is((log.body as { revisions: unknown[] }).revisions.length, 2)
  assert.is((await call('PUT', '/v1/keys/d', { body: '2' })).status, 201, 'writing a deleted key creates it again')
})

it('keys paging, log, diff, revisions and resolve', async () => {
  const { call } = await open()
  for (const k of ['a', 'b', 'c', 'd', 'e']) await call('PUT', `/v1/keys/${k}`, { body: '1' })
  const page1 = await call('GET', '/v1/keys?limit=2')
  assert.equal(page1.body, { keys: ['a', 'b'], next: 'b' })
  const page2 = await call('GET', '/v1/keys?limit=2&after=b')
  assert.equal(page2.body, { keys: ['c', 'd'], next: 'd' })
  assert.equal((await call('GET', '/v1/keys?limit=2&after=d')).body, { keys: ['e'] })
  assert.is((await call('GET', '/v1/keys?limit=nope')).status, 400)
  assert.is((await call('GET', '/v1/keys?bogus=1')).status, 400)
  const r1 = await call('PUT', '/v1/keys/h', { body: '{"v":1}' })
  const r2 = await call('PUT', '/v1/keys/h', { body: '{"v":2}' })
  assert.equal((await call('GET', '/v1/keys/h/diff')).body, [{ op: 'replace', path: '/v', value: 2 }])
  assert.equal((await call('GET', `/v1/keys/h/diff?from=${idOf(r2)}&to=${idOf(r1)}`)).body, [{ op: 'replace', path: '/v', value: 1 }])
  const log = await call('GET', '/v1/keys/h/log?limit=1')
  assert.equal((log.body as { revisions: Array<{ id: string }> }).revisions.map((r) => r.id), [idOf(r2)])
  const rev = await call('GET', `/v1/revisions/${idOf(r1).slice(0, 6)}`)
  assert.is((rev.body as { id: string }).id, idOf(r1))
  assert.equal((await call('GET', '/v1/resolve?ref=HEAD~1&key=h')).body, { id: idOf(r1) })
  assert.is((await call('GET', `/v1/revisions/${'0'.repeat(64)}`)).status, 404)
  assert.is((await call('GET', '/v1/revisions/zz')).status, 400)
})

it('errors are problem+json: malformed JSON (400 with position), 413, 415, 404 route, 405 with Allow', async () => {
  const { call } = await open({ bodyLimit: 1000 })
  const malformed = await call('PUT', '/v1/keys/k', { body: '{"a": 1,,}' })
  assert.is(malformed.status, 400)
  assert.match(malformed.headers.get('content-type') ?? '', /application\/problem\+json/)
  assert.match(String(problemOf(malformed).detail), /position \d+/i, String(problemOf(malformed).detail))
  for (const member of ['type', 'title', 'status', 'detail']) assert.ok(member in problemOf(malformed), member)
  assert.is((await call('PUT', '/v1/keys/k', { body: JSON.stringify('x'.repeat(2000)) })).status, 413)
  assert.is((await call('PUT', '/v1/keys/k', { body: 'hello', headers: { 'content-type': 'text/plain' } })).status, 415)
  assert.is((await call('PUT', '/v1/keys/k', { body: '{"x":null}', headers: { 'content-type': 'application/merge-patch+json' } })).status, 415, 'a patch sent with PUT is not stored as the value')
  assert.is((await call('GET', '/v1/keys/k')).status, 404)
  assert.is((await call('PUT', '/v1/keys/k')).status, 400, 'a PUT without a body')
  const noRoute = await call('GET', '/v2/nothing')
  assert.is(noRoute.status, 404)
  assert.is(problemOf(noRoute).code, 'REVKV_NO_ROUTE')
  const wrongMethod = await call('POST', '/v1/keys/k')
  assert.is(wrongMethod.status, 405)
  assert.is(wrongMethod.headers.get('allow'), 'GET, HEAD, PUT, PATCH, DELETE')
  assert.is((await call('PUT', `/v1/keys/${'x'.repeat(1100)}`, { body: '1' })).status, 400, 'a key over 1024 bytes')
})

it('--token requires a bearer token (401), compared in constant time', async () => {
  const { call } = await open({ token: 's3cret' })
  const denied = await call('GET', '/v1/keys')
  assert.is(denied.status, 401)
  assert.is(denied.headers.get('www-authenticate'), 'Bearer realm="revkv"')
  assert.is((await call('GET', '/v1/keys', { headers: { authorization: 'Bearer wrong' } })).status, 401)
  assert.is((await call('GET', '/v1/keys', { headers: { authorization: 'Bearer s3cret' } })).status, 200)
  assert.is((await call('GET', '/v1/health')).status, 200, 'health stays open for probes')
})

it('logs one Common Log Format line per request', async () => {
  const lines: string[] = []
  const { call } = await open({ log: (line) => lines.push(line) })
  await call('PUT', '/v1/keys/k', { body: '1' })
  await call('GET', '/v1/keys/nope')
  assert.is(lines.length, 2)
  assert.match(lines[0] ?? '', /^127\.0\.0\.1 - - \[[^\]]+\] "PUT \/v1\/keys\/k HTTP\/1\.1" 201 \d+ [\d.]+ms$/)
  assert.match(lines[1] ?? '', /"GET \/v1\/keys\/nope HTTP\/1\.1" 404 /)
})

it('the served OpenAPI document lists exactly the routes served', async () => {
  const { call, server } = await open()
  const doc = (await call('GET', '/v1/openapi.json')).body as { openapi: string, paths: Record<string, Record<string, unknown>> }
  assert.is(doc.openapi, '3.1.0')
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort()
  const served = ROUTES.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`).sort()
  assert.equal(documented, served)
  // And each documented route really answers (not 404/405) on the server.
  for (const route of ROUTES) {
    const path = route.path.replace(':key', 'k').replace(':id', '0'.repeat(64))
    if (route.operationId === 'streamChanges') {
      // A stream never ends: check its status and type, then hang up.
      const abort = new AbortController()
      const response = await fetch(`${server.url}${path}`, { signal: abort.signal })
      assert.is(response.status, 200)
      assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/)
      abort.abort()
      continue
    }
    const answer = await call(route.method, path, route.method === 'POST' ? { body: '{}' } : route.method === 'PUT' ? { body: '1' } : {})
    assert.ok(answer.status !== 405 && !(answer.status === 404 && problemOf(answer).code === 'REVKV_NO_ROUTE'), `${route.method} ${route.path} is served`)
  }
})

it('close() finishes in-flight writes before closing the store, and every acknowledged write is kept', async () => {
  const { db, holdNext } = instrumentedDb()
  const { server, call } = await open({}, {}, db)
  let arrived = 0
  let allArrived: () => void = () => {}
  const everyoneIn = new Promise<void>((resolve) => { allArrived = resolve })
  server.app.server.on('request', () => { if (++arrived === 20) allArrived() })
  // The first batch is held, so every request is still under way when close() starts.
  const held = holdNext()
  // Connection: close, because close() otherwise waits out keepAliveTimeout (72 s) for
  // connections that were busy when it began (reported; not this test's subject).
  const writes = Array.from({ length: 20 }, async (_, i) => await call('PUT', `/v1/keys/w${i}`, { body: String(i), headers: { connection: 'close' } }))
  await Promise.all([everyoneIn, held.reached])
  const closing = server.close()
  // A request that comes once closing has begun is refused (503) or finds no listener: never half-done.
  const late = await call('PUT', '/v1/keys/late', { body: '1', headers: { connection: 'close' } }).then((a) => `HTTP ${a.status}`, (err: Error & { cause?: { code?: string } }) => `failed: ${err.cause?.code ?? err.message}`)
  held.release()
  const answers = await Promise.all(writes)
  await closing
  current = undefined
  assert.equal(answers.map((a) => a.status), answers.map(() => 201), 'every write that reached the server before close() is acknowledged')
  assert.match(late, /^(HTTP 503|failed: .+)$/)
  assert.is(db.status, 'closed', 'the store (and its database) is closed after the server')
  const reopened = await Store.open({ db })
  for (let i = 0; i < 20; i++) assert.is(await reopened.get(`w${i}`), i, `acknowledged write w${i} is stored`)
  assert.is(await reopened.get('late'), undefined, `the late write (${late}) left nothing`)
  await reopened.close()
})

it.run()
