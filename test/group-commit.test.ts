import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MemoryLevel } from 'memory-level'
import { Store } from '../src/index.js'
import type { Revision } from '../src/index.js'
import { instrumentedDb, nextTurn } from './helpers.js'
import type { InstrumentedDb } from './helpers.js'

/** The instrumented database, and how many batch writes it has been asked for. */
function faultyDb (): InstrumentedDb & { batches: () => number } {
  const instrumented = instrumentedDb()
  return { ...instrumented, batches: () => instrumented.writes.length }
}

test('writes made in one turn share one batch', async () => {
  const { db, batches } = faultyDb()
  const store = await Store.open({ db, batchSize: 1000 })
  const before = batches()
  const revs = await Promise.all(Array.from({ length: 50 }, async (_, i) => await store.commit(`k${i % 10}`, i)))
  assert.is(batches() - before, 1, '50 writes on 10 keys in one turn: one batch')
  assert.is(new Set(revs.map((r) => r.id)).size, 50)
  await store.close()
})

test('a full batch is written at once, several in flight, and each key keeps arrival order', async () => {
  const { db, batches } = faultyDb()
  const store = await Store.open({ db, batchSize: 4, batchesInFlight: 3 })
  const before = batches()
  const writes: Array<Promise<Revision>> = []
  for (let wave = 0; wave < 5; wave++) {
    for (let i = 0; i < 20; i++) writes.push(store.commit(`k${i % 4}`, wave * 20 + i))
    await new Promise((resolve) => setImmediate(resolve))
  }
  await Promise.all(writes)
  assert.ok(batches() - before >= 10, `100 writes in batches of 4 revisions took ${batches() - before} batches`)
  for (let k = 0; k < 4; k++) {
    const values: unknown[] = []
    for await (const rev of store.log(`k${k}`)) values.push(rev.value)
    const expected = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 4 === k)
    assert.equal(values.reverse(), expected, `k${k} in arrival order`)
  }
  await store.close()
})

test('a key\'s queued writes all join the batch: a full batch is not written while they would wait for it', async () => {
  // Writes queue on a key while its batch is written (or a merge is decided). An early write
  // of the next batch would cut their run short, and each later write would wait a whole
  // round trip: on a hot key, one batch per couple of writes instead of one for the run.
  const { db, batches, holdNext } = faultyDb()
  const store = await Store.open({ db, batchSize: 4 })
  const held = holdNext()
  const first = store.commit('hot', 0)
  await held.reached
  const queued = Array.from({ length: 40 }, async (_, i) => await store.commit('hot', i + 1))
  const before = batches()
  held.release()
  const revs = await Promise.all([first, ...queued])
  assert.is(batches() - before, 1, `40 writes queued on one key took ${batches() - before} batches`)
  assert.equal(revs.map((r) => r.height), Array.from({ length: 41 }, (_, i) => i + 1))
  await store.close()
})

test('a failed batch rejects exactly its writes and heads fall back to what is on disk', async () => {
  const { db, failNext } = faultyDb()
  const store = await Store.open({ db })
  const base1 = await store.commit('k1', 'base')
  const base2 = await store.commit('k2', 'base')
  failNext()
  // allSettled right away: a rejection nobody handles yet would crash the test process.
  const doomed = Promise.allSettled([
    store.commit('k1', 'lost-1', { parent: base1.id }),
    store.commit('k2', 'lost-2'),
    store.commit('k1', 'lost-3')
  ])
  // Let the doomed batch be sealed, then queue writes while it is in flight.
  await new Promise((resolve) => setImmediate(resolve))
  const later = [
    store.commit('k1', 'after', { parent: base1.id }),
    store.commit('k3', 'other key')
  ]
  const outcome = await doomed
  assert.is(outcome.length, 3)
  for (const r of outcome) {
    assert.is(r.status, 'rejected')
    assert.match(String((r as PromiseRejectedResult).reason), /simulated disk failure/)
  }
  const [after, other] = await Promise.all(later)
  // The k1 write queued during the failed batch was judged against the head on disk (base1), so it is not stale.
  assert.equal(after?.parents, [base1.id])
  assert.is(other?.value, 'other key')
  assert.is((await store.head('k2'))?.id, base2.id, 'k2 fell back to its durable head')
  const k1: unknown[] = []
  for await (const rev of store.log('k1')) k1.push(rev.value)
  assert.equal(k1, ['after', 'base'], 'no trace of the failed writes in history')
  // The stored head record agrees with the cache.
  assert.is(JSON.parse(await db.get('h!k2') as string).head, base2.id)
  assert.is(JSON.parse(await db.get('h!k1') as string).head, after?.id)
  await store.close()
})

test('a failed batch with a kept manual conflict leaves no unmerged entry behind', async () => {
  const { db, failNext } = faultyDb()
  const store = await Store.open({ db, strategy: 'manual' })
  const base = await store.commit('k', 1)
  await store.commit('k', 2, { parent: base.id })
  failNext()
  const err = await store.commit('k', 3, { parent: base.id }).then(() => undefined, (e: Error) => e)
  assert.match(String(err), /simulated disk failure/)
  assert.equal(await store.conflicts('k'), [])
  const keys: string[] = []
  for await (const key of store.conflictedKeys()) keys.push(key)
  assert.equal(keys, [])
  await store.close()
})

test('each kept conflict is one small record: the head record does not grow with them', async () => {
  const { db } = faultyDb()
  const store = await Store.open({ db, strategy: 'manual' })
  const base = await store.commit('k', 0)
  await store.commit('k', 1, { parent: base.id })
  const kept = await Promise.all(Array.from({ length: 200 }, async (_, i) => await store.commit('k', { i }, { parent: base.id }).then(() => '', (e: { kept?: string }) => e.kept ?? '')))
  assert.is(new Set(kept).size, 200)
  const headRecord = await db.get('h!k') as string
  assert.ok(headRecord.length < 120, `head record stays small: ${headRecord}`)
  let records = 0
  for await (const _ of db.keys({ gt: 'u!k\u0000', lt: 'u!k\u0001' })) records++
  assert.is(records, 200)
  // Kept and merged in the same batch: nothing is left behind.
  const again = store.commit('k', { x: 1 }, { parent: base.id }).then(() => undefined, (e: { kept?: string }) => e.kept)
  const keptNow = await again
  await Promise.all(kept.slice(0, 50).map(async (id) => await store.merge('k', id, { value: { settled: id } })))
  await store.merge('k', keptNow as string, { value: 'last' })
  assert.is((await store.conflicts('k')).length, 150)
  await store.close()
  const reopened = await Store.open({ db, strategy: 'manual' })
  const left = await reopened.conflicts('k')
  assert.is(left.length, 150)
  assert.equal(new Set(left.map((r) => r.id)), new Set(kept.slice(50)))
  await reopened.close()
})

test('a key whose state is loading for a write is never evicted: two writes on one parent cannot both pass', async () => {
  const db = new MemoryLevel<string, string>()
  let store = await Store.open({ db })
  const v1 = await store.commit('doc', { v: 1 })
  for (let i = 0; i < 16; i++) await store.commit(`other${i}`, 0)
  await store.close()
  // A tiny head cache, and a burst of loads finishing in the same tick (memory-level answers at once).
  store = await Store.open({ db, headCacheSize: 8 })
  const a = store.commit('doc', { by: 'A' }, { parent: v1.id }).then(() => 'ok', (e: Error) => e.name)
  const others = Array.from({ length: 16 }, async (_, i) => await store.commit(`other${i}`, i))
  for (let i = 0; i < 20; i++) await new Promise((resolve) => process.nextTick(resolve))
  const b = store.commit('doc', { by: 'B' }, { parent: v1.id }).then(() => 'ok', (e: Error) => e.name)
  await Promise.all(others)
  assert.equal((await Promise.all([a, b])).sort(), ['ConflictError', 'ok'])
  const values: unknown[] = []
  for await (const rev of store.log('doc')) values.push(rev.value)
  assert.is(values.length, 2, 'one write and the first revision, nothing lost outside history')
  assert.equal((await store.verify()).problems, [])
  await store.close()
})

test('close() waits for the batch in flight and for writes queued behind it', async () => {
  const { db, batches, holdNext } = faultyDb()
  const store = await Store.open({ db })
  const held = holdNext()
  const writes = Array.from({ length: 20 }, async (_, i) => await store.commit('k', i))
  await held.reached
  const more = Array.from({ length: 20 }, async (_, i) => await store.commit('k', 100 + i))
  assert.is(batches(), 1, 'only the held batch is written so far')
  let closed = false
  const closing = store.close().then(() => { closed = true })
  for (let i = 0; i < 10; i++) await nextTurn()
  assert.not.ok(closed, 'close() waits while a batch is in flight')
  held.release()
  await closing
  const results = await Promise.allSettled([...writes, ...more])
  assert.ok(results.every((r) => r.status === 'fulfilled'))
  assert.ok(batches() >= 2, `the writes queued behind the held batch were written before close returned (${batches()} batches)`)
  assert.is(db.status, 'closed')
  const reopened = await Store.open({ db })
  const values: unknown[] = []
  for await (const rev of reopened.log('k')) values.push(rev.value)
  assert.equal(values.reverse(), [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => 100 + i)], 'all 40 writes are in the database, in order')
  await reopened.close()
})

/** Commit, delete, merge and keep a manual conflict: every kind of write the write path makes. */
async function everyKindOfWrite (store: Store): Promise<void> {
  const base = await store.commit('doc', { a: 1, b: 1 })
  await Promise.all(Array.from({ length: 30 }, async (_, i) => await store.commit(`many${i % 7}`, i)))
  await store.commit('doc', { a: 2, b: 1 }, { parent: base.id })
  await store.commit('doc', { a: 1, b: 2 }, { parent: base.id, strategy: 'merge' })
  const kept = await store.commit('doc', { a: 3, b: 3 }, { parent: base.id, strategy: 'manual' }).then(() => '', (e: { kept?: string }) => e.kept ?? '')
  assert.match(kept, /^[0-9a-f]{64}$/)
  await store.merge('doc', kept, { value: { a: 4 } })
  await store.delete('many0')
}

test('sync: true reaches the database on every batch write', async () => {
  const { db, writes } = faultyDb()
  const store = await Store.open({ db, sync: true })
  await everyKindOfWrite(store)
  await store.close()
  assert.ok(writes.length >= 7, `${writes.length} batch writes`)
  for (const [i, write] of writes.entries()) assert.is(write.options.sync, true, `batch write ${i} (${write.kind}) was synced`)
})

test('sync: false (the default) asks no batch write to sync', async () => {
  for (const options of [{}, { sync: false }]) {
    const { db, writes } = faultyDb()
    const store = await Store.open({ db, ...options })
    await everyKindOfWrite(store)
    await store.close()
    assert.ok(writes.length >= 7, `${writes.length} batch writes`)
    for (const [i, write] of writes.entries()) assert.not.ok(write.options.sync === true, `batch write ${i} (${write.kind}) with ${JSON.stringify(options)} was not synced`)
  }
})

test.run()
