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

test('planBench: the standard suite runs batch right after its single commits in every target round, and transfer once', () => {
  const steps = planBench()
  const stores = (round: number): string[] => steps.flatMap((s) => s.kind === 'store' && s.round === round && s.writers === 64 && !s.sync ? [s.workload] : [])
  for (const round of [1, 2, 3]) {
    const unbatched = stores(round).indexOf('unbatched')
    assert.ok(unbatched >= 0, `round ${round} runs unbatched`)
    assert.is(stores(round)[unbatched + 1], 'batch', `round ${round} runs batch right after unbatched`)
  }
  assert.is(steps.filter((s) => s.kind === 'store' && s.workload === 'transfer' && s.writers === 64).length, 1)
})

test('planBench: batch runs beside the same writes as single commits at each writer count; transfer and batch take no strategy', () => {
  const stores = planBench({ workload: 'batch', writers: [8, 64] }).flatMap((s) => s.kind === 'store' ? [`${s.workload} ×${s.writers}`] : [])
  assert.equal(stores, ['unbatched ×8', 'batch ×8', 'unbatched ×64', 'batch ×64'])
  assert.equal(planBench({ workload: 'transfer' }).flatMap((s) => s.kind === 'store' ? [`${s.workload} ${s.strategy} ×${s.writers}`] : []), ['transfer reject ×64'])
  assert.throws(() => planBench({ workload: 'transfer', strategy: 'merge' }), /The transfer workload takes no strategy: a transaction writes the accounts it read/)
  assert.throws(() => planBench({ workload: 'batch', strategy: 'reject' }), /The batch workload takes no strategy: its writes go on top of each key's head/)
})

test('planBench: every target round runs insert and insert-blind beside put (and durable put), and cold right after its raw get-put', () => {
  const steps = planBench()
  const at64 = (round: number, sync: boolean): string[] => steps.flatMap((s) => 'round' in s && s.round === round && s.writers === 64 && s.sync === sync
    ? [s.kind === 'store' ? s.workload : s.baseline]
    : [])
  for (const round of [1, 2, 3]) {
    for (const sync of [false, true]) {
      const names = at64(round, sync)
      assert.ok(names.includes('put'), `round ${round}${sync ? ' sync' : ''} runs put`)
      const insert = names.indexOf('insert')
      assert.ok(insert >= 0, `round ${round}${sync ? ' sync' : ''} runs insert`)
      assert.is(names[insert + 1], 'insert-blind', 'insert without a parent right after insert with parent: null')
    }
    const names = at64(round, false)
    assert.is(names[names.indexOf('get-put') + 1], 'cold', `round ${round} runs cold right after its get-put baseline`)
  }
  assert.equal(planBench({ workload: 'cold', writers: [8] }).map((s) => s.kind === 'store' ? s.workload : s.kind === 'baseline' ? s.baseline : s.kind), ['put', 'batch64', 'get-put', 'cold'])
  assert.throws(() => planBench({ workload: 'insert', strategy: 'lww' }), /The insert workload takes no strategy: every write creates a key nobody wrote/)
  assert.throws(() => planBench({ workload: 'cold', strategy: 'merge' }), /The cold workload takes no strategy/)
  assert.throws(() => planBench({ workload: 'cold', coldKeys: 0 }), /coldKeys must be a whole number of keys ≥ 1, got 0/)
})

test('runBench: a tiny insert run creates a new key per commit, with parent: null and without a parent, and lost none', async () => {
  const out = sink()
  const report = await runBench({ workload: 'insert', writers: [4], ops: 200, progress: false, out })
  for (const scenario of ['insert', 'insert-blind']) {
    const run = report.results.find((r) => r.scenario === scenario)
    assert.ok(run !== undefined, `${scenario} ran`)
    assert.is(run.commits, 200)
    assert.is(run.conflicts, 0, 'a new key is never stale')
    assert.equal(run.verified, { keys: 200, revisions: 200, acknowledged: 200 }, 'one key per commit, each holding its one revision')
    assert.ok(run.vsPut !== undefined && run.vsPut > 0, 'compared with the put of the same run')
  }
  assert.match(out.text(), /\| insert \| reject \| 4 \|/)
  assert.match(out.text(), /\| insert-blind \| reject \| 4 \|/)
})

test('runBench: a tiny cold run fills both stores before the clock, updates the same random keys in each, and proves the fill and every write kept', async () => {
  const out = sink()
  const report = await runBench({ workload: 'cold', writers: [4], ops: 300, coldKeys: 2000, progress: false, out })
  const cold = report.results.find((r) => r.scenario === 'cold')
  const raw = report.results.find((r) => r.scenario === 'get-put')
  assert.ok(cold !== undefined && raw !== undefined)
  assert.is(raw.system, 'level')
  assert.is(cold.commits, 300)
  assert.is(raw.commits, 300)
  assert.equal(cold.store?.keys, 2000)
  assert.equal(cold.store?.headCacheSize, 20, 'a head cache a hundredth of the keys')
  assert.ok(cold.store !== undefined && cold.store.fillMs > 0)
  assert.equal(raw.store?.keys, 2000)
  assert.is(cold.revisions, 2300, 'bytes/rev weighs the store over the fill revisions and the run\'s')
  assert.is(cold.bytesPerRevision, cold.bytesOnDisk / 2300)
  const verified = cold.verified
  assert.ok(verified !== undefined)
  assert.is(verified.acknowledged, 300)
  assert.ok(verified.keys > 250 && verified.keys <= 300, `uniform keys over 2,000 rarely repeat in 300 draws (${verified.keys} keys)`)
  assert.is(verified.revisions, verified.keys + 300, 'each updated key holds its fill revision and its acknowledged writes')
  assert.is(report.settings.coldKeys, 2000)
  assert.match(out.text(), /\| level get-put \| — \| 4 \|/)
  assert.match(out.text(), /\| cold \| reject \| 4 \|/)
})

test('runBench: a tiny transfer run reports transactions/s, retries and starvation, and proves the books', async () => {
  const out = sink()
  const report = await runBench({ workload: 'transfer', writers: [8], ops: 200, progress: false, out })
  const run = report.results.find((r) => r.scenario === 'transfer')
  assert.ok(run !== undefined && run.transactions !== undefined)
  assert.is(run.commits, 200, 'one commit per transaction; every transfer of the budget finished')
  assert.is(run.transactions.attempts, run.commits + run.conflicts, 'every run of a transaction function either committed or conflicted')
  assert.is(run.retries, run.transactions.attempts - 200, 'every run after the first of a transfer is a retry')
  assert.ok(run.transactions.maxAttempts >= 1 && run.transactions.gaveUp >= 0)
  assert.equal(run.verified, { keys: 1000, revisions: 1000 + 2 * 200, acknowledged: 1000 + 2 * 200 }, 'the opening revisions and two per transfer')
  assert.match(out.text(), /### Transactions/)
  assert.match(out.text(), /\| transfer \| 8 \| [\d,]+ \|/)
})

test('runBench: a tiny batch run measures 100-op batches beside the same writes as single commits, and neither lost anything', async () => {
  const out = sink()
  const report = await runBench({ workload: 'batch', writers: [2], ops: 400, progress: false, out })
  for (const scenario of ['unbatched', 'batch']) {
    const run = report.results.find((r) => r.scenario === scenario)
    assert.ok(run !== undefined, `${scenario} ran`)
    assert.is(run.commits, 400, `${scenario}: 2 operations of 100 writes per writer`)
    assert.equal(run.verified, { keys: 200, revisions: 400, acknowledged: 400 })
    assert.is(run.conflicts, 0)
  }
  assert.match(out.text(), /\| unbatched \| reject \| 2 \|/)
  assert.match(out.text(), /\| batch \| reject \| 2 \|/)
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

test('runBench: lease on the hot key takes turns by lease, with no conflict, and reports commits per writer', async () => {
  const out = sink()
  const report = await runBench({ workload: 'lease', writers: [4], durationMs: 200, progress: false, out })
  const run = report.results.find((r) => r.system === 'revkv')
  assert.ok(run !== undefined)
  assert.is(run.scenario, 'lease')
  assert.ok(run.commits > 0)
  assert.is(run.conflicts, 0, 'a writer holding the lease is never stale')
  assert.ok(run.perWriter.min >= 1 && run.perWriter.max >= run.perWriter.min, 'every writer was served')
  assert.ok(run.verified !== undefined && run.verified.acknowledged === run.commits + 1)
  assert.match(out.text(), /\| lease \| reject \| 4 \|/)
  assert.match(out.text(), /min \/ max per writer/)
  assert.ok(planBench().some((s) => s.kind === 'store' && s.workload === 'lease' && s.writers === 64), 'the standard suite runs it at 64 writers')
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
