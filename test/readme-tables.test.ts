import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readmeTables, readResults, replaceBlock } from '../benchmarks/readme-tables.js'
import type { BenchResults } from '../benchmarks/readme-tables.js'
import { lossSentence } from '../benchmarks/report.js'
import type { ThroughputResult } from '../benchmarks/types.js'

const README = fileURLToPath(new URL('../../README.md', import.meta.url))
const RESULTS = fileURLToPath(new URL('../../benchmarks/results/', import.meta.url))

test('the README\'s benchmark tables are exactly what `npm run docs:bench` writes from benchmarks/results', () => {
  const readme = readFileSync(README, 'utf8')
  // On a difference: run `npm run docs:bench` (never edit the tables by hand).
  assert.fixture(readmeTables(readme, readResults(RESULTS)), readme)
})

test('a changed figure in a results file changes the README tables', () => {
  const readme = readFileSync(README, 'utf8')
  const results = readResults(RESULTS)
  const changed: BenchResults = structuredClone(results)
  const distinct = changed.latest.results.filter((r) => r.scenario === 'distinct' && r.writers === 64 && !r.sync)
  for (const r of distinct) r.commitsPerSec = 1_234_567
  const target = changed.latest.targets[0]
  if (target !== undefined) target.met = !target.met
  changed.cliStartup.getMs = 999
  for (const r of changed.postgres.results.filter((r) => r.scenario === 'pg hot')) r.commitsPerSec = 7_654_321
  const text = readmeTables(readme, changed)
  assert.ok(text.includes('| distinct | reject | 64 | no | 1,234,567 |'))
  assert.ok(text.includes('takes 999 ms'))
  assert.ok(text.includes('| pg hot | merge | 64 | 7,654,321 |'))
  assert.is.not(text, readme)
  // Writing twice gives the same text: the markers and the prose around them stay.
  assert.is(readmeTables(text, changed), text)
})

test('the transfer block shows the standard suite\'s transfer run, or says how to make one', () => {
  const readme = readFileSync(README, 'utf8')
  const results: BenchResults = structuredClone(readResults(RESULTS))
  results.latest.results = results.latest.results.filter((r) => r.transactions === undefined)
  assert.ok(readmeTables(readme, results).includes('<!-- bench:transfer:start -->\nbenchmarks/results/latest.json holds no `transfer` run yet: run `npm run bench`.\n<!-- bench:transfer:end -->'))
  results.latest.results.push({
    ...run('revkv', { keys: 1000, revisions: 9000, acknowledged: 9000 }),
    scenario: 'transfer', strategy: 'reject', writers: 64, commitsPerSec: 4321, retries: 1500, retriesPerCommit: 0.375, starvedWriters: 0,
    transactions: { attempts: 5500, retries: 1500, maxAttempts: 12, gaveUp: 3 }
  })
  const text = readmeTables(readme, results)
  assert.ok(text.includes('| transfer | 64 | 4,321 | 1 | 2 | 1,500 | 0.375 | 12 | 3 | 0 | 1 |'), 'transactions/s, p50, p99, retries, per transaction, most attempts, gave up, starved, runs')
  assert.ok(text.includes('| transfer | reject | 64 | no | 4,321 |'), 'and a row in the throughput table')
})

test('the sync block shows the standard suite\'s sync run, or says how to make one', () => {
  const readme = readFileSync(README, 'utf8')
  const results: BenchResults = structuredClone(readResults(RESULTS))
  delete results.latest.sync
  assert.ok(readmeTables(readme, results).includes('<!-- bench:sync:start -->\nbenchmarks/results/latest.json holds no `sync` run yet: run `npm run bench`.\n<!-- bench:sync:end -->'))
  const copy = (ms: number) => ({ ms, revisionsPerSec: 1_000_000 / (ms / 1000), peakRssBytes: 512 * 1024 * 1024, bytes: 330_000_000, bytesPerRevision: 330 })
  results.latest.sync = {
    kind: 'sync', keys: 100_000, revisionsPerKey: 10, revisions: 1_000_000, changedKeys: 100, buildMs: 30_000,
    clone: { http: copy(80_000), store: copy(50_000) },
    exportImport: copy(100_000),
    pull: { http: { ms: 250, keys: 100, revisions: 100, bytes: 42_000, vsClone: 320 }, store: { ms: 125, keys: 100, revisions: 100, bytes: 42_000, vsClone: 400 } },
    verified: { keys: 100_000, revisions: 1_000_100, acknowledged: 1_000_100 }
  }
  const text = readmeTables(readme, results)
  assert.ok(text.includes('| clone over HTTP | 80 | 12,500 | 1.25× | 330 | 512 |'), 's, revisions/s, ratio to export + import, bytes/revision, peak RSS')
  assert.ok(text.includes('| export + import | 100 | 10,000 | 1.00× | 330 | 512 |'))
  assert.ok(text.includes('| pull store to store | 125 | 100 | 100 | 42,000 | 400× |'))
})

test('the targets table lists the standard suite\'s and the peers\' targets by number, the server\'s last', () => {
  const results: BenchResults = structuredClone(readResults(RESULTS))
  results.latest.targets.push({ id: 8, goal: 'batch ×64: a batch target', figure: 0.9, bound: 0.8, met: true, detail: 'median of 3 run(s)' })
  const text = readmeTables(readFileSync(README, 'utf8'), results)
  const block = text.slice(text.indexOf('<!-- bench:targets:start -->'), text.indexOf('<!-- bench:targets:end -->'))
  const ids = block.split('\n').flatMap((line) => /^\| (\w+) \| [^-]/.exec(line)?.[1] ?? [])
  // By number, the standard suite's and the peers' together (the peers' 6 before the batch's 8), the server's last.
  const numbered = [...results.latest.targets, ...results.peers.targets].map((t) => Number(t.id)).sort((a, b) => a - b)
  assert.ok(numbered.includes(6) && numbered.includes(8), 'the results hold a peers target and a later one')
  assert.equal(ids, [...numbered.map(String), 'server'])
})

test('replaceBlock: only between the markers, and a missing, doubled or swapped marker is refused', () => {
  const text = 'intro\n<!-- bench:x:start -->\nold\n<!-- bench:x:end -->\noutro'
  assert.is(replaceBlock(text, 'x', 'new'), 'intro\n<!-- bench:x:start -->\nnew\n<!-- bench:x:end -->\noutro')
  assert.throws(() => replaceBlock('no markers', 'x', 'new'), /<!-- bench:x:start --> and <!-- bench:x:end --> once each \(found 0 and 0\)/)
  assert.throws(() => replaceBlock(text + text, 'x', 'new'), /found 2 and 2/)
  assert.throws(() => replaceBlock('<!-- bench:x:end --> <!-- bench:x:start -->', 'x', 'new'), /before <!-- bench:x:start -->; swap them/)
})

test('readResults names a missing results file and the command that makes it', () => {
  assert.throws(() => readResults('/nonexistent-revkv-results'), /latest\.json is missing: run `npm run bench`/)
})

function run (system: ThroughputResult['system'], verified: ThroughputResult['verified']): ThroughputResult {
  return {
    kind: 'throughput', scenario: 'distinct', system, strategy: undefined, writers: 1, sync: false, valueSize: 100, round: 1,
    elapsedMs: 1000, commits: 0, commitsPerSec: 0, reads: 0, readsPerSec: 0, latency: { p50Ms: 1, p99Ms: 2, maxMs: 3 }, readLatency: undefined,
    conflicts: 0, retries: 0, retriesPerCommit: 0, starvedWriters: 0, perWriter: { min: 0, max: 0 }, bytesOnDisk: 0, revisions: 0, bytesPerRevision: 0, peakRssBytes: 0, vsPut: undefined, verified
  }
}

test('the closing sentence counts what verification checked, per system', () => {
  const results = [
    run('level', undefined),
    run('revkv', { keys: 3, revisions: 10, acknowledged: 7 }),
    run('revkv', { keys: 1, revisions: 2000, acknowledged: 1500 }),
    run('pouchdb', { keys: 64, revisions: 90, acknowledged: 80 })
  ]
  const history = { kind: 'history' as const, requestedHeights: [10], points: [], buildRate: 1, peakRssBytes: 1, bytesPerRevision: 1, verified: { keys: 1, revisions: 10, acknowledged: 10 } }
  assert.is(lossSentence({ results, history, open: undefined }),
    'Nothing was lost: all 1,517 acknowledged revisions of revkv (5 keys in 3 runs) and all 80 acknowledged _revs of pouchdb (64 keys in 1 run) ' +
    'were found by walking history after each run; raw LevelDB baselines (1 run) keep no history to check.')
})

test('the closing sentence says so when nothing was verified', () => {
  assert.is(lossSentence({ results: [run('level', undefined), run('level', undefined)], history: undefined, open: undefined }),
    'Nothing was verified: no run stored versioned data; raw LevelDB baselines (2 runs) keep no history to check.')
  assert.is(lossSentence({ results: [], history: undefined, open: undefined }), 'Nothing was verified: no run stored versioned data.')
})

test.run()
