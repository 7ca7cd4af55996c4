/**
 * The workloads and strategies a benchmark run can choose, in one place: the runner checks
 * them and `revkv bench` offers them. Kept apart from the runner so the CLI can list them
 * without loading any benchmark code.
 */
export const WORKLOAD_CHOICES = ['standard', 'distinct', 'hot', 'lease', 'zipf', 'mixed', 'transfer', 'batch', 'insert', 'cold', 'history', 'open', 'dump', 'sync'] as const

/**
 * Why a workload takes no strategy (a strategy would change nothing in it), or undefined
 * for one that does: the runner and `revkv bench` refuse a strategy for it with this reason.
 */
export function noStrategyReason (workload: string): string | undefined {
  if (workload === 'transfer') return 'a transaction writes the accounts it read on the heads it read, and retries when one moved'
  if (workload === 'batch') return 'its writes go on top of each key\'s head and are never stale'
  if (workload === 'insert') return 'every write creates a key nobody wrote, so none is stale'
  if (workload === 'cold') return 'its writers rarely meet on one of its many keys, and a stale write is retried on the new head'
  return undefined
}

/** revkv's built-in strategies, in the order runs report them. */
export const STRATEGY_CHOICES = ['reject', 'lww', 'merge', 'manual'] as const

/** The name of a PostgreSQL run in tables and targets: 'pg distinct' (revkv), 'naive hot ×4 proc' (the hand-written baseline). */
export function pgScenarioName (run: { system: 'revkv' | 'naive', workload: 'distinct' | 'hot', processes: number }): string {
  return `${run.system === 'revkv' ? 'pg' : 'naive'} ${run.workload}${run.processes > 1 ? ` ×${run.processes} proc` : ''}`
}
