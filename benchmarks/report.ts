import { writeFileSync } from 'node:fs'
import { medianRuns } from './targets.js'
import type { BenchReport, DumpResult, HistoryResult, OpenResult, TargetResult, ThroughputResult } from './types.js'

/** 3 significant digits, no exponent: 0.0123, 1.23, 123, 12300. */
function sig (n: number): string {
  if (n === 0) return '0'
  return n >= 1000 ? Math.round(n).toLocaleString('en-US') : String(+n.toPrecision(3))
}

function whole (n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

function mib (bytes: number): string {
  return String(Math.round(bytes / 1024 / 1024))
}

/** A Markdown table; `align` has an 'l' (text) or 'r' (numbers) per column, default text first then numbers. */
function table (header: string[], rows: string[][], align = 'l'): string {
  const rule = header.map((_, i) => (align[i] ?? 'r') === 'l' ? '---' : '---:')
  const lines = [`| ${header.join(' | ')} |`, `| ${rule.join(' | ')} |`]
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`)
  return lines.join('\n')
}

/** How a result is named in tables and the chart: 'distinct', 'level put', 'pouchdb-hot'. */
export function displayName (r: ThroughputResult): string {
  return r.system === 'level' ? `level ${r.scenario}` : r.scenario
}

/** The throughput table: one row per configuration (the median run where it ran several times), by sync then writers. */
export function formatThroughput (results: ThroughputResult[]): string {
  // A stable sort keeps the run order (baselines first) within each writer count.
  const ordered = medianRuns(results).sort((a, b) => Number(a.sync) - Number(b.sync) || a.writers - b.writers)
  const rows = ordered.map((r) => [
    displayName(r),
    r.strategy ?? '—',
    String(r.writers),
    r.sync ? 'yes' : 'no',
    whole(r.commitsPerSec),
    r.vsPut === undefined ? '—' : `${r.vsPut.toFixed(2)}×`,
    sig(r.latency.p50Ms),
    sig(r.latency.p99Ms),
    sig(r.latency.maxMs),
    whole(r.conflicts),
    sig(r.retriesPerCommit),
    String(r.starvedWriters),
    `${whole(r.perWriter.min)} / ${whole(r.perWriter.max)}`,
    whole(r.bytesPerRevision),
    mib(r.peakRssBytes),
    r.reads > 0 ? whole(r.readsPerSec) : '—',
    String(r.runs)
  ])
  return table(['scenario', 'strategy', 'writers', 'sync', 'commits/s', '× put', 'p50 ms', 'p99 ms', 'max ms', 'conflicts', 'retries/commit', 'starved', 'min / max per writer', 'bytes/rev', 'peak RSS MiB', 'reads/s', 'runs'], rows, 'll')
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

/** The targets: each with the figure reached and met or not. */
export function formatTargets (targets: TargetResult[]): string {
  const rows = targets.map((t) => [String(t.id), t.goal, t.figure === undefined ? '—' : `${t.figure.toFixed(2)}×`, t.met ? '**met**' : '**not met**', t.detail])
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
  if (report.history !== undefined) parts.push('### History', formatHistory(report.history))
  if (report.open !== undefined) parts.push('### Open', formatOpen(report.open))
  if (report.dump !== undefined) parts.push('### Export and import', formatDump(report.dump))
  if (report.targets.length > 0) parts.push('### Targets', formatTargets(report.targets))
  parts.push('Nothing was lost: every acknowledged revision was found by walking history after every scenario.')
  return parts.join('\n\n') + '\n'
}

/** Write the report as JSON for machines. */
export function writeJson (path: string, report: BenchReport): void {
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n')
}
