/**
 * Every combination of RFC 9110 preconditions over HTTP, judged against the order of its
 * section 13.2.2; Last-Modified; creates with onExists (POST, PUT with a parent of null).
 */
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import type { Revision } from '../src/index.js'
import { serve } from '../src/server/index.js'
import type { RunningServer } from '../src/server/index.js'
import { modifiedSince } from '../src/unmodified.js'

interface Answer {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

const it = suite('HTTP preconditions and creates')
let server: RunningServer
let store: Store

it.before.each(async () => {
  store = await Store.open({ db: new MemoryLevel() })
  server = await serve(store, { port: 0 })
})
it.after.each(async () => {
  await server.close()
})

async function call (method: string, key: string, headers: Record<string, string> = {}, body?: unknown, query = ''): Promise<Answer> {
  const response = await fetch(`${server.url}/v1/keys/${encodeURIComponent(key)}${query}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
}

/** A header's choices in the table: absent, or a value built from the key's head. */
type Choice<T> = [name: string, value: ((head: Revision) => string) | undefined, meaning: T]
/** For tags: undefined = absent, true = names the head (or *), false = names another revision. */
const IF_MATCH: Array<Choice<boolean | undefined>> = [
  ['absent', undefined, undefined],
  ['the head', (h) => `"${h.id}"`, true],
  ['another', () => `"${'0'.repeat(64)}"`, false],
  ['*', () => '*', true]
]
const IF_NONE_MATCH = IF_MATCH
/** For dates: undefined = absent, true = the head is modified since then, false = it is not. */
const SINCE: Array<Choice<boolean | undefined>> = [
  ['absent', undefined, undefined],
  ['ten seconds before the head', (h) => new Date(h.time - 10_000).toUTCString(), true],
  ['ten seconds after the head', (h) => new Date(h.time + 10_000).toUTCString(), false]
]

/** What RFC 9110 section 13.2.2 answers, for a live key, evaluating the preconditions in its order. */
function expected (read: boolean, ifMatch: boolean | undefined, ifNoneMatch: boolean | undefined, unmodifiedSince: boolean | undefined, modifiedSinceDate: boolean | undefined): number {
  // Step 1: If-Match; step 2: If-Unmodified-Since only when there is no If-Match.
  if (ifMatch === false) return 412
  if (ifMatch === undefined && unmodifiedSince === true) return 412
  // Step 3: If-None-Match; step 4: If-Modified-Since only for GET/HEAD without If-None-Match.
  if (ifNoneMatch === true) return read ? 304 : 412
  if (ifNoneMatch === undefined && read && modifiedSinceDate === false) return 304
  return 200
}

function headersOf (head: Revision, choices: Array<[string, Choice<boolean | undefined>]>): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, [, value]] of choices) if (value !== undefined) headers[name] = value(head)
  return headers
}

it('GET and HEAD: every combination of If-Match, If-None-Match, If-Unmodified-Since and If-Modified-Since', async () => {
  const head = await store.commit('k', { v: 1 })
  let rows = 0
  for (const im of IF_MATCH) {
    for (const inm of IF_NONE_MATCH) {
      for (const ius of SINCE) {
        for (const ims of SINCE) {
          const headers = headersOf(head, [['if-match', im], ['if-none-match', inm], ['if-unmodified-since', ius], ['if-modified-since', ims]])
          const want = expected(true, im[2], inm[2], ius[2], ims[2])
          const row = `If-Match ${im[0]}, If-None-Match ${inm[0]}, If-Unmodified-Since ${ius[0]}, If-Modified-Since ${ims[0]}`
          for (const method of ['GET', 'HEAD']) {
            const answer = await call(method, 'k', headers)
            assert.is(answer.status, want, `${method} with ${row}`)
            if (want !== 412) assert.is(answer.headers.get('last-modified'), new Date(head.time).toUTCString(), `${method} ${row}: Last-Modified`)
          }
          if (want === 200) assert.equal((await call('GET', 'k', headers)).body, { v: 1 })
          rows++
        }
      }
    }
  }
  assert.is(rows, 4 * 4 * 3 * 3)
})

it('PUT and DELETE: every combination of If-Match, If-None-Match and If-Unmodified-Since; a refused write writes nothing', async () => {
  let rows = 0
  for (const method of ['PUT', 'DELETE']) {
    for (const im of IF_MATCH) {
      for (const inm of IF_NONE_MATCH) {
        for (const ius of SINCE) {
          const key = `k${rows++}`
          const head = await store.commit(key, { v: 1 })
          const headers = headersOf(head, [['if-match', im], ['if-none-match', inm], ['if-unmodified-since', ius]])
          const want = expected(false, im[2], inm[2], ius[2], undefined)
          const row = `${method} with If-Match ${im[0]}, If-None-Match ${inm[0]}, If-Unmodified-Since ${ius[0]}`
          // DELETE with If-None-Match: * is settled before the write: 412 on a live key.
          const answer = await call(method, key, headers, method === 'PUT' ? { v: 2 } : undefined)
          assert.is(answer.status, want, row)
          const now = await store.head(key) as Revision
          if (want === 412) {
            assert.is(answer.body.code, 'REVKV_PRECONDITION_FAILED', row)
            assert.is(now.id, head.id, `${row}: nothing written`)
          } else {
            assert.equal(now.parents, [head.id], `${row}: written on top of the head`)
            assert.is(answer.headers.get('last-modified'), new Date(now.time).toUTCString(), `${row}: Last-Modified of the new head`)
          }
        }
      }
    }
  }
  assert.is(rows, 2 * 4 * 4 * 3)
})

it('preconditions on a missing key: If-Match fails, If-None-Match: * creates, If-Unmodified-Since has no date to fail', async () => {
  const date = new Date(Date.now() - 60_000).toUTCString()
  assert.is((await call('PUT', 'a', { 'if-match': '*' }, 1)).status, 412)
  assert.is((await call('PUT', 'a', { 'if-match': '"' + '0'.repeat(64) + '"' }, 1)).status, 412)
  assert.is((await call('PUT', 'a', { 'if-none-match': '*' }, 1)).status, 201)
  assert.is((await call('PUT', 'b', { 'if-unmodified-since': date }, 1)).status, 201)
  // A deleted key's tombstone has a date: written after the date given, so 412.
  await store.delete('b')
  assert.is((await call('PUT', 'b', { 'if-unmodified-since': date }, 2)).status, 412)
  assert.is((await store.head('b'))?.deleted, true)
})

it('a malformed If-Unmodified-Since is refused (400); a malformed If-Modified-Since is ignored', async () => {
  await store.commit('k', 1)
  for (const bad of ['yesterday', '2026-12-01', 'Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT']) {
    const answer = await call('PUT', 'k', { 'if-unmodified-since': bad }, 2)
    assert.is(answer.status, 400, bad)
    assert.match(String(answer.body.detail), /If-Unmodified-Since/)
    assert.is((await call('GET', 'k', { 'if-modified-since': bad })).status, 200, bad)
  }
  assert.equal(await store.get('k'), 1)
  // The three HTTP-date forms RFC 9110 has recipients accept.
  for (const form of ['Sun, 06 Nov 2094 08:49:37 GMT', 'Sunday, 06-Nov-94 08:49:37 GMT', 'Sun Nov  6 08:49:37 2094']) {
    assert.not.equal((await call('GET', 'k', { 'if-unmodified-since': form })).status, 400, form)
  }
})

it('Last-Modified is on GET, HEAD, the head resource and every write', async () => {
  const put = await call('PUT', 'k', {}, { v: 1 })
  const rev = await store.head('k') as Revision
  const date = new Date(rev.time).toUTCString()
  assert.is(put.headers.get('last-modified'), date)
  assert.is((await call('GET', 'k')).headers.get('last-modified'), date)
  assert.is((await call('HEAD', 'k')).headers.get('last-modified'), date)
  const head = await fetch(`${server.url}/v1/keys/k/head`)
  assert.is(head.headers.get('last-modified'), date)
  // The date a client read is the one it sends back: the write goes ahead while nothing changed.
  assert.is((await call('PUT', 'k', { 'if-unmodified-since': date }, { v: 2 })).status, 200)
})

it('same-second rule: a head sharing its second with its parent counts as modified', () => {
  const at = (time: number, parent?: number): Parameters<typeof modifiedSince>[0] => ({
    head: { time, parents: parent === undefined ? [] : ['p'] },
    parentTime: () => parent
  })
  const second = 1_700_000_000_000
  assert.is(modifiedSince(at(second + 500), second, 1000), false, 'the only revision in that second: the one read')
  assert.is(modifiedSince(at(second + 500, second - 2000), second, 1000), false, 'its parent is in an earlier second')
  assert.is(modifiedSince(at(second + 500, second + 100), second, 1000), true, 'two revisions in the second: which was read cannot be told')
  assert.is(modifiedSince(at(second + 1500), second, 1000), true, 'a later second')
  assert.is(modifiedSince(at(second - 1), second, 1000), false, 'an earlier second')
  assert.is(modifiedSince({ head: { time: second + 5, parents: ['p'] }, parentTime: () => undefined }, second, 1000), true, 'a parent cut by compaction has an unknown time')
  assert.is(modifiedSince(at(second + 5, second + 5), second + 5, 1), true, 'in milliseconds (the library) the same rule')
  assert.is(modifiedSince(at(second + 5, second + 4), second + 5, 1), false)
})

it('POST creates: onExists reject (409), replace (200) or rename (201 and Location of the key written)', async () => {
  const first = await call('POST', 'report.json', {}, { n: 0 })
  assert.is(first.status, 201)
  assert.is(first.headers.get('location'), '/v1/keys/report.json')
  const refused = await call('POST', 'report.json', {}, { n: 1 })
  assert.is(refused.status, 409)
  assert.is(refused.body.code, 'REVKV_CONFLICT')
  const renamed = await call('POST', 'report.json', {}, { n: 2 }, '?onExists=rename')
  assert.is(renamed.status, 201)
  assert.is(renamed.headers.get('location'), `/v1/keys/${encodeURIComponent('report (1).json')}`)
  assert.is(renamed.body.key, 'report (1).json')
  const put = await call('PUT', 'report.json', {}, { n: 3 }, '?parent=null&onExists=rename')
  assert.is(put.status, 201)
  assert.is(put.body.key, 'report (2).json')
  const replaced = await call('POST', 'report.json', {}, { n: 4 }, '?onExists=replace')
  assert.is(replaced.status, 200)
  assert.is(replaced.headers.get('location'), '/v1/keys/report.json')
  assert.equal(await store.get('report.json'), { n: 4 })
  assert.equal(await store.get('report (1).json'), { n: 2 })
  assert.equal(await store.get('report (2).json'), { n: 3 })
  // If-None-Match: * keeps answering 412, and cannot be combined with onExists.
  assert.is((await call('PUT', 'report.json', { 'if-none-match': '*' }, { n: 5 })).status, 412)
  assert.is((await call('PUT', 'report.json', { 'if-none-match': '*' }, { n: 5 }, '?parent=null&onExists=rename')).status, 400)
  assert.is((await call('PUT', 'report.json', { 'if-none-match': '*' }, { n: 5 }, '?onExists=rename')).status, 400)
  assert.is((await call('POST', 'report.json', {}, { n: 5 }, '?parent=abcd')).status, 400)
  assert.is((await call('POST', 'report.json', { 'revkv-parent': 'null' }, { n: 5 })).status, 400)
  assert.is((await call('POST', 'report.json', {}, { n: 5 }, '?onExists=copy')).status, 400)
  assert.is((await call('PUT', 'report.json', {}, { n: 5 }, '?onExists=rename')).status, 400, 'onExists needs a parent of null')
  assert.equal(await store.get('report.json'), { n: 4 }, 'no refused request wrote anything')
})

it.run()
