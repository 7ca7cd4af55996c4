/**
 * Reads at a point in time over HTTP (?asOf= on GET routes of a key, and on the key list),
 * and the parser both the server and the CLI use for what people type.
 */
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidInputError, Store } from '../src/index.js'
import { parseAsOf } from '../src/as-of.js'
import { serve } from '../src/server/index.js'
import type { RunningServer } from '../src/server/index.js'
import { fakeClock } from './helpers.js'

interface Answer { status: number, etag: string | null, body: Record<string, unknown> & { keys?: string[] } }

const T0 = Date.UTC(2026, 11, 1, 10)

/** A served store holding `doc` written at T0 (v1), T0 + 1 h (v2), deleted at T0 + 2 h, and `other` at T0 + 3 h. */
async function served (): Promise<{ server: RunningServer, store: Store, get: (path: string) => Promise<Answer>, revs: string[] }> {
  const clock = fakeClock(T0)
  const store = await Store.open({ db: new MemoryLevel(), clock: clock.now })
  const revs = [(await store.commit('doc', { v: 1 })).id]
  clock.advance(3_600_000)
  revs.push((await store.commit('doc', { v: 2 })).id)
  clock.advance(3_600_000)
  revs.push((await store.delete('doc')).id)
  clock.advance(3_600_000)
  await store.commit('other', 1)
  const server = await serve(store, { port: 0 })
  const get = async (path: string): Promise<Answer> => {
    const response = await fetch(server.url + path)
    return { status: response.status, etag: response.headers.get('etag'), body: await response.json() as Answer['body'] }
  }
  return { server, store, get, revs }
}

test('GET a key, its head and the key list ?asOf= an ISO time, epoch ms or @seq', async () => {
  const { server, get, revs } = await served()
  try {
    const v1 = await get('/v1/keys/doc?asOf=2026-12-01T10:30Z')
    assert.is(v1.status, 200)
    assert.equal(v1.body, { v: 1 })
    assert.is(v1.etag, `"${revs[0] as string}"`, 'the ETag names the revision read')
    assert.equal((await get(`/v1/keys/doc?asOf=${T0 + 3_600_000}`)).body, { v: 2 })
    assert.equal((await get('/v1/keys/doc?asOf=2026-12-01T12:00:00%2B01:00')).body, { v: 2 }, 'an offset is honoured (11:00 UTC)')
    assert.equal((await get('/v1/keys/doc?asOf=@1')).body, { v: 1 })
    const before = await get('/v1/keys/doc?asOf=2026-12-01T09:59Z')
    assert.is(before.status, 404)
    assert.match(String(before.body.detail), 'does not exist as of 2026-12-01T09:59Z')
    const deleted = await get('/v1/keys/doc?asOf=@3')
    assert.is(deleted.status, 404)
    assert.match(String(deleted.body.detail), 'is deleted as of @3')
    const tombstone = await get('/v1/keys/doc/head?asOf=2026-12-01T12:30Z')
    assert.is(tombstone.status, 200)
    assert.is(tombstone.body.id, revs[2])
    assert.is(tombstone.body.deleted, true)
    assert.is((await get('/v1/keys/doc/head?asOf=@0')).status, 404)
    assert.equal((await get('/v1/keys?asOf=2026-12-01T11:00Z')).body.keys, ['doc'])
    assert.equal((await get('/v1/keys?asOf=@4')).body.keys, ['other'])
    assert.equal((await get('/v1/keys')).body.keys, ['other'])
  } finally {
    await server.close()
  }
})

test('a bad ?asOf= is a 400 naming it and the fix; with rev too, a 400; nothing changes', async () => {
  const { server, get, store } = await served()
  try {
    const cases: Array<[string, RegExp]> = [
      ['2026-12-01T10:00', /no time zone/],
      ['tomorrow', /ISO 8601 time with a zone/],
      ['2026-02-30T10:00Z', /names no real date/],
      ['@5', /last sequence number is 4/],
      ['99999999999999999999', /too large/]
    ]
    for (const [asOf, why] of cases) {
      for (const path of [`/v1/keys/doc?asOf=${asOf}`, `/v1/keys/doc/head?asOf=${asOf}`, `/v1/keys?asOf=${asOf}`]) {
        const answer = await get(path)
        assert.is(answer.status, 400, path)
        assert.match(String(answer.body.detail), why, path)
      }
    }
    const both = await get('/v1/keys/other?asOf=@4&rev=HEAD')
    assert.is(both.status, 400)
    assert.match(String(both.body.detail), 'rev or asOf, not both')
    assert.is((await get('/v1/keys/other/log?asOf=@4')).status, 400, 'routes without asOf refuse it like any unknown parameter')
    assert.equal(await store.get('other'), 1)
  } finally {
    await server.close()
  }
})

test('?asOf= in history cut by compaction: 404 whose problem names the dropped revision', async () => {
  const { server, get, store, revs } = await served()
  try {
    await store.commit('keep', 1)
    await store.compact({ keep: 1 })
    const cut = await get('/v1/keys/doc?asOf=2026-12-01T10:30Z')
    assert.is(cut.status, 404)
    assert.match(String(cut.body.detail), /compaction/)
    assert.is(cut.body.dropped, revs[1])
  } finally {
    await server.close()
  }
})

test('the OpenAPI document lists asOf on the key list, a key\'s value and its head', async () => {
  const { server, get } = await served()
  try {
    const doc = (await get('/v1/openapi.json')).body as { paths: Record<string, Record<string, { parameters?: Array<{ name: string, in: string }> }>> }
    for (const [path, method] of [['/v1/keys', 'get'], ['/v1/keys/{key}', 'get'], ['/v1/keys/{key}/head', 'get']] as const) {
      const names = (doc.paths[path]?.[method]?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
      assert.ok(names.includes('asOf'), `${method.toUpperCase()} ${path} documents asOf`)
    }
  } finally {
    await server.close()
  }
})

test('parseAsOf: @N, epoch ms, ISO times with a zone; zoneless, impossible and other text refused', () => {
  assert.equal(parseAsOf('@0', 'x'), { seq: 0 })
  assert.equal(parseAsOf('@42', 'x'), { seq: 42 })
  assert.is(parseAsOf('1764583200000', 'x'), 1764583200000)
  assert.is((parseAsOf('2026-12-01T10:00Z', 'x') as Date).getTime(), T0)
  assert.is((parseAsOf('2026-12-01T10:00:00.000Z', 'x') as Date).getTime(), T0)
  assert.is((parseAsOf('2026-12-01T11:00:00+01:00', 'x') as Date).getTime(), T0)
  assert.is((parseAsOf('2026-12-01T05:00-0500', 'x') as Date).getTime(), T0)
  for (const text of ['', '@', '@-1', '@1.5', '-5', '1.5', '2026-12-01', '2026-12-01T10:00', 'Dec 1 2026', '2026-13-01T10:00Z', '2026-02-29T10:00Z', '2026-12-01T24:00Z', '@99999999999999999999']) {
    assert.throws(() => parseAsOf(text, '--as-of'), (err: Error) => err instanceof InvalidInputError && err.message.startsWith('--as-of'), JSON.stringify(text))
  }
  assert.is((parseAsOf('2028-02-29T10:00Z', 'x') as Date).getUTCDate(), 29, 'a leap day in a leap year is real')
})

test.run()
