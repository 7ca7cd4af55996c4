/**
 * store.transaction() (issue 13): 64 concurrent transferers conserve the total and lose no
 * transfer; reads see one snapshot plus the transaction's own writes; a key read that moved
 * retries the function, and past `retries` the error lists the keys that moved; a throwing
 * function writes nothing; `tx` is dead once the function returned; a read-only
 * transaction writes nothing; a key written but not read follows its strategy.
 *
 * Conflicts are made deterministically: the function itself commits to a key it read,
 * outside the transaction, before the transaction commits (a write between its snapshot
 * and its end, as a concurrent writer would make).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { BatchConflictError, InvalidInputError, Store } from '../src/index.js'
import type { Transaction } from '../src/index.js'
import { mulberry32, zipf } from '../benchmarks/zipf.js'
import { all, nextTurn, rejection } from './helpers.js'

const ACCOUNTS = Array.from({ length: 20 }, (_, i) => `acct:${String(i).padStart(2, '0')}`)
const OPENING = 1000
const TRANSFERERS = 64

interface Transfer {
  from: string
  to: string
  amount: number
}

const balance = async (tx: Transaction, key: string): Promise<number> => {
  const value = await tx.get(key)
  assert.type(value, 'number', `the balance of ${key} is a number`)
  return value as number
}

/** Move `amount` if `from` has it; resolves with whether it moved. */
async function transfer (store: Store, t: Transfer, retries: number, calls: { n: number }): Promise<boolean> {
  return await store.transaction(async (tx) => {
    calls.n++
    const from = await balance(tx, t.from)
    if (from < t.amount) return false
    const to = await balance(tx, t.to)
    tx.commit(t.from, from - t.amount)
    tx.commit(t.to, to + t.amount)
    return true
  }, { retries })
}

const engines: Array<[string, () => Promise<{ store: Store, done: () => void }>]> = [
  ['memory-level', async () => ({ store: await Store.open({ db: new MemoryLevel() }), done: () => {} })],
  ['LevelDB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revkv-tx-'))
    return { store: await Store.open(dir), done: () => { rmSync(dir, { recursive: true, force: true }) } }
  }]
]

const transfers = suite('transaction: 64 concurrent transferers')

// 200 retries: every transfer should get through; 1 retry: some give up, and those must leave no trace.
for (const [[name, open], retries] of engines.flatMap((engine) => [200, 1].map((r) => [engine, r] as const))) {
  transfers(`${name}, retries ${retries}: ${TRANSFERERS} concurrent transfers over ${ACCOUNTS.length} zipf-skewed accounts: total conserved, every resolved transfer reflected, none lost`, async () => {
    const { store, done } = await open()
    try {
      await store.batch(ACCOUNTS.map((key) => ({ type: 'commit' as const, key, value: OPENING })))
      // Account i is drawn in proportion to 1 / (i + 1): the first few are hot.
      const next = mulberry32(13)
      const account = zipf(ACCOUNTS.length, 1, next)
      const planned: Transfer[] = Array.from({ length: TRANSFERERS }, () => {
        const from = account()
        let to = account()
        while (to === from) to = account()
        return { from: ACCOUNTS[from] as string, to: ACCOUNTS[to] as string, amount: 1 + Math.floor(next() * 50) }
      })
      const calls = { n: 0 }
      const results = await Promise.allSettled(planned.map(async (t) => await transfer(store, t, retries, calls)))

      const expected = new Map(ACCOUNTS.map((key) => [key, OPENING]))
      let moved = 0
      for (const [i, result] of results.entries()) {
        const t = planned[i] as Transfer
        if (result.status === 'rejected') {
          // Only an exhausted transaction may fail, and then it says which keys moved.
          const err = result.reason as unknown
          assert.instance(err, BatchConflictError, `transfer ${i} failed with ${String(err)}`)
          const keys = (err as BatchConflictError).conflicts.map((c) => c.key)
          assert.ok(keys.length > 0 && keys.every((k) => k === t.from || k === t.to), `transfer ${i}'s error lists the keys it read that moved: ${keys.join(', ')}`)
          continue
        }
        if (!result.value) continue
        moved++
        expected.set(t.from, (expected.get(t.from) as number) - t.amount)
        expected.set(t.to, (expected.get(t.to) as number) + t.amount)
      }
      assert.ok(moved > 0, 'some transfers moved money')
      let total = 0
      for (const key of ACCOUNTS) {
        const value = await store.get(key) as number
        total += value
        assert.is(value, expected.get(key), `${key} holds its opening balance plus exactly the transfers that resolved (none lost, none doubled)`)
      }
      assert.is(total, OPENING * ACCOUNTS.length, 'the total is conserved')
      assert.ok(calls.n >= TRANSFERERS, 'each transfer ran its function at least once')
      // Each moved transfer is exactly one commit of two revisions, the two changes of one transaction.
      const changes = (await all(store.changes())).slice(ACCOUNTS.length)
      assert.is(changes.length, 2 * moved, 'two changes per transfer that moved money, none for the others')
      for (let i = 0; i < changes.length; i += 2) {
        const [a, b] = [changes[i], changes[i + 1]]
        assert.ok(a?.tx !== undefined && a.tx === b?.tx && a.txSize === 2 && b.txSize === 2, `changes ${a?.seq} and ${b?.seq} are one transaction`)
      }
      assert.equal((await store.verify()).problems, [], 'verify() finds nothing wrong')
    } finally {
      await store.close()
      done()
    }
  })
}

transfers.run()

const tx = suite('transaction', {} as { store: Store })

tx.before.each(async (context) => {
  context.store = await Store.open({ db: new MemoryLevel() })
})

tx.after.each(async (context) => {
  await context.store.close()
})

tx('reads see the store as of the start: a write made after it is not seen, and a read-only transaction runs once', async ({ store }) => {
  await store.commit('a', 1)
  await store.commit('b', 1)
  let calls = 0
  const seen = await store.transaction(async (t) => {
    calls++
    const a = await t.get('a')
    await store.commit('b', 2)
    return [a, await t.get('b'), (await t.head('b'))?.value]
  })
  assert.equal(seen, [1, 1, 1], 'tx.get and tx.head show b as it was when the transaction started')
  assert.is(calls, 1, 'a transaction that writes nothing is not retried')
  assert.is(await store.get('b'), 2)
})

tx('a write after the start to a key read later: the snapshot value is read, then the transaction retries and sees the new one', async ({ store }) => {
  await store.commit('a', 1)
  await store.commit('b', 1)
  const seen: unknown[] = []
  await store.transaction(async (t) => {
    if (seen.length === 0) await store.commit('b', 2)
    const b = await t.get('b') as number
    seen.push(b)
    t.commit('a', b)
  })
  assert.equal(seen, [1, 2], 'the first attempt read b from its snapshot, the retry read the new value')
  assert.is(await store.get('a'), 2, 'what was written rests on the value read in the attempt that committed')
})

tx('own writes are seen by tx.get, tx.head stays as of the start, tx.keys lists own creates and hides own deletes', async ({ store }) => {
  await store.commit('a', 1)
  await store.commit('c', 3)
  const a0 = await store.head('a')
  const seen = await store.transaction(async (t) => {
    t.commit('b', { new: true })
    t.commit('a', 10)
    t.delete('c')
    return {
      a: await t.get('a'),
      b: await t.get('b'),
      c: await t.get('c'),
      headA: (await t.head('a'))?.id,
      keys: await all(t.keys()),
      limited: await all(t.keys({ limit: 1, after: 'a' }))
    }
  })
  assert.equal(seen, { a: 10, b: { new: true }, c: undefined, headA: a0?.id, keys: ['a', 'b'], limited: ['b'] })
  assert.equal([await store.get('a'), await store.get('b'), await store.get('c')], [10, { new: true }, undefined], 'the writes were made when the function returned')
})

tx('a key it read that moved runs the function again, on the new value (no update lost)', async ({ store }) => {
  await store.commit('counter', 1)
  let calls = 0
  await store.transaction(async (t) => {
    calls++
    const n = await t.get('counter') as number
    if (calls === 1) await store.commit('counter', 10)
    t.commit('counter', n + 1)
  })
  assert.is(calls, 2, 'the function ran twice')
  assert.is(await store.get('counter'), 11, 'the increment rests on the concurrent write, not on the stale read')
})

tx('a key only read that moved also retries (serializable, not only snapshot isolation)', async ({ store }) => {
  await store.commit('rate', 2)
  await store.commit('price', 1)
  let calls = 0
  await store.transaction(async (t) => {
    calls++
    const rate = await t.get('rate') as number
    if (calls === 1) await store.commit('rate', 3)
    t.commit('price', 100 * rate)
  })
  assert.is(calls, 2)
  assert.is(await store.get('price'), 300, 'the price rests on the rate as it is now')
})

tx('retries: 0 gives up at the first conflict with a BatchConflictError naming the moved key; nothing of it is written', async ({ store }) => {
  await store.commit('counter', 1)
  await store.commit('other', 'x')
  let calls = 0
  const err = await rejection(store.transaction(async (t) => {
    calls++
    const n = await t.get('counter') as number
    await store.commit('counter', 10)
    t.commit('counter', n + 1)
    t.commit('other', 'y')
  }, { retries: 0 }))
  assert.instance(err, BatchConflictError)
  assert.is((err as BatchConflictError).code, 'REVKV_CONFLICT')
  assert.is((err as BatchConflictError).status, 409)
  assert.equal((err as BatchConflictError).conflicts.map((c) => c.key), ['counter'])
  assert.match(err.message, /1 attempt/)
  assert.is(calls, 1)
  assert.equal([await store.get('counter'), await store.get('other')], [10, 'x'], 'neither key was written')
})

tx('retries: N runs the function N + 1 times, then the error lists the keys that kept moving', async ({ store }) => {
  await store.commit('a', 0)
  await store.commit('b', 0)
  let calls = 0
  const err = await rejection(store.transaction(async (t) => {
    calls++
    await t.get('a')
    await t.get('b')
    await store.commit('b', calls)
    t.commit('a', -1)
  }, { retries: 2 }))
  assert.is(calls, 3)
  assert.instance(err, BatchConflictError)
  assert.equal((err as BatchConflictError).conflicts.map((c) => [c.key, c.code]), [['b', 'REVKV_CONFLICT']])
  assert.match(err.message, /3 attempts/)
  assert.is(await store.get('a'), 0, 'nothing of the transaction was written')
})

tx('a function that throws aborts: its error comes out as is, nothing is written, it is not retried', async ({ store }) => {
  await store.commit('a', 1)
  const before = await all(store.changes())
  let calls = 0
  const boom = new Error('boom')
  const err = await rejection(store.transaction(async (t) => {
    calls++
    t.commit('a', 2)
    t.commit('new', 1)
    throw boom
  }))
  assert.is(err, boom)
  assert.is(calls, 1)
  assert.equal(await all(store.changes()), before, 'no change was made')
  assert.is(await store.get('a'), 1)
  assert.is(await store.head('new'), undefined)
})

tx('tx used after its function returned is refused, and writes nothing', async ({ store }) => {
  await store.commit('a', 1)
  let saved: Transaction | undefined
  await store.transaction((t) => { saved = t })
  const t = saved as Transaction
  assert.instance(await rejection(t.get('a')), InvalidInputError)
  assert.instance(await rejection(t.head('a')), InvalidInputError)
  assert.instance(await rejection(all(t.keys())), InvalidInputError)
  assert.throws(() => { t.commit('a', 2) }, (err: unknown) => err instanceof InvalidInputError && /after the transaction's function returned/.test(err.message))
  assert.throws(() => { t.delete('a') }, (err: unknown) => err instanceof InvalidInputError)
  assert.is(await store.get('a'), 1)
  assert.is((await all(store.changes())).length, 1)
})

tx('a write left un-awaited past the end is refused too', async ({ store }) => {
  await store.commit('a', 1)
  let late: Promise<unknown> | undefined
  await store.transaction((t) => {
    // Not awaited: it runs after the function returned.
    late = (async () => {
      await nextTurn()
      t.commit('a', 2)
    })()
  })
  assert.instance(await rejection(late as Promise<unknown>), InvalidInputError)
  assert.is(await store.get('a'), 1)
})

tx('a read-only transaction writes nothing and returns what the function returned', async ({ store }) => {
  await store.commit('a', 1)
  await store.commit('b', 2)
  const before = await all(store.changes())
  const sum = await store.transaction(async (t) => (await t.get('a') as number) + (await t.get('b') as number))
  assert.is(sum, 3)
  assert.equal(await all(store.changes()), before)
  assert.equal((await store.verify()).revisions, 2)
})

tx('a key written but not read follows its strategy: merge joins a concurrent write, without a retry', async ({ store }) => {
  await store.commit('doc', { title: 'a', body: 'x' })
  let calls = 0
  await store.transaction(async (t) => {
    calls++
    if (calls === 1) await store.commit('doc', { title: 'b', body: 'x' })
    t.commit('doc', { title: 'a', body: 'y' }, { strategy: 'merge' })
  })
  assert.is(calls, 1, 'an unread key that moved does not retry')
  assert.equal(await store.get('doc'), { title: 'b', body: 'y' }, 'the transaction\'s change was merged with the concurrent one')
})

tx('a key written but not read under lww: the transaction\'s write wins over a concurrent one, without a retry', async ({ store }) => {
  await store.commit('k', 1)
  let calls = 0
  await store.transaction(async (t) => {
    calls++
    if (calls === 1) await store.commit('k', 2)
    t.commit('k', 3, { strategy: 'lww' })
  })
  assert.is(calls, 1)
  assert.is(await store.get('k'), 3)
  assert.equal((await all(store.log('k', { firstParent: true }))).map((r) => r.value).slice(0, 2), [3, 2], 'written on top of the concurrent write, which stays in history')
})

tx.run()
