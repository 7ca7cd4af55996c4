import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import { serve } from '../src/server/index.js'
import type { RunningServer } from '../src/server/index.js'

const it = suite('HTTP leases')
let server: RunningServer | undefined
it.after.each(async () => {
  await server?.close()
  server = undefined
})

interface Answer { status: number, type: string, location: string | null, body: Record<string, unknown> }

/** A served store on a loopback port, and a request helper that parses JSON answers. */
async function served (): Promise<(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Answer>> {
  server = await serve(await Store.open({ db: new MemoryLevel() }), { port: 0 })
  const url = server.url
  return async (method, path, body, headers = {}) => {
    const response = await fetch(url + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': headers['content-type'] ?? 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    return { status: response.status, type: response.headers.get('content-type') ?? '', location: response.headers.get('location'), body: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
  }
}

it('POST /lock takes the lease (201); writes without Revkv-Lock-Token are 423 problem+json naming the holder; with it they go through', async () => {
  const call = await served()
  const v1 = await call('PUT', '/v1/keys/doc', { n: 1 })
  const lock = await call('POST', '/v1/keys/doc/lock', { ttl: 30_000, owner: 'ada' })
  assert.is(lock.status, 201)
  assert.is(lock.location, '/v1/keys/doc/lock')
  const { token, expires } = lock.body as { token: number, expires: number }
  assert.equal(lock.body, { key: 'doc', token, owner: 'ada', expires })
  const refused = [
    await call('PUT', '/v1/keys/doc', { n: 2 }),
    await call('PUT', '/v1/keys/doc', { n: 2 }, { 'if-match': `"${String(v1.body.id)}"` }),
    await call('PATCH', '/v1/keys/doc', { n: 2 }, { 'content-type': 'application/merge-patch+json' }),
    await call('DELETE', '/v1/keys/doc'),
    await call('POST', '/v1/keys/doc/merge', { rev: v1.body.id })
  ]
  for (const answer of refused) {
    assert.is(answer.status, 423)
    assert.match(answer.type, /^application\/problem\+json/)
    assert.is(answer.body.title, 'Locked')
    assert.is(answer.body.code, 'REVKV_LOCKED')
    assert.is(answer.body.type, 'urn:revkv:problem:locked')
    assert.is(answer.body.key, 'doc')
    assert.is(answer.body.owner, 'ada')
    assert.is(answer.body.expires, expires)
    assert.is(answer.body.token, token)
  }
  const read = await call('GET', '/v1/keys/doc')
  assert.is(read.status, 200, 'reads are never blocked')
  assert.equal(read.body, { n: 1 }, 'nothing was written')
  const written = await call('PUT', '/v1/keys/doc', { n: 2 }, { 'revkv-lock-token': String(token), 'if-match': `"${String(v1.body.id)}"` })
  assert.is(written.status, 200)
  assert.is(written.body.token, token)
  assert.equal((await call('GET', '/v1/locks')).body, { locks: [lock.body] })
  assert.equal((await call('GET', '/v1/locks?prefix=other')).body, { locks: [] })
  const busy = await call('POST', '/v1/keys/doc/lock', { ttl: 1000, owner: 'bob' })
  assert.is(busy.status, 423)
  assert.is(busy.body.owner, 'ada')
  const renewed = await call('PATCH', '/v1/keys/doc/lock', { ttl: 60_000 }, { 'revkv-lock-token': String(token) })
  assert.is(renewed.status, 200)
  assert.ok((renewed.body.expires as number) > expires)
  const released = await call('DELETE', '/v1/keys/doc/lock', undefined, { 'revkv-lock-token': String(token) })
  assert.equal([released.status, released.body], [200, { released: true }])
  assert.equal((await call('DELETE', '/v1/keys/doc/lock', undefined, { 'revkv-lock-token': String(token) })).body, { released: false })
  // Fencing: the released lease's token no longer writes, and is 423, not a precondition failure.
  const fenced = await call('PUT', '/v1/keys/doc', { n: 3 }, { 'revkv-lock-token': String(token), 'if-match': `"${String(written.body.id)}"` })
  assert.is(fenced.status, 423)
  assert.is((await call('PUT', '/v1/keys/doc', { n: 3 })).status, 200, 'unlocked: anyone writes')
})

it('bad lease requests are 400 and change nothing', async () => {
  const call = await served()
  for (const body of [{ ttl: 0 }, { ttl: -1 }, { ttl: 86_400_001 }, { ttl: '30s' }, {}, { ttl: 1000, wait: -1 }, { ttl: 1000, extra: 1 }]) {
    const answer = await call('POST', '/v1/keys/k/lock', body)
    assert.is(answer.status, 400, JSON.stringify(body))
    assert.is(answer.body.code, 'REVKV_INVALID')
  }
  assert.equal((await call('GET', '/v1/locks')).body, { locks: [] })
  const lock = await call('POST', '/v1/keys/k/lock', { ttl: 1000 })
  const token = String(lock.body.token)
  for (const header of ['abc', '0', '-1', '1.5']) {
    const answer = await call('PUT', '/v1/keys/k', 1, { 'revkv-lock-token': header })
    assert.is(answer.status, 400, header)
    assert.match(String(answer.body.detail), /Revkv-Lock-Token/)
  }
  assert.is((await call('PATCH', '/v1/keys/k/lock', { ttl: 1000 })).status, 400, 'renewing needs the token header')
  assert.is((await call('DELETE', '/v1/keys/k/lock')).status, 400, 'releasing needs the token header')
  assert.is((await call('PATCH', '/v1/keys/k/lock', { ttl: 0 }, { 'revkv-lock-token': token })).status, 400)
  const unknown = await call('DELETE', '/v1/keys/k/lock', undefined, { 'revkv-lock-token': '99' })
  assert.is(unknown.status, 400)
  assert.match(String(unknown.body.detail), /never granted/)
  assert.is((await call('GET', '/v1/keys/k')).status, 404, 'nothing was written')
  assert.equal(((await call('GET', '/v1/locks')).body.locks as unknown[]).length, 1, 'the lease is untouched')
})

it('the OpenAPI document has the lease routes, the token header with its meaning, and 423 on writes', async () => {
  const call = await served()
  const doc = (await call('GET', '/v1/openapi.json')).body as { paths: Record<string, Record<string, { parameters: Array<{ name: string, in: string, description?: string }>, responses: Record<string, unknown> }>> }
  assert.equal(Object.keys(doc.paths['/v1/keys/{key}/lock'] ?? {}).sort(), ['delete', 'patch', 'post'])
  assert.ok(doc.paths['/v1/locks']?.get !== undefined)
  for (const method of ['put', 'patch', 'delete']) {
    const operation = doc.paths['/v1/keys/{key}']?.[method]
    const header = operation?.parameters.find((p) => p.name === 'Revkv-Lock-Token')
    assert.is(header?.in, 'header', method)
    assert.match(header?.description ?? '', /fencing token/)
    assert.ok(operation?.responses['423'] !== undefined, `${method} documents 423`)
  }
})

it.run()
