/**
 * What a sync's report says (issue 14): a pull that brings nothing new reports nothing, even
 * for a key kept unmerged by an earlier sync (the conflict is still listed by conflicts()).
 */
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'

const it = suite('sync report')

it('a conflict is reported by the sync that keeps it, not again by every later one', async () => {
  const a = await Store.open({ db: new MemoryLevel(), strategy: 'reject' })
  await a.commit('k', 1)
  const b = await Store.clone(a, { db: new MemoryLevel(), strategy: 'reject' })
  await a.commit('k', 2)
  await b.commit('k', 3)
  const first = await b.pull(a)
  assert.equal(first.conflicts, ['k'], 'the pull that keeps the incoming head lists the key')
  const full = await b.pull(a, { full: true })
  assert.equal([full.keys, full.conflicts], [1, []], 'comparing the key again brings nothing new')
  const pushed = await a.pull(b)
  assert.equal(pushed.conflicts, ['k'], 'the other side keeps this side\'s head: new to it')
  const back = await b.pull(a)
  assert.equal([back.keys, back.revisions, back.conflicts], [1, 0, []], 'the other side\'s change was keeping what this side has')
  assert.equal((await b.conflicts('k')).length, 1, 'the conflict is still there to settle')
  await a.commit('k', 4)
  const newer = await b.pull(a)
  assert.equal([newer.revisions, newer.conflicts], [1, ['k']], 'a new revision on the kept side is a new conflict')
  await a.close()
  await b.close()
})

it.run()
