import * as assert from 'uvu/assert'
import { all, rejection } from './helpers.js'
import { BatchConflictError, InvalidInputError, MAX_BATCH_OPS } from '../src/index.js'
import type { BatchOp, Revision, RevkvStore } from '../src/index.js'
import { backendSuite } from './store-suite.js'
import type { StoreFactory } from './store-suite.js'

/** The ids of every revision reachable from a key's head. */
async function historyIds (store: RevkvStore, key: string): Promise<Set<string>> {
  return new Set((await all(store.log(key))).map((rev) => rev.id))
}

/** The heads of some keys, by key (undefined where a key has none). */
async function heads (store: RevkvStore, keys: string[]): Promise<Array<string | undefined>> {
  return await Promise.all(keys.map(async (key) => (await store.head(key))?.id))
}

/** Multi-key batches (store.batch), for every backend the behavioural suite runs against. */
export function batchSuite (factory: StoreFactory): void {
  const { it, open } = backendSuite('batch', factory)

  it('a batch writes every op in one commit and returns each key\'s new head in op order', async () => {
    const store = await open()
    const a1 = await store.commit('acct:a', { balance: 100 })
    const revs = await store.batch([
      { type: 'commit', key: 'acct:a', value: { balance: 70 }, parent: a1.id },
      { type: 'commit', key: 'acct:b', value: { balance: 30 }, parent: null },
      { type: 'commit', key: 'log:1', value: 'a->b 30' }
    ], { author: 'teller', message: 'transfer' })
    assert.equal(revs.map((r) => r.key), ['acct:a', 'acct:b', 'log:1'])
    assert.equal(revs.map((r) => r.value), [{ balance: 70 }, { balance: 30 }, 'a->b 30'])
    assert.equal(revs[0]?.parents, [a1.id])
    for (const rev of revs) {
      assert.is(rev.author, 'teller')
      assert.is(rev.message, 'transfer')
      assert.is((await store.head(rev.key))?.id, rev.id)
    }
    assert.equal(await store.get('acct:b'), { balance: 30 })
    // The feed shows the batch as one commit: consecutive numbers sharing one tx id.
    const changes = await all(store.changes())
    const batch = changes.slice(1)
    assert.is(changes[0]?.tx, undefined, 'a single commit is no batch')
    assert.equal(batch.map((c) => c.key), ['acct:a', 'acct:b', 'log:1'])
    assert.equal(batch.map((c) => c.seq), [batch[0]?.seq, (batch[0]?.seq ?? 0) + 1, (batch[0]?.seq ?? 0) + 2])
    for (const change of batch) {
      assert.is(change.tx, batch[0]?.seq)
      assert.is(change.txSize, 3)
    }
    assert.equal(await store.batch([]), [], 'an empty batch writes nothing')
    assert.is((await all(store.changes())).length, 4)
  })

  it('a refused batch writes nothing and lists every refused op with its heads and merge places', async () => {
    const store = await open({ strategy: 'reject' })
    const a1 = await store.commit('a', { n: 1 })
    const a2 = await store.commit('a', { n: 2 }, { parent: a1.id })
    const d1 = await store.commit('doc', { title: 'x', body: 'b' })
    await store.commit('doc', { title: 'y', body: 'b' }, { parent: d1.id })
    const before = await all(store.changes())
    const err = await rejection(store.batch([
      { type: 'commit', key: 'fresh', value: 1 },
      { type: 'commit', key: 'a', value: { n: 3 }, parent: a1.id },
      { type: 'commit', key: 'doc', value: { title: 'z', body: 'b' }, parent: d1.id, strategy: 'merge' },
      { type: 'delete', key: 'ghost' },
      { type: 'commit', key: 'b', value: 1 }
    ]))
    assert.instance(err, BatchConflictError)
    const refused = err as BatchConflictError
    assert.is(refused.code, 'REVKV_CONFLICT')
    assert.is(refused.status, 409)
    assert.equal(refused.conflicts.map((c) => [c.index, c.key, c.code]), [[1, 'a', 'REVKV_CONFLICT'], [2, 'doc', 'REVKV_MERGE_CONFLICT'], [3, 'ghost', 'REVKV_NOT_FOUND']])
    assert.is(refused.conflicts[0]?.expected, a1.id)
    assert.is(refused.conflicts[0]?.actual, a2.id)
    assert.equal(refused.conflicts[1]?.places?.map((p) => p.path), ['/title'])
    assert.is(refused.conflicts[2]?.actual, null)
    assert.match(refused.message, /nothing of the batch was written/)
    assert.is(await store.head('fresh'), undefined, 'the ops that would have succeeded were not written either')
    assert.is(await store.head('b'), undefined)
    assert.is((await store.head('a'))?.id, a2.id)
    assert.equal(await all(store.changes()), before)
  })

  it('stale ops are settled by their strategies inside a batch; a manual one is refused, not kept', async () => {
    const store = await open()
    const base = await store.commit('profile', { name: 'Ada', tags: ['a'] })
    await store.commit('profile', { name: 'Ada L.', tags: ['a'] }, { parent: base.id })
    const counter = await store.commit('counter', 1)
    await store.commit('counter', 2, { parent: counter.id })
    const revs = await store.batch([
      { type: 'commit', key: 'profile', value: { name: 'Ada', tags: ['a', 'b'] }, parent: base.id, strategy: 'merge' },
      { type: 'commit', key: 'counter', value: 10, parent: counter.id, strategy: 'lww' }
    ])
    assert.equal(revs[0]?.value, { name: 'Ada L.', tags: ['a', 'b'] })
    assert.is(revs[0]?.parents.length, 2)
    assert.is(await store.get('counter'), 10)
    const kept = await store.commit('notes', 'v1')
    await store.commit('notes', 'v2', { parent: kept.id })
    const err = await rejection(store.batch([
      { type: 'commit', key: 'notes', value: 'mine', parent: kept.id, strategy: 'manual' },
      { type: 'commit', key: 'other', value: 1 }
    ]))
    assert.instance(err, BatchConflictError)
    assert.match((err as BatchConflictError).conflicts[0]?.message ?? '', /all or nothing/)
    assert.equal(await store.conflicts('notes'), [], 'nothing kept unmerged')
    assert.is(await store.head('other'), undefined)
  })

  it('bad ops are refused up front, naming the op, and nothing is written', async () => {
    const store = await open()
    const cases: Array<[unknown, RegExp]> = [
      ['nope', /array of ops/],
      [[{ type: 'commit', key: 'k', value: 1 }, { type: 'delete', key: 'k' }], /op 1 writes key "k" again \(op 0/],
      [[{ type: 'commit', key: 'k' }], /op 0 is a commit of key "k" without a value/],
      [[{ type: 'put', key: 'k', value: 1 }], /op 0 has type "put"/],
      [[{ type: 'commit', key: 'k', value: 1, prent: 'x' }], /unknown field "prent"/],
      [[{ type: 'commit', key: 'k', value: 1 }, { type: 'commit', key: '', value: 1 }], /[Oo]p 1/],
      [[{ type: 'delete', key: 'k', parent: null }], /create-only delete/],
      [[{ type: 'commit', key: 'k', value: 1, parent: 'abc' }], /[Oo]p 0.*parent/i],
      [Array.from({ length: MAX_BATCH_OPS + 1 }, (_, i) => ({ type: 'commit', key: `k${i}`, value: i })), /at most 10,000/]
    ]
    for (const [ops, message] of cases) {
      const err = await rejection(store.batch(ops as BatchOp[]))
      assert.instance(err, InvalidInputError, String(message))
      assert.match(err.message, message)
    }
    assert.equal(await all(store.keys()), [])
    assert.equal(await all(store.changes()), [])
  })

  it('a batch of the largest size is written whole', async () => {
    const store = await open()
    const ops: BatchOp[] = Array.from({ length: MAX_BATCH_OPS }, (_, i) => ({ type: 'commit', key: `big:${String(i).padStart(5, '0')}`, value: i }))
    const revs = await store.batch(ops)
    assert.is(revs.length, MAX_BATCH_OPS)
    assert.is((await all(store.keys({ prefix: 'big:' }))).length, MAX_BATCH_OPS)
    const changes = await all(store.changes())
    assert.is(changes.length, MAX_BATCH_OPS)
    assert.ok(changes.every((c) => c.tx === changes[0]?.seq && c.txSize === MAX_BATCH_OPS))
  })

  it('a lease held by someone else refuses the batch; its token lets the op through', async () => {
    const store = await open()
    await store.commit('leased', 1)
    const lease = await store.lock('leased', { ttl: 60_000, owner: 'ada' })
    const err = await rejection(store.batch([{ type: 'commit', key: 'leased', value: 2 }, { type: 'commit', key: 'free', value: 1 }]))
    assert.instance(err, BatchConflictError)
    assert.equal((err as BatchConflictError).conflicts.map((c) => [c.key, c.code]), [['leased', 'REVKV_LOCKED']])
    assert.is(await store.head('free'), undefined)
    const revs = await store.batch([{ type: 'commit', key: 'leased', value: 2, lock: lease.token }, { type: 'commit', key: 'free', value: 1 }])
    assert.equal(revs.map((r) => r.value), [2, 1])
  })

  it('concurrent batches and single commits on shared keys: all acknowledged, none half visible, nothing lost', async () => {
    const store = await open()
    const keys = ['x', 'y', 'z']
    const acked: Revision[] = []
    const writes: Array<Promise<void>> = []
    for (let i = 0; i < 40; i++) {
      const pair = [keys[i % 3] as string, keys[(i + 1) % 3] as string]
      writes.push(store.batch(pair.map((key) => ({ type: 'commit', key, value: { i } }))).then((revs) => { acked.push(...revs) }))
      writes.push(store.commit(keys[(i + 2) % 3] as string, { single: i }).then((rev) => { acked.push(rev) }))
    }
    await Promise.all(writes)
    assert.is(acked.length, 120)
    const histories = new Map(await Promise.all(keys.map(async (key) => [key, await historyIds(store, key)] as const)))
    for (const rev of acked) assert.ok(histories.get(rev.key)?.has(rev.id), `acknowledged ${rev.key} ${rev.id} is in history`)
    // Every batch's two changes are adjacent and carry the same tx: it was one commit.
    const changes = await all(store.changes())
    const byTx = new Map<number, number>()
    for (const change of changes) if (change.tx !== undefined) byTx.set(change.tx, (byTx.get(change.tx) ?? 0) + 1)
    assert.is(byTx.size, 40)
    for (const [tx, count] of byTx) {
      assert.is(count, 2)
      assert.is(changes.find((c) => c.seq === tx + 1)?.tx, tx)
    }
    const last = await heads(store, keys)
    assert.ok(last.every((id) => id !== undefined))
  })
  it.run()
}
