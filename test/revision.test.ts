import { createHash } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MemoryLevel } from 'memory-level'
import { Store } from '../src/index.js'
import { canonicalJson } from '../src/json.js'
import { verifyRecord } from '../src/revision.js'

test('a revision id is the SHA-256 of the canonical JSON of every other field', async () => {
  const db = new MemoryLevel<string, string>()
  const store = await Store.open({ db, author: 'ada' })
  const r1 = await store.commit('k', { b: 1, a: [true, null] }, { message: 'hi' })
  const r2 = await store.delete('k')
  for (const rev of [r1, r2]) {
    const { id, ...fields } = rev
    assert.is(id, createHash('sha256').update(canonicalJson(fields)).digest('hex'))
    const record = await db.get(`r!${id}`) as string
    assert.ok(verifyRecord(id, record), 'the stored record re-verifies')
    assert.not.ok(verifyRecord(id, record.replace('"ada"', '"eve"')), 'a tampered record does not')
  }
  assert.is(canonicalJson({ b: 1, a: { d: 1, c: 2 } }), '{"a":{"c":2,"d":1},"b":1}')
  await store.close()
})

test('canonical JSON is independent of member order, so equal values get equal ids', async () => {
  assert.is(canonicalJson({ x: 1, y: [{ q: 1, p: 2 }] }), canonicalJson({ y: [{ p: 2, q: 1 }], x: 1 }))
  assert.throws(() => canonicalJson({ a: Number.NaN }), /\/a/)
  assert.throws(() => canonicalJson([undefined]), /\/0/)
  assert.is(canonicalJson({ a: undefined, b: 1 }), '{"b":1}')
})

test.run()
