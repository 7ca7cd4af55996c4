/**
 * Keys imported into a store reach the stores it syncs with on the next ordinary
 * (incremental) pull or push: an import writes no changes to the feed, so it stamps the
 * store, and a sync mark taken under an older stamp compares every key once.
 */
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import { all } from './helpers.js'

async function memory (): Promise<Store> {
  return await Store.open({ db: new MemoryLevel() })
}

/** A dump of `count` keys named `prefix`0.., made in a store of its own. */
async function dumpOf (prefix: string, count: number): Promise<string[]> {
  const other = await memory()
  for (let i = 0; i < count; i++) await other.commit(`${prefix}${i}`, { i })
  const dump = await all(other.export())
  await other.close()
  return dump
}

test('a pull after keys were imported into the source brings them, without full: true; the next pull compares nothing', async () => {
  const source = await memory()
  await source.commit('a', 1)
  const copy = await Store.clone(source, { db: new MemoryLevel() })
  await source.import(await dumpOf('imported:', 3))
  const pulled = await copy.pull(source)
  assert.is(pulled.fastForwards, 3)
  assert.equal(await copy.get('imported:2'), { i: 2 })
  const again = await copy.pull(source)
  assert.is(again.keys, 0, 'the mark now holds the new stamp: only changes are compared')
  await copy.close()
  await source.close()
})

test('a push after keys were imported here sends them; an import into the target does not stop pushes of changes', async () => {
  const local = await memory()
  const target = await memory()
  await local.commit('a', 1)
  await local.push(target)
  await local.import(await dumpOf('mine:', 2))
  const pushed = await local.push(target)
  assert.is(pushed.fastForwards, 2)
  assert.equal(await target.get('mine:1'), { i: 1 })
  await target.import(await dumpOf('theirs:', 2))
  await local.commit('a', 2)
  const next = await local.push(target)
  assert.is(next.keys, 1, 'a push reads this store\'s feed: an import there changes nothing of it')
  assert.is(await target.get('a'), 2)
  await local.close()
  await target.close()
})

test.run()
