import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { attachRatios, evaluateTargets } from '../benchmarks/targets.js'
import type { HistoryResult, ThroughputResult } from '../benchmarks/types.js'

function result (fields: Partial<ThroughputResult>): ThroughputResult {
  return {
    kind: 'throughput', scenario: 'distinct', system: 'revkv', strategy: 'reject', writers: 64, sync: false, valueSize: 100, round: 1,
    elapsedMs: 1000, commits: 0, commitsPerSec: 0, reads: 0, readsPerSec: 0, latency: { p50Ms: 1, p99Ms: 2, maxMs: 3 }, readLatency: undefined,
    conflicts: 0, retries: 0, retriesPerCommit: 0, starvedWriters: 0, perWriter: { min: 0, max: 0 }, bytesOnDisk: 0, revisions: 0, bytesPerRevision: 0, peakRssBytes: 0, vsPut: undefined, verified: undefined,
    ...fields
  }
}

const put = (round: number, commitsPerSec: number, sync = false): ThroughputResult =>
  result({ scenario: 'put', system: 'level', strategy: undefined, round, commitsPerSec, sync })

const hotMerge = (round: number, commitsPerSec: number, verified = true): ThroughputResult =>
  result({ scenario: 'hot', strategy: 'merge', round, commitsPerSec, verified: verified ? { keys: 1, revisions: 2, acknowledged: 2 } : undefined })

test('ratios compare with the put of the same round, and targets take the median of the rounds', () => {
  const results = [
    put(1, 100), result({ round: 1, commitsPerSec: 50 }), hotMerge(1, 40),
    put(2, 100), result({ round: 2, commitsPerSec: 120 }), hotMerge(2, 60),
    put(3, 200), result({ round: 3, commitsPerSec: 220 }), hotMerge(3, 100),
    put(1, 10, true), result({ round: 1, commitsPerSec: 40, sync: true })
  ]
  attachRatios(results)
  assert.is(results[1]?.vsPut, 0.5)
  assert.is(results[10]?.vsPut, 4, 'sync runs compare with the sync put')
  const targets = evaluateTargets(results, undefined, undefined)
  const [t1, t2, t3] = targets
  assert.is(t1?.figure, 1.1, 'median of 0.5, 1.2, 1.1')
  assert.is(t1?.met, true)
  assert.is(t2?.figure, 4)
  assert.is(t2?.met, true)
  assert.is(t3?.figure, 0.5, 'median of 0.8, 0.5, 0.45…')
  assert.is(t3?.met, true)
  assert.match(t3?.detail ?? '', /conflicts 0; every writer's last member value found in all 3 run\(s\)/)
})

test('target 3 is not met when a hot merge run was not verified, and says so', () => {
  const results = [put(1, 100), result({ round: 1, commitsPerSec: 100 }), hotMerge(1, 90), put(2, 100), result({ round: 2, commitsPerSec: 100 }), hotMerge(2, 90, false)]
  const t3 = evaluateTargets(results, undefined, undefined).find((t) => t.id === 3)
  assert.is(t3?.figure, 0.9)
  assert.is(t3?.met, false)
  assert.match(t3?.detail ?? '', /only 1 of 2 run\(s\) verified/)
})

test('a history measured short of 1,000,000 is reported, but not met', () => {
  const point = (height: number): HistoryResult['points'][number] => ({ height, commitMs: 1, headMs: 1, getRevMs: 1, logPageMs: 1, logEntries: 10, logPerEntryMs: 0.1 })
  const history: HistoryResult = {
    kind: 'history', requestedHeights: [10, 1_000_000], points: [point(10), point(100_000)], buildRate: 1, peakRssBytes: 1, bytesPerRevision: 1, verified: { keys: 1, revisions: 1, acknowledged: 1 }
  }
  const [t4] = evaluateTargets([], history, undefined)
  assert.is(t4?.figure, 1)
  assert.is(t4?.met, false)
  assert.match(t4?.detail ?? '', /budget ran out/)
})

test('target 8: batches over the same writes as single commits, per round, median; below 0.8 is not met', () => {
  const run = (scenario: string, round: number, commitsPerSec: number): ThroughputResult => result({ scenario, round, commitsPerSec })
  const results = [run('unbatched', 1, 100), run('batch', 1, 70), run('unbatched', 2, 200), run('batch', 2, 150), run('unbatched', 3, 100), run('batch', 3, 90)]
  const t8 = evaluateTargets(results, undefined, undefined).find((t) => t.id === 8)
  assert.is(t8?.figure, 0.75, 'median of 0.7, 0.75, 0.9')
  assert.is(t8?.met, false)
  assert.match(t8?.goal ?? '', /batches of 100 ops ≥ 0\.8× the same writes as single commits/)
  assert.match(t8?.detail ?? '', /median of 3 run\(s\): 0\.70, 0\.75, 0\.90/)
  results.push(run('unbatched', 4, 100), run('batch', 4, 85), run('unbatched', 5, 100), run('batch', 5, 95))
  assert.is(evaluateTargets(results, undefined, undefined).find((t) => t.id === 8)?.met, true, 'median 0.85 of five rounds')
  assert.is(evaluateTargets(results.filter((r) => r.scenario !== 'unbatched'), undefined, undefined).find((t) => t.id === 8), undefined, 'not measured without its single commits')
})

test('target 9: insert and insert-blind against put (≥ 0.8×) and durable put (≥ 3×) of the same round, each its own row', () => {
  const results = [
    put(1, 100), result({ scenario: 'insert', round: 1, commitsPerSec: 90 }), result({ scenario: 'insert-blind', round: 1, commitsPerSec: 70 }),
    put(1, 10, true), result({ scenario: 'insert', round: 1, commitsPerSec: 31, sync: true }), result({ scenario: 'insert-blind', round: 1, commitsPerSec: 29, sync: true })
  ]
  const t9 = evaluateTargets(results, undefined, undefined).filter((t) => t.id === 9)
  assert.equal(t9.map((t) => [t.figure, t.met]), [[0.9, true], [0.7, false], [3.1, true], [2.9, false]])
  assert.match(t9[0]?.goal ?? '', /^insert ×64 \(new keys, parent: null\) ≥ 0\.8× raw put ×64$/)
  assert.match(t9[3]?.goal ?? '', /^insert-blind ×64 \(new keys, no parent\), sync ≥ 3× raw durable put ×64$/)
})

test('target 10: cold against get-put of the same round, naming the store measured, its fill times, and the issue\'s size when smaller', () => {
  const filled = (keys: number, headCacheSize: number | undefined, fillMs: number): ThroughputResult['store'] => ({ keys, headCacheSize, fillMs })
  const run = (system: 'revkv' | 'level', round: number, commitsPerSec: number): ThroughputResult => system === 'revkv'
    ? result({ scenario: 'cold', round, commitsPerSec, store: filled(100_000, 1000, 5000) })
    : result({ scenario: 'get-put', system: 'level', strategy: undefined, round, commitsPerSec, store: filled(100_000, undefined, 500) })
  const results = [run('level', 1, 100), run('revkv', 1, 70), run('level', 2, 100), run('revkv', 2, 90), run('level', 3, 100), run('revkv', 3, 85)]
  const t10 = evaluateTargets(results, undefined, undefined).find((t) => t.id === 10)
  assert.is(t10?.figure, 0.85, 'median of 0.7, 0.9, 0.85')
  assert.is(t10?.met, true)
  assert.match(t10?.goal ?? '', /random keys of a 100,000-key store, head cache 1,000 ≥ 0\.8× raw get-then-put/)
  assert.match(t10?.detail ?? '', /filled in 5\.0, 5\.0, 5\.0 s \(revkv\) and 0\.5, 0\.5, 0\.5 s \(level\)/)
  assert.match(t10?.detail ?? '', /the issue sets it at 1,000,000 keys/)
  assert.is(evaluateTargets(results.filter((r) => r.system === 'revkv'), undefined, undefined).find((t) => t.id === 10), undefined, 'not measured without its baseline')
})

test('target 13: the hot key at 256 writers against 64 in the same round, per strategy; an unverified run is not met', () => {
  const hot = (strategy: string, writers: number, round: number, commitsPerSec: number, verified = true): ThroughputResult =>
    result({ scenario: 'hot', strategy: strategy as ThroughputResult['strategy'], writers, round, commitsPerSec, verified: verified ? { keys: 1, revisions: 2, acknowledged: 2 } : undefined })
  const results = [
    hot('merge', 64, 1, 100), hot('merge', 256, 1, 30), hot('lww', 64, 1, 100), hot('lww', 256, 1, 90),
    hot('merge', 64, 2, 200), hot('merge', 256, 2, 40), hot('lww', 64, 2, 100), hot('lww', 256, 2, 60, false),
    hot('merge', 64, 3, 100), hot('merge', 256, 3, 25), hot('lww', 64, 3, 200), hot('lww', 256, 3, 160),
    // The sweep's runs (round 0) are not side by side with a run at 64: left out.
    hot('lww', 256, 0, 1)
  ]
  const t13 = evaluateTargets(results, undefined, undefined).filter((t) => t.id === 13)
  assert.equal(t13.map((t) => [t.goal, t.figure, t.met]), [
    ['hot merge ×256 ≥ 0.7× hot merge ×64, nothing lost', 0.25, false],
    ['hot lww ×256 ≥ 0.7× hot lww ×64, nothing lost', 0.8, false]
  ])
  assert.match(t13[0]?.detail ?? '', /median of 3 run\(s\): 0\.30, 0\.20, 0\.25 \(the shared object has a member per writer.*; all 6 runs verified/)
  assert.match(t13[1]?.detail ?? '', /0\.90, 0\.60, 0\.80; only 5 of 6 runs verified/)
})

test.run()
