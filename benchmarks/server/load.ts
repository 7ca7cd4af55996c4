/**
 * The server load run (`npm run bench:server`): several client processes × keep-alive
 * connections on loopback, bounded in time and count, against
 *   - a bare fastify route that returns a constant (the ceiling HTTP itself allows),
 *   - `revkv serve` with conditional PUTs (If-Match chains) to distinct keys,
 *   - `revkv serve` with versioned PATCHes (?parent=) to one hot key under each strategy,
 * plus the embedded Store on the same machine in the same run. After each revkv scenario
 * it proves nothing was lost: every acknowledged revision is in its key's history, the
 * status counts the clients saw add up to the requests sent and match the server's own
 * count, and under `merge` every writer's last member value is in the final object.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import Fastify from 'fastify'
import hdr from 'hdr-histogram-js'
import { Store } from '../../src/index.js'
import type { JsonValue, Revision } from '../../src/index.js'
import { serve } from '../../src/server/index.js'
import { machineInfo, type MachineInfo } from '../machine.js'
import type { ClientConfig, ClientReport } from './client.js'

const run = promisify(execFile)
const CLIENT = fileURLToPath(new URL('./client.js', import.meta.url))
const RESULTS = fileURLToPath(new URL('../../../benchmarks/results/', import.meta.url))

/** How hard the clients push. */
export interface LoadSettings {
  processes: number
  connections: number
  durationMs: number
  maxRequests: number
}

/** One scenario's figures. */
export interface LoadResult {
  scenario: string
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  writes: Record<string, number>
  reads: Record<string, number>
  ratioToBare?: number
  verified: string
}

/** What server-latest.json holds. */
export interface LoadReport {
  machine: MachineInfo
  settings: LoadSettings
  results: LoadResult[]
  target: { name: string, reached: number | undefined, met: boolean }
}

const settings: LoadSettings = {
  processes: Number(process.env.BENCH_PROCESSES ?? 2),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 32),
  durationMs: Number(process.env.BENCH_DURATION_MS ?? 3000),
  maxRequests: Number(process.env.BENCH_MAX_REQUESTS ?? 200_000)
}

/** Run the client processes against `url` and add up what they saw. */
async function load (url: string, mode: ClientConfig['mode'], strategy?: string): Promise<{ reports: ClientReport[], rps: number, p50: number, p99: number, writes: Record<string, number>, reads: Record<string, number> }> {
  const reports = await Promise.all(Array.from({ length: settings.processes }, async (_, id) => {
    const config: ClientConfig = { url, mode, connections: settings.connections, durationMs: settings.durationMs, maxRequests: Math.ceil(settings.maxRequests / settings.processes), id, ...(strategy === undefined ? {} : { strategy }) }
    const { stdout } = await run(process.execPath, [CLIENT, JSON.stringify(config)], { maxBuffer: 256 * 1024 * 1024 })
    return JSON.parse(stdout) as ClientReport
  }))
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  const writes: Record<string, number> = {}
  const reads: Record<string, number> = {}
  for (const r of reports) {
    histogram.add(hdr.decodeFromCompressedBase64(r.histogram))
    for (const [s, n] of Object.entries(r.writes)) writes[s] = (writes[s] ?? 0) + n
    for (const [s, n] of Object.entries(r.reads)) reads[s] = (reads[s] ?? 0) + n
  }
  const total = Object.values(writes).reduce((a, b) => a + b, 0)
  const seconds = Math.max(...reports.map((r) => r.elapsedMs)) / 1000
  return { reports, rps: total / seconds, p50: histogram.getValueAtPercentile(50) / 1000, p99: histogram.getValueAtPercentile(99) / 1000, writes, reads }
}

/** The bare baseline: fastify parsing the same JSON body and answering a constant. */
async function bare (): Promise<LoadResult> {
  const app = Fastify({ logger: false })
  app.put('/v1/keys/:key', async (_req, reply) => await reply.header('ETag', '"x"').send({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  try {
    const r = await load(`http://127.0.0.1:${port}`, 'constant')
    return { scenario: 'bare fastify PUT (constant)', requestsPerSecond: r.rps, p50Ms: r.p50, p99Ms: r.p99, writes: r.writes, reads: r.reads, verified: 'n/a' }
  } finally {
    await app.close()
  }
}

/** A revkv scenario on a fresh LevelDB store behind `revkv serve`, verified afterwards. */
async function revkv (mode: 'distinct' | 'hot', strategy?: string): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-load-'))
  const served: Record<string, number> = {}
  const store = await Store.open({ path: dir })
  const server = await serve(store, {
    port: 0,
    // The server's own count of answers, to check against what the clients saw.
    log: (line) => {
      const status = /" (\d{3}) /.exec(line)?.[1] ?? '?'
      served[status] = (served[status] ?? 0) + 1
    }
  })
  try {
    const r = await load(server.url, mode, strategy)
    const verified = await verify(store, mode, strategy, r.reports, r.writes, r.reads, served)
    return { scenario: mode === 'distinct' ? 'revkv conditional PUT, distinct keys' : `revkv PATCH ?parent=, hot key, ${strategy ?? ''}`, requestsPerSecond: r.rps, p50Ms: r.p50, p99Ms: r.p99, writes: r.writes, reads: r.reads, verified }
  } finally {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Nothing lost, and every count adds up; throws (failing the run) otherwise. */
async function verify (store: Store, mode: 'distinct' | 'hot', strategy: string | undefined, reports: ClientReport[], writes: Record<string, number>, reads: Record<string, number>, served: Record<string, number>): Promise<string> {
  const sum = (table: Record<string, number>): number => Object.values(table).reduce((a, b) => a + b, 0)
  const expected: Record<string, number> = {}
  for (const table of [writes, reads]) for (const [s, n] of Object.entries(table)) expected[s] = (expected[s] ?? 0) + n
  for (const status of new Set([...Object.keys(expected), ...Object.keys(served)])) {
    if ((expected[status] ?? 0) !== (served[status] ?? 0)) {
      throw new Error(`LOST COUNT: clients saw ${expected[status] ?? 0} answers with status ${status}, the server sent ${served[status] ?? 0}`)
    }
  }
  const known = ['200', '201', '409', '412']
  const other = Object.keys(writes).filter((s) => !known.includes(s))
  if (other.length > 0) throw new Error(`unexpected write statuses: ${other.join(', ')}`)
  const byKey = new Map<string, string[]>()
  for (const r of reports) for (const [key, id] of r.acked) byKey.set(key, [...(byKey.get(key) ?? []), id])
  let checked = 0
  for (const [key, ids] of byKey) {
    const history = new Set<string>()
    for await (const rev of store.log(key)) history.add(rev.id)
    for (const id of ids) {
      if (!history.has(id)) throw new Error(`LOST: acknowledged revision ${id} of ${key} is not in its history`)
      checked++
    }
    if (mode === 'distinct' && (await store.head(key))?.id !== ids[ids.length - 1]) throw new Error(`LOST: the head of ${key} is not its last acknowledged write`)
  }
  if ((writes['200'] ?? 0) + (writes['201'] ?? 0) !== checked) throw new Error('acknowledged writes and acknowledged ids differ')
  if (mode === 'hot' && strategy === 'merge') {
    const final = (await store.get('hot')) as Record<string, JsonValue>
    for (const r of reports) {
      for (const [member, value] of Object.entries(r.members)) {
        if (final[member] !== value) throw new Error(`LOST: member ${member} should be ${value}, is ${JSON.stringify(final[member])}`)
      }
    }
    if ((writes['409'] ?? 0) > 0) throw new Error(`merge on disjoint members conflicted ${writes['409'] ?? 0} times`)
  }
  return `${checked} acked revisions in history; ${sum(writes) + sum(reads)} answers match the server's count`
}

/** The embedded Store at the same concurrency, in the same run, for comparison. */
async function embedded (): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-load-embedded-'))
  const store = await Store.open({ path: dir })
  const writers = settings.processes * settings.connections
  const deadline = Date.now() + settings.durationMs
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  let commits = 0
  const started = Date.now()
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    let head: Revision | undefined
    for (let n = 0; Date.now() < deadline; n++) {
      const t0 = process.hrtime.bigint()
      head = await store.commit(`d${w}`, { n, writer: w }, { parent: head?.id ?? null })
      histogram.recordValue(Math.max(1, Number(process.hrtime.bigint() - t0) / 1000))
      commits++
    }
  }))
  const seconds = (Date.now() - started) / 1000
  await store.close()
  rmSync(dir, { recursive: true, force: true })
  return { scenario: 'embedded Store.commit with parent, distinct keys', requestsPerSecond: commits / seconds, p50Ms: histogram.getValueAtPercentile(50) / 1000, p99Ms: histogram.getValueAtPercentile(99) / 1000, writes: { ok: commits }, reads: {}, verified: 'see npm run bench' }
}

function table (results: LoadResult[]): string {
  const rows = results.map((r) => `| ${r.scenario} | ${Math.round(r.requestsPerSecond).toLocaleString('en-US')} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.ratioToBare === undefined ? '' : `${r.ratioToBare.toFixed(2)}×`} | ${Object.entries(r.writes).map(([s, n]) => `${s}: ${n}`).join(', ')}${Object.keys(r.reads).length > 0 ? `; re-reads ${Object.entries(r.reads).map(([s, n]) => `${s}: ${n}`).join(', ')}` : ''} |`)
  return ['| scenario | req/s | p50 ms | p99 ms | vs bare | statuses |', '| --- | ---: | ---: | ---: | ---: | --- |', ...rows].join('\n')
}

const results: LoadResult[] = []
const step = async (name: string, work: () => Promise<LoadResult>): Promise<void> => {
  process.stderr.write(`server load: ${name}...\n`)
  results.push(await work())
}
await step('bare fastify', bare)
await step('revkv distinct', async () => await revkv('distinct'))
await step('embedded', embedded)
for (const strategy of ['reject', 'lww', 'merge', 'manual']) await step(`revkv hot ${strategy}`, async () => await revkv('hot', strategy))
const bareRps = results[0]?.requestsPerSecond ?? 1
for (const r of results.slice(1)) r.ratioToBare = r.requestsPerSecond / bareRps
const distinct = results[1]
const report: LoadReport = {
  machine: machineInfo(),
  settings,
  results,
  target: { name: 'conditional PUTs to distinct keys ≥ 0.6× a bare fastify route', reached: distinct?.ratioToBare, met: (distinct?.ratioToBare ?? 0) >= 0.6 }
}
const text = `${table(results)}\n\nTarget: ${report.target.name}: ${(report.target.reached ?? 0).toFixed(2)}× (${report.target.met ? 'met' : 'not met'}). ${settings.processes} client processes × ${settings.connections} keep-alive connections, ${settings.durationMs} ms per scenario, loopback.\n`
process.stdout.write(text)
mkdirSync(RESULTS, { recursive: true })
writeFileSync(join(RESULTS, 'server-latest.json'), `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(join(RESULTS, 'server-latest.md'), text)
