import type { JsonValue, Store } from '../src/index.js'
import type { Ledger } from './verify.js'

/** How many commits are in flight at once while filling a store. */
const WAVE = 1024

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
