import { FORMAT_VERSION } from './engines/engine.js'
import type { Engine, HeadRecord } from './engines/engine.js'
import { CorruptionError, decoded } from './errors.js'
import { JsonShapeError } from './json.js'
import { decodeRecord, verifyRecord } from './revision.js'

/** What kind of damage a problem is. */
export type ProblemKind =
  | 'hash' // a revision's content does not hash to its id (flipped bytes, a tampered record)
  | 'corrupt' // a record that cannot be read back (not JSON, or not the shape revkv writes): reads of it fail with CorruptionError
  | 'parent' // a parent that is missing or belongs to another key
  | 'height' // a height that is not 1 + the largest parent height
  | 'head' // a head that is missing, of another key, or whose tombstone flag disagrees
  | 'unmerged' // an unmerged entry that is missing, of another key, or miscounted
  | 'index' // the conflict index or the changes feed disagrees with the revisions
  | 'format' // the layout version record is missing or unknown
  | 'unknown' // a record revkv does not write

/** One thing wrong with a store, with the key and revision it concerns. */
export interface VerifyProblem {
  kind: ProblemKind
  key?: string
  revision?: string
  message: string
}

/** The result of store.verify(). */
export interface VerifyReport {
  /** Revision records read, damaged ones included. */
  revisions: number
  /** Keys (head records) read. */
  keys: number
  /** Everything found wrong; empty for a sound store. */
  problems: VerifyProblem[]
}

/** Options of store.verify(). */
export interface VerifyOptions {
  /** Called as records are read, e.g. to draw a progress bar. */
  onProgress?: (done: number) => void
}

interface Known {
  key: string
  height: number
  deleted: boolean
}

/**
 * Check a whole store: every revision re-hashed from its content and its parents and height
 * checked, every head and unmerged entry pointing at an existing revision of the same key,
 * and the conflict index agreeing with the unmerged entries. One pass over the records in
 * key order; revisions are remembered by id (key, height, tombstone) for the later checks,
 * so memory grows with the number of revisions, not their size.
 */
export async function verifyStore (engine: Engine, options: VerifyOptions = {}): Promise<VerifyReport> {
  const problems: VerifyProblem[] = []
  const known = new Map<string, Known>()
  const keyNames = new Map<string, string>()
  const intern = (key: string): string => {
    const existing = keyNames.get(key)
    if (existing !== undefined) return existing
    keyNames.set(key, key)
    return key
  }
  const parentsOf = new Map<string, string[]>()
  const heads = new Map<string, HeadRecord>()
  const unmerged = new Map<string, string[]>()
  const indexed = new Set<string>()
  const feed: Array<[string, string]> = []
  /** Revisions dropped by compaction, with their keys: parents that may be missing. */
  const droppedIds = new Map<string, string>()
  /** Revision records that cannot be decoded, with the key they belong to once a reference to them says. */
  const corrupt = new Map<string, { reason: string, key?: string | undefined, headOf?: string }>()
  /** True if `id` is a damaged revision record, which is then known to be of `key` (and its head, if `head`). */
  const claim = (id: string, key: string, head = false): boolean => {
    const entry = corrupt.get(id)
    if (entry === undefined) return false
    entry.key ??= key
    if (head) entry.headOf = key
    return true
  }
  let done = 0
  let format: string | undefined
  const progress = (): void => {
    done++
    if (options.onProgress !== undefined && done % 1000 === 0) options.onProgress(done)
  }

  for await (const record of engine.scan()) {
    progress()
    if (record.kind === 'revision') {
      const { id, text } = record
      // The same decoding every read uses, so fsck calls damaged exactly what reads refuse.
      const parsed = decoded(() => decodeRecord(id, text))
      if (parsed instanceof CorruptionError) {
        corrupt.set(id, { reason: parsed.reason, key: parsed.key })
        continue
      }
      const key = intern(parsed.key)
      let sound: boolean
      try {
        sound = verifyRecord(id, text, parsed)
      } catch (err) {
        if (!(err instanceof JsonShapeError)) throw err
        // Readable, but holding a string revkv no longer stores (written before it refused them).
        problems.push({ kind: 'corrupt', key, revision: id, message: `Revision ${id} of key ${JSON.stringify(key)} cannot be exported and imported again: ${err.message}.` })
        sound = true
      }
      if (!sound) {
        problems.push({ kind: 'hash', revision: id, key, message: `Revision ${id} of key ${JSON.stringify(key)} does not hash to its id: its content was changed after it was written.` })
      }
      known.set(id, { key, height: parsed.height, deleted: parsed.deleted === true })
      parentsOf.set(id, parsed.parents as string[])
    } else if (record.kind === 'head') {
      const { key } = record
      if (record.record instanceof CorruptionError) problems.push({ kind: 'corrupt', key, message: `The head record of key ${JSON.stringify(key)} cannot be read: ${record.record.reason}.` })
      else heads.set(key, record.record)
    } else if (record.kind === 'unmerged') {
      const list = unmerged.get(record.key)
      if (list === undefined) unmerged.set(record.key, [record.id])
      else list.push(record.id)
    } else if (record.kind === 'dropped') {
      droppedIds.set(record.id, record.key)
    } else if (record.kind === 'changes') {
      if (record.entries instanceof CorruptionError) problems.push({ kind: 'corrupt', message: `The change record ${record.name} cannot be read: ${record.entries.reason}.` })
      else for (const [key, rev] of record.entries) feed.push([key, rev])
    } else if (record.kind === 'conflict') {
      indexed.add(record.key)
    } else if (record.kind === 'lease' || record.kind === 'fence') {
      // Leases and fencing tokens (see leases.ts): checked for shape; they name no revision.
      if (record.record instanceof CorruptionError) problems.push({ kind: 'corrupt', key: record.key, message: `The ${record.kind === 'lease' ? 'lease' : 'fencing token'} record of key ${JSON.stringify(record.key)} cannot be read: ${record.record.reason}.` })
    } else if (record.kind === 'sync') {
      // A sync mark (src/sync/marks.ts) names no revision: a wrong one costs a fuller sync, never data.
    } else if (record.kind === 'format') {
      format = record.version
    } else {
      problems.push({ kind: 'unknown', message: `Record ${JSON.stringify(record.name.slice(0, 80))} is not one revkv writes.` })
    }
  }

  if (format !== FORMAT_VERSION) {
    problems.push({ kind: 'format', message: format === undefined ? 'The layout version record is missing.' : `Unknown layout version ${format}.` })
  }
  for (const [id, parents] of parentsOf) {
    const rev = known.get(id) as Known
    let expected = 1
    let cut = false
    for (const parentId of parents) {
      const parent = known.get(parentId)
      if (claim(parentId, rev.key)) {
        // Reported once, as the damaged record it is.
      } else if (parent === undefined && droppedIds.get(parentId) === rev.key) {
        cut = true
      } else if (parent === undefined) {
        problems.push({ kind: 'parent', key: rev.key, revision: id, message: `Revision ${id} of key ${JSON.stringify(rev.key)} names parent ${parentId}, which is missing.` })
      } else if (parent.key !== rev.key) {
        problems.push({ kind: 'parent', key: rev.key, revision: id, message: `Revision ${id} of key ${JSON.stringify(rev.key)} names parent ${parentId}, a revision of key ${JSON.stringify(parent.key)}.` })
      } else {
        expected = Math.max(expected, parent.height + 1)
      }
    }
    const allParentsKnown = parents.every((p) => known.get(p)?.key === rev.key || droppedIds.get(p) === rev.key)
    if (allParentsKnown && (cut ? rev.height < expected : rev.height !== expected)) {
      problems.push({ kind: 'height', key: rev.key, revision: id, message: `Revision ${id} of key ${JSON.stringify(rev.key)} has height ${rev.height}; its parents make it ${expected}.` })
    }
  }
  for (const [key, record] of heads) {
    const head = known.get(record.head)
    if (claim(record.head, key, true)) {
      // A damaged head is reported as such, not as missing.
    } else if (head === undefined) {
      problems.push({ kind: 'head', key, revision: record.head, message: `The head of key ${JSON.stringify(key)} is revision ${record.head}, which is missing.` })
    } else if (head.key !== key) {
      problems.push({ kind: 'head', key, revision: record.head, message: `The head of key ${JSON.stringify(key)} is revision ${record.head}, a revision of key ${JSON.stringify(head.key)}.` })
    } else if (head.deleted !== (record.deleted === true)) {
      problems.push({ kind: 'head', key, revision: record.head, message: `The head record of key ${JSON.stringify(key)} says ${record.deleted === true ? 'deleted' : 'live'}, but its head revision ${head.deleted ? 'is' : 'is not'} a tombstone.` })
    }
    const entries = unmerged.get(key) ?? []
    if ((record.unmerged ?? 0) !== entries.length) {
      problems.push({ kind: 'unmerged', key, message: `The head record of key ${JSON.stringify(key)} counts ${record.unmerged ?? 0} unmerged revisions; ${entries.length} are stored.` })
    }
    if ((entries.length > 0) !== indexed.has(key)) {
      problems.push({ kind: 'index', key, message: `The conflict index ${indexed.has(key) ? 'lists' : 'misses'} key ${JSON.stringify(key)}, which has ${entries.length} unmerged revisions.` })
    }
  }
  for (const [key, ids] of unmerged) {
    if (!heads.has(key)) problems.push({ kind: 'unmerged', key, message: `Key ${JSON.stringify(key)} has unmerged revisions but no head record.` })
    for (const id of ids) {
      const rev = known.get(id)
      if (claim(id, key)) continue
      if (rev === undefined || rev.key !== key) {
        problems.push({ kind: 'unmerged', key, revision: id, message: `Unmerged revision ${id} of key ${JSON.stringify(key)} ${rev === undefined ? 'is missing' : `belongs to key ${JSON.stringify(rev.key)}`}.` })
      }
    }
  }
  for (const [key, id] of feed) {
    const rev = known.get(id)
    if (claim(id, key) || (rev === undefined && droppedIds.get(id) === key)) continue
    if (rev === undefined || rev.key !== key) {
      problems.push({ kind: 'index', key, revision: id, message: `The changes feed names revision ${id} of key ${JSON.stringify(key)}, which ${rev === undefined ? 'is missing' : `belongs to key ${JSON.stringify(rev.key)}`}.` })
    }
  }
  for (const key of indexed) {
    if (!heads.has(key)) problems.push({ kind: 'index', key, message: `The conflict index lists key ${JSON.stringify(key)}, which has no head record.` })
  }
  options.onProgress?.(done)
  const damaged: VerifyProblem[] = [...corrupt].map(([id, { reason, key, headOf }]) => ({
    kind: 'corrupt',
    revision: id,
    ...(key === undefined ? {} : { key }),
    message: `Revision ${id}${key === undefined ? ' (of a key nothing names)' : ` of key ${JSON.stringify(key)}`} cannot be read: ${reason}` +
      `${headOf === undefined ? '' : '; it is the head of the key, so get, log, commit and export of it fail'}.`
  }))
  // Damaged records come first: the other problems may follow from them.
  return { revisions: known.size + corrupt.size, keys: heads.size, problems: [...damaged, ...problems] }
}
