/**
 * Batches and transactions on one PostgreSQL store written by several processes (issue 13):
 * 3 processes × 8 writers each alternate transfers between accounts (store.transaction)
 * and multi-key batches on documents (store.batch, on the heads they read, under random
 * strategies). Afterwards the total is conserved and matches the transfers that moved, no
 * batch is half applied (by its values in the keys' histories, and in the changes feed),
 * nothing refused was written, and verify() is clean. Bounded by write counts, not time.
 * Skipped, and said so, where PostgreSQL is not installed.
 */
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import type { Test } from 'uvu'
import * as assert from 'uvu/assert'
import { openPostgres } from '../src/engines/postgres/index.js'
import { Store } from '../src/index.js'
import type { BatchWriterAck, BatchWriterDone } from './fixtures/pg-batch-writer.js'
import { sharedCluster } from './pg/cluster.js'
import { Progress, startWriters } from './pg/children.js'
import type { WriterProcess } from './pg/children.js'
import { assertSound, reachable } from './pg/checks.js'
import { commitOne, fakeRevision, move, NOW } from './engine-suite.js'
import { all, assertWholeBatches } from './helpers.js'

const cluster = await sharedCluster()
const url = cluster?.url ?? ''
const base = suite('PostgreSQL, batches and transactions from several processes')
const it: Test = cluster === undefined ? base.skip as unknown as Test : base

const SCRIPT = fileURLToPath(new URL('./fixtures/pg-batch-writer.js', import.meta.url))
const PROCESSES = 3
const WRITERS = 8
/** Per writer: 5 transfers and 5 batches, so 120 of each in all. */
const OPS = 10
const ACCOUNTS = Array.from({ length: 20 }, (_, i) => `acct:${String(i).padStart(2, '0')}`)
const DOCS = Array.from({ length: 12 }, (_, i) => `doc:${i}`)
const OPENING = 1000

type Child = WriterProcess<BatchWriterAck, BatchWriterDone>
type BatchAck = Extract<BatchWriterAck, { kind: 'batch' }>
type TransferAck = Extract<BatchWriterAck, { kind: 'transfer' }>

it(`${PROCESSES} processes × ${WRITERS} writers: transfers conserve the total, batches are all or nothing, verify clean`, async () => {
  const schema = `batch_${process.pid}`
  const store = await Store.open({ postgres: url, schema, poolSize: 4 })
  let children: Child[] = []
  try {
    await store.batch(ACCOUNTS.map((key) => ({ type: 'commit' as const, key, value: OPENING })))
    const progress = new Progress()
    children = await startWriters<BatchWriterAck, BatchWriterDone>(PROCESSES, { url, schema, writers: WRITERS, ops: OPS, accounts: ACCOUNTS, docs: DOCS, poolSize: 4, seed: 13 }, progress, SCRIPT)
    await Promise.all(children.map(async (child) => await child.finished()))
    const acks = children.flatMap((child) => child.acks)
    for (const child of children) assert.equal(child.errors, [], 'no write failed other than by a conflict')
    assert.is(acks.length, PROCESSES * WRITERS * OPS, 'every transfer and batch came to an end')

    // Transfers: each account holds its opening balance plus exactly the transfers that moved.
    const transfers = acks.filter((a): a is TransferAck => a.kind === 'transfer')
    const expected = new Map(ACCOUNTS.map((key) => [key, OPENING]))
    for (const t of transfers) {
      if (t.gaveUp !== undefined) assert.ok(t.gaveUp.length > 0 && t.gaveUp.every((k) => k === t.from || k === t.to), `a transfer that gave up lists the keys it read that moved: ${t.gaveUp.join(', ')}`)
      if (!t.moved) continue
      expected.set(t.from, (expected.get(t.from) as number) - t.amount)
      expected.set(t.to, (expected.get(t.to) as number) + t.amount)
    }
    assert.ok(transfers.some((t) => t.moved), 'some transfers moved money')
    let total = 0
    for (const key of ACCOUNTS) {
      const value = await store.get(key) as number
      total += value
      assert.is(value, expected.get(key), `${key}: opening balance plus exactly the transfers that moved (none lost, none doubled)`)
    }
    assert.is(total, OPENING * ACCOUNTS.length, 'the total is conserved')

    // Batches: by their values, each is in all of its keys' histories or in none.
    const batches = acks.filter((a): a is BatchAck => a.kind === 'batch')
    const history = await reachable(store, [...ACCOUNTS, ...DOCS])
    const present = new Map<string, Set<string>>()
    for (const key of DOCS) {
      for await (const rev of store.log(key)) {
        for (const member of Object.keys(rev.value as object ?? {})) (present.get(member) ?? present.set(member, new Set()).get(member))?.add(key)
      }
    }
    assert.ok(batches.some((b) => b.revs !== null), 'some batches were acknowledged')
    for (const b of batches) {
      const there = present.get(b.id) ?? new Set<string>()
      if (b.revs === null) {
        assert.is(there.size, 0, `refused batch ${b.id} wrote nothing, yet it is in ${[...there].join(', ')}`)
        assert.ok(b.refused !== undefined && b.refused.length > 0 && b.refused.every((k) => b.keys.includes(k)), `refused batch ${b.id} lists its refused keys`)
        continue
      }
      assert.equal([...there].sort(), [...b.keys].sort(), `acknowledged batch ${b.id} is in every one of its keys' histories`)
      for (const [i, rev] of b.revs.entries()) assert.is(history.get(rev), b.keys[i], `batch ${b.id}'s revision of ${b.keys[i]} is in that key's history`)
    }

    // The changes feed: every transaction whole; each batch's and each moved transfer's changes are one transaction.
    const changes = await all(store.changes())
    assertWholeBatches(changes, 'after the writers')
    const txOf = new Map(changes.map((c) => [c.rev, c]))
    for (const b of batches) {
      if (b.revs === null) continue
      const mine = b.revs.map((rev) => txOf.get(rev))
      const tx = mine[0]?.tx
      assert.ok(tx !== undefined && mine.every((c) => c?.tx === tx && c.txSize === b.keys.length), `batch ${b.id}'s changes are one transaction of ${b.keys.length}`)
    }
    const moved = transfers.filter((t) => t.moved).length
    const pairs = changes.filter((c) => ACCOUNTS.includes(c.key)).slice(ACCOUNTS.length)
    assert.is(pairs.length, 2 * moved, 'two account changes per transfer that moved money, none for the others')
    assert.ok(pairs.every((c) => c.txSize === 2), 'each transfer\'s two changes are one transaction')

    await assertSound(store, url, schema, history)
  } finally {
    for (const child of children) child.kill()
    await store.close()
  }
})

it('two groups of one engine batch share a key and the other group has a stale key: neither is written, both are reported stale', async () => {
  // Found by the test above: the second group was taken out, and with it every record of
  // the shared key, but the first group's other key was still written (half a batch).
  const engine = await openPostgres({ postgres: url, schema: `atomic_${process.pid}`, poolSize: 3 })
  try {
    const a0 = await commitOne(engine, 'a', null, 'a0')
    const b0 = await commitOne(engine, 'b', null, 'b0')
    const c0 = await commitOne(engine, 'c', null, 'c0')
    // Another process moves c: the batch below, expecting c0, is stale on c.
    const c1 = await commitOne(engine, 'c', c0.id, 'c1')
    const [a1, b1, b2, c2] = ['a1', 'b1', 'b2', 'c2'].map(fakeRevision) as [ReturnType<typeof fakeRevision>, ReturnType<typeof fakeRevision>, ReturnType<typeof fakeRevision>, ReturnType<typeof fakeRevision>]
    const batch = engine.batch()
    // Group 1 writes a and b; group 2 then writes b again (on top of group 1's) and c.
    for (const [rev, key] of [[a1, 'a'], [b1, 'b'], [b2, 'b'], [c2, 'c']] as const) {
      batch.putRevision(rev.id, key, rev.record)
      batch.addChange([key, rev.id, 0])
    }
    batch.setHead(move('a', a0.id, a1.id))
    batch.setHead(move('b', b0.id, b2.id))
    batch.setHead(move('c', c0.id, c2.id))
    batch.atomic(['a', 'b'])
    batch.atomic(['b', 'c'])
    const outcome = await batch.write({ sync: false, now: NOW })
    assert.equal([...outcome.stale].sort(), ['a', 'b', 'c'], 'every key of both groups is reported stale, to be decided again')
    assert.equal([(await engine.head('a'))?.head, (await engine.head('b'))?.head, (await engine.head('c'))?.head], [a0.id, b0.id, c1.id], 'no head moved')
    for (const rev of [a1, b1, b2, c2]) assert.is(await engine.revision(rev.id), undefined, 'no revision of either group was written')
  } finally {
    await engine.close()
  }
})

it('a write on a revision another process created, to a key this process last saw absent, is decided on the key read anew', async () => {
  // Found by the first test: the write was judged stale against the absent head this
  // process remembered, and the strategy was handed an undefined head (a TypeError).
  const schema = `absent_${process.pid}`
  const [a, b] = [await Store.open({ postgres: url, schema, poolSize: 3 }), await Store.open({ postgres: url, schema, poolSize: 3 })]
  try {
    for (const key of ['x', 'y']) {
      // a learns that the key does not exist (a refused delete reads it).
      assert.is((await a.delete(key).catch((err: unknown) => err as Error)).constructor.name, 'NotFoundError')
    }
    const x = await b.commit('x', { from: 'b' })
    const y = await b.commit('y', { from: 'b' })
    const single = await a.commit('x', { from: 'a' }, { parent: x.id, strategy: 'merge' })
    assert.equal(single.parents, [x.id], 'the single write went on top of the head b made')
    const [batched] = await a.batch([{ type: 'commit', key: 'y', value: { from: 'a' }, parent: y.id, strategy: 'merge' }])
    assert.equal(batched?.parents, [y.id], 'so did the batch op')
    assert.equal([await b.get('x'), await b.get('y')], [{ from: 'a' }, { from: 'a' }])
  } finally {
    await a.close()
    await b.close()
  }
})

it('as many concurrent transactions as pool connections: they commit (a transaction lets its snapshot go before writing)', async () => {
  // poolSize 2: LISTEN holds one connection, a transaction's snapshot the other. Before
  // the fix, the transaction kept its snapshot while its write waited for a connection,
  // which none would ever free: it failed after the pool's connect timeout.
  const store = await Store.open({ postgres: url, schema: `txpool_${process.pid}`, poolSize: 2 })
  try {
    await store.commit('n', 0)
    for (let i = 0; i < 3; i++) {
      await store.transaction(async (tx) => { tx.commit('n', (await tx.get('n') as number) + 1) })
    }
    await Promise.all([0, 1, 2, 3].map(async () => await store.transaction(async (tx) => { tx.commit('n', (await tx.get('n') as number) + 1) }, { retries: 100 })))
    assert.is(await store.get('n'), 7)
  } finally {
    await store.close()
  }
})

base.run()
