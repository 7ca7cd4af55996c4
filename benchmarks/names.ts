/**
 * The workloads and strategies a benchmark run can choose, in one place: the runner checks
 * them and `revkv bench` offers them. Kept apart from the runner so the CLI can list them
 * without loading any benchmark code.
 */
export const WORKLOAD_CHOICES = ['standard', 'distinct', 'hot', 'lease', 'zipf', 'mixed', 'history', 'open', 'dump'] as const

/** revkv's built-in strategies, in the order runs report them. */
export const STRATEGY_CHOICES = ['reject', 'lww', 'merge', 'manual'] as const
