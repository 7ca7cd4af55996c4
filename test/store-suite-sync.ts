import { MemoryLevel } from 'memory-level'
import * as assert from 'uvu/assert'
import { all } from './helpers.js'
import { Store } from '../src/index.js'
import type { RevkvStore, SyncPeer } from '../src/index.js'
import { kSync } from '../src/sync/types.js'
import { backendSuite } from './store-suite.js'
import type { StoreFactory } from './store-suite.js'

/** Every backend is a sync peer: a Store in this process, or a server through RemoteStore. */
function peer (store: RevkvStore): SyncPeer {
  assert.ok(kSync in store, 'a backend of the suite can be synced with')
  return store as unknown as SyncPeer
}

/** The revisions of a key, as a set of ids (its whole log). */
async function ids (store: RevkvStore, key: string): Promise<string[]> {
  return (await all(store.log(key))).map((rev) => rev.id).sort()
}

/** Sync with a local Store (pull, push, clone), for every backend the behavioural suite runs against. */
export function syncSuite (factory: StoreFactory): void {
  const { it, open } = backendSuite('sync', factory)

  it('a local store clones the backend, both edit, and pull and push bring them to the same heads and histories', async () => {
    const backend = await open({ strategy: 'merge' })
    await backend.commit('doc', { a: 0, b: 0 })
    await backend.commit('old', 1)
    const local = await Store.clone(peer(backend), { db: new MemoryLevel(), strategy: 'merge' })
    try {
      assert.equal(await local.get('doc'), { a: 0, b: 0 })
      await local.commit('doc', { a: 1, b: 0 })
      await backend.commit('doc', { a: 0, b: 1 })
      await local.delete('old')
      await backend.commit('new', true)
      const pulled = await local.pull(peer(backend))
      assert.equal([pulled.merges, pulled.fastForwards], [1, 1], 'doc merged here, new fast-forwarded')
      const pushed = await local.push(peer(backend))
      assert.equal(pushed.fastForwards, 2, 'the merge and the tombstone fast-forward there')
      for (const key of ['doc', 'old', 'new']) {
        assert.is((await backend.head(key))?.id, (await local.head(key))?.id, key)
        assert.equal(await ids(backend, key), await ids(local, key), `${key}: same history`)
      }
      assert.equal(await backend.get('doc'), { a: 1, b: 1 })
      assert.is(await backend.get('old'), undefined)
      const again = await local.pull(peer(backend))
      const twice = await local.push(peer(backend))
      assert.equal([again.revisions, again.fastForwards, again.merges, twice.revisions, twice.fastForwards, twice.merges], [0, 0, 0, 0, 0, 0], 'syncing again changes nothing')
    } finally {
      await local.close()
    }
  })

  it('a push whose key diverged there is kept unmerged under the backend\'s manual strategy, and listed', async () => {
    const backend = await open({ strategy: 'manual' })
    await backend.commit('k', 1)
    const local = await Store.clone(peer(backend), { db: new MemoryLevel() })
    try {
      const mine = await local.commit('k', 2)
      const theirs = await backend.commit('k', 3)
      const report = await local.push(peer(backend))
      assert.equal(report.conflicts, ['k'])
      assert.is((await backend.head('k'))?.id, theirs.id)
      assert.equal((await backend.conflicts('k')).map((rev) => rev.id), [mine.id])
    } finally {
      await local.close()
    }
  })
}
