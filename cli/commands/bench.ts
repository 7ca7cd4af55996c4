import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { loadLibrary } from '../library.js'
import { noStrategyReason, STRATEGY_CHOICES, WORKLOAD_CHOICES } from '../../benchmarks/names.js'
import { isPostgresUrl } from '../store-location.js'

interface BenchArgs extends GlobalArgs {
  'json-file': string | undefined
  writers: string
  workload: string
  strategy: string | undefined
  ops: number | undefined
  duration: number | undefined
  'value-size': number
  sync: boolean
  chart: string | undefined
  seed: number
  dir: string | undefined
  keys: number | undefined
}

const WORKLOADS = WORKLOAD_CHOICES
const STRATEGIES = STRATEGY_CHOICES

/** `revkv bench`: run a chosen benchmark scenario (or the standard suite) and report ratios to raw LevelDB. */
export const bench = defineCommand<BenchArgs>({
  command: 'bench',
  describe: 'Benchmark revkv against raw LevelDB writes in the same run (the standard suite, or one workload); with --db postgres://..., against a hand-written versioned UPDATE on that server',
  builder: (y) => y
    .option('workload', { type: 'string', default: 'standard', choices: WORKLOADS, describe: 'What to run' })
    .option('writers', { type: 'string', default: '64', requiresArg: true, describe: 'Concurrent writers, a comma-separated list (each count is one run)' })
    .option('strategy', { type: 'string', requiresArg: true, describe: 'Strategies, comma-separated (default: all four for hot, reject otherwise; transfer and batch take none)' })
    .option('ops', { type: 'number', requiresArg: true, describe: 'Stop each run after this many operations' })
    .option('duration', { type: 'number', requiresArg: true, describe: 'Stop each run after this many seconds (default 2)' })
    .option('value-size', { type: 'number', default: 100, requiresArg: true, describe: 'Bytes of JSON per value' })
    .option('sync', { type: 'boolean', default: false, describe: 'Stores and baselines fsync every write' })
    .option('json-file', { type: 'string', requiresArg: true, describe: 'Also write the report as JSON to this file (--json <file> works too)' })
    .option('chart', { type: 'string', requiresArg: true, describe: 'Write an SVG chart of commits/s against writers to this file' })
    .option('seed', { type: 'number', default: 1, requiresArg: true, describe: 'Seed of every random choice' })
    .option('keys', { type: 'number', requiresArg: true, describe: 'Keys in the cold workload\'s store, filled before the clock starts (default 1,000,000; 100,000 in the standard suite), or in the sync workload\'s source store (default 100,000, 10 revisions each)' })
    .option('dir', { type: 'string', requiresArg: true, describe: 'Where each run makes (and removes) its store (default: the temp directory; --db works too)' })
    .example('$0 bench', 'The standard suite (a few minutes on 2 cores), with its targets')
    .example('$0 bench --workload hot --writers 1,8,64 --strategy merge,reject --duration 5', 'One workload at chosen concurrency')
    .example('$0 bench --workload distinct --sync --json out.json --chart out.svg', 'Durable writes, with JSON and an SVG chart')
    .example('$0 bench --workload transfer', '64 concurrent two-account transactions: transactions/s, retries, starvation, total checked')
    .example('$0 bench --workload insert --sync', 'Commits to new keys (parent: null, and no parent) beside raw put, durable too')
    .example('$0 bench --workload cold --keys 1000000', 'Head-then-commit on random keys of a filled store with a small head cache, beside raw get-then-put')
    .example('$0 bench --workload sync --keys 10000', 'Clone a store of 10,000 keys × 10 revisions over HTTP and store to store, beside export + import; then incremental pulls')
    .example('$0 bench --workload batch', '100-op batches beside the same writes as single commits, in the same run')
    .example('$0 bench --db postgres://app@db:5432/app --duration 3', 'The PostgreSQL suite: revkv against a hand-written versioned UPDATE, 1 and 4 processes (each run in a schema of its own, dropped after)'),
  handler: async (args) => {
    const { InvalidInputError } = await loadLibrary()
    const writers = args.writers.split(',').map((w) => Number(w.trim()))
    if (writers.some((w) => !Number.isInteger(w) || w < 1)) throw new InvalidInputError(`--writers takes whole numbers ≥ 1 separated by commas, got ${args.writers}.`)
    const strategies = args.strategy?.split(',').map((s) => s.trim())
    const noStrategy = noStrategyReason(args.workload)
    if (noStrategy !== undefined && strategies !== undefined) throw new InvalidInputError(`--workload ${args.workload} takes no --strategy: ${noStrategy}. Leave out --strategy.`)
    for (const s of strategies ?? []) {
      if (!(STRATEGIES as readonly string[]).includes(s)) throw new InvalidInputError(`Unknown strategy ${JSON.stringify(s)} in --strategy; use ${STRATEGIES.join(', ')}.`)
    }
    for (const [name, value] of [['ops', args.ops], ['duration', args.duration], ['value-size', args['value-size']]] as const) {
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new InvalidInputError(`--${name} must be a positive number, got ${String(value)}.`)
    }
    if (args.keys !== undefined && !(Number.isSafeInteger(args.keys) && args.keys >= 1)) throw new InvalidInputError(`--keys must be a whole number of keys ≥ 1, got ${String(args.keys)}.`)
    if (args.keys !== undefined && !['cold', 'sync', 'standard'].includes(args.workload)) throw new InvalidInputError(`--keys sizes the cold and sync workloads' stores; --workload ${args.workload} has none. Leave out --keys, or use --workload cold or sync.`)
    if (args.json && args['json-file'] === undefined) throw new InvalidInputError('bench --json takes a file to write the JSON report to, e.g. --json out.json.')
    if (args.db !== undefined && isPostgresUrl(args.db)) {
      // The PostgreSQL suite has its own fixed plan: options that choose LevelDB runs do not apply.
      const given = { workload: args.workload !== 'standard', strategy: args.strategy !== undefined, sync: args.sync, keys: args.keys !== undefined, chart: args.chart !== undefined, dir: args.dir !== undefined, schema: args.schema !== undefined }
      const fixed = Object.keys(given).filter((name) => given[name as keyof typeof given])
      if (fixed.length > 0) throw new InvalidInputError(`bench --db postgres://... runs the PostgreSQL suite (distinct and hot merge, 1 and 4 processes, each beside the hand-written baseline, each in a schema of its own); ${fixed.map((n) => `--${n}`).join(', ')} do${fixed.length === 1 ? 'es' : ''} not apply to it.`)
      if (writers.length !== 1 || (writers[0] as number) % 4 !== 0) throw new InvalidInputError(`bench --db postgres://... takes one --writers count, a multiple of 4 (split over 4 processes), got ${args.writers}.`)
      const { runPostgresBench } = await import('../../benchmarks/pg-suite.js')
      await runPostgresBench({
        url: args.db,
        writers: writers[0] as number,
        ...(args.ops === undefined ? {} : { ops: args.ops }),
        ...(args.duration === undefined ? {} : { durationMs: args.duration * 1000 }),
        valueSize: args['value-size'],
        seed: args.seed,
        ...(args['json-file'] === undefined ? {} : { json: args['json-file'] })
      })
      return
    }
    const { runBench } = await import('../../benchmarks/run.js')
    await runBench({
      workload: args.workload as (typeof WORKLOADS)[number],
      writers,
      ...(strategies === undefined ? {} : { strategy: strategies as Array<(typeof STRATEGIES)[number]> }),
      ...(args.ops === undefined ? {} : { ops: args.ops }),
      ...(args.duration === undefined ? {} : { durationMs: args.duration * 1000 }),
      valueSize: args['value-size'],
      sync: args.sync,
      seed: args.seed,
      ...(args.keys === undefined ? {} : args.workload === 'sync' ? { syncKeys: args.keys } : { coldKeys: args.keys }),
      ...((args.dir ?? args.db) === undefined ? {} : { dir: (args.dir ?? args.db) as string }),
      ...(args['json-file'] === undefined ? {} : { json: args['json-file'] }),
      ...(args.chart === undefined ? {} : { chart: args.chart })
    })
  }
})
