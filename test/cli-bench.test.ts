/**
 * `revkv bench` run the way a user runs it: a tiny workload through the binary, its table,
 * its JSON report and its nothing-lost check.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { BenchReport } from '../benchmarks/types.js'
import { cleanUp, fails, ok, revkv, tempDir } from './cli-run.js'

test.after(cleanUp)

test('revkv bench runs a tiny workload, prints the table and the nothing-lost check, and writes its JSON report', async () => {
  const dir = tempDir()
  const stores = tempDir()
  const [distinct, hot] = await Promise.all([
    revkv(dir, ['bench', '--workload', 'distinct', '--writers', '2', '--ops', '300', '--json-file', 'distinct.json', '--dir', stores]),
    revkv(dir, ['bench', '--workload', 'hot', '--strategy', 'merge', '--writers', '3', '--ops', '200', '--json-file', 'hot.json', '--dir', stores])
  ])
  const out = ok(distinct).stdout
  assert.match(out, /\| distinct \| reject \| 2 \|/, 'the table has the run')
  assert.match(out, /Nothing was lost/)
  const report = JSON.parse(readFileSync(join(dir, 'distinct.json'), 'utf8')) as BenchReport
  const run = report.results.find((r) => r.system === 'revkv')
  assert.ok(run !== undefined, 'the JSON report has the revkv run')
  assert.is(run.scenario, 'distinct')
  assert.is(run.writers, 2)
  assert.ok(run.commits >= 300, `--ops 300 ran ${run.commits} commits`)
  assert.is(run.conflicts, 0)
  assert.equal(run.verified?.acknowledged, run.commits, 'the nothing-lost check covered every acknowledged commit')
  assert.equal(report.results.filter((r) => r.system === 'level').map((r) => r.scenario).sort(), ['batch64', 'put'], 'with raw LevelDB baselines of the same run')

  assert.match(ok(hot).stdout, /\| hot \| merge \| 3 \|/)
  const hotRun = (JSON.parse(readFileSync(join(dir, 'hot.json'), 'utf8')) as BenchReport).results.find((r) => r.system === 'revkv')
  assert.is(hotRun?.conflicts, 0, 'merge meets no conflict on a hot key')
  assert.is(hotRun?.verified?.acknowledged, (hotRun?.commits ?? 0) + 1, 'every commit and the initial object checked')
  assert.equal(readdirSync(stores), [], 'each run removed its store')
})

test('revkv bench --workload transfer reports transactions, retries and starvation; batch and transfer refuse --strategy', async () => {
  const dir = tempDir()
  const stores = tempDir()
  const [transfer, refused] = await Promise.all([
    revkv(dir, ['bench', '--workload', 'transfer', '--writers', '4', '--ops', '100', '--json-file', 'transfer.json', '--dir', stores]),
    revkv(dir, ['bench', '--workload', 'batch', '--strategy', 'reject'])
  ])
  const out = ok(transfer).stdout
  assert.match(out, /\| transfer \| reject \| 4 \|/)
  assert.match(out, /### Transactions/)
  const run = (JSON.parse(readFileSync(join(dir, 'transfer.json'), 'utf8')) as BenchReport).results.find((r) => r.scenario === 'transfer')
  assert.is(run?.commits, 100)
  assert.is(run?.transactions?.attempts, 100 + (run?.conflicts ?? NaN))
  assert.is(run?.verified?.acknowledged, 1000 + 2 * 100, 'the opening of every account and two revisions per transfer, checked')
  assert.match(fails(refused, 2), /--workload batch takes no --strategy: its writes go on top of each key's head and are never stale/)
  assert.equal(readdirSync(stores), [], 'the run removed its store')
})

test('revkv bench --workload insert and --workload cold --keys run beside their raw baselines; --keys sizes only cold and sync', async () => {
  const dir = tempDir()
  const stores = tempDir()
  const [insert, cold, sync, refused] = await Promise.all([
    revkv(dir, ['bench', '--workload', 'insert', '--writers', '2', '--ops', '100', '--dir', stores]),
    revkv(dir, ['bench', '--workload', 'cold', '--keys', '1500', '--writers', '2', '--ops', '100', '--json-file', 'cold.json', '--dir', stores]),
    revkv(dir, ['bench', '--workload', 'sync', '--keys', '40', '--json-file', 'sync.json', '--dir', stores]),
    revkv(dir, ['bench', '--workload', 'distinct', '--keys', '1000'])
  ])
  assert.match(ok(sync).stdout, /\| clone over HTTP \|/)
  const cloned = (JSON.parse(readFileSync(join(dir, 'sync.json'), 'utf8')) as BenchReport).sync
  assert.is(cloned?.keys, 40)
  assert.is(cloned?.revisions, 400, '10 revisions per key by default')
  assert.match(ok(insert).stdout, /\| insert \| reject \| 2 \|/)
  assert.match(ok(insert).stdout, /\| insert-blind \| reject \| 2 \|/)
  assert.match(ok(cold).stdout, /\| level get-put \| — \| 2 \|/)
  const run = (JSON.parse(readFileSync(join(dir, 'cold.json'), 'utf8')) as BenchReport).results.find((r) => r.scenario === 'cold')
  assert.is(run?.store?.keys, 1500)
  assert.is(run?.verified?.acknowledged, 100)
  assert.match(fails(refused, 2), /--keys sizes the cold and sync workloads' stores; --workload distinct has none/)
  assert.equal(readdirSync(stores), [], 'each run removed its store')
})

test.run()
