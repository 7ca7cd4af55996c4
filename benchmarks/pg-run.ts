/**
 * One PostgreSQL benchmark run: revkv (Store.open({ postgres })) or the hand-written
 * baseline (scenarios/pg-baseline.ts), on the `distinct` or `hot` workload, with its writers
 * in this process or spread over several worker processes (pg-worker.ts) that share the
 * store. Each run gets a fresh schema, dropped afterwards; the nothing-lost check reads the
 * store back from the server after every writer has finished.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { Store } from '../src/index.js'
import { RssSampler } from './memory.js'
import { throughputResult } from './result.js'
import { NaiveVersionedTable, isStaleWrite } from './scenarios/pg-baseline.js'
import { distinctWorkload } from './scenarios/distinct.js'
import { mergeWorkload } from './scenarios/hot.js'
import { storeTarget } from './store-run.js'
import type { Workload } from './store-run.js'
import type { ScenarioContext, ThroughputResult } from './types.js'
import { Ledger, verifyNothingLost } from './verify.js'
import type { LedgerData, VerifiableStore } from './verify.js'
import { driveWriters, isRevkvConflict } from './writers.js'
import { pgScenarioName } from './names.js'
import type { DriveResult } from './writers.js'

/** What one run measures: which system, which workload, how many processes share the writers. */
export interface PgRunSpec {
  url: string
  system: 'revkv' | 'naive'
  workload: 'distinct' | 'hot'
  /** Processes the writers are spread over (1: all in this process). */
  processes: number
  /** Connections of each process's pool, the same for revkv and the baseline. */
  poolSize: number
}

/** A system opened on a run's schema: the workload's operation, and the store as the check reads it. */
interface Side {
  workload: Workload
  isConflict: (err: unknown) => boolean
  verifiable: VerifiableStore
  close: () => Promise<void>
}

/** The context a worker needs (no functions: it crosses a process boundary). */
export type WorkerContext = Omit<ScenarioContext, 'status'>

/** Open `spec`'s system on `schema`; `create` makes the baseline's tables (revkv's store makes its own). */
export async function openSide (spec: PgRunSpec, schema: string, ctx: WorkerContext, ledger: Ledger, create: boolean): Promise<Side> {
  if (spec.system === 'revkv') {
    const store = await Store.open({ postgres: spec.url, schema, poolSize: spec.poolSize, strategy: spec.workload === 'hot' ? 'merge' : 'reject' })
    return {
      workload: spec.workload === 'hot' ? mergeWorkload(ctx, storeTarget(store), ledger) : distinctWorkload(ctx, storeTarget(store), ledger),
      isConflict: isRevkvConflict,
      verifiable: store,
      close: async () => { await store.close() }
    }
  }
  const table = new NaiveVersionedTable(spec.url, schema, spec.poolSize)
  if (create) await table.create()
  return { workload: table.workload(spec.workload, ctx, ledger), isConflict: isStaleWrite, verifiable: table.verifiable(), close: async () => { await table.close() } }
}

let runs = 0

/** Run `spec` once with `ctx.writers` writers in all; rejects, naming what was lost, if the check finds a lost write. */
export async function runPgScenario (ctx: ScenarioContext, spec: PgRunSpec): Promise<ThroughputResult> {
  if (!Number.isInteger(ctx.writers / spec.processes)) throw new Error(`${ctx.writers} writers do not split evenly over ${spec.processes} processes.`)
  const schema = `bench_${process.pid}_${++runs}_${spec.system}_${spec.workload}`
  const scenario = pgScenarioName(spec)
  const admin = new pg.Client({ connectionString: spec.url })
  await admin.connect()
  try {
    const { status, ...plain } = ctx
    const ledger = new Ledger()
    const side = await openSide(spec, schema, plain, ledger, true)
    await side.workload.prepare?.()
    const rss = new RssSampler()
    rss.start()
    let drive: DriveResult
    if (spec.processes === 1) {
      drive = await driveWriters({ writers: ctx.writers, durationMs: ctx.durationMs, ops: ctx.ops, attempt: side.workload.attempt, isConflict: side.isConflict })
    } else {
      status?.(`${scenario}: starting ${spec.processes} processes`)
      const parts = await runWorkers(spec, schema, plain)
      for (const part of parts) ledger.absorb(part.ledger)
      drive = combineDrives(parts.map((p) => p.drive))
    }
    const peakRssBytes = rss.stop()
    status?.(`${scenario}: verifying`)
    const verified = await verifyNothingLost(side.verifiable, ledger).finally(side.close)
    const { rows } = await admin.query<{ bytes: string }>(
      'SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = \'r\'', [schema])
    const bytesOnDisk = Number(rows[0]?.bytes ?? 0)
    return throughputResult(ctx, drive, {
      scenario,
      system: spec.system === 'revkv' ? 'revkv' : 'naive',
      strategy: spec.system === 'revkv' ? (spec.workload === 'hot' ? 'merge' : 'reject') : undefined,
      sync: ctx.sync,
      bytesOnDisk,
      revisions: verified.revisions,
      peakRssBytes,
      verified
    })
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
    await admin.end()
  }
}

/** What a worker sends back. */
export interface WorkerReport {
  drive: DriveResult
  ledger: LedgerData
}

/** The messages between the runner and a worker, in order: start → ready → go → report. */
export type WorkerMessage =
  | { kind: 'start', spec: PgRunSpec, schema: string, ctx: WorkerContext, first: number, writers: number }
  | { kind: 'ready' }
  | { kind: 'go' }
  | { kind: 'report', report: WorkerReport }
  | { kind: 'failed', message: string }

const WORKER = fileURLToPath(new URL('./pg-worker.js', import.meta.url))

/** Fork the workers, each with its share of the writers; start them together once all are connected; gather their reports. */
async function runWorkers (spec: PgRunSpec, schema: string, ctx: WorkerContext): Promise<WorkerReport[]> {
  const share = ctx.writers / spec.processes
  const children = Array.from({ length: spec.processes }, () => fork(WORKER, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  const next = (child: (typeof children)[number], kind: 'ready' | 'report'): Promise<WorkerMessage> => new Promise((resolve, reject) => {
    const onMessage = (message: WorkerMessage): void => {
      if (message.kind === kind) { done(); resolve(message) } else if (message.kind === 'failed') { done(); reject(new Error(`A worker process failed: ${message.message}`)) }
    }
    const onExit = (code: number | null): void => { done(); reject(new Error(`A worker process exited (code ${String(code)}) before it reported.`)) }
    const done = (): void => { child.off('message', onMessage); child.off('exit', onExit) }
    child.on('message', onMessage)
    child.on('exit', onExit)
  })
  try {
    const ready = children.map((child) => next(child, 'ready'))
    children.forEach((child, i) => child.send({ kind: 'start', spec, schema, ctx, first: i * share, writers: share } satisfies WorkerMessage))
    await Promise.all(ready)
    const reports = children.map((child) => next(child, 'report'))
    for (const child of children) child.send({ kind: 'go' } satisfies WorkerMessage)
    return (await Promise.all(reports)).map((m) => (m as Extract<WorkerMessage, { kind: 'report' }>).report)
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill()
  }
}

/**
 * The processes' drives as one: counts summed, the longest elapsed time, and each latency
 * percentile the worst process's (histograms stay in their processes; the worst is an upper bound).
 */
export function combineDrives (drives: DriveResult[]): DriveResult {
  const sum = (f: (d: DriveResult) => number): number => drives.reduce((n, d) => n + f(d), 0)
  const worst = (f: (d: DriveResult) => number): number => Math.max(...drives.map(f))
  const reads = sum((d) => d.reads)
  return {
    elapsedMs: worst((d) => d.elapsedMs),
    commits: sum((d) => d.commits),
    reads,
    conflicts: sum((d) => d.conflicts),
    retries: sum((d) => d.retries),
    commitsByWriter: drives.flatMap((d) => d.commitsByWriter),
    starvedWriters: sum((d) => d.starvedWriters),
    commitLatency: { p50Ms: worst((d) => d.commitLatency.p50Ms), p99Ms: worst((d) => d.commitLatency.p99Ms), maxMs: worst((d) => d.commitLatency.maxMs) },
    readLatency: reads === 0 ? undefined : { p50Ms: worst((d) => d.readLatency?.p50Ms ?? 0), p99Ms: worst((d) => d.readLatency?.p99Ms ?? 0), maxMs: worst((d) => d.readLatency?.maxMs ?? 0) }
  }
}
