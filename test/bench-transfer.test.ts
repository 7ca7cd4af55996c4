/**
 * The `transfer` workload's nothing-lost proof: concurrent transactions pass it, and a
 * made or lost unit, a lost update and an unacknowledged revision each fail it by name.
 */
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import { Books, transferWorkload, verifyBooks } from '../benchmarks/scenarios/transfer.js'
import type { ScenarioContext, TransactionStats } from '../benchmarks/types.js'
import { driveWriters } from '../benchmarks/writers.js'
import { rejection } from './helpers.js'

const ACCOUNTS = 10
const OPENING = 100
const TRANSFERS = 60

const ctx: ScenarioContext = { writers: 8, strategy: 'reject', sync: false, valueSize: 50, durationMs: undefined, ops: TRANSFERS, seed: 1, dir: undefined, round: 0 }

/** A store after TRANSFERS concurrent transfers over ACCOUNTS accounts (few accounts, so transactions collide). */
async function afterTransfers (): Promise<{ store: Store, books: Books, stats: TransactionStats | undefined, commits: number }> {
  const store = await Store.open({ db: new MemoryLevel() })
  const books = new Books(ACCOUNTS, OPENING)
  const workload = transferWorkload(ctx, store, books)
  await workload.prepare?.()
  const drive = await driveWriters({ writers: ctx.writers, ops: TRANSFERS, attempt: workload.attempt })
  return { store, books, stats: workload.transactions?.(), commits: drive.commits }
}

test('concurrent transfers pass: total kept, every balance and history as acknowledged; retries are counted', async () => {
  const { store, books, stats, commits } = await afterTransfers()
  assert.is(commits, TRANSFERS)
  const verified = await verifyBooks(store, books)
  assert.equal(verified, { keys: ACCOUNTS, revisions: ACCOUNTS + 2 * TRANSFERS, acknowledged: ACCOUNTS + 2 * TRANSFERS })
  assert.is(books.balances.reduce((a, b) => a + b, 0), ACCOUNTS * OPENING)
  assert.ok(stats !== undefined)
  assert.ok(stats.attempts > TRANSFERS, `8 writers on 10 accounts collide: ${stats.attempts} runs for ${TRANSFERS} transfers`)
  assert.is(stats.retries, stats.attempts - TRANSFERS, 'no transfer was left unfinished, so every run after the first of one is a retry')
  assert.ok(stats.maxAttempts >= 2)
  await store.close()
})

test('money made or destroyed fails the total', async () => {
  const { store, books } = await afterTransfers()
  const head = await store.get('acct/3') as { balance: number, pad: string }
  await store.commit('acct/3', { ...head, balance: head.balance + 5 })
  const err = await rejection(verifyBooks(store, books))
  assert.match(err.message, `The accounts hold ${ACCOUNTS * OPENING + 5} in all, not the ${ACCOUNTS * OPENING} they were opened with`)
  await store.close()
})

test('a lost update fails, naming the account, even when the total is kept', async () => {
  const { store, books } = await afterTransfers()
  // A transfer the books never heard of: the total still holds, two balances do not.
  await store.transaction(async (tx) => {
    const a = await tx.get('acct/0') as { balance: number, pad: string }
    const b = await tx.get('acct/1') as { balance: number, pad: string }
    tx.commit('acct/0', { ...a, balance: a.balance - 1 })
    tx.commit('acct/1', { ...b, balance: b.balance + 1 })
  })
  const err = await rejection(verifyBooks(store, books))
  assert.match(err.message, `Lost update on account "acct/0": its balance is ${(books.balances[0] as number) - 1}, but the acknowledged transfers leave ${books.balances[0] as number}.`)
  await store.close()
})

test('a revision no transfer acknowledged fails the history count', async () => {
  const { store, books } = await afterTransfers()
  const value = await store.get('acct/2') as { balance: number, pad: string }
  await store.commit('acct/2', { ...value, pad: 'rewritten' })
  const err = await rejection(verifyBooks(store, books))
  assert.match(err.message, `Account "acct/2" has ${(books.revisions[2] as number) + 1} revisions in its history, but its opening and acknowledged transfers made ${books.revisions[2] as number}.`)
  await store.close()
})

test.run()
