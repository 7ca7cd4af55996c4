/**
 * Export and import of whole histories as NDJSON: one JSON document per line, so dumps
 * stream, diff and compress well. A dump is
 *
 *   {"revkv":"dump","format":1}                                  header
 *   {"dropped":{"id":…,"key":…}}                                 parents that compaction dropped (history cut there)
 *   {"revision":{"id":…,"key":…,"parents":[…],…}}                every revision, parents first
 *   {"head":{"key":…,"head":…,"deleted"?:true,"unmerged"?:[…]}}  each key's head, after its revisions
 *   {"end":{"revisions":N,"heads":M}}                             trailer: a dump without it is truncated
 *
 * Import re-hashes every revision from its content, so a tampered dump is refused, and
 * writes nothing until the whole dump has been read and checked.
 */
import { InvalidInputError } from './errors.js'
import { walkHistory } from './history.js'
import type { LoadRevision } from './history.js'
import { canonicalJson, JsonShapeError } from './json.js'
import type { Engine, HeadRecord, ReadAt } from './engines/engine.js'
import { hashRecord, isRevisionId, shapeProblem, validateKey } from './revision.js'
import type { Revision } from './revision.js'

/** The version of the dump format written and read. */
export const DUMP_FORMAT = 1

/** Options of store.export(). */
export interface ExportOptions {
  /** Only keys starting with this. */
  prefix?: string
}

/** What store.import() restored. */
export interface ImportReport {
  revisions: number
  heads: number
  /** The keys imported. */
  keys: string[]
}


/**
 * Keys whose histories are read at once. Within a key each read waits for the one before
 * (a child names its parents), so one key at a time leaves LevelDB's threads idle between
 * reads; a few keys in flight overlap them. Bounded, so memory stays a few keys' histories.
 */
const READ_AHEAD = 8

/**
 * The lines of a dump of every key starting with `prefix`, each without its newline. Heads
 * are read at the snapshot `at` (if given); `load` and `unmergedOf` must read there too.
 */
export async function * exportLines (engine: Engine, load: LoadRevision, unmergedOf: (key: string) => Promise<string[]>, prefix = '', at: ReadAt = {}): AsyncGenerator<string> {
  yield JSON.stringify({ revkv: 'dump', format: DUMP_FORMAT })
  let revisions = 0
  let heads = 0
  const window: Array<Promise<KeyDump>> = []
  const next = async (): Promise<string[]> => {
    const dump = await (window.shift() as Promise<KeyDump>)
    revisions += dump.revisions
    heads++
    return dump.lines
  }
  for await (const [key, record] of engine.heads({ prefix, ...at })) {
    const dump = dumpKey(key, record, load, unmergedOf)
    // Awaited in order below; until then a failure must not count as unhandled.
    dump.catch(() => {})
    window.push(dump)
    if (window.length >= READ_AHEAD) yield * await next()
  }
  while (window.length > 0) yield * await next()
  yield JSON.stringify({ end: { revisions, heads } })
}

/**
 * A revision's dump line, the same bytes whichever way the revision was read: the id, then
 * its fields in canonical JSON (as stored). A revision just written and one parsed from
 * its record hold the same fields in different orders, and a dump must not depend on that.
 */
function revisionLine ({ id, ...fields }: Revision): string {
  return `{"revision":{"id":"${id}",${canonicalJson(fields).slice(1)}}`
}

/** One key's dump lines and how many revisions they hold. */
export interface KeyDump {
  lines: string[]
  revisions: number
}

const NONE: ReadonlySet<string> = new Set()

/**
 * The dump lines of one key: markers of cut history, its revisions parents first, its head.
 * A sync passes `haves`, revisions the receiver already holds: the walk stops at them, so
 * only what the receiver lacks is sent (their ancestors are the receiver's already).
 */
export async function dumpKey (key: string, record: HeadRecord, load: LoadRevision, unmergedOf: (key: string) => Promise<string[]>, haves: ReadonlySet<string> = NONE): Promise<KeyDump> {
  const unmerged = (record.unmerged ?? 0) > 0 ? await unmergedOf(key) : []
  const walk: LoadRevision = haves.size === 0 ? load : (id, of) => haves.has(id) ? undefined : load(id, of)
  // Every revision reachable from the head or a kept one, oldest (lowest) first: heights
  // strictly grow from parent to child, so ordering by height puts parents first.
  const seen = new Map<string, Revision>()
  for (const start of [record.head, ...unmerged]) {
    const first = await walk(start, key)
    if (seen.has(start) || first === undefined) continue
    for await (const rev of walkHistory(first, walk)) {
      if (!seen.has(rev.id)) seen.set(rev.id, rev)
    }
  }
  const ordered = [...seen.values()].sort((a, b) => a.height - b.height || (a.id < b.id ? -1 : 1))
  // Parents dropped by compaction travel as markers, so the import knows history was cut there.
  const cut = new Set<string>()
  for (const rev of ordered) for (const parent of rev.parents) if (!seen.has(parent) && !haves.has(parent)) cut.add(parent)
  const lines: string[] = []
  for (const id of cut) lines.push(JSON.stringify({ dropped: { id, key } }))
  for (const rev of ordered) lines.push(revisionLine(rev))
  lines.push(JSON.stringify({ head: { key, head: record.head, ...(record.deleted === true ? { deleted: true } : {}), ...(unmerged.length > 0 ? { unmerged } : {}) } }))
  return { lines, revisions: ordered.length }
}

/** What is known of a revision that an incoming one may name as a parent. */
export interface KnownRevision {
  key: string
  height: number
  /** A parent dropped by compaction: the history was cut there. */
  cut?: true
}

/** An incoming revision that passed checkRevisionLine(): its canonical record is what to store. */
export interface CheckedRevision {
  id: string
  key: string
  record: string
  height: number
  deleted: boolean
  parents: string[]
}

/**
 * Check one incoming revision (a dump's or a sync's `revision` member: its id and fields):
 * a storable key, a record that hashes to the id, parents that are known (earlier in the
 * input, or stored) and of the same key, and the height they imply. Throws
 * InvalidInputError naming the reason; `input` names where it came from ('the dump').
 */
export async function checkRevisionLine (line: unknown, known: (id: string) => Promise<KnownRevision | undefined>, input: string): Promise<CheckedRevision> {
  const fail = (why: string): never => { throw new InvalidInputError(why) }
  if (line === null || typeof line !== 'object' || Array.isArray(line)) return fail('a revision line holds no revision.')
  const { id, ...fields } = line as Record<string, unknown>
  if (typeof id !== 'string') return fail('a revision has no id.')
  // Keys first: a key that cannot be stored is named as such, not as a hash mismatch.
  validateKey(fields.key)
  const key = fields.key
  // Every string of the record (author, message, value) must be storable as it is.
  let record: string
  try {
    record = canonicalJson(fields)
  } catch (err) {
    if (err instanceof JsonShapeError) return fail(err.message)
    throw err
  }
  if (hashRecord(record) !== id) fail(`revision ${id} does not hash to its id: ${input} was changed.`)
  let expected = 1
  let cut = false
  if (!Array.isArray(fields.parents) || fields.parents.length > 2 || !fields.parents.every((p) => typeof p === 'string')) fail(`revision ${id} has malformed parents.`)
  if (!Number.isSafeInteger(fields.height) || (fields.height as number) < 1) fail(`revision ${id} has a malformed height.`)
  for (const parent of fields.parents as string[]) {
    const found = await known(parent)
    if (found === undefined) fail(`revision ${id} names parent ${parent}, which comes neither before it in ${input} nor from the store.`)
    else if (found.key !== key) fail(`revision ${id} of key ${JSON.stringify(key)} names parent ${parent} of key ${JSON.stringify(found.key)}.`)
    else if (found.cut === true) cut = true
    else expected = Math.max(expected, found.height + 1)
  }
  // Behind a cut the exact height is unknown, but it still exceeds every parent kept.
  if (cut ? (fields.height as number) < expected : fields.height !== expected) fail(`revision ${id} has height ${String(fields.height)}; its parents make it ${expected}.`)
  // The rest of the shape every read checks (a time, a value or a tombstone, ...): a record
  // that hashes right but that reads would refuse as damaged is never stored.
  const shape = shapeProblem(fields)
  if (shape !== undefined) fail(`revision ${id} is not a well-formed revision: ${shape}.`)
  return { id, key, record, height: fields.height as number, deleted: fields.deleted === true, parents: fields.parents as string[] }
}

/** Keys looked up in the store at once by the final check. */
const CHECK_CHUNK = 1000

interface Staged extends KnownRevision {
  deleted: boolean
}

/**
 * Counts the work an import does, so a test can check that it grows linearly with the dump
 * without timing anything (tests run on shared, noisy machines): one unit per line read
 * and per lookup in what the import holds. Lookups go through maps keyed by revision id
 * and by key, so each costs one unit; a scan over the lines read so far (what once made
 * import quadratic) would have to count every entry it looks at.
 */
export type WorkCounter = (units: number) => void

/**
 * Read a dump, check all of it, then write it in one atomic batch. `exists` tells whether
 * a revision is already in the store (parents may be there); the engine which keys are
 * (the final check asks in chunks, so the engine answers many at once). Every head is
 * written expecting the key to be new, all or nothing, so on an engine shared with other
 * processes a key created meanwhile fails the whole import too.
 * Time is linear in the dump's lines; memory holds the records to write (the one atomic
 * batch needs them) and about 100 bytes per revision and per key to check them.
 */
export async function importLines (
  engine: Engine,
  lines: AsyncIterable<string>,
  exists: (id: string) => Promise<Revision | undefined>,
  exclusive: <T>(task: () => Promise<T>) => Promise<T>,
  options: { sync: boolean, clock: () => number, leased?: (key: string) => Promise<string | undefined> },
  work: WorkCounter = () => {}
): Promise<ImportReport> {
  const headsExist = async (keys: string[]): Promise<boolean[]> => (await engine.headRecords(keys)).map((head) => head !== undefined)
  const staged = new Map<string, Staged>()
  const records: Array<[id: string, key: string, record: string]> = []
  const cuts: Array<[string, string]> = []
  const headLines: Array<{ key: string, head: string, deleted?: boolean, unmerged?: string[] }> = []
  /** The keys of the head lines read so far, so a second head line is found in one lookup. */
  const headKeys = new Set<string>()
  let header = false
  let end: { revisions: number, heads: number } | undefined
  let lineNumber = 0
  const fail = (why: string): never => {
    throw new InvalidInputError(`Import refused at line ${lineNumber}: ${why} Nothing was imported.`)
  }
  /** Run a check that may refuse its input, and say on which line the input was. */
  const check = <T>(task: () => T): T => {
    try {
      return task()
    } catch (err) {
      if (err instanceof InvalidInputError || err instanceof JsonShapeError) return fail(`${err.message}${err.message.endsWith('.') ? '' : '.'}`)
      throw err
    }
  }
  const validKey = (key: unknown): string => check(() => {
    validateKey(key)
    return key
  })
  const known = async (id: string): Promise<Staged | Revision | undefined> => {
    work(1)
    return staged.get(id) ?? await exists(id)
  }
  for await (const raw of lines) {
    lineNumber++
    work(1)
    const line = raw.trim()
    if (line === '') continue
    if (end !== undefined) fail('there is more after the end line.')
    let doc: Record<string, unknown>
    try {
      doc = JSON.parse(line) as Record<string, unknown>
    } catch {
      return fail('the line is not JSON (the dump is damaged or truncated).')
    }
    if (!header) {
      if (doc.revkv !== 'dump') fail('the first line is not a revkv dump header ({"revkv":"dump",...}).')
      if (doc.format !== DUMP_FORMAT) fail(`dump format ${String(doc.format)} is not one this revkv reads (${DUMP_FORMAT}).`)
      header = true
    } else if (doc.revision !== undefined) {
      let checked: CheckedRevision
      try {
        checked = await checkRevisionLine(doc.revision, known, 'the dump')
      } catch (err) {
        if (err instanceof InvalidInputError) return fail(`${err.message}${err.message.endsWith('.') ? '' : '.'}`)
        throw err
      }
      staged.set(checked.id, { key: checked.key, height: checked.height, deleted: checked.deleted })
      records.push([checked.id, checked.key, checked.record])
    } else if (doc.dropped !== undefined) {
      const { id, key: claimed } = doc.dropped as { id: unknown, key: unknown }
      const key = validKey(claimed)
      if (!isRevisionId(id)) return fail('a dropped marker has no revision id.')
      staged.set(id, { key, height: 0, deleted: false, cut: true })
      cuts.push([id, key])
    } else if (doc.head !== undefined) {
      const head = doc.head as { key: string, head: string, deleted?: boolean, unmerged?: string[] }
      validKey(head.key)
      if (!isRevisionId(head.head)) fail(`the head line of ${JSON.stringify(head.key)} names no revision id.`)
      if (head.unmerged !== undefined && !(Array.isArray(head.unmerged) && head.unmerged.every(isRevisionId))) fail(`the unmerged list of ${JSON.stringify(head.key)} is not a list of revision ids.`)
      const rev = await known(head.head)
      if (rev === undefined || rev.key !== head.key) return fail(`the head of ${JSON.stringify(head.key)} is not one of its revisions.`)
      // A dropped marker stands for a revision that is not there: nothing can point at it but a child's parents.
      if ('cut' in rev && rev.cut === true) fail(`the head of ${JSON.stringify(head.key)} is a revision compaction dropped (only its marker is in the dump).`)
      for (const id of head.unmerged ?? []) {
        const kept = await known(id)
        if (kept === undefined || kept.key !== head.key) return fail(`unmerged revision ${id} of ${JSON.stringify(head.key)} is not one of its revisions.`)
        if ('cut' in kept && kept.cut === true) fail(`unmerged revision ${id} of ${JSON.stringify(head.key)} is one compaction dropped (only its marker is in the dump).`)
      }
      work(1)
      if (headKeys.has(head.key)) fail(`key ${JSON.stringify(head.key)} has a second head line.`)
      if (new Set(head.unmerged ?? []).size !== (head.unmerged ?? []).length) fail(`key ${JSON.stringify(head.key)} lists an unmerged revision twice.`)
      // Checked as each head line is read, so a dump for the wrong store is refused early.
      work(1)
      if ((await headsExist([head.key]))[0] === true) fail(`key ${JSON.stringify(head.key)} already exists in this store; import into an empty store, or one without these keys.`)
      // The tombstone flag comes from the revision itself, not from what the line claims.
      headKeys.add(head.key)
      headLines.push({ ...head, deleted: (rev as { deleted?: boolean }).deleted === true })
    } else if (doc.end !== undefined) {
      end = doc.end as { revisions: number, heads: number }
      if (end.revisions !== records.length || end.heads !== headLines.length) {
        fail(`the end line counts ${end.revisions} revisions and ${end.heads} heads, but the dump holds ${records.length} and ${headLines.length}.`)
      }
    } else {
      fail('the line is neither a revision, a head nor the end.')
    }
  }
  if (!header) fail('the dump is empty.')
  if (end === undefined) fail('the dump has no end line: it is truncated.')
  // Written with no write in progress or starting, after checking once more that no key
  // of the dump was created while it was being read.
  return await exclusive(async () => {
    for (let i = 0; i < headLines.length; i += CHECK_CHUNK) {
      const keys = headLines.slice(i, i + CHECK_CHUNK).map((h) => h.key)
      work(keys.length)
      const found = (await headsExist(keys)).indexOf(true)
      if (found !== -1) fail(`key ${JSON.stringify(keys[found])} was written in this store while the dump was being read.`)
    }
    // A lease here refuses every write without its token, an import's too (on an engine
    // shared with other processes the batch's compare-and-set checks it as well).
    for (const { key } of headLines) {
      const held = await options.leased?.(key)
      if (held !== undefined) fail(`key ${JSON.stringify(key)} is leased in this store: ${held}`)
    }
    const batch = engine.batch()
    for (const [id, key, record] of records) batch.putRevision(id, key, record)
    for (const [id, key] of cuts) batch.putDropped(id, key)
    for (const head of headLines) {
      const unmerged = head.unmerged ?? []
      batch.setHead({ key: head.key, expected: null, head: { head: head.head, ...(head.deleted === true ? { deleted: true } : {}), unmerged: unmerged.length }, added: unmerged, removed: [] })
    }
    const { stale } = await batch.write({ sync: options.sync, now: options.clock(), allOrNothing: true })
    for (const key of stale) fail(`key ${JSON.stringify(key)} was written (or leased) in this store while the dump was being read.`)
    return { revisions: records.length, heads: headLines.length, keys: headLines.map((h) => h.key) }
  })
}
