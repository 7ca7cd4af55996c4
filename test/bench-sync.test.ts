/**
 * The `sync` workload (issue 14's benchmark) at a tiny size: its result shape, that each
 * clone copied every revision and ends with the source's heads, and that its checks fail
 * a copy that is short of revisions or has another head.
 */
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import { planBench, runBench } from '../benchmarks/run.js'
import { checkedReport, sameHeads } from '../benchmarks/scenarios/sync.js'
import { evaluateTargets } from '../benchmarks/targets.js'
import { rejection } from './helpers.js'

const KEYS = 150
const REVISIONS_PER_KEY = 3

test('runBench: a tiny sync run clones every revision over HTTP and store to store, beside export + import, then pulls only the changed keys', async () => {
  let printed = ''
  const report = await runBench({ workload: 'sync', syncKeys: KEYS, syncRevisionsPerKey: REVISIONS_PER_KEY, progress: false, out: { write: (t) => { printed += t } } })
  const sync = report.sync
  assert.ok(sync !== undefined)
  assert.is(sync.keys, KEYS)
  assert.is(sync.revisions, KEYS * REVISIONS_PER_KEY)
  assert.is(sync.changedKeys, 100)
  for (const copy of [sync.clone.http, sync.clone.store, sync.exportImport]) {
    assert.ok(copy.ms > 0 && copy.revisionsPerSec > 0 && copy.peakRssBytes > 0)
    assert.is(copy.bytesPerRevision, copy.bytes / sync.revisions)
  }
  // The same revisions travel both ways, as the same dump lines.
  assert.is(sync.clone.http.bytes, sync.clone.store.bytes)
  for (const pull of [sync.pull.http, sync.pull.store]) {
    // Incremental: only the changed keys are compared, and only their new revisions copied.
    assert.is(pull.keys, 100)
    assert.is(pull.revisions, 100)
    assert.ok(pull.bytes > 0 && pull.bytes < sync.clone.store.bytes)
  }
  assert.equal(sync.verified, { keys: KEYS, revisions: KEYS * REVISIONS_PER_KEY + 100, acknowledged: KEYS * REVISIONS_PER_KEY + 100 })
  assert.equal(report.targets.map((t) => t.id), [11, 12, 12])
  assert.match(report.targets[0]?.detail ?? '', 'the issue sets it at 100,000 keys × 10 revisions')
  assert.match(printed, /\| clone over HTTP \| [\d.]+ \| [\d,]+ \|/)
  assert.match(printed, /\| pull store to store \| [\d.]+ \| 100 \| 100 \|/)
  assert.equal(planBench({ workload: 'sync' }), [{ kind: 'sync' }])
})

test('the sync targets: clone over HTTP against export + import, each incremental pull against its own clone', () => {
  const copy = (ms: number) => ({ ms, revisionsPerSec: 1_000_000 / (ms / 1000), peakRssBytes: 1, bytes: 300_000_000, bytesPerRevision: 300 })
  const pull = (ms: number, cloneMs: number) => ({ ms, keys: 100, revisions: 100, bytes: 40_000, vsClone: cloneMs / ms })
  const sync = {
    kind: 'sync' as const, keys: 100_000, revisionsPerKey: 10, revisions: 1_000_000, changedKeys: 100, buildMs: 1,
    clone: { http: copy(60_000), store: copy(40_000) },
    exportImport: copy(50_000),
    pull: { http: pull(1000, 60_000), store: pull(100, 40_000) },
    verified: { keys: 100_000, revisions: 1_000_100, acknowledged: 1_000_100 }
  }
  const [clone, http, store] = evaluateTargets([], undefined, undefined, sync)
  assert.is(clone?.figure, 50 / 60)
  assert.ok(clone?.met)
  assert.not.match(clone?.detail ?? '', 'the issue sets it')
  assert.is(http?.figure, 60)
  assert.not.ok(http?.met, '60× is short of 100×')
  assert.is(store?.figure, 400)
  assert.ok(store?.met)
  assert.not.ok(evaluateTargets([], undefined, undefined, { ...sync, clone: { ...sync.clone, http: copy(120_000) } })[0]?.met, 'half as fast as export + import is short of 0.5×')
})

test('the run\'s checks refuse a pull short of revisions and a copy whose head differs, naming the key', async () => {
  const report = { keys: 10, revisions: 30, fastForwards: 10, merges: 0, conflicts: [], shallow: [], bytes: 1, refused: [] }
  assert.is(checkedReport('clone', report, 10, 30), report)
  assert.throws(() => checkedReport('clone', { ...report, revisions: 29 }, 10, 30), /clone compared 10 keys and copied 29 revisions .* it should have copied 30 revisions of 10 keys/)
  assert.throws(() => checkedReport('clone', { ...report, refused: [{ key: 'a', reason: 'x' }] }, 10, 30), /1 refused/)

  const source = await Store.open({ db: new MemoryLevel() })
  for (const key of ['a', 'b', 'c']) await source.commit(key, 1)
  const copy = await Store.clone(source, { db: new MemoryLevel() })
  await sameHeads('a clone', source, copy)
  await source.commit('b', 2)
  assert.match((await rejection(sameHeads('a clone', source, copy))).message, /After a clone key "b" has head [0-9a-f]+ in the copy, [0-9a-f]+ in the source/)
  await copy.pull(source)
  await sameHeads('a pull', source, copy)
  // Same heads, but the source keeps a diverged revision unmerged that the copy lacks.
  const other = await Store.clone(source, { db: new MemoryLevel() })
  await other.commit('a', 'elsewhere')
  await source.commit('a', 'here')
  await copy.pull(source)
  assert.equal((await source.pull(other, { strategy: 'reject' })).conflicts, ['a'])
  assert.is((await source.head('a'))?.id, (await copy.head('a'))?.id)
  assert.match((await rejection(sameHeads('a pull', source, copy))).message, /the copy keeps other unmerged revisions than the source: a differs/)
  await copy.pull(source)
  await sameHeads('a pull', source, copy)
  await other.close()
  await source.commit('d', 1)
  assert.match((await rejection(sameHeads('a clone', source, copy))).message, /the copy holds 3 keys; the source holds 4/)
  await Promise.all([source.close(), copy.close()])
})

test.run()
