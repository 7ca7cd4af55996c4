import type { BatchOp, JsonValue, Store } from '../src/index.js'
import type { Ledger } from './verify.js'

/** How many commits are in flight at once while filling a store. */
const WAVE = 1024

/** The key of the i-th key of a bulk-built store (the dump, open and sync workloads). */
export function userKey (i: number): string {
  return `user/${i}`
}

/**
 * Commit `count` writes as fast as the store takes them (waves of concurrent commits on
 * top of each key's head), acknowledging each in the ledger. Used to set a store up before
 * the clock starts, or to build long histories and large stores.
 */
export async function commitMany (store: Store, ledger: Ledger, count: number, keyOf: (i: number) => string, valueOf: (i: number) => JsonValue, from = 0): Promise<void> {
  for (let wave = 0; wave < count; wave += WAVE) {
    const writes: Array<Promise<void>> = []
    for (let i = wave; i < Math.min(count, wave + WAVE); i++) {
      const key = keyOf(from + i)
      // Acknowledged as each write resolves: for one key, that is the order its heads were made.
      writes.push(store.commit(key, valueOf(from + i)).then((rev) => { ledger.acknowledge(key, rev.id) }))
    }
    await Promise.all(writes)
  }
}

/** How many fill batches are written at once. */
export const FILL_BATCHES_IN_FLIGHT = 4

/**
 * Fill a store with `count` keys, one revision each, in all-or-nothing batches of
 * `batchSize` creates (a few in flight): the quick way to set up a large store before the
 * clock starts. With `onTop` the batches commit on top of each key's head instead,
 * adding one revision to every key. Nothing goes into a ledger: a million
 * acknowledgements would weigh on the run they set up; a workload that needs the fill
 * checked checks it its own way.
 */
export async function fillStore (store: Store, count: number, batchSize: number, keyOf: (i: number) => string, valueOf: (i: number) => JsonValue, onTop = false): Promise<void> {
  let next = 0
  const filler = async (): Promise<void> => {
    while (next < count) {
      const from = next
      next = Math.min(count, from + batchSize)
      const ops: BatchOp[] = []
      for (let i = from; i < next; i++) ops.push({ type: 'commit', key: keyOf(i), value: valueOf(i), ...(onTop ? {} : { parent: null }) })
      await store.batch(ops)
    }
  }
  await Promise.all(Array.from({ length: FILL_BATCHES_IN_FLIGHT }, filler))
}
