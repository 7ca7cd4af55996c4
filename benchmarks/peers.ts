/**
 * `npm run bench:peers`: revkv against PouchDB (whose `_rev` 409 conflicts are the same idea)
 * on `distinct` and `hot`, in the same run, rounds interleaved. Prints both and revkv's ratios;
 * writes benchmarks/results/peers.json and peers.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { machineInfo } from './machine.js'
import { formatThroughput, formatTargets, lossSentence } from './report.js'
import * as distinct from './scenarios/distinct.js'
import * as hot from './scenarios/hot.js'
import * as pouchdb from './scenarios/pouchdb.js'
import { evaluatePeerTargets, TARGET_WRITERS } from './targets.js'
import type { ScenarioContext, ThroughputResult } from './types.js'

const ROUNDS = 3
const results = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'benchmarks', 'results')

async function main (): Promise<void> {
  const runs: ThroughputResult[] = []
  const ctx = (round: number, strategy: ScenarioContext['strategy']): ScenarioContext => ({
    writers: TARGET_WRITERS, strategy, sync: false, valueSize: 100, durationMs: 2000, ops: undefined, seed: 1, dir: undefined, round
  })
  for (let round = 1; round <= ROUNDS; round++) {
    process.stderr.write(`round ${round}/${ROUNDS}: revkv distinct, PouchDB distinct, revkv hot merge, PouchDB hot\n`)
    runs.push(await distinct.run(ctx(round, 'reject')))
    runs.push(await pouchdb.run(ctx(round, 'reject'), 'distinct'))
    runs.push(await hot.run(ctx(round, 'merge')))
    runs.push(await pouchdb.run(ctx(round, 'reject'), 'hot'))
  }
  const m = machineInfo()
  const text = [
    `revkv against PouchDB — ${new Date().toISOString()}`,
    `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}; ${TARGET_WRITERS} writers, 100 B values, 2 s per run, ${ROUNDS} rounds (median rows shown)`,
    formatThroughput(runs),
    formatTargets(evaluatePeerTargets(runs)),
    lossSentence({ results: runs, history: undefined, open: undefined })
  ].join('\n\n') + '\n'
  process.stdout.write(text)
  mkdirSync(results, { recursive: true })
  writeFileSync(join(results, 'peers.md'), text)
  writeFileSync(join(results, 'peers.json'), JSON.stringify({ machine: m, results: runs, targets: evaluatePeerTargets(runs) }, null, 2) + '\n')
}

try {
  await main()
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
}
