import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mulberry32, streamSeed, zipf } from '../benchmarks/zipf.js'

test('mulberry32: the same seed gives the same sequence, another seed another', () => {
  const a = mulberry32(42)
  const b = mulberry32(42)
  const c = mulberry32(43)
  const seqA = Array.from({ length: 100 }, () => a())
  const seqB = Array.from({ length: 100 }, () => b())
  const seqC = Array.from({ length: 100 }, () => c())
  assert.equal(seqA, seqB)
  assert.not.equal(seqA, seqC)
  assert.ok(seqA.every((x) => x >= 0 && x < 1), 'every number is in [0, 1)')
})

test('streamSeed: writers of one run get different streams', () => {
  const seeds = new Set(Array.from({ length: 256 }, (_, w) => streamSeed(1, w)))
  assert.is(seeds.size, 256)
})

test('zipf: seeded draws repeat exactly', () => {
  const draw1 = zipf(1000, 0.99, mulberry32(7))
  const draw2 = zipf(1000, 0.99, mulberry32(7))
  assert.equal(Array.from({ length: 500 }, draw1), Array.from({ length: 500 }, draw2))
})

test('zipf: skewed towards key 0, every draw in range', () => {
  const n = 1000
  const draw = zipf(n, 0.99, mulberry32(1))
  const counts = new Array<number>(n).fill(0)
  for (let i = 0; i < 50_000; i++) {
    const k = draw()
    assert.ok(Number.isInteger(k) && k >= 0 && k < n, `draw ${k} is a key index`)
    counts[k] = (counts[k] as number) + 1
  }
  const top = Math.max(...counts)
  assert.is(counts[0], top, 'key 0 is the most frequent')
  // With skew 0.99 key 0 is drawn about twice as often as key 1 and ~1000× as often as key 999.
  assert.ok((counts[0] as number) > 1.5 * (counts[1] as number))
  assert.ok((counts[1] as number) > (counts[100] as number))
  assert.ok((counts[0] as number) > 20 * (counts[999] as number))
})

test('zipf: refuses an empty key space', () => {
  assert.throws(() => zipf(0, 0.99, Math.random), /keys/)
})

test.run()
