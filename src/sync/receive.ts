import { changeEntry } from '../changes.js'
import { checkRevisionLine } from '../dump.js'
import type { KnownRevision } from '../dump.js'
import { InvalidInputError } from '../errors.js'
import type { Engine, Entry, HeadRecord } from '../engines/engine.js'
import type { LoadRevision } from '../history.js'
import { isRevisionId, parseRecord } from '../revision.js'
import type { Revision } from '../revision.js'
import type { Strategy } from '../strategies/types.js'
import { decideHead, inHistory } from './decide.js'
import { emptyReport } from './types.js'
import type { SyncReport } from './types.js'

/** What receiving needs of the local store. */
export interface ReceiveContext {
  engine: Engine
  /** A stored revision, or undefined. */
  revision: (id: string) => Promise<Revision | undefined>
  /** A revision history points to (undefined where compaction cut it). */
  linked: LoadRevision
  /** The strategy that settles a diverged key. */
  strategyFor: (key: string) => Strategy
  maxValueBytes: number
  /** Run `task` with no local write in progress or starting, then drop cached state of `keys`. */
  exclusive: <T>(keys: () => string[], task: () => Promise<T>) => Promise<T>
  /** Publish changes written outside the write path. */
  written: (firstSeq: number | undefined, entries: Entry[]) => void
  /** Why a key may not be moved here now (a live lease), or undefined. */
  leased: (key: string) => Promise<string | undefined>
  sync: boolean
  clock: () => number
}

/** Keys applied per atomic batch (and per pause of local writes). */
const APPLY_CHUNK = 256
/** Attempts at a key whose head another process moved meanwhile (engines with sharedWriters). */
const ATTEMPTS = 5

/** One key's incoming history, checked as it arrives, and its head line once read. */
interface Incoming {
  key: string
  staged: Map<string, KnownRevision & { record?: string }>
  revisions: Map<string, Revision>
  cuts: string[]
  head?: Revision
  unmerged: string[]
  refused?: string
}

/**
 * Apply a stream of sync lines (see SyncEndpoint.send): every revision is re-hashed and its
 * parents and height checked as it arrives, parents first; a key with any revision that
 * fails is refused whole (nothing of it is written) and listed in `refused`. Each key's head
 * then moves by the rules of decideHead(). Keys are applied in atomic batches with local
 * writes paused, each batch a compare-and-set on the heads it read (another process's
 * write to one of its keys makes that key be decided again). A stream that is not one
 * (not JSON, no end line) is refused with InvalidInputError; keys of earlier batches stay
 * applied, each complete on its own.
 */
export async function receiveLines (ctx: ReceiveContext, lines: AsyncIterable<string>, strategy: Strategy | undefined): Promise<SyncReport> {
  const report = emptyReport()
  let chunk = new Map<string, Incoming>()
  let heads = 0
  let ended = false
  let lineNumber = 0
  const fail = (why: string): never => {
    throw new InvalidInputError(`Sync stream refused at line ${lineNumber}: ${why} Keys before it were applied; the next sync resumes.`)
  }
  const incoming = (key: unknown): Incoming => {
    if (typeof key !== 'string') return fail('a line names no key.')
    let entry = chunk.get(key)
    if (entry === undefined) {
      entry = { key, staged: new Map(), revisions: new Map(), cuts: [], unmerged: [] }
      chunk.set(key, entry)
    }
    if (entry.head !== undefined) fail(`key ${JSON.stringify(key)} has lines after its head line.`)
    return entry
  }
  for await (const raw of lines) {
    lineNumber++
    const line = raw.trim()
    if (line === '') continue
    if (ended) fail('there is more after the end line.')
    let doc: Record<string, unknown>
    try {
      doc = JSON.parse(line) as Record<string, unknown>
    } catch {
      return fail('the line is not JSON (the stream is damaged or truncated).')
    }
    if (doc === null || typeof doc !== 'object') fail('the line is not a sync line.')
    if (doc.revision !== undefined) {
      const entry = incoming((doc.revision as { key?: unknown } | null)?.key)
      if (entry.refused !== undefined) continue
      try {
        const known = async (id: string): Promise<KnownRevision | undefined> => entry.staged.get(id) ?? await ctx.revision(id)
        const checked = await checkRevisionLine(doc.revision, known, 'the sync stream')
        entry.staged.set(checked.id, { key: checked.key, height: checked.height, record: checked.record })
        entry.revisions.set(checked.id, parseRecord(checked.id, checked.record, checked.key))
      } catch (err) {
        if (!(err instanceof InvalidInputError)) throw err
        entry.refused = err.message
      }
    } else if (doc.dropped !== undefined) {
      const { id, key } = doc.dropped as { id?: unknown, key?: unknown }
      const entry = incoming(key)
      if (!isRevisionId(id)) fail('a dropped marker has no revision id.')
      entry.staged.set(id as string, { key: entry.key, height: 0, cut: true })
      entry.cuts.push(id as string)
    } else if (doc.head !== undefined) {
      const { key, head, unmerged } = doc.head as { key?: unknown, head?: unknown, unmerged?: unknown }
      const entry = incoming(key)
      heads++
      if (!isRevisionId(head)) fail(`the head line of ${JSON.stringify(key)} names no revision id.`)
      if (unmerged !== undefined && !(Array.isArray(unmerged) && unmerged.every(isRevisionId))) fail(`the unmerged list of ${JSON.stringify(key)} is not a list of revision ids.`)
      entry.unmerged = (unmerged as string[] | undefined) ?? []
      const found = entry.revisions.get(head as string) ?? await ctx.revision(head as string)
      // The head and kept revisions must be ones this side now has: sent, or stored before.
      if (found?.key !== entry.key) entry.refused ??= `its head ${String(head)} is neither sent nor stored here.`
      for (const id of entry.unmerged) {
        if ((entry.revisions.get(id) ?? await ctx.revision(id))?.key !== entry.key) entry.refused ??= `unmerged revision ${id} is neither sent nor stored here.`
      }
      entry.head = found
      if (chunk.size >= APPLY_CHUNK) {
        await apply(ctx, [...chunk.values()], strategy, report)
        chunk = new Map()
      }
    } else if (doc.end !== undefined) {
      const { keys } = doc.end as { keys?: unknown }
      if (keys !== heads) fail(`the end line counts ${String(keys)} keys, but the stream holds ${heads}.`)
      ended = true
    } else {
      fail('the line is neither a revision, a dropped marker, a head nor the end.')
    }
  }
  if (!ended) fail('the stream has no end line: it is truncated.')
  for (const entry of chunk.values()) if (entry.head === undefined && entry.refused === undefined) fail(`key ${JSON.stringify(entry.key)} has revisions but no head line.`)
  await apply(ctx, [...chunk.values()], strategy, report)
  return report
}

/** Apply complete keys in one batch; keys another process moved meanwhile are decided again. */
async function apply (ctx: ReceiveContext, entries: Incoming[], strategy: Strategy | undefined, report: SyncReport): Promise<void> {
  let todo: Incoming[] = []
  for (const entry of entries) {
    if (entry.refused !== undefined) report.refused.push({ key: entry.key, reason: entry.refused })
    else todo.push(entry)
  }
  for (let attempt = 1; todo.length > 0; attempt++) {
    const stale = await ctx.exclusive(() => todo.map((e) => e.key), async () => await applyOnce(ctx, todo, strategy, report))
    todo = todo.filter((e) => stale.has(e.key))
    if (attempt >= ATTEMPTS) {
      for (const entry of todo) report.refused.push({ key: entry.key, reason: 'its head kept moving here (other writers, or a lease): try again.' })
      return
    }
  }
}

/**
 * The revisions a key keeps unmerged after a sync: those kept on either side and an incoming
 * head left unmerged, less what the head holds (merged already) and what another kept one
 * holds (superseded: merging that one brings it). Both sides reduce the same revisions to the
 * same tips this way, whatever order they arrived in, so stores that keep conflicts converge
 * to the same set; nothing is lost, since a dropped one stays in the history of one kept.
 */
async function keptTips (head: Revision, candidates: string[], key: string, load: LoadRevision): Promise<string[]> {
  const revs: Revision[] = []
  // One that cannot be read (cut by compaction, which keeps what conflicts need) stays kept.
  const tips: string[] = []
  for (const id of new Set(candidates)) {
    const rev = await load(id, key)
    if (rev === undefined) tips.push(id)
    else if (!await inHistory(rev, head, load)) revs.push(rev)
  }
  for (const rev of revs) {
    let superseded = false
    for (const other of revs) if (other !== rev && await inHistory(rev, other, load)) superseded = true
    if (!superseded) tips.push(rev.id)
  }
  return tips
}

/** One atomic batch of key moves; returns the keys whose stored head was no longer the one read. */
async function applyOnce (ctx: ReceiveContext, entries: Incoming[], strategy: Strategy | undefined, report: SyncReport): Promise<ReadonlySet<string>> {
  const { engine } = ctx
  const records = await engine.headRecords(entries.map((e) => e.key))
  const batch = engine.batch()
  const entriesWritten: Array<{ key: string, change: Entry[], count: () => void }> = []
  for (const [i, entry] of entries.entries()) {
    const reason = await ctx.leased(entry.key)
    if (reason !== undefined) {
      report.refused.push({ key: entry.key, reason })
      continue
    }
    const record: HeadRecord | undefined = records[i]
    // A revision the sender marked dropped is cut history here too (its marker is written below).
    const load: LoadRevision = (id, of) => entry.revisions.get(id) ?? (entry.staged.get(id)?.cut === true ? undefined : ctx.linked(id, of))
    const local = record === undefined ? undefined : await load(record.head, entry.key)
    const localUnmerged = (record?.unmerged ?? 0) > 0 ? await engine.unmerged(entry.key) : []
    const incomingHead = entry.head as Revision
    const outcome = await decideHead(local, incomingHead, load, strategy ?? ctx.strategyFor(entry.key), ctx.maxValueBytes)
    const head = outcome.kind === 'fastForward' ? incomingHead : outcome.kind === 'merged' ? outcome.merge.revision : local as Revision
    const kept = await keptTips(head, [...localUnmerged, ...(outcome.kind === 'kept' ? [incomingHead.id] : []), ...entry.unmerged], entry.key, load)
    const added = kept.filter((id) => !localUnmerged.includes(id))
    const removed = localUnmerged.filter((id) => !kept.includes(id))
    let fresh = 0
    for (const [id, staged] of entry.staged) {
      if (staged.cut === true) {
        if (record === undefined || await ctx.revision(id) === undefined) batch.putDropped(id, entry.key)
        continue
      }
      if (record !== undefined && await ctx.revision(id) !== undefined) continue
      batch.putRevision(id, entry.key, staged.record as string)
      fresh++
    }
    if (outcome.kind === 'merged') batch.putRevision(outcome.merge.revision.id, entry.key, outcome.merge.record)
    const change: Entry[] = []
    if (head !== local || added.length > 0 || removed.length > 0) {
      const unmerged = localUnmerged.length + added.length - removed.length
      batch.setHead({
        key: entry.key,
        expected: local?.id ?? null,
        head: { head: head.id, ...(head.deleted === true ? { deleted: true } : {}), unmerged },
        added,
        removed
      })
      if (head !== local) change.push(changeEntry(entry.key, head.id, head.deleted === true, false))
      for (const id of added) change.push(changeEntry(entry.key, id, false, true))
      for (const c of change) batch.addChange(c)
    }
    entriesWritten.push({
      key: entry.key,
      change,
      count: () => {
        report.revisions += fresh
        if (outcome.kind === 'fastForward') report.fastForwards++
        else if (outcome.kind === 'merged') report.merges++
        else if (outcome.kind === 'kept') {
          report.conflicts.push(entry.key)
          if (outcome.cut !== undefined) report.shallow.push({ key: entry.key, cut: outcome.cut })
        }
      }
    })
  }
  const { stale, firstSeq } = await batch.write({ sync: ctx.sync, now: ctx.clock() })
  const published: Entry[] = []
  for (const written of entriesWritten) {
    if (stale.has(written.key)) continue
    written.count()
    published.push(...written.change)
  }
  ctx.written(firstSeq, published)
  return stale
}
