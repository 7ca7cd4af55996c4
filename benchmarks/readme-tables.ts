/**
 * The README's benchmark figures, generated from the results files so they cannot drift
 * from what was measured. Each generated block sits between marker comments
 * (`<!-- bench:<name>:start -->` … `<!-- bench:<name>:end -->`); prose outside the markers
 * is the author's and is left alone.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CliStartupResult } from './cli-startup.js'
import type { MachineInfo } from './machine.js'
import { formatSync, formatTargets, formatThroughput, formatTransactions, whole } from './report.js'
import type { PostgresBenchReport } from './pg-suite.js'
import type { LoadReport } from './server/load.js'
import { TARGET_WRITERS } from './targets.js'
import type { BenchReport, TargetResult, ThroughputResult } from './types.js'

/** Everything the README shows, as read from benchmarks/results/. */
export interface BenchResults {
  /** latest.json, from `npm run bench`. */
  latest: BenchReport
  /** peers.json, from `npm run bench:peers`. */
  peers: { machine: MachineInfo, results: ThroughputResult[], targets: TargetResult[] }
  /** server-latest.json, from `npm run bench:server`. */
  server: LoadReport
  /** cli-startup.json, from `npm run bench:cli`. */
  cliStartup: CliStartupResult
  /** postgres.json, from `npm run bench:postgres`. */
  postgres: PostgresBenchReport
}

/** The results files and the command that writes each. */
const FILES: Record<keyof BenchResults, [file: string, command: string]> = {
  latest: ['latest.json', 'npm run bench'],
  peers: ['peers.json', 'npm run bench:peers'],
  server: ['server-latest.json', 'npm run bench:server'],
  cliStartup: ['cli-startup.json', 'npm run bench:cli'],
  postgres: ['postgres.json', 'npm run bench:postgres']
}

/** Read the results files from `dir` (benchmarks/results). */
export function readResults (dir: string): BenchResults {
  const read = (name: keyof BenchResults): unknown => {
    const [file, command] = FILES[name]
    const path = join(dir, file)
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`${command}\` to make it.`)
    return JSON.parse(readFileSync(path, 'utf8'))
  }
  return {
    latest: read('latest') as BenchResults['latest'],
    peers: read('peers') as BenchResults['peers'],
    server: read('server') as BenchResults['server'],
    cliStartup: read('cliStartup') as BenchResults['cliStartup'],
    postgres: read('postgres') as BenchResults['postgres']
  }
}

/** "AMD EPYC, 2 cores, 24 GiB, linux x64, Node v20.20.2". */
function machine (m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 1024 ** 3).toFixed(0)} GiB, ${m.platform} ${m.arch}, Node ${m.node}`
}

/** The columns of the README's throughput tables (the full tables are in the results' .md files). */
const COLUMNS = ['scenario', 'strategy', 'writers', 'sync', 'commits/s', '× put', 'p50 ms', 'p99 ms', 'conflicts', 'starved', 'runs']

/** The standard suite at the targets' writer count. */
function throughputBlock (latest: BenchReport): string {
  const valueSize = latest.settings.valueSize
  return `Latest standard suite (${latest.startedAt.slice(0, 10)}; full table: [benchmarks/results/latest.md](benchmarks/results/latest.md)), ` +
    `${machine(latest.machine)}, ${typeof valueSize === 'number' ? `${valueSize}-byte` : 'default'} values, ${TARGET_WRITERS} writers:\n\n` +
    formatThroughput(latest.results.filter((r) => r.writers === TARGET_WRITERS), COLUMNS)
}

/** The standard suite's `transfer` run: transactions/s, retries and starvation. */
function transferBlock (latest: BenchReport): string {
  if (!latest.results.some((r) => r.transactions !== undefined)) return 'benchmarks/results/latest.json holds no `transfer` run yet: run `npm run bench`.'
  return `\`transfer\` in the latest standard suite (${latest.startedAt.slice(0, 10)}), ${machine(latest.machine)}:\n\n` + formatTransactions(latest.results)
}

/** The standard suite's `sync` run: clones beside export + import, and incremental pulls. */
function syncBlock (latest: BenchReport): string {
  if (latest.sync === undefined) return 'benchmarks/results/latest.json holds no `sync` run yet: run `npm run bench`.'
  return `\`sync\` in the latest standard suite (${latest.startedAt.slice(0, 10)}), ${machine(latest.machine)}:\n\n` + formatSync(latest.sync)
}

/** revkv against PouchDB in the same run. */
function peersBlock (peers: BenchResults['peers']): string {
  return `\`npm run bench:peers\` (full table: [benchmarks/results/peers.md](benchmarks/results/peers.md)), ${machine(peers.machine)}:\n\n` +
    formatThroughput(peers.results, COLUMNS.filter((c) => c !== '× put'))
}

/** The server target as a row of the targets table. */
function serverTarget (server: LoadReport): TargetResult & { label: string } {
  const [bare, revkv] = server.results
  const s = server.settings
  const rates = bare === undefined || revkv === undefined ? '' : `${whole(revkv.requestsPerSecond)} vs ${whole(bare.requestsPerSecond)} req/s; `
  return {
    id: 0,
    label: 'server',
    goal: `${server.target.name} (\`npm run bench:server\`)`,
    figure: server.target.reached,
    bound: 0.6,
    met: server.target.met,
    detail: `${rates}${s.processes} client processes × ${s.connections} keep-alive connections, ${s.durationMs} ms, loopback; verified: ${revkv?.verified ?? 'no'}`
  }
}

/** Every target: the standard suite's, the peers', the server's. */
function targetsBlock (results: BenchResults): string {
  // By number: the standard suite's later targets (8, batch) after the peers' (6).
  const numbered = [...results.latest.targets, ...results.peers.targets].sort((a, b) => a.id - b.id)
  return formatTargets([...numbered, serverTarget(results.server)])
}

/** `revkv get`, start to exit, on a large and a one-key store. */
function cliBlock (cli: CliStartupResult): string {
  return `\`revkv get\` on a ${whole(cli.keys)}-key store takes ${whole(cli.getMs)} ms from start to exit ` +
    `(${(cli.getMs / cli.getSmallMs).toFixed(2)}× the ${whole(cli.getSmallMs)} ms on a 1-key store); Node's own start is ${whole(cli.nodeMs)} ms ` +
    `(medians of ${cli.runs}, ${machine(cli.machine)}; [benchmarks/results/cli-startup.md](benchmarks/results/cli-startup.md)).`
}

/** revkv on PostgreSQL against the hand-written versioned UPDATE, with its targets. */
function postgresBlock (report: PostgresBenchReport): string {
  const s = report.settings
  return `\`npm run bench:postgres\` (${report.startedAt.slice(0, 10)}; full table: [benchmarks/results/postgres.md](benchmarks/results/postgres.md)), ` +
    `${machine(report.machine)}, PostgreSQL ${report.server.split(' ')[0] ?? report.server} on the same machine with its default durability settings, ` +
    `${String(s.writers)} writers, ${String(s.valueSize)}-byte values, ${Number(s.durationMs) / 1000} s per run, ${String(s.rounds)} interleaved round(s):\n\n` +
    formatThroughput(report.results, ['scenario', 'strategy', 'writers', 'commits/s', 'p50 ms', 'p99 ms', 'conflicts', 'retries/commit', 'starved', 'runs']) +
    '\n\n' + formatTargets(report.targets)
}

/** Each generated block by marker name. */
export function readmeBlocks (results: BenchResults): Record<string, string> {
  return {
    throughput: throughputBlock(results.latest),
    transfer: transferBlock(results.latest),
    sync: syncBlock(results.latest),
    peers: peersBlock(results.peers),
    targets: targetsBlock(results),
    cli: cliBlock(results.cliStartup),
    postgres: postgresBlock(results.postgres)
  }
}

/** Replace what lies between one block's markers; each marker must appear exactly once, start first. */
export function replaceBlock (text: string, name: string, content: string): string {
  const start = `<!-- bench:${name}:start -->`
  const end = `<!-- bench:${name}:end -->`
  const count = (marker: string): number => text.split(marker).length - 1
  if (count(start) !== 1 || count(end) !== 1) {
    throw new Error(`README.md must hold ${start} and ${end} once each (found ${count(start)} and ${count(end)}); put them around the generated block.`)
  }
  const from = text.indexOf(start) + start.length
  const to = text.indexOf(end)
  if (to < from) throw new Error(`README.md has ${end} before ${start}; swap them.`)
  return `${text.slice(0, from)}\n${content}\n${text.slice(to)}`
}

/** The README with every generated block rewritten from `results`. */
export function readmeTables (readme: string, results: BenchResults): string {
  let text = readme
  for (const [name, content] of Object.entries(readmeBlocks(results))) text = replaceBlock(text, name, content)
  return text
}
