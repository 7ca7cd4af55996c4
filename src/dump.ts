/**
 * Export and import of whole histories as NDJSON: one JSON document per line, so dumps
 * stream, diff and compress well. A dump is
 *
 *   {"revkv":"dump","format":1}                                  header
 *   {"revision":{"id":…,"key":…,"parents":[…],…}}                every revision, parents first
 *   {"head":{"key":…,"head":…,"deleted"?:true,"unmerged"?:[…]}}  each key's head, after its revisions
 *   {"end":{"revisions":N,"heads":M}}                             trailer: a dump without it is truncated
 *
 * Import re-hashes every revision from its content, so a tampered dump is refused, and
 * writes nothing until the whole dump has been read and checked.
 */
import { InvalidInputError } from './errors.js'
import { walkHistory } from './history.js'
import { canonicalJson } from './json.js'
import { conflictKey, encodeHead, headKey, headRange, inHeadRange, keyOfHeadKey, decodeHead, revisionKey, unmergedKey, UTF8 } from './layout.js'
import type { RevkvDatabase } from './layout.js'
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

type Load = (id: string) => Promise<Revision>

/** The lines of a dump of every key starting with `prefix`, each without its newline. */
export async function * exportLines (db: RevkvDatabase, load: Load, unmergedOf: (key: string) => Promise<string[]>, prefix = ''): AsyncGenerator<string> {
  yield JSON.stringify({ revkv: 'dump', format: DUMP_FORMAT })
  let revisions = 0
  let heads = 0
  for await (const [stored, text] of db.iterator({ ...headRange(prefix), ...UTF8 })) {
    if (!inHeadRange(stored, prefix)) break
    const key = keyOfHeadKey(stored)
    const record = decodeHead(key, text)
    const unmerged = (record.unmerged ?? 0) > 0 ? await unmergedOf(key) : []
    // Every revision reachable from the head or a kept one, oldest (lowest) first: heights
    // strictly grow from parent to child, so ordering by height puts parents first.
    const seen = new Map<string, number>()
    for (const start of [record.head, ...unmerged]) {
      if (seen.has(start)) continue
      for await (const rev of walkHistory(await load(start), load)) {
        if (seen.has(rev.id)) continue
        seen.set(rev.id, rev.height)
      }
    }
    const ordered = [...seen].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    for (const [id] of ordered) {
      yield JSON.stringify({ revision: await load(id) })
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
}

/**
 * Read a dump, check all of it, then write it in one atomic batch. `exists` tells whether
 * a revision is already in the store (parents may be there); `hasHead` whether a key is.
 */
export async function importLines (
  db: RevkvDatabase,
  lines: AsyncIterable<string>,
  exists: (id: string) => Promise<Revision | undefined>,
  hasHead: (key: string) => Promise<boolean>
): Promise<ImportReport> {
  const staged = new Map<string, Staged>()
  const records: Array<[string, string]> = []
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
      for (const parent of (fields.parents ?? []) as string[]) {
        const known = staged.get(parent) ?? await exists(parent)
        if (known === undefined) fail(`revision ${id} names parent ${parent}, which comes neither before it in the dump nor from the store.`)
        else if (known.key !== key) fail(`revision ${id} of key ${JSON.stringify(key)} names parent ${parent} of key ${JSON.stringify((known as Staged).key)}.`)
        else expected = Math.max(expected, known.height + 1)
      }
      if (fields.height !== expected) fail(`revision ${id} has height ${String(fields.height)}; its parents make it ${expected}.`)
      staged.set(id, { key, height: expected, deleted: fields.deleted === true })
      records.push([revisionKey(id), record])
    } else if (doc.head !== undefined) {
      const head = doc.head as { key: string, head: string, deleted?: boolean, unmerged?: string[] }
      validateKey(head.key)
      const rev = staged.get(head.head) ?? await exists(head.head)
      if (rev === undefined || rev.key !== head.key) fail(`the head of ${JSON.stringify(head.key)} is not one of its revisions.`)
      for (const id of head.unmerged ?? []) {
        const kept = staged.get(id) ?? await exists(id)
        if (kept === undefined || kept.key !== head.key) fail(`unmerged revision ${id} of ${JSON.stringify(head.key)} is not one of its revisions.`)
      }
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
  const batch = db.batch()
  for (const [key, value] of records) batch.put(key, value, UTF8)
  for (const head of headLines) {
    const unmerged = head.unmerged ?? []
    batch.put(headKey(head.key), encodeHead({ head: head.head, ...(head.deleted === true ? { deleted: true } : {}), unmerged: unmerged.length }), UTF8)
    for (const id of unmerged) batch.put(unmergedKey(head.key, id), '', UTF8)
    if (unmerged.length > 0) batch.put(conflictKey(head.key), '', UTF8)
  }
  await batch.write()
  return { revisions: records.length, heads: headLines.length, keys: headLines.map((h) => h.key) }
}
