import { writeFileSync } from 'node:fs'
import cliProgress from 'cli-progress'
import { chartSeries, renderChart } from './chart.js'
import { machineInfo } from './machine.js'
import { formatReport, writeJson } from './report.js'
import * as baselines from './scenarios/baselines.js'
import type { BaselineName } from './scenarios/baselines.js'
import * as batch from './scenarios/batch.js'
import * as cold from './scenarios/cold.js'
import * as distinct from './scenarios/distinct.js'
import * as dump from './scenarios/dump.js'
import * as history from './scenarios/history.js'
import * as hot from './scenarios/hot.js'
import * as insert from './scenarios/insert.js'
import * as lease from './scenarios/lease.js'
import * as mixed from './scenarios/mixed.js'
import * as open from './scenarios/open.js'
import * as sync from './scenarios/sync.js'
import * as transfer from './scenarios/transfer.js'
import * as unbatched from './scenarios/unbatched.js'
import * as zipf from './scenarios/zipf.js'
import { attachRatios, evaluateTargets, SCALE_WRITERS, TARGET_SIZE, TARGET_WRITERS } from './targets.js'
import type { BenchReport, DumpResult, HistoryResult, OpenResult, ScenarioContext, StrategyName, SyncResult, ThroughputResult, WorkloadName } from './types.js'
import { noStrategyReason, STRATEGY_CHOICES, WORKLOAD_CHOICES } from './names.js'

/** The report and names the CLI needs beside runBench(). */
export type { BenchReport, StrategyName, WorkloadName } from './types.js'

/** Options of runBench(): what `revkv bench` and `npm run bench` choose. */
export interface BenchOptions {
  /** One workload, or 'standard' (the default) for the standard suite with its targets. */
  workload?: WorkloadName | 'standard'
  /** Concurrent writers; each count is one run (default 64). Baselines run at the same counts. */
  writers?: number[]
  /** Strategies to run (default: all four for `hot`, `reject` otherwise). */
  strategy?: StrategyName | StrategyName[]
  /** Stop each run after this many operations (commits and reads) in all. */
  ops?: number
  /** Stop each run after this many milliseconds (default 2000 unless `ops` is given). */
  durationMs?: number
  /** Bytes of JSON per value (default 100). */
  valueSize?: number
  /** Open stores with `sync: true` and add durable (`sync: true`) baselines. */
  sync?: boolean
  /** Seed of every random choice (default 1). */
  seed?: number
  /** Where each run's fresh store directory is made and removed (default: the OS temp dir). */
  dir?: string
  /** Repeat every run this many times, interleaved (default 1; the standard suite repeats its target runs 3 times). */
  rounds?: number
  /** `history`: heights to measure at (default 10, 10,000, 1,000,000). */
  heights?: number[]
  /** `open`: store sizes in keys (default 10,000 and 1,000,000). */
  openKeys?: number[]
  /** `cold`: keys in the store before the clock starts (default 1,000,000; the standard suite uses 100,000). */
  coldKeys?: number
  /** `dump`: keys of the store exported and imported (default 100,000, two revisions each). */
  dumpKeys?: number
  /** `sync`: keys of the source store cloned (default 100,000). */
  syncKeys?: number
  /** `sync`: revisions per key of the source store (default 10). */
  syncRevisionsPerKey?: number
  /** `history` / `open`: time allowed for building, each; the size reached is measured and reported. */
  buildBudgetMs?: number
  /** Write the report as JSON to this file. */
  json?: string
  /** Write the SVG chart (commits/s against writers) to this file. */
  chart?: string
  /** Write the human report (Markdown) to this file. */
  markdown?: string
  /** Show a progress bar when stderr is a terminal (default true). */
  progress?: boolean
  /** Where the human report is printed (default stdout). */
  out?: { write: (text: string) => unknown }
}

/**
 * `unbatched` and `insert-blind` are not chosen on their own: they run beside `batch` and
 * `insert`, as the writes the first is compared with and the other half of the second.
 */
type StoreWorkload = 'distinct' | 'hot' | 'lease' | 'zipf' | 'mixed' | 'transfer' | 'batch' | 'unbatched' | 'insert' | 'insert-blind' | 'cold'

/** One run of the plan. */
export type Step =
  | { kind: 'store', workload: StoreWorkload, strategy: StrategyName, writers: number, sync: boolean, round: number }
  | { kind: 'baseline', baseline: BaselineName | 'get-put', writers: number, sync: boolean, round: number }
  | { kind: 'history' }
  | { kind: 'open' }
  | { kind: 'dump' }
  | { kind: 'sync' }

const STRATEGIES: readonly StrategyName[] = STRATEGY_CHOICES
const WORKLOADS: ReadonlyArray<WorkloadName | 'standard'> = WORKLOAD_CHOICES
const STORE_RUNS = { distinct, hot, lease, zipf, mixed, transfer, batch, unbatched, insert, 'insert-blind': { defaults: insert.defaults, run: insert.runBlind }, cold }
/** Keys of the `cold` store in the standard suite: filling 1,000,000 takes about a minute a round on 2 shared cores. */
export const STANDARD_COLD_KEYS = 100_000

/**
 * The runs of one workload at one writer count and round: `batch` beside the same writes as
 * single commits, `insert` with `parent: null` beside the same without a parent, and `cold`
 * beside its raw read-then-put.
 */
function storeSteps (workload: StoreWorkload, strategy: StrategyName, writers: number, sync: boolean, round: number): Step[] {
  const step = (w: StoreWorkload): Step => ({ kind: 'store', workload: w, strategy, writers, sync, round })
  if (workload === 'batch') return [step('unbatched'), step('batch')]
  if (workload === 'insert') return [step('insert'), step('insert-blind')]
  if (workload === 'cold') return [{ kind: 'baseline', baseline: 'get-put', writers, sync, round }, step('cold')]
  return [step(workload)]
}

/** The `cold` store's keys a set of options asks for. */
function coldKeysOf (options: BenchOptions): number {
  const keys = options.coldKeys ?? ((options.workload ?? 'standard') === 'standard' ? STANDARD_COLD_KEYS : cold.defaults.keys)
  if (!Number.isSafeInteger(keys) || keys < 1) throw new Error(`coldKeys must be a whole number of keys ≥ 1, got ${String(keys)}.`)
  return keys
}

/** The `sync` source store's size a set of options asks for. */
function syncSizeOf (options: BenchOptions): sync.SyncBenchOptions {
  const size = { ...sync.defaults, keys: options.syncKeys ?? sync.defaults.keys, revisionsPerKey: options.syncRevisionsPerKey ?? sync.defaults.revisionsPerKey }
  for (const [name, value] of [['syncKeys', size.keys], ['syncRevisionsPerKey', size.revisionsPerKey]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1, got ${String(value)}.`)
  }
  return size
}

/** The standard suite: sweeps for the chart, target runs repeated and interleaved, then history, open, dump and sync. */
function standardPlan (rounds: number): Step[] {
  const steps: Step[] = []
  const at = (writers: number, sync: boolean, round: number): Step[] => [
    { kind: 'baseline', baseline: 'put', writers, sync, round },
    { kind: 'baseline', baseline: 'batch64', writers, sync, round },
    { kind: 'store', workload: 'distinct', strategy: 'reject', writers, sync, round }
  ]
  // Sweep over writers (64 comes from the target rounds below).
  for (const writers of [1, 8, 256]) {
    steps.push(...at(writers, false, 0))
    for (const strategy of STRATEGIES) steps.push({ kind: 'store', workload: 'hot', strategy, writers, sync: false, round: 0 })
  }
  // Targets 1-3 and 8-10, each round measuring revkv beside its own baselines (batch beside its single commits, cold beside its read-then-put), rounds interleaved.
  for (let round = 1; round <= rounds; round++) {
    steps.push(...at(TARGET_WRITERS, false, round))
    steps.push(...storeSteps('insert', 'reject', TARGET_WRITERS, false, round))
    // Target 13: the hot key at 64 and at 256 writers, side by side in every round.
    for (const strategy of ['merge', 'lww'] as const) {
      for (const writers of [TARGET_WRITERS, SCALE_WRITERS]) steps.push({ kind: 'store', workload: 'hot', strategy, writers, sync: false, round })
    }
    steps.push(...at(TARGET_WRITERS, true, round))
    steps.push(...storeSteps('insert', 'reject', TARGET_WRITERS, true, round))
    steps.push(...storeSteps('batch', 'reject', TARGET_WRITERS, false, round))
    steps.push(...storeSteps('cold', 'reject', TARGET_WRITERS, false, round))
    if (round === 1) {
      for (const strategy of STRATEGIES.filter((s) => s !== 'merge' && s !== 'lww')) steps.push({ kind: 'store', workload: 'hot', strategy, writers: TARGET_WRITERS, sync: false, round })
      // The same key under pessimistic locking, beside the optimistic strategies above.
      steps.push({ kind: 'store', workload: 'lease', strategy: 'reject', writers: TARGET_WRITERS, sync: false, round })
      steps.push({ kind: 'store', workload: 'zipf', strategy: 'reject', writers: TARGET_WRITERS, sync: false, round })
      steps.push({ kind: 'store', workload: 'mixed', strategy: 'reject', writers: TARGET_WRITERS, sync: false, round })
      steps.push({ kind: 'store', workload: 'transfer', strategy: 'reject', writers: TARGET_WRITERS, sync: false, round })
    }
  }
  steps.push({ kind: 'history' }, { kind: 'open' }, { kind: 'dump' }, { kind: 'sync' })
  return steps
}

/** The runs a set of options asks for, in order. */
export function planBench (options: BenchOptions = {}): Step[] {
  const workload = options.workload ?? 'standard'
  if (!WORKLOADS.includes(workload)) throw new Error(`Unknown workload ${JSON.stringify(workload)}: use one of ${WORKLOADS.join(', ')}.`)
  coldKeysOf(options)
  syncSizeOf(options)
  if (workload === 'standard') return standardPlan(options.rounds ?? 3)
  if (workload === 'history' || workload === 'open' || workload === 'dump' || workload === 'sync') return [{ kind: workload }]
  const noStrategy = noStrategyReason(workload)
  if (noStrategy !== undefined && options.strategy !== undefined) throw new Error(`The ${workload} workload takes no strategy: ${noStrategy}. Leave out the strategy.`)
  const strategies = options.strategy === undefined
    ? (workload === 'hot' ? STRATEGIES : ['reject' as const])
    : Array.isArray(options.strategy) ? options.strategy : [options.strategy]
  for (const s of strategies) {
    if (!STRATEGIES.includes(s)) throw new Error(`Unknown strategy ${JSON.stringify(s)}: use one of ${STRATEGIES.join(', ')}.`)
  }
  const writerCounts = options.writers ?? [STORE_RUNS[workload].defaults.writers]
  for (const w of writerCounts) {
    if (!Number.isSafeInteger(w) || w < 1) throw new Error(`Writers must be whole numbers ≥ 1, got ${String(w)}.`)
  }
  const sync = options.sync === true
  const steps: Step[] = []
  for (let round = 1; round <= (options.rounds ?? 1); round++) {
    for (const writers of writerCounts) {
      for (const s of sync ? [false, true] : [false]) {
        steps.push({ kind: 'baseline', baseline: 'put', writers, sync: s, round })
        steps.push({ kind: 'baseline', baseline: 'batch64', writers, sync: s, round })
      }
      for (const strategy of strategies) steps.push(...storeSteps(workload, strategy, writers, sync, round))
    }
  }
  return steps
}

function label (step: Step): string {
  switch (step.kind) {
    case 'store': return `${step.workload} ${step.strategy} ×${step.writers}${step.sync ? ' sync' : ''}`
    case 'baseline': return `level ${step.baseline} ×${step.writers}${step.sync ? ' sync' : ''}`
    default: return step.kind
  }
}

/** A progress bar on stderr when it is a terminal; silent otherwise. */
function progressBar (enabled: boolean, total: number): { status: (text: string) => void, step: () => void, stop: () => void } {
  if (!enabled || process.stderr.isTTY !== true) return { status: () => {}, step: () => {}, stop: () => {} }
  const bar = new cliProgress.SingleBar({
    format: 'revkv bench {bar} {value}/{total} | {status}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true
  }, cliProgress.Presets.shades_classic)
  bar.start(total, 0, { status: 'starting' })
  return {
    status: (text) => { bar.update({ status: text }) },
    step: () => { bar.increment() },
    stop: () => { bar.stop() }
  }
}

/**
 * Run benchmarks: the standard suite, or one workload at the writer counts and strategies
 * asked for, each beside raw LevelDB baselines of the same run. Prints a table, writes the
 * JSON, Markdown and chart files asked for, and returns the report. Rejects, naming what was
 * lost, if any scenario loses an acknowledged write.
 */
export async function runBench (options: BenchOptions = {}): Promise<BenchReport> {
  const steps = planBench(options)
  const started = Date.now()
  const durationMs = options.durationMs ?? (options.ops === undefined ? 2000 : undefined)
  const valueSize = options.valueSize ?? 100
  if (!Number.isSafeInteger(valueSize) || valueSize < 1) throw new Error(`Value size must be a whole number of bytes ≥ 1, got ${String(valueSize)}.`)
  for (const [name, value] of [['durationMs', durationMs], ['ops', options.ops]] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new Error(`Option ${name} must be a number > 0, got ${String(value)}.`)
  }
  const seed = options.seed ?? 1
  const budget = options.buildBudgetMs ?? 60_000
  const coldKeys = coldKeysOf(options)
  const syncSize = syncSizeOf(options)
  const bar = progressBar(options.progress !== false, steps.length)
  const results: ThroughputResult[] = []
  let historyResult: HistoryResult | undefined
  let openResult: OpenResult | undefined
  let dumpResult: DumpResult | undefined
  let syncResult: SyncResult | undefined
  try {
    for (const step of steps) {
      bar.status(label(step))
      const ctx: ScenarioContext = {
        writers: 'writers' in step ? step.writers : 1,
        strategy: step.kind === 'store' ? step.strategy : 'reject',
        sync: 'sync' in step ? step.sync : options.sync === true,
        valueSize,
        durationMs,
        ops: options.ops,
        seed,
        dir: options.dir,
        round: 'round' in step ? step.round : 0,
        status: bar.status
      }
      try {
        if (step.kind === 'store') results.push(step.workload === 'cold' ? await cold.run(ctx, coldKeys) : await STORE_RUNS[step.workload].run(ctx))
        else if (step.kind === 'baseline') results.push(step.baseline === 'get-put' ? await cold.runBaseline(ctx, coldKeys) : await baselines.run(ctx, step.baseline))
        else if (step.kind === 'history') historyResult = await history.run(ctx, { ...history.defaults, heights: options.heights ?? history.defaults.heights, buildBudgetMs: budget })
        else if (step.kind === 'open') openResult = await open.run(ctx, { ...open.defaults, keys: options.openKeys ?? open.defaults.keys, buildBudgetMs: budget })
        else if (step.kind === 'dump') dumpResult = await dump.run(ctx, { ...dump.defaults, keys: options.dumpKeys ?? dump.defaults.keys })
        else syncResult = await sync.run(ctx, syncSize)
      } catch (err) {
        throw new Error(`Benchmark ${label(step)} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      }
      bar.step()
    }
  } finally {
    bar.stop()
  }
  attachRatios(results)
  const report: BenchReport = {
    machine: machineInfo(),
    settings: { workload: options.workload ?? 'standard', durationMs, ops: options.ops, valueSize, sync: options.sync === true, seed, rounds: options.rounds, buildBudgetMs: budget, coldKeys, syncKeys: syncSize.keys, syncRevisionsPerKey: syncSize.revisionsPerKey, targetSize: TARGET_SIZE },
    startedAt: new Date(started).toISOString(),
    elapsedMs: Date.now() - started,
    results,
    history: historyResult,
    open: openResult,
    dump: dumpResult,
    sync: syncResult,
    targets: evaluateTargets(results, historyResult, openResult, syncResult)
  }
  const text = formatReport(report)
  ;(options.out ?? process.stdout).write(text)
  if (options.json !== undefined) writeJson(options.json, report)
  if (options.markdown !== undefined) writeFileSync(options.markdown, text)
  if (options.chart !== undefined) {
    const m = report.machine
    writeFileSync(options.chart, renderChart(chartSeries(results), `revkv commits/s by writers (${valueSize} B values, no sync) — ${m.cpu}, ${m.cores} cores, Node ${m.node}`))
  }
  return report
}
