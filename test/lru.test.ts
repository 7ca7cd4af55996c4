import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LruMap } from '../src/lru.js'

test('unpinned entries stay within the bound; pinned ones are never dropped', () => {
  const pinned = new Set<number>([1, 2, 3])
  const lru = new LruMap<number, number>(10, (v) => pinned.has(v))
  for (let i = 0; i < 1000; i++) lru.set(i, i)
  for (const v of pinned) assert.is(lru.get(v), v, `pinned ${v} kept`)
  assert.ok(lru.size <= 10 + pinned.size, `size ${lru.size} within the bound plus the pinned entries`)
  assert.is(lru.get(999), 999, 'the newest entry is there')
  assert.is(lru.get(500), undefined, 'an old unpinned entry was dropped')
})

test('more pinned entries than half the bound do not make every insertion a rotation (a large batch, a small cache)', () => {
  let checks = 0
  const pinned = (v: number): boolean => { checks++; return v < 1000 }
  const lru = new LruMap<number, number>(10, pinned)
  for (let i = 0; i < 1000; i++) lru.set(i, i)
  checks = 0
  for (let i = 1000; i < 2000; i++) lru.set(i, i)
  // A rotation per 5 insertions copies the 1,000 pinned entries: about 200 × 1,000 checks.
  // A rotation per insertion (the young map full of carried-over pinned entries) would be 1,000 × 1,000.
  assert.ok(checks <= 250_000, `${checks} pinned checks for 1,000 insertions`)
  for (let i = 0; i < 1000; i++) assert.is(lru.get(i), i)
})

test.run()
