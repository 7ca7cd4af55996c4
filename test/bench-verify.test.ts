import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { rejection } from './helpers.js'
import { MemoryLevel } from 'memory-level'
import { Store } from '../src/index.js'
import { Ledger, verifyNothingLost } from '../benchmarks/verify.js'

const NEVER_WRITTEN = 'f'.repeat(64)

async function storeWithChain (): Promise<{ store: Store, ledger: Ledger, ids: string[] }> {
  const store = await Store.open({ db: new MemoryLevel() })
  const ledger = new Ledger()
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const rev = await store.commit('k', { i })
    ids.push(rev.id)
    ledger.acknowledge('k', rev.id)
  }
  return { store, ledger, ids }
}

test('passes when every acknowledged revision is in history', async () => {
  const { store, ledger } = await storeWithChain()
  const verified = await verifyNothingLost(store, ledger)
  assert.equal(verified, { keys: 1, revisions: 5, acknowledged: 5 })
  await store.close()
})

test('throws, naming the revision, when an acknowledged revision is missing from history', async () => {
  const { store, ids } = await storeWithChain()
  const ledger = new Ledger()
  // The store "acknowledged" a write that its history does not hold.
  for (const id of [...ids.slice(0, 2), NEVER_WRITTEN, ...ids.slice(2)]) ledger.acknowledge('k', id)
  const err = await rejection(verifyNothingLost(store, ledger))
  assert.match(err.message, /Lost 1 acknowledged revision/)
  assert.match(err.message, NEVER_WRITTEN)
  await store.close()
})

test('throws when the head is not the last acknowledged write', async () => {
  const { store, ledger } = await storeWithChain()
  ledger.acknowledge('k', NEVER_WRITTEN)
  assert.match((await rejection(verifyNothingLost(store, ledger))).message, /head is .* last acknowledged write was/)
  await store.close()
})

test('throws when a member\'s last acknowledged value is not in the final object', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const ledger = new Ledger()
  const rev = await store.commit('obj', { w0: 'a', w1: 'b' })
  ledger.acknowledge('obj', rev.id)
  ledger.member('obj', 'w0', 'a')
  await verifyNothingLost(store, ledger)
  ledger.member('obj', 'w1', 'c')
  assert.match((await rejection(verifyNothingLost(store, ledger))).message, /member value.*w1/)
  await store.close()
})

test.run()
