import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MemoryLevel } from 'memory-level'
import { Store } from '../src/index.js'
import type { Revision } from '../src/index.js'

/** A memory-level database whose next batch writes can be made to fail, and that counts batches. */
function faultyDb (): { db: MemoryLevel<string, string>, failNext: (n?: number) => void, batches: () => number } {
  const db = new MemoryLevel<string, string>()
  const original = db.batch.bind(db) as () => { write: (options?: unknown) => Promise<void>, close?: () => Promise<void> }
  let failures = 0
  let count = 0
  // revkv writes through chained batches: fail their write() on demand.
  Object.assign(db, {
    batch: () => {
      const chain = original()
      const write = chain.write.bind(chain)
      chain.write = async (options?: unknown): Promise<void> => {
        count++
        if (failures > 0) {
          failures--
          await chain.close?.()
          throw new Error('simulated disk failure')
        }
        await write(options)
      }
      return chain
    }
  })
  return { db, failNext: (n = 1) => { failures = n }, batches: () => count }
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
  const { db, batches } = faultyDb()
  const store = await Store.open({ db })
  const writes = Array.from({ length: 20 }, async (_, i) => await store.commit('k', i))
  await new Promise((resolve) => setImmediate(resolve))
  const more = Array.from({ length: 20 }, async (_, i) => await store.commit('k', 100 + i))
  const before = batches()
  await store.close()
  const results = await Promise.allSettled([...writes, ...more])
  assert.ok(results.every((r) => r.status === 'fulfilled'))
  assert.ok(batches() >= before, 'batches were written before close returned')
  assert.is(db.status, 'closed')
})

test('sync: true acknowledges writes after the synced batch', async () => {
  const { db } = faultyDb()
  const store = await Store.open({ db, sync: true })
  const revs = await Promise.all(Array.from({ length: 10 }, async (_, i) => await store.commit('s', i)))
  assert.is((await store.head('s'))?.id, revs[9]?.id)
  await store.close()
})

test.run()
