/** A seeded PRNG (mulberry32): the same seed always gives the same sequence of numbers in [0, 1). */
export function mulberry32 (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A seed for one of several independent streams (one per writer) derived from the run's seed. */
export function streamSeed (seed: number, stream: number): number {
  // Multiplying by the 32-bit golden ratio spreads neighbouring stream numbers far apart.
  return (seed ^ Math.imul(stream + 1, 0x9E3779B1)) >>> 0
}

/**
 * A sampler of indexes 0..n-1 where index k is drawn with probability proportional to
 * 1 / (k + 1)^skew, so index 0 is the most frequent.
 */
export function zipf (n: number, skew: number, random: () => number): () => number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf() needs a whole number of keys ≥ 1, got ${n}.`)
  // The cumulative distribution is precomputed once; a draw is then a binary search, so
  // drawing costs O(log n) whatever the skew.
  const cdf = new Float64Array(n)
  let total = 0
  for (let k = 0; k < n; k++) {
    total += 1 / Math.pow(k + 1, skew)
    cdf[k] = total
  }
  return () => {
    const target = random() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((cdf[mid] as number) < target) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
