/**
 * Sync with a compacted store when the two heads forked below the cut: the pulling side
 * cannot find the common ancestor, so a strategy that needs it does not guess. The
 * incoming head is kept unmerged and the report says which dropped revision stopped the
 * search; nothing is taken for damage, and merge() with an explicit value settles it.
 */
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'

/** `a` with k at n=1..6 compacted to its last 2, and `b`, cloned at n=3, which changed x since. */
async function forkedBelowTheCut (): Promise<{ a: Store, b: Store, dropped: string }> {
  // Clocks of their own, so which head is later (lww) does not depend on the millisecond.
  let now = 1_000_000
  const a = await Store.open({ db: new MemoryLevel(), strategy: 'merge', clock: () => (now += 1000) })
  for (let n = 1; n <= 3; n++) await a.commit('k', { n, x: 0 })
  const b = await Store.clone(a, { db: new MemoryLevel(), strategy: 'merge', clock: () => 500 })
  await b.commit('k', { n: 3, x: 1 })
  const revs = []
  for (let n = 4; n <= 6; n++) revs.push(await a.commit('k', { n, x: 0 }))
  await a.compact({ keep: 2 })
  return { a, b, dropped: revs[0]?.id as string }
}

test('merge: the incoming head is kept unmerged, with the dropped revision named; verify stays clean; merge() with a value settles it', async () => {
  const { a, b, dropped } = await forkedBelowTheCut()
  const aHead = await a.head('k')
  const report = await b.pull(a)
  assert.equal(report.conflicts, ['k'])
  assert.equal(report.shallow, [{ key: 'k', cut: dropped }])
  assert.equal(report.refused, [])
  assert.equal(await b.get('k'), { n: 3, x: 1 }, 'the local head stays')
  const kept = await b.conflicts('k')
  assert.equal(kept.map((r) => r.id), [aHead?.id])
  assert.equal((await b.verify()).problems, [], 'a cut is not damage')
  const settled = await b.merge('k', aHead?.id as string, { value: { n: 6, x: 1 } })
  assert.equal(settled.parents.length, 2)
  await b.push(a)
  assert.equal(await a.get('k'), { n: 6, x: 1 }, 'the settled merge fast-forwards the source')
  await a.close()
  await b.close()
})

test('lww needs no base: the later head wins with a merge revision, and nothing is reported shallow', async () => {
  const { a, b } = await forkedBelowTheCut()
  const report = await b.pull(a, { strategy: 'lww' })
  assert.equal([report.merges, report.conflicts, report.shallow], [1, [], []])
  assert.equal(await b.get('k'), { n: 6, x: 0 })
  await a.close()
  await b.close()
})

test.run()
