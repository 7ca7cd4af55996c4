import type { MachineInfo } from './machine.js'
import type { LatencySummary } from './writers.js'

/** The workloads a run can choose. */
export type WorkloadName = 'distinct' | 'hot' | 'lease' | 'zipf' | 'mixed' | 'transfer' | 'batch' | 'insert' | 'cold' | 'history' | 'open' | 'dump' | 'sync'

/** revkv's built-in strategies for stale writes. */
export type StrategyName = 'reject' | 'lww' | 'merge' | 'manual'

/** What every throughput scenario gets: the knobs a user sets, resolved. */
export interface ScenarioContext {
  writers: number
  strategy: StrategyName
  sync: boolean
  /** Bytes of JSON per value. */
  valueSize: number
  durationMs: number | undefined
  ops: number | undefined
  seed: number
  /** Where the scenario's fresh store directory is made (default: the OS temp dir). */
  dir: string | undefined
  /** Which of the repeated runs this is (0 when not repeated). */
  round: number
  /** Shows what a long step is doing (a progress bar's status text). */
  status?: ((text: string) => void) | undefined
}

/** One throughput measurement: a revkv workload, a raw LevelDB baseline, a peer, or the hand-written PostgreSQL baseline ('naive'). */
export interface ThroughputResult {
  kind: 'throughput'
  /** 'distinct', 'hot', 'zipf', 'mixed' (revkv); 'put', 'batch64' (LevelDB); 'pouchdb-distinct', 'pouchdb-hot'; 'pg distinct', 'naive hot ×4 proc' (PostgreSQL: revkv and the hand-written baseline). */
  scenario: string
  system: 'revkv' | 'level' | 'pouchdb' | 'naive'
  strategy: StrategyName | undefined
  writers: number
  sync: boolean
  valueSize: number
  round: number
  elapsedMs: number
  /** Successful commits (for baselines: entries written). */
  commits: number
  commitsPerSec: number
  reads: number
  readsPerSec: number
  latency: LatencySummary
  readLatency: LatencySummary | undefined
  conflicts: number
  retries: number
  retriesPerCommit: number
  starvedWriters: number
  /** Commits of the least and the most successful writer: how evenly the writers were served. */
  perWriter: { min: number, max: number }
  bytesOnDisk: number
  /** Revisions (or entries) the bytes on disk hold. */
  revisions: number
  bytesPerRevision: number
  peakRssBytes: number
  /** commits/s over raw `put` commits/s at the same writers, sync and round; set by the runner. */
  vsPut: number | undefined
  /** What the nothing-lost check covered; undefined where there is nothing versioned to check. */
  verified: { keys: number, revisions: number, acknowledged: number } | undefined
  /** Runs made of store.transaction() calls (`transfer`): how often and how long transactions retried. */
  transactions?: TransactionStats | undefined
  /** Runs on a store filled before the clock started (`cold` and its baseline): its size and how long the fill took. */
  store?: FilledStore | undefined
}

/** A store filled before a run's clock started. */
export interface FilledStore {
  /** Keys in the store, one revision (or entry) each. */
  keys: number
  /** The revkv store's head cache (StoreOptions headCacheSize); undefined for raw LevelDB. */
  headCacheSize: number | undefined
  /** How long the fill took, in milliseconds. */
  fillMs: number
}

/**
 * How transactions fared. One operation is one intended transaction (a transfer); its
 * function may run several times inside store.transaction(), and when store.transaction()
 * gives up the writer calls it again for the same transfer, as an application would.
 */
export interface TransactionStats {
  /** Runs of transaction functions in all (each committed transaction's last run included). */
  attempts: number
  /** Runs after the first of each transaction (inside store.transaction() and after a give-up). */
  retries: number
  /** The most runs one transaction needed before it committed (or the run ended), give-ups included. */
  maxAttempts: number
  /** store.transaction() calls that gave up (their retries exhausted; nothing written, the writer tried again). */
  gaveUp: number
}

/** Costs on one key's history at one height, in milliseconds (medians). */
export interface HistoryPoint {
  height: number
  commitMs: number
  headMs: number
  getRevMs: number
  /** One `log` page of up to 100 entries. */
  logPageMs: number
  logEntries: number
  /** logPageMs / logEntries: comparable across heights below 100. */
  logPerEntryMs: number
}

/** The `history` workload's measurements. */
export interface HistoryResult {
  kind: 'history'
  requestedHeights: number[]
  points: HistoryPoint[]
  /** Revisions per second while building the chain (a concurrent burst on one key). */
  buildRate: number
  peakRssBytes: number
  bytesPerRevision: number
  verified: { keys: number, revisions: number, acknowledged: number }
}

/** Opening a store of `keys` keys, in milliseconds (medians of several opens). */
export interface OpenPoint {
  keys: number
  /** Store.open() plus the first get(), end to end. */
  openMs: number
  firstGetMs: number
  /** Resident memory gained by opening and answering the first get. */
  rssDeltaBytes: number
  bytesOnDisk: number
}

/** The `open` workload's measurements. */
export interface OpenResult {
  kind: 'open'
  requestedKeys: number[]
  points: OpenPoint[]
  buildRate: number
  peakRssBytes: number
  verified: { keys: number, revisions: number, acknowledged: number }
}

/** One phase of the `dump` workload: an export or an import of the whole store. */
export interface DumpPhase {
  ms: number
  revisionsPerSec: number
  /** Peak resident memory of the process during the phase. */
  peakRssBytes: number
}

/** The `dump` workload's measurements: export of a store to NDJSON, and import of it into an empty one. */
export interface DumpResult {
  kind: 'dump'
  keys: number
  revisions: number
  dumpBytes: number
  export: DumpPhase
  import: DumpPhase
  verified: { keys: number, revisions: number, acknowledged: number }
}

/** One way the `sync` workload copies the whole store: timed, with the bytes it moved. */
export interface SyncCopy extends DumpPhase {
  /** Bytes sent from the source: the sync stream (SyncReport.bytes), or the export's NDJSON lines. */
  bytes: number
  bytesPerRevision: number
}

/** An incremental pull of the `sync` workload, set beside the clone it follows. */
export interface SyncPull {
  ms: number
  /** Keys whose heads were compared (the changed ones only, when the pull is incremental). */
  keys: number
  revisions: number
  bytes: number
  /** The clone's time over the pull's: how many times faster the pull was. */
  vsClone: number
}

/** The `sync` workload's measurements: clones store to store and over HTTP beside export | import, then incremental pulls. */
export interface SyncResult {
  kind: 'sync'
  keys: number
  revisionsPerKey: number
  revisions: number
  /** Keys changed on the source (one commit each) before the incremental pulls. */
  changedKeys: number
  /** How long building the source store took (before any clock of the workload started). */
  buildMs: number
  clone: { store: SyncCopy, http: SyncCopy }
  exportImport: SyncCopy
  pull: { store: SyncPull, http: SyncPull }
  /** Every key's head (and unmerged revisions) in each copy found equal to the source's. */
  verified: { keys: number, revisions: number, acknowledged: number }
}

/** One of the performance targets, as reached in a run. */
export interface TargetResult {
  id: number
  /** What is promised, e.g. "distinct ×64 reject ≥ 1.0× raw put". */
  goal: string
  /** The figure reached (a ratio), or undefined when the run did not measure it. */
  figure: number | undefined
  /** The bound the figure must meet. */
  bound: number
  met: boolean
  /** How the figure was made: rounds, heights reached, caveats. */
  detail: string
}

/** Everything one run measured, as written to `--json`. */
export interface BenchReport {
  machine: MachineInfo
  settings: Record<string, unknown>
  startedAt: string
  elapsedMs: number
  /** Every throughput run, repeated rounds included. */
  results: ThroughputResult[]
  history: HistoryResult | undefined
  open: OpenResult | undefined
  dump: DumpResult | undefined
  /** Undefined in reports made before the sync workload existed. */
  sync?: SyncResult | undefined
  targets: TargetResult[]
}
