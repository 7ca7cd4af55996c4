/**
 * `npm run bench:cli`: how long `revkv get` takes, start to exit, on a store of 100,000 keys,
 * next to a bare `node -e ''` on the same machine in the same run (Node's own start).
 * Nothing scans the store at open, so the store's size should not show.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Store } from '../src/index.js'
import { machineInfo, type MachineInfo } from './machine.js'
import { median } from './stats.js'

/** What cli-startup.json holds: medians in milliseconds, start to exit. */
export interface CliStartupResult {
  machine: MachineInfo
  keys: number
  runs: number
  /** `revkv get` on the store of `keys` keys. */
  getMs: number
  /** `revkv get` on a store of one key. */
  getSmallMs: number
  /** `node -e ''`: Node's own start. */
  nodeMs: number
}

const run = promisify(execFile)
const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url))
const RESULTS = fileURLToPath(new URL('../../benchmarks/results/', import.meta.url))
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000)
const RUNS = 7

async function time (args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const ms: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now()
    await run(process.execPath, args, { env })
    ms.push(performance.now() - start)
  }
  return median(ms)
}

const dir = mkdtempSync(join(tmpdir(), 'revkv-cli-bench-'))
try {
  const store = await Store.open({ path: dir, batchSize: 1024 })
  for (let i = 0; i < KEYS; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, KEYS - i) }, async (_, j) => await store.commit(`user:${i + j}`, { n: i + j, name: `user ${i + j}` })))
  }
  await store.close()
  const env = { ...process.env, NO_COLOR: '1' }
  const node = await time(['-e', ''], env)
  const get = await time([MAIN, '--db', dir, 'get', `user:${Math.floor(KEYS / 2)}`], env)
  const small = mkdtempSync(join(tmpdir(), 'revkv-cli-bench-small-'))
  const one = await Store.open(small)
  await one.commit('user:1', { n: 1 })
  await one.close()
  const getSmall = await time([MAIN, '--db', small, 'get', 'user:1'], env)
  rmSync(small, { recursive: true, force: true })
  const result: CliStartupResult = { machine: machineInfo(), keys: KEYS, runs: RUNS, getMs: get, getSmallMs: getSmall, nodeMs: node }
  const text = [
    `revkv get on a store of ${KEYS.toLocaleString('en-US')} keys: ${get.toFixed(0)} ms (median of ${RUNS}), start to exit`,
    `revkv get on a store of 1 key: ${getSmall.toFixed(0)} ms`,
    `node -e '' (Node's own start): ${node.toFixed(0)} ms`,
    `machine: ${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}`
  ].join('\n')
  process.stdout.write(`${text}\n`)
  writeFileSync(join(RESULTS, 'cli-startup.md'), `${text}\n`)
  writeFileSync(join(RESULTS, 'cli-startup.json'), `${JSON.stringify(result, null, 2)}\n`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
