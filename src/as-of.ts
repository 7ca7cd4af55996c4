import { toChange } from './changes.js'
import type { Engine, HeadsOptions } from './engines/engine.js'
import { InvalidInputError, NotFoundError } from './errors.js'
import { checkOptions } from './options.js'
import { describe } from './revision.js'
import type { Revision } from './revision.js'

/**
 * Reads at a point in time: a key's head as it was at a time or at a changes-feed sequence
 * number. Nothing is stored for them; they read what the store keeps anyway:
 *
 * - At a time: the key's first-parent line (the line of its heads) is walked back from the
 *   head to the newest revision written at or before that time. Cost: one revision read per
 *   head written after the time (cached ones cost nothing), on every engine.
 * - At a sequence number: the key's last change numbered at or below it that moved its head
 *   (kept, unmerged writes move none) names the head. The engine finds it: PostgreSQL by one
 *   read of an index on (key, seq); LevelDB, whose change records hold batches rather than
 *   keys, by scanning the records back from that number to the key's change.
 */

/** A point in time to read at: a time (a Date or epoch milliseconds), or `{ seq }`, a changes-feed sequence number. */
export type AsOf = Date | number | { seq: number }

/** A checked point in time. */
export type Moment = { time: number } | { seq: number }

/** What an as-of read needs of a store. */
export interface AsOfReader {
  readonly engine: Engine
  /** The key's head now. */
  head: (key: string) => Revision | undefined | Promise<Revision | undefined>
  /** A revision history points to, or undefined where compaction cut history. */
  linked: (id: string, key: string) => Revision | Promise<Revision | undefined>
  /** The last sequence number readers may see. */
  lastSeq: () => Promise<number>
}

/** The latest time a Date can hold (ECMAScript's limit), in epoch milliseconds. */
const MAX_TIME = 8.64e15
const HOW = 'a Date, epoch milliseconds (a whole number ≥ 0) or { seq: N } (a changes-feed sequence number)'

/** An asOf option checked: a Date, epoch milliseconds or { seq }; anything else is an InvalidInputError naming `what`. */
export function checkAsOf (value: unknown, what: string): Moment {
  if (value instanceof Date) {
    const time = value.getTime()
    if (Number.isNaN(time)) throw new InvalidInputError(`${what} is an invalid Date; give ${HOW}.`)
    return { time }
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_TIME) throw new InvalidInputError(`${what} must be ${HOW}, got the number ${describe(value)}.`)
    return { time: value }
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const fields = Object.keys(value)
    const { seq } = value as { seq?: unknown }
    if (fields.length !== 1 || fields[0] !== 'seq') throw new InvalidInputError(`${what} must be ${HOW}; an object takes only seq, got fields ${fields.map((f) => JSON.stringify(f)).join(', ') || 'none'}.`)
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new InvalidInputError(`${what}.seq must be a sequence number (a whole number ≥ 0), got ${describe(seq)}.`)
    return { seq }
  }
  throw new InvalidInputError(`${what} must be ${HOW}, got ${describe(value)}.`)
}

/** The moment the options of get(), head() or keys() ask for (undefined: now), checked; rev and asOf exclude each other. */
export function momentOf (options: { rev?: unknown, asOf?: unknown }, method: string): Moment | undefined {
  checkOptions(options, method)
  if (options.asOf === undefined) return undefined
  if (options.rev !== undefined) throw new InvalidInputError(`${method}() takes option rev or option asOf, not both: rev names one revision, asOf the head at a moment.`)
  return checkAsOf(options.asOf, `${method}() option asOf`)
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i

/**
 * An asOf as typed on the command line or in a query string: `@N` (a sequence number),
 * whole epoch milliseconds, or an ISO 8601 time with a zone (`2026-12-01T10:00Z`,
 * `2026-12-01T11:00:00+01:00`). A time without a zone is refused rather than read in the
 * local time of whichever machine parses it.
 */
export function parseAsOf (text: string, what: string): AsOf {
  const fix = `give an ISO 8601 time with a zone (2026-12-01T10:00Z), epoch milliseconds, or @N for changes-feed sequence number N`
  if (/^@\d+$/.test(text)) {
    const seq = Number(text.slice(1))
    if (!Number.isSafeInteger(seq)) throw new InvalidInputError(`${what} ${JSON.stringify(text)} is not a usable sequence number: it is too large.`)
    return { seq }
  }
  if (/^\d+$/.test(text)) {
    const ms = Number(text)
    if (ms > MAX_TIME) throw new InvalidInputError(`${what} ${JSON.stringify(text)} is too large for epoch milliseconds; ${fix}.`)
    return ms
  }
  const parts = ISO_TIME.exec(text)
  if (parts === null) {
    const zoneless = /^\d{4}-\d{2}-\d{2}(T[\d:.]+)?$/.test(text)
    throw new InvalidInputError(`${what} ${describe(text)} is not a point in time${zoneless ? ' (it has no time zone: add Z for UTC, or an offset like +01:00)' : ''}; ${fix}.`)
  }
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map((p) => Number(p ?? 0)) as [number, number, number, number, number, number]
  const calendar = new Date(Date.UTC(year, month - 1, day))
  const date = new Date(text)
  // Date would roll 2026-02-30 over to March 2: a date that does not exist is a typo.
  if (Number.isNaN(date.getTime()) || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new InvalidInputError(`${what} ${describe(text)} names no real date and time; ${fix}.`)
  }
  return date
}

/** An asOf as a query-string value (what parseAsOf reads back). */
export function formatAsOf (moment: Moment): string {
  return 'seq' in moment ? `@${moment.seq}` : String(moment.time)
}

/** The key's head at `moment`: undefined if the key did not exist yet (a tombstone if it was deleted then). */
export async function headAsOf (reader: AsOfReader, key: string, moment: Moment): Promise<Revision | undefined> {
  return await findHead(reader, key, 'seq' in moment ? { seq: await checkSeq(reader, moment.seq) } : moment)
}

/** Keys that existed and were not deleted at `moment`, in order: each key's head then, found as headAsOf finds it. */
export async function * keysAsOf (reader: AsOfReader, moment: Moment, options: HeadsOptions & { limit: number }): AsyncGenerator<string> {
  let left = options.limit
  const at = 'seq' in moment ? { seq: await checkSeq(reader, moment.seq) } : moment
  if (left <= 0) return
  // Keys deleted now may have been live then: every head is looked at, tombstones too.
  for await (const [key] of reader.engine.heads(options)) {
    const rev = await findHead(reader, key, at)
    if (rev === undefined || rev.deleted === true) continue
    yield key
    if (--left <= 0) return
  }
}

/**
 * `seq` checked against the feed, as the number to read at: one inside a multi-key batch
 * stands for the whole batch (its last change), which was committed at once, so no reader
 * ever saw part of it, and neither does a read as of it.
 */
async function checkSeq (reader: AsOfReader, seq: number): Promise<number> {
  const last = await reader.lastSeq()
  if (seq > last) throw new InvalidInputError(`asOf { seq: ${seq} } is past the end of the changes feed, whose last sequence number is ${last}: give a number from 0 to ${last} (or a time).`)
  const entry = seq === 0 ? undefined : await reader.engine.change(seq)
  const change = entry === undefined ? undefined : toChange(seq, entry)
  return change?.tx === undefined ? seq : change.tx + (change.txSize as number) - 1
}

async function findHead (reader: AsOfReader, key: string, moment: Moment): Promise<Revision | undefined> {
  const head = await reader.head(key)
  // Heads are never removed (compaction keeps them, nothing deletes a key's history): a key
  // without one never existed, at any moment.
  if (head === undefined) return undefined
  return 'seq' in moment ? await headAtSeq(reader, head, moment.seq) : await headAtTime(reader, head, moment.time)
}

async function headAtTime (reader: AsOfReader, head: Revision, time: number): Promise<Revision | undefined> {
  let rev = head
  while (rev.time > time) {
    const parent = rev.parents[0]
    if (parent === undefined) return undefined
    const older = await reader.linked(parent, rev.key)
    if (older === undefined) {
      throw cut(rev.key, { time }, parent, `the oldest revision kept on its line of heads is ${rev.id}, written ${new Date(rev.time).toISOString()}; read at that time or later`)
    }
    rev = older
  }
  return rev
}

async function headAtSeq (reader: AsOfReader, head: Revision, seq: number): Promise<Revision | undefined> {
  const { key } = head
  const at = await reader.engine.headChange(key, seq, 'at')
  let id = at?.rev
  if (at === undefined) {
    // Imports write no changes: an imported history counts as there before the key's first
    // change in the feed (the head that change moved from), or now if it has none.
    const next = await reader.engine.headChange(key, seq, 'after')
    if (next === undefined) return head
    const first = await reader.linked(next.rev, key)
    if (first === undefined) throw cut(key, { seq }, next.rev, `the head that change ${next.seq} wrote, ${next.rev}, was dropped`)
    id = first.parents[0]
    if (id === undefined) return undefined
  }
  const rev = await reader.linked(id as string, key)
  if (rev === undefined) throw cut(key, { seq }, id as string, `its head then, ${id as string}, was dropped; read at a later sequence number`)
  return rev
}

function cut (key: string, moment: Moment, dropped: string, detail: string): NotFoundError {
  const when = 'seq' in moment ? `change ${moment.seq}` : new Date(moment.time).toISOString()
  return new NotFoundError(`Key ${JSON.stringify(key)} as of ${when} is in history cut by compaction: ${detail}. (An export made before compaction still holds it.)`, { dropped })
}
