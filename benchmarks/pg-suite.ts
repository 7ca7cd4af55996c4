/**
 * The PostgreSQL suite (`revkv bench --db postgres://...`, `npm run bench:postgres`): revkv
 * and the hand-written versioned UPDATE (scenarios/pg-baseline.ts) on the same server in the
 * same run, on distinct keys and on one hot key (revkv: `merge`; the baseline: re-read,
 * re-apply, retry), with the writers in one process and spread over several processes.
 * Rounds are interleaved, and within a round each revkv run comes right after its baseline,
 * so drift on a shared machine hits both alike.
 */
import { writeFileSync } from 'node:fs'
import { machineInfo } from './machine.js'
import type { MachineInfo } from './machine.js'
import { runPgScenario } from './pg-run.js'
import type { PgRunSpec } from './pg-run.js'
import { formatTargets, formatThroughput, lossSentence } from './report.js'
import { evaluatePostgresTargets, TARGET_WRITERS } from './targets.js'
import type { TargetResult, ThroughputResult } from './types.js'
import { pgScenarioName } from './names.js'

/** Options of runPostgresBench(). */
export interface PostgresBenchOptions {
  /** The server: postgres://user@host:5432/database. Each run makes (and drops) a schema of its own there. */
  url: string
  /** Writers in all, in one process and split over `processes` (default 64). */
  writers?: number
  /** Processes of the multi-process runs (default 4; 1 leaves them out). */
  processes?: number
  /** Stop each run after this many milliseconds (default 3000 unless `ops` is given). */
  durationMs?: number
  /** Stop each run after this many commits in all. */
  ops?: number
  /** Interleaved rounds (default 1). */
  rounds?: number
  /** Bytes of JSON per value (default 100). */
  valueSize?: number
  seed?: number
  /** Connections in each process's pool, revkv's and the baseline's alike (default 10, revkv's default). */
  poolSize?: number
  /** Write the report as JSON / Markdown to these files. */
  json?: string
  markdown?: string
  /** Where the human report is printed (default stdout), and where progress goes (default stderr). */
  out?: { write: (text: string) => unknown }
  progress?: { write: (text: string) => unknown }
}

/** What one PostgreSQL suite run measured. */
export interface PostgresBenchReport {
  machine: MachineInfo
  /** The server's version string (from `SHOW server_version`), without the URL. */
  server: string
  settings: Record<string, unknown>
  startedAt: string
  elapsedMs: number
  results: ThroughputResult[]
  targets: TargetResult[]
}

/** The table's columns: no `× put` (there is no raw LevelDB put here). */
const COLUMNS = ['scenario', 'strategy', 'writers', 'commits/s', 'p50 ms', 'p99 ms', 'conflicts', 'retries/commit', 'starved', 'min / max per writer', 'bytes/rev', 'runs']

/** The human report of a suite run (Markdown). */
export function formatPostgresReport (report: PostgresBenchReport): string {
  const m = report.machine
  const s = report.settings
  return [
    `revkv on PostgreSQL against the hand-written versioned UPDATE — ${report.startedAt}, ${(report.elapsedMs / 1000).toFixed(0)} s`,
    `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}; PostgreSQL ${report.server} on the same machine; ${String(s.writers)} writers, ${String(s.valueSize)} B values, ` +
      `${s.durationMs === undefined ? `${String(s.ops)} commits` : `${Number(s.durationMs) / 1000} s`} per run, ${String(s.rounds)} round(s), pools of ${String(s.poolSize)} connections per process`,
    formatThroughput(report.results, COLUMNS),
    formatTargets(report.targets),
    lossSentence({ results: report.results, history: undefined, open: undefined })
  ].join('\n\n') + '\n'
}

/** Run the suite against the server at `options.url`; rejects, naming what was lost, if any run lost an acknowledged write. */
export async function runPostgresBench (options: PostgresBenchOptions): Promise<PostgresBenchReport> {
  const writers = options.writers ?? TARGET_WRITERS
  const processes = options.processes ?? 4
  const rounds = options.rounds ?? 1
  const durationMs = options.durationMs ?? (options.ops === undefined ? 3000 : undefined)
  const valueSize = options.valueSize ?? 100
  const seed = options.seed ?? 1
  const poolSize = options.poolSize ?? 10
  const progress = options.progress ?? process.stderr
  const started = Date.now()
  const server = await serverVersion(options.url)
  const results: ThroughputResult[] = []
  const plan: Array<Omit<PgRunSpec, 'url' | 'poolSize'>> = []
  for (const p of processes > 1 ? [1, processes] : [1]) {
    for (const workload of ['distinct', 'hot'] as const) for (const system of ['naive', 'revkv'] as const) plan.push({ system, workload, processes: p })
  }
  for (let round = 1; round <= rounds; round++) {
    for (const step of plan) {
      const name = pgScenarioName(step)
      progress.write(`round ${round}/${rounds}: ${name} ×${writers}\n`)
      const ctx = { writers, strategy: step.workload === 'hot' ? 'merge' as const : 'reject' as const, sync: false, valueSize, durationMs, ops: options.ops, seed, dir: undefined, round, status: (text: string) => { progress.write(`  ${text}\n`) } }
      try {
        results.push(await runPgScenario(ctx, { ...step, url: options.url, poolSize }))
      } catch (err) {
        throw new Error(`Benchmark ${name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      }
    }
  }
  const report: PostgresBenchReport = {
    machine: machineInfo(),
    server,
    settings: { writers, processes, durationMs, ops: options.ops, rounds, valueSize, seed, poolSize },
    startedAt: new Date(started).toISOString(),
    elapsedMs: Date.now() - started,
    results,
    targets: evaluatePostgresTargets(results)
  }
  const text = formatPostgresReport(report)
  ;(options.out ?? process.stdout).write(text)
  if (options.json !== undefined) writeFileSync(options.json, JSON.stringify(report, null, 2) + '\n')
  if (options.markdown !== undefined) writeFileSync(options.markdown, text)
  return report
}

async function serverVersion (url: string): Promise<string> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version')
    return rows[0]?.server_version ?? 'unknown'
  } finally {
    await client.end()
  }
}
