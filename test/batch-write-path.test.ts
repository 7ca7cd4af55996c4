/**
 * How the write path decides a multi-key batch (src/op-group.ts, WritePath's groups), made
 * deterministic with a database whose writes can be held and failed (test/helpers.ts).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BatchConflictError, Store } from '../src/index.js'
import type { Revision } from '../src/index.js'
import { all, instrumentedDb, nextTurn, rejection } from './helpers.js'

test('batches naming the same keys in opposite orders all complete: groups never wait for each other in a cycle', async () => {
  const store = await Store.open({ db: instrumentedDb().db })
  const done: Array<Promise<Revision[]>> = []
  for (let i = 0; i < 50; i++) {
    done.push(store.batch([{ type: 'commit', key: 'a', value: i }, { type: 'commit', key: 'b', value: i }]))
    done.push(store.batch([{ type: 'commit', key: 'b', value: -i }, { type: 'commit', key: 'c', value: -i }, { type: 'commit', key: 'a', value: -i }]))
    done.push(store.commit('c', { single: i }).then((rev) => [rev]))
  }
  const results = await Promise.all(done)
  assert.is(results.flat().length, 50 * 2 + 50 * 3 + 50)
  assert.is((await all(store.log('a'))).length, 100)
  assert.is((await all(store.log('b'))).length, 100)
  assert.is((await all(store.log('c'))).length, 100)
  await store.close()
})

test('a batch refused against a write not yet durable is answered only once that write is, and one that waits lands on it', async () => {
  const { db, holdNext } = instrumentedDb()
  const store = await Store.open({ db })
  const x1 = await store.commit('x', 1)
  const held = holdNext()
  // In one turn: x2 is decided into the pending batch, and the batch based on x1 is judged
  // against it (refused under reject) before anything is on disk.
  const x2 = store.commit('x', 2, { parent: x1.id })
  let settled = false
  const refused = rejection(store.batch([{ type: 'commit', key: 'x', value: 3, parent: x1.id }, { type: 'commit', key: 'y', value: 1 }])).finally(() => { settled = true })
  await held.reached
  // Based on nothing in particular, while x2 is being written: waits, then lands on top of x2.
  const later = store.batch([{ type: 'commit', key: 'x', value: 4 }, { type: 'commit', key: 'z', value: 1 }])
  for (let i = 0; i < 5; i++) await nextTurn()
  assert.is(settled, false, 'no answer while the write it was judged against is not durable')
  held.release()
  const err = await refused
  assert.instance(err, BatchConflictError)
  assert.is((err as BatchConflictError).conflicts[0]?.actual, (await x2).id)
  const [x4] = await later
  assert.equal(x4?.parents, [(await x2).id])
  assert.is(await store.get('y'), undefined)
  assert.is(await store.get('z'), 1)
  await store.close()
})

test('a batch whose engine write fails rejects every op and leaves the heads as they were', async () => {
  const { db, failNext } = instrumentedDb()
  const store = await Store.open({ db })
  const a1 = await store.commit('a', 1)
  failNext()
  const err = await rejection(store.batch([{ type: 'commit', key: 'a', value: 2, parent: a1.id }, { type: 'commit', key: 'b', value: 2 }]))
  assert.match(err.message, /simulated disk failure/)
  assert.is((await store.head('a'))?.id, a1.id)
  assert.is(await store.head('b'), undefined)
  // The keys go on from the stored state: the same batch now succeeds.
  const revs = await store.batch([{ type: 'commit', key: 'a', value: 2, parent: a1.id }, { type: 'commit', key: 'b', value: 2 }])
  assert.equal(revs.map((r) => r.value), [2, 2])
  await store.close()
})

test('a batch shares its engine write with concurrent single commits (group commit)', async () => {
  const { db, writes } = instrumentedDb()
  const store = await Store.open({ db })
  await store.commit('warm', 0)
  const before = writes.length
  await Promise.all([
    store.commit('s1', 1),
    store.batch([{ type: 'commit', key: 'b1', value: 1 }, { type: 'commit', key: 'b2', value: 1 }]),
    store.commit('s2', 1),
    store.batch([{ type: 'commit', key: 'b3', value: 1 }, { type: 'commit', key: 'b4', value: 1 }])
  ])
  assert.is(writes.length - before, 1, 'two singles and two batches decided in one turn: one engine write')
  await store.close()
})

test.run()
