import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { planBench, runBench } from '../benchmarks/run.js'

/** Collects what runBench prints instead of writing to stdout. */
function sink (): { write: (text: string) => void, text: () => string } {
  let text = ''
  return { write: (t) => { text += t }, text: () => text }
}

test('planBench: the standard suite repeats the target runs 3 times, interleaved, with their baselines', () => {
  const steps = planBench()
  const at64 = (round: number): string[] => steps
    .filter((s) => 'round' in s && s.round === round && s.writers === 64)
    .map((s) => s.kind === 'store' ? `${s.workload} ${s.strategy}${s.sync ? ' sync' : ''}` : s.kind === 'baseline' ? `${s.baseline}${s.sync ? ' sync' : ''}` : s.kind)
  for (const round of [1, 2, 3]) {
    for (const needed of ['put', 'distinct reject', 'hot merge', 'put sync', 'distinct reject sync']) {
      assert.ok(at64(round).includes(needed), `round ${round} runs ${needed}`)
    }
  }
  assert.ok(steps.some((s) => s.kind === 'history'))
  assert.ok(steps.some((s) => s.kind === 'open'))
  assert.ok(steps.some((s) => s.kind === 'dump'))
})

test('planBench: a chosen workload runs beside put and batch64 at each writer count', () => {
  const steps = planBench({ workload: 'hot', writers: [1, 8] })
  assert.is(steps.filter((s) => s.kind === 'store').length, 8, 'four strategies at two writer counts')
  assert.is(steps.filter((s) => s.kind === 'baseline').length, 4)
  assert.throws(() => planBench({ workload: 'hot', strategy: 'nope' as 'lww' }), /Unknown strategy/)
})

test('runBench: a tiny distinct run on a LevelDB temp dir has the result shape and was verified', async () => {
  const out = sink()
  const report = await runBench({ workload: 'distinct', writers: [2], durationMs: 200, progress: false, out })
  const run = report.results.find((r) => r.system === 'revkv')
  assert.ok(run !== undefined)
  assert.is(run.scenario, 'distinct')
  assert.is(run.writers, 2)
  assert.ok(run.commits > 0, 'it committed')
  assert.ok(run.commitsPerSec > 0)
  assert.ok(run.latency.p50Ms > 0 && run.latency.p99Ms >= run.latency.p50Ms && run.latency.maxMs >= run.latency.p99Ms)
  assert.is(run.conflicts, 0)
  assert.is(run.starvedWriters, 0)
  assert.ok(run.bytesPerRevision > 0)
  assert.ok(run.peakRssBytes > 0)
  assert.ok(run.vsPut !== undefined && run.vsPut > 0, 'compared with the put baseline of the same run')
  // Verification ran after the scenario, over every acknowledged write.
  assert.ok(run.verified !== undefined)
  assert.is(run.verified.acknowledged, run.commits)
  assert.equal(report.results.filter((r) => r.system === 'level').map((r) => r.scenario).sort(), ['batch64', 'put'])
  assert.match(out.text(), /\| distinct \| reject \| 2 \|/)
  assert.match(out.text(), /Nothing was lost/)
})

test('runBench: hot with merge loses no member and meets no conflict', async () => {
  const report = await runBench({ workload: 'hot', strategy: 'merge', writers: [4], durationMs: 200, progress: false, out: sink() })
  const run = report.results.find((r) => r.system === 'revkv')
  assert.ok(run !== undefined)
  assert.is(run.conflicts, 0)
  assert.ok(run.verified !== undefined && run.verified.acknowledged === run.commits + 1, 'every commit and the initial object checked')
})

test('runBench: a tiny dump run exports and imports every revision, and the imported store lost nothing', async () => {
  const out = sink()
  const report = await runBench({ workload: 'dump', dumpKeys: 50, progress: false, out })
  const dump = report.dump
  assert.ok(dump !== undefined)
  assert.is(dump.keys, 50)
  assert.is(dump.revisions, 100, 'two revisions per key')
  assert.is(dump.verified.acknowledged, 100)
  for (const phase of [dump.export, dump.import]) assert.ok(phase.revisionsPerSec > 0 && phase.peakRssBytes > 0)
  assert.ok(dump.dumpBytes > 0)
  assert.match(out.text(), /### Export and import/)
  assert.match(out.text(), /\| import \|/)
})

test.run()
