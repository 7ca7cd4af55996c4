import { performance } from 'node:perf_hooks'

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median (values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median() of an empty list.')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Median milliseconds of `times` sequential runs of `op` (given the run's number). */
export async function timeMedian (times: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const ms: number[] = []
  for (let i = 0; i < times; i++) {
    const start = performance.now()
    await op(i)
    ms.push(performance.now() - start)
  }
  return median(ms)
}
