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
import { canonicalJson } from './json.js'
import { conflictKey, droppedKey, encodeHead, headKey, headRange, inHeadRange, keyOfHeadKey, decodeHead, revisionKey, unmergedKey, UTF8 } from './layout.js'
import type { RevkvDatabase } from './layout.js'
import type { ReadAt } from './records.js'
import { hashRecord, validateKey } from './revision.js'
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
 * The lines of a dump of every key starting with `prefix`, each without its newline. Heads
 * are read at the snapshot `at` (if given); `load` and `unmergedOf` must read there too.
 */
export async function * exportLines (db: RevkvDatabase, load: LoadRevision, unmergedOf: (key: string) => Promise<string[]>, prefix = '', at: ReadAt = {}): AsyncGenerator<string> {
  yield JSON.stringify({ revkv: 'dump', format: DUMP_FORMAT })
  let revisions = 0
  let heads = 0
  for await (const [stored, text] of db.iterator({ ...headRange(prefix), ...UTF8, ...at })) {
    if (!inHeadRange(stored, prefix)) break
    const key = keyOfHeadKey(stored)
    const record = decodeHead(key, text)
    const unmerged = (record.unmerged ?? 0) > 0 ? await unmergedOf(key) : []
    // Every revision reachable from the head or a kept one, oldest (lowest) first: heights
    // strictly grow from parent to child, so ordering by height puts parents first.
    const seen = new Map<string, Revision>()
    for (const start of [record.head, ...unmerged]) {
      const first = await load(start)
      if (seen.has(start) || first === undefined) continue
      for await (const rev of walkHistory(first, load)) {
        if (!seen.has(rev.id)) seen.set(rev.id, rev)
      }
    }
    const ordered = [...seen.values()].sort((a, b) => a.height - b.height || (a.id < b.id ? -1 : 1))
    // Parents dropped by compaction travel as markers, so the import knows history was cut there.
    const cut = new Set<string>()
    for (const rev of ordered) for (const parent of rev.parents) if (!seen.has(parent)) cut.add(parent)
    for (const id of cut) yield JSON.stringify({ dropped: { id, key } })
    for (const rev of ordered) {
      yield JSON.stringify({ revision: rev })
      revisions++
    }
    yield JSON.stringify({ head: { key, head: record.head, ...(record.deleted === true ? { deleted: true } : {}), ...(unmerged.length > 0 ? { unmerged } : {}) } })
    heads++
  }
  yield JSON.stringify({ end: { revisions, heads } })
}

interface Staged {
  key: string
  height: number
  deleted: boolean
  /** A parent dropped by compaction: the history was cut there. */
  cut?: true
}

/**
 * Read a dump, check all of it, then write it in one atomic batch. `exists` tells whether
 * a revision is already in the store (parents may be there); `hasHead` whether a key is.
 */
export async function importLines (
  db: RevkvDatabase,
  lines: AsyncIterable<string>,
  exists: (id: string) => Promise<Revision | undefined>,
  hasHead: (key: string) => Promise<boolean>,
  exclusive: <T>(task: () => Promise<T>) => Promise<T>
): Promise<ImportReport> {
  const staged = new Map<string, Staged>()
  const records: Array<[string, string]> = []
  const cuts: Array<[string, string]> = []
  const headLines: Array<{ key: string, head: string, deleted?: boolean, unmerged?: string[] }> = []
  let header = false
  let end: { revisions: number, heads: number } | undefined
  let lineNumber = 0
  const fail = (why: string): never => {
    throw new InvalidInputError(`Import refused at line ${lineNumber}: ${why} Nothing was imported.`)
  }
  for await (const raw of lines) {
    lineNumber++
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
      const { id, ...fields } = doc.revision as Record<string, unknown>
      if (typeof id !== 'string') return fail('a revision has no id.')
      const record = canonicalJson(fields)
      if (hashRecord(record) !== id) fail(`revision ${id} does not hash to its id: the dump was changed.`)
      const key = fields.key as string
      validateKey(key)
      let expected = 1
      let cut = false
      if (!Array.isArray(fields.parents) || fields.parents.length > 2 || !fields.parents.every((p) => typeof p === 'string')) fail(`revision ${id} has malformed parents.`)
      if (!Number.isSafeInteger(fields.height) || (fields.height as number) < 1) fail(`revision ${id} has a malformed height.`)
      for (const parent of fields.parents as string[]) {
        const known = staged.get(parent) ?? await exists(parent)
        if (known === undefined) fail(`revision ${id} names parent ${parent}, which comes neither before it in the dump nor from the store.`)
        else if (known.key !== key) fail(`revision ${id} of key ${JSON.stringify(key)} names parent ${parent} of key ${JSON.stringify((known as Staged).key)}.`)
        else if ((known as Staged).cut === true) cut = true
        else expected = Math.max(expected, known.height + 1)
      }
      // Behind a cut the exact height is unknown, but it still exceeds every parent kept.
      if (cut ? (fields.height as number) < expected : fields.height !== expected) fail(`revision ${id} has height ${String(fields.height)}; its parents make it ${expected}.`)
      staged.set(id, { key, height: fields.height as number, deleted: fields.deleted === true })
      records.push([revisionKey(id), record])
    } else if (doc.dropped !== undefined) {
      const { id, key } = doc.dropped as { id: string, key: string }
      validateKey(key)
      if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) fail('a dropped marker has no revision id.')
      staged.set(id, { key, height: 0, deleted: false, cut: true })
      cuts.push([id, key])
    } else if (doc.head !== undefined) {
      const head = doc.head as { key: string, head: string, deleted?: boolean, unmerged?: string[] }
      validateKey(head.key)
      const rev = staged.get(head.head) ?? await exists(head.head)
      if (rev === undefined || rev.key !== head.key) fail(`the head of ${JSON.stringify(head.key)} is not one of its revisions.`)
      for (const id of head.unmerged ?? []) {
        const kept = staged.get(id) ?? await exists(id)
        if (kept === undefined || kept.key !== head.key) fail(`unmerged revision ${id} of ${JSON.stringify(head.key)} is not one of its revisions.`)
      }
      if (headLines.some((h) => h.key === head.key)) fail(`key ${JSON.stringify(head.key)} has a second head line.`)
      if (new Set(head.unmerged ?? []).size !== (head.unmerged ?? []).length) fail(`key ${JSON.stringify(head.key)} lists an unmerged revision twice.`)
      if (await hasHead(head.key)) fail(`key ${JSON.stringify(head.key)} already exists in this store; import into an empty store, or one without these keys.`)
      // The tombstone flag comes from the revision itself, not from what the line claims.
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
    for (const head of headLines) {
      if (await hasHead(head.key)) fail(`key ${JSON.stringify(head.key)} was written in this store while the dump was being read.`)
    }
    const batch = db.batch()
    for (const [key, value] of records) batch.put(key, value, UTF8)
    for (const [id, key] of cuts) batch.put(droppedKey(id), key, UTF8)
    for (const head of headLines) {
      const unmerged = head.unmerged ?? []
      batch.put(headKey(head.key), encodeHead({ head: head.head, ...(head.deleted === true ? { deleted: true } : {}), unmerged: unmerged.length }), UTF8)
      for (const id of unmerged) batch.put(unmergedKey(head.key, id), '', UTF8)
      if (unmerged.length > 0) batch.put(conflictKey(head.key), '', UTF8)
    }
    await batch.write()
    return { revisions: records.length, heads: headLines.length, keys: headLines.map((h) => h.key) }
  })
}
