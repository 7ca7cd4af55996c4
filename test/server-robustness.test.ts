import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import type { Revision } from '../src/index.js'
import { buildServer } from '../src/server/index.js'

const methods = ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'POST', 'OPTIONS'] as const
const paths = ['/v1/keys/', '/v1/keys/k', '/v1/keys/k/log', '/v1/keys/k/diff', '/v1/keys/k/merge', '/v1/keys/k/head', '/v1/revisions/', '/v1/resolve', '/v1/keys', '/v1/conflicts', '/x', '/v1/keys/%', '/v1/keys/%E0%A4%A']
const contentTypes = ['application/json', 'application/json-patch+json', 'application/merge-patch+json', 'text/plain', 'application/octet-stream', 'application/json; charset=latin1', '']
const headerNames = ['if-match', 'if-none-match', 'revkv-parent', 'authorization']

test('nothing a client sends makes the server fail (no 5xx) or write partial data', async () => {
  const store = await Store.open({ db: new MemoryLevel(), maxValueBytes: 2000 })
  const app = buildServer(store, { bodyLimit: 4000 })
  const seed = await store.commit('k', { a: [1, 2], b: 'x' })
  const text = fc.oneof(fc.string(), fc.json(), fc.constant(seed.id), fc.constant(`"${seed.id}"`), fc.constant('*'), fc.constant('null'))
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...methods),
    fc.constantFrom(...paths),
    fc.string({ maxLength: 12 }),
    fc.dictionary(fc.constantFrom('rev', 'parent', 'strategy', 'onConflict', 'limit', 'after', 'prefix', 'from', 'to', 'ref', 'key', 'first-parent', 'junk'), text, { maxKeys: 3 }),
    fc.constantFrom(...contentTypes),
    fc.option(fc.oneof(fc.json(), fc.string(), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1'))), { nil: undefined }),
    fc.dictionary(fc.constantFrom(...headerNames), text, { maxKeys: 2 }),
    async (method, path, suffix, query, type, body, headers) => {
      const url = `${path}${encodeURIComponent(suffix)}?${new URLSearchParams(query).toString()}`
      const hasBody = body !== undefined && !['GET', 'HEAD'].includes(method)
      const answer = await app.inject({ method, url, headers: { ...headers, ...(type === '' ? {} : { 'content-type': type }) }, ...(hasBody ? { payload: body } : {}) })
      assert.ok(answer.statusCode < 500, `${method} ${url} (${type}) with ${JSON.stringify(body)} answered ${answer.statusCode}: ${answer.body}`)
      if (answer.statusCode >= 400 && method !== 'HEAD') {
        const problem = JSON.parse(answer.body) as { status: number, type: string, title: string, detail: string }
        assert.is(problem.status, answer.statusCode)
        assert.type(problem.detail, 'string')
      }
    }
  ), { numRuns: 600 })
  // Every key still has a consistent history: each head is reachable and its revisions verify.
  const report = await store.verify()
  assert.equal(report.problems, [], 'verify finds every record whole and every chain intact')
  // The seed key is checked even when a fuzzed DELETE made it a tombstone (keys() lists live keys only).
  const keys = new Set(['k'])
  for await (const key of store.keys()) keys.add(key)
  for (const key of keys) {
    const head = await store.head(key)
    const log: Revision[] = []
    for await (const rev of store.log(key)) log.push(rev)
    assert.is(log[0]?.id, head?.id, `the log of ${key} starts at its head`)
    for (const rev of log) {
      assert.is(rev.key, key, `revision ${rev.id} belongs to ${key}`)
      assert.equal(await store.revision(rev.id), rev, `revision ${rev.id} reads back the same by id`)
      const parents = rev.parents.map((p) => log.find((r) => r.id === p))
      assert.ok(parents.every((p) => p !== undefined), `every parent of ${rev.id} is in the history of ${key}`)
      assert.is(rev.height, 1 + Math.max(0, ...parents.map((p) => p?.height ?? 0)), `the height of ${rev.id} is one more than its parents'`)
    }
  }
  assert.ok(report.revisions >= keys.size, `${keys.size} keys, ${report.revisions} revisions checked`)
  await app.close()
  await store.close()
})

test.run()
