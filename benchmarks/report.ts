import { writeFileSync } from 'node:fs'
import { medianRuns } from './targets.js'
import type { Verification } from './verify.js'
import type { BenchReport, DumpResult, HistoryResult, OpenResult, SyncResult, TargetResult, ThroughputResult, TransactionStats } from './types.js'

/** 3 significant digits, no exponent: 0.0123, 1.23, 123, 12300. */
export function sig (n: number): string {
  if (n === 0) return '0'
  return n >= 1000 ? Math.round(n).toLocaleString('en-US') : String(+n.toPrecision(3))
}

/** A whole number with thousands separators. */
export function whole (n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

function mib (bytes: number): string {
  return String(Math.round(bytes / 1024 / 1024))
}

/** A Markdown table; `align` has an 'l' (text) or 'r' (numbers) per column, default text first then numbers. */
export function table (header: string[], rows: string[][], align = 'l'): string {
  const rule = header.map((_, i) => (align[i] ?? 'r') === 'l' ? '---' : '---:')
  const lines = [`| ${header.join(' | ')} |`, `| ${rule.join(' | ')} |`]
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`)
  return lines.join('\n')
}

/** How a result is named in tables and the chart: 'distinct', 'level put', 'pouchdb-hot'. */
export function displayName (r: ThroughputResult): string {
  return r.system === 'level' ? `level ${r.scenario}` : r.scenario
}

/** One throughput column: its header, alignment and cell. */
interface Column { header: string, align: 'l' | 'r', cell: (r: ThroughputResult & { runs: number }) => string }

const THROUGHPUT_COLUMNS: Column[] = [
  { header: 'scenario', align: 'l', cell: (r) => displayName(r) },
  { header: 'strategy', align: 'l', cell: (r) => r.strategy ?? '—' },
  { header: 'writers', align: 'r', cell: (r) => String(r.writers) },
  { header: 'sync', align: 'r', cell: (r) => r.sync ? 'yes' : 'no' },
  { header: 'commits/s', align: 'r', cell: (r) => whole(r.commitsPerSec) },
  { header: '× put', align: 'r', cell: (r) => r.vsPut === undefined ? '—' : `${r.vsPut.toFixed(2)}×` },
  { header: 'p50 ms', align: 'r', cell: (r) => sig(r.latency.p50Ms) },
  { header: 'p99 ms', align: 'r', cell: (r) => sig(r.latency.p99Ms) },
  { header: 'max ms', align: 'r', cell: (r) => sig(r.latency.maxMs) },
  { header: 'conflicts', align: 'r', cell: (r) => whole(r.conflicts) },
  { header: 'retries/commit', align: 'r', cell: (r) => sig(r.retriesPerCommit) },
  { header: 'starved', align: 'r', cell: (r) => String(r.starvedWriters) },
  { header: 'min / max per writer', align: 'r', cell: (r) => `${whole(r.perWriter.min)} / ${whole(r.perWriter.max)}` },
  { header: 'bytes/rev', align: 'r', cell: (r) => whole(r.bytesPerRevision) },
  { header: 'peak RSS MiB', align: 'r', cell: (r) => mib(r.peakRssBytes) },
  { header: 'reads/s', align: 'r', cell: (r) => r.reads > 0 ? whole(r.readsPerSec) : '—' },
  { header: 'runs', align: 'r', cell: (r) => String(r.runs) }
]

/**
 * The throughput table: one row per configuration (the median run where it ran several
 * times), by sync then writers; `columns` picks some of the headers, in the table's order.
 */
export function formatThroughput (results: ThroughputResult[], columns?: readonly string[]): string {
  // A stable sort keeps the run order (baselines first) within each writer count.
  const ordered = medianRuns(results).sort((a, b) => Number(a.sync) - Number(b.sync) || a.writers - b.writers)
  const unknown = columns?.filter((c) => !THROUGHPUT_COLUMNS.some((col) => col.header === c)) ?? []
  if (unknown.length > 0) throw new Error(`Unknown throughput column(s): ${unknown.join(', ')}.`)
  const shown = THROUGHPUT_COLUMNS.filter((c) => columns === undefined || columns.includes(c.header))
  return table(shown.map((c) => c.header), ordered.map((r) => shown.map((c) => c.cell(r))), shown.map((c) => c.align).join(''))
}

/**
 * The transactions table: for each run of store.transaction() calls (`transfer`; the median
 * run where it ran several times), transactions/s, retries and starvation.
 */
export function formatTransactions (results: ThroughputResult[]): string {
  const rows = medianRuns(results.filter((r) => r.transactions !== undefined)).map((r) => {
    const t = r.transactions as TransactionStats
    return [displayName(r), String(r.writers), whole(r.commitsPerSec), sig(r.latency.p50Ms), sig(r.latency.p99Ms), whole(r.retries), sig(r.retriesPerCommit), whole(t.maxAttempts), whole(t.gaveUp), String(r.starvedWriters), String(r.runs)]
  })
  return table(['scenario', 'writers', 'transactions/s', 'p50 ms', 'p99 ms', 'retries', 'retries/transaction', 'most attempts', 'gave up', 'starved', 'runs'], rows) +
    '\n\nLatency runs from a transaction\'s first attempt to its commit, retries and backoff included; **most attempts** is the most runs of its function ' +
    'any one transaction needed; **gave up** counts store.transaction() calls that ran out of retries (nothing written; the writer then tried the same transfer again). ' +
    'After each run the accounts held the total they were opened with, and every balance and history was what the acknowledged transfers leave.'
}

/** The history table: costs at each height. */
export function formatHistory (history: HistoryResult): string {
  const rows = history.points.map((p) => [whole(p.height), sig(p.commitMs), sig(p.headMs), sig(p.getRevMs), `${sig(p.logPageMs)} (${p.logEntries})`, sig(p.logPerEntryMs)])
  return table(['height', 'commit ms', 'head ms', 'get --rev ms', 'log page ms (entries)', 'log ms/entry'], rows, 'r') +
    `\n\nChain built at ${whole(history.buildRate)} revisions/s; ${whole(history.bytesPerRevision)} bytes/rev; peak RSS ${mib(history.peakRssBytes)} MiB; ` +
    `verified ${whole(history.verified.acknowledged)} acknowledged revisions.`
}

/** The open table: time to open and answer the first get at each size. */
export function formatOpen (open: OpenResult): string {
  const rows = open.points.map((p) => [whole(p.keys), sig(p.openMs), sig(p.firstGetMs), sig(p.rssDeltaBytes / 1024 / 1024), mib(p.bytesOnDisk)])
  return table(['keys', 'open + first get ms', 'first get ms', 'RSS gained MiB', 'on disk MiB'], rows, 'r') +
    `\n\nStore built at ${whole(open.buildRate)} keys/s; peak RSS ${mib(open.peakRssBytes)} MiB; verified ${whole(open.verified.acknowledged)} keys.`
}

/** The dump table: export and import of the whole store, revisions/s and peak memory of each. */
export function formatDump (dump: DumpResult): string {
  const rows = (['export', 'import'] as const).map((phase) => [phase, sig(dump[phase].ms / 1000), whole(dump[phase].revisionsPerSec), mib(dump[phase].peakRssBytes)])
  return table(['phase', 's', 'revisions/s', 'peak RSS MiB'], rows, 'lrrr') +
    `\n\n${whole(dump.keys)} keys, ${whole(dump.revisions)} revisions, a ${mib(dump.dumpBytes)} MiB dump; ` +
    `verified ${whole(dump.verified.acknowledged)} acknowledged revisions in the imported store.`
}

/** The sync table: each whole copy (clones and export | import) with revisions/s and bytes sent, then each incremental pull beside its clone. */
export function formatSync (sync: SyncResult): string {
  const copies = [['clone over HTTP', sync.clone.http], ['clone store to store', sync.clone.store], ['export + import', sync.exportImport]] as const
  const rows = copies.map(([how, c]) => [how, sig(c.ms / 1000), whole(c.revisionsPerSec), `${(c.revisionsPerSec / sync.exportImport.revisionsPerSec).toFixed(2)}×`, whole(c.bytesPerRevision), mib(c.peakRssBytes)])
  const pulls = ([['pull over HTTP', sync.pull.http], ['pull store to store', sync.pull.store]] as const).map(([how, p]) =>
    [how, sig(p.ms), whole(p.keys), whole(p.revisions), whole(p.bytes), `${whole(p.vsClone)}×`])
  return table(['copy', 's', 'revisions/s', '× export + import', 'bytes/revision', 'peak RSS MiB'], rows, 'lrrrrr') +
    `\n\n${whole(sync.keys)} keys × ${whole(sync.revisionsPerKey)} revisions = ${whole(sync.revisions)} revisions, built in ${sig(sync.buildMs / 1000)} s (not timed); ` +
    `then ${whole(sync.changedKeys)} keys changed on the source, one commit each, and each clone pulled again:\n\n` +
    table(['pull', 'ms', 'keys compared', 'revisions', 'bytes', 'faster than its clone'], pulls, 'lrrrrr') +
    `\n\nEvery key's head and unmerged revisions in each copy matched the source's (${whole(sync.verified.keys)} keys); every revision was re-hashed and checked on arrival.`
}

/** The targets: each with the figure reached and met or not. */
export function formatTargets (targets: Array<TargetResult & { label?: string }>): string {
  const rows = targets.map((t) => [t.label ?? String(t.id), t.goal, t.figure === undefined ? '—' : `${t.figure.toFixed(2)}×`, t.met ? '**met**' : '**not met**', t.detail])
  return table(['#', 'target', 'reached', 'status', 'how'], rows, 'rlrll')
}

/** The whole human report (Markdown, readable as plain text on a terminal). */
export function formatReport (report: BenchReport): string {
  const m = report.machine
  const parts = [
    `revkv benchmarks — ${report.startedAt}, ${(report.elapsedMs / 1000).toFixed(0)} s`,
    `Machine: ${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 1024 ** 3).toFixed(0)} GiB, Node ${m.node} (${m.platform}/${m.arch})`
  ]
  if (report.results.length > 0) parts.push('### Throughput', formatThroughput(report.results))
  if (report.results.some((r) => r.transactions !== undefined)) parts.push('### Transactions', formatTransactions(report.results))
  if (report.history !== undefined) parts.push('### History', formatHistory(report.history))
  if (report.open !== undefined) parts.push('### Open', formatOpen(report.open))
  if (report.dump !== undefined) parts.push('### Export and import', formatDump(report.dump))
  if (report.sync !== undefined) parts.push('### Sync', formatSync(report.sync))
  if (report.targets.length > 0) parts.push('### Targets', formatTargets(report.targets))
  parts.push(lossSentence(report))
  return parts.join('\n\n') + '\n'
}

/** What verification covered, summed over runs: undefined where nothing was verified. */
export function verifiedTotal (verified: Array<Verification | undefined>): Verification & { runs: number } | undefined {
  const done = verified.filter((v): v is Verification => v !== undefined)
  if (done.length === 0) return undefined
  return {
    runs: done.length,
    keys: done.reduce((n, v) => n + v.keys, 0),
    revisions: done.reduce((n, v) => n + v.revisions, 0),
    acknowledged: done.reduce((n, v) => n + v.acknowledged, 0)
  }
}

/**
 * The report's closing sentence, from what verification covered, per system (PouchDB's
 * revisions are its `_rev`s). A run that lost anything fails before a report is made, so a
 * report says how much was checked, and says plainly when nothing versioned was stored.
 */
export function lossSentence (report: Pick<BenchReport, 'results' | 'history' | 'open'> & { dump?: BenchReport['dump'], sync?: BenchReport['sync'] }): string {
  const bySystem = new Map<string, Array<Verification | undefined>>([['revkv', [report.history?.verified, report.open?.verified, report.dump?.verified, report.sync?.verified]]])
  for (const r of report.results) if (r.system !== 'level') bySystem.set(r.system, [...bySystem.get(r.system) ?? [], r.verified])
  const parts: string[] = []
  for (const [system, verified] of bySystem) {
    const total = verifiedTotal(verified)
    if (total === undefined) continue
    const what = system === 'pouchdb' ? '_revs' : 'revisions'
    parts.push(`${whole(total.acknowledged)} acknowledged ${what} of ${system} (${whole(total.keys)} keys in ${whole(total.runs)} run${total.runs === 1 ? '' : 's'})`)
  }
  const baselines = report.results.filter((r) => r.system === 'level').length
  const unchecked = baselines === 0 ? '' : `; raw LevelDB baselines (${whole(baselines)} run${baselines === 1 ? '' : 's'}) keep no history to check`
  if (parts.length === 0) return `Nothing was verified: no run stored versioned data${unchecked}.`
  return `Nothing was lost: all ${parts.join(' and all ')} were found by walking history after each run${unchecked}.`
}

/** Write the report as JSON for machines. */
export function writeJson (path: string, report: BenchReport): void {
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n')
}
