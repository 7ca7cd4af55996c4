/** POST /v1/batch: all or nothing over HTTP, ifMatch preconditions (412), refusals (409), bad ops (400), --require-parent (428). */
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import type { Revision } from '../src/index.js'
import { serve } from '../src/server/index.js'
import type { RunningServer } from '../src/server/index.js'

const it = suite('HTTP batch')
let server: RunningServer
let store: Store

it.before.each(async () => {
  store = await Store.open({ db: new MemoryLevel() })
  server = await serve(store, { port: 0 })
})
it.after.each(async () => {
  await server.close()
})

async function post (body: unknown, to = server): Promise<{ status: number, body: Record<string, unknown> }> {
  const response = await fetch(`${to.url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, body: await response.json() as Record<string, unknown> }
}

it('200 with every new head in op order, without values; the writes are one commit', async () => {
  const a = await store.commit('a', 1)
  const answer = await post({ ops: [{ type: 'commit', key: 'a', value: 2, ifMatch: `"${a.id}"` }, { type: 'commit', key: 'b', value: 3, parent: null }], message: 'both' })
  assert.is(answer.status, 200)
  const revisions = answer.body.revisions as Revision[]
  assert.equal(revisions.map((r) => [r.key, r.message, 'value' in r]), [['a', 'both', false], ['b', 'both', false]])
  assert.is((await store.head('a'))?.id, revisions[0]?.id)
  assert.equal(await store.get('b'), 3)
})

it('an ifMatch that no longer holds is 412 for the whole batch; a stale parent is 409; both list every refused op', async () => {
  const a1 = await store.commit('a', 1)
  await store.commit('a', 2)
  const stale = await post({ ops: [{ type: 'commit', key: 'x', value: 1 }, { type: 'commit', key: 'a', value: 3, ifMatch: a1.id }] })
  assert.is(stale.status, 412)
  assert.is(stale.body.code, 'REVKV_PRECONDITION_FAILED')
  assert.match(String(stale.body.detail), /ifMatch of op 1 \(key "a"\) no longer holds/)
  assert.equal((stale.body.conflicts as Array<{ index: number }>).map((c) => c.index), [1])
  const conflict = await post({ ops: [{ type: 'commit', key: 'a', value: 3, parent: a1.id }, { type: 'delete', key: 'nobody' }] })
  assert.is(conflict.status, 409)
  assert.is(conflict.body.code, 'REVKV_CONFLICT')
  assert.equal((conflict.body.conflicts as Array<{ key: string, code: string }>).map((c) => [c.key, c.code]), [['a', 'REVKV_CONFLICT'], ['nobody', 'REVKV_NOT_FOUND']])
  assert.is(await store.head('x'), undefined, 'nothing of either batch was written')
  assert.equal(await store.get('a'), 2)
})

it('bad ops are 400 naming the op; ifMatch with parent, a weak tag, an unknown field are refused', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ ops: [{ type: 'commit', key: 'a', value: 1, parent: null, ifMatch: 'abc' }] }, /op 0: give either ifMatch/],
    [{ ops: [{ type: 'commit', key: 'a', value: 1, ifMatch: 'W/"abc"' }] }, /op 0: ifMatch must be one revision id/],
    [{ ops: [{ type: 'commit', key: 'a', value: 1 }, { type: 'commit', key: 'a', value: 2 }] }, /op 1 writes key "a" again/],
    [{ ops: [{ type: 'commit', key: 'a', value: 1, color: 'red' }] }, /ops\/0 must NOT have additional properties/],
    [{ ops: ['a'] }, /ops\/0 must be object/]
  ]
  for (const [body, message] of cases) {
    const answer = await post(body)
    assert.is(answer.status, 400, String(message))
    assert.match(String(answer.body.detail), message)
  }
  assert.equal(await store.get('a'), undefined)
})

it('a server that requires parents answers 428 for an op with neither parent nor ifMatch', async () => {
  const strict = await serve(store, { port: 0, requireParent: true })
  try {
    const answer = await post({ ops: [{ type: 'commit', key: 'a', value: 1, parent: null }, { type: 'commit', key: 'b', value: 1 }] }, strict)
    assert.is(answer.status, 428)
    assert.match(String(answer.body.detail), /batch op 1 \(key "b"\)/)
    assert.is(await store.head('a'), undefined)
  } finally {
    await strict.close()
  }
})

it.run()
