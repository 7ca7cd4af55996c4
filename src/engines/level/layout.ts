import type { AbstractLevel } from 'abstract-level'
import { CorruptionError } from '../../errors.js'
import { isRevisionId } from '../../revision.js'
import type { Entry, HeadRecord, LeaseRecord } from '../engine.js'

/**
 * How revkv's records sit in one LevelDB keyspace (the only file that knows it). Every record kind has a one-letter
 * prefix, so a single atomic batch can write all records of a commit:
 *
 *   r!<revision id>  -> canonical JSON of the revision without its id (content-addressed, never rewritten)
 *   h!<key>          -> HeadRecord JSON: the key's head, whether it is a tombstone, how many unmerged revisions
 *   u!<key>\0<id>    -> '' for each revision of the key kept unmerged (keys never contain U+0000)
 *   s!<seq, 16 hex>  -> the changes of one batch: [[key, rev, flags], ...] numbered from seq
 *   d!<revision id>  -> the key of a revision dropped by compaction (history is cut there)
 *   c!<key>          -> '' while the key has unmerged revisions (an index, so listing conflicts
 *                       across the store does not read every head)
 *   l!<key>          -> LeaseRecord JSON of the key's lease while one is held (deleted on release)
 *   f!<key>          -> the newest fencing token ever granted on the key, in decimal (never deleted)
 *   m!format         -> the layout version, checked at open
 *   y!<name>         -> a sync mark (src/sync/marks.ts): how far this store synced with another;
 *                       added without a layout version change, since an older revkv never
 *                       reads them and losing one costs only a fuller sync
 *
 * Head records are ordered by key, so listing keys is one range scan and opening
 * a store reads nothing but the format record: nothing scans the store at open. Lease
 * records are few (one per lease held) and are read in one range scan before the first
 * write or lease call; fencing records are read one at a time, by a lease call that needs one.
 */

/** Any abstract-level database with string keys and values (classic-level, memory-level, ...). */
export type RevkvDatabase = AbstractLevel<string | Buffer | Uint8Array, string, string>

/** The record holding the layout version (FORMAT_VERSION in ../engine.ts). */
export const FORMAT_KEY = 'm!format'

/** Options that make every read and write independent of the database's default encodings. */
export const UTF8 = { keyEncoding: 'utf8', valueEncoding: 'utf8' } as const

const REVISION_PREFIX = 'r!'
const HEAD_PREFIX = 'h!'
const CONFLICT_PREFIX = 'c!'

/** LevelDB key of a revision record. */
export function revisionKey (id: string): string {
  return REVISION_PREFIX + id
}

/** LevelDB key of the marker left by a revision dropped by compaction. */
export function droppedKey (id: string): string {
  return 'd!' + id
}

/** LevelDB key of a head record. */
export function headKey (key: string): string {
  return HEAD_PREFIX + key
}

/** LevelDB key of the record that keeps revision `id` of `key` unmerged. */
export function unmergedKey (key: string, id: string): string {
  return `u!${key}\u0000${id}`
}

/** LevelDB range of a key's unmerged records (ids sort after the U+0000 separator). */
export function unmergedRange (key: string): { gt: string, lt: string } {
  return { gt: `u!${key}\u0000`, lt: `u!${key}\u0001` }
}

/** The revision id of an unmerged record's LevelDB key. */
export function idOfUnmergedKey (storedKey: string): string {
  return storedKey.slice(storedKey.lastIndexOf('\u0000') + 1)
}

/** LevelDB key of the conflict index entry of a key. */
export function conflictKey (key: string): string {
  return CONFLICT_PREFIX + key
}

/** LevelDB range of the conflict index. */
export const CONFLICT_RANGE = { gt: CONFLICT_PREFIX, lt: 'c"' } as const

/** The user key of a conflict index entry. */
export function keyOfConflictKey (storedKey: string): string {
  return storedKey.slice(CONFLICT_PREFIX.length)
}

/** The user key of a head record's LevelDB key. */
export function keyOfHeadKey (storedKey: string): string {
  return storedKey.slice(HEAD_PREFIX.length)
}

/** The revision id of a revision record's LevelDB key. */
export function idOfRevisionKey (storedKey: string): string {
  return storedKey.slice(REVISION_PREFIX.length)
}

/** LevelDB range of head records whose key starts with `prefix` (the end is checked by the caller). */
export function headRange (prefix: string, after?: string): { gt?: string, gte?: string } {
  return after === undefined ? { gte: HEAD_PREFIX + prefix } : { gt: HEAD_PREFIX + after }
}

/** True while a LevelDB key is still inside the head records of `prefix`. */
export function inHeadRange (storedKey: string, prefix: string): boolean {
  return storedKey.startsWith(HEAD_PREFIX + prefix)
}

/** LevelDB range of revision records whose id starts with the hex `prefix`. */
export function revisionRange (prefix: string): { gte: string, lt: string } {
  // Ids are lowercase hex, so every id with this prefix sorts before prefix + 'g'.
  return { gte: REVISION_PREFIX + prefix, lt: REVISION_PREFIX + prefix + 'g' }
}

/** Serialize a head record (by hand: it is written once per key per batch, on the hot path). */
export function encodeHead (record: HeadRecord): string {
  let text = `{"head":"${record.head}"`
  if (record.deleted === true) text += ',"deleted":true'
  if (record.unmerged !== undefined && record.unmerged > 0) text += `,"unmerged":${record.unmerged}`
  return text + '}'
}

/** Parse a head record; one that is not JSON of a head record's shape throws CorruptionError naming the key. */
export function decodeHead (key: string, text: string): HeadRecord {
  return decodeJson(`The head record of key ${JSON.stringify(key)}`, { key }, text, 'it does not name a head revision (or miscounts its unmerged ones)', (r: Partial<HeadRecord>) =>
    isRevisionId(r.head) && (r.unmerged === undefined || (Number.isSafeInteger(r.unmerged) && r.unmerged >= 0)))
}

/** Parse a stored JSON object that `valid` accepts; anything else throws CorruptionError naming `what` and why. */
function decodeJson<T> (what: string, fields: { key?: string }, text: string, invalid: string, valid: (record: Partial<T>) => boolean): T {
  let record: unknown
  try {
    record = JSON.parse(text)
  } catch (err) {
    throw CorruptionError.of(what, 'it is not valid JSON', fields, { cause: err })
  }
  if (record === null || typeof record !== 'object' || !valid(record as Partial<T>)) throw CorruptionError.of(what, invalid, fields)
  return record as T
}

const SYNC_PREFIX = 'y!'

/** LevelDB key of a sync mark. */
export function syncMarkKey (name: string): string {
  return SYNC_PREFIX + name
}

const LEASE_PREFIX = 'l!'

/** LevelDB key of a key's lease record. */
export function leaseKey (key: string): string {
  return LEASE_PREFIX + key
}

/** LevelDB range of every lease record. */
export const LEASE_RANGE = { gt: LEASE_PREFIX, lt: 'l"' } as const

/** The user key of a lease record's LevelDB key. */
export function keyOfLeaseKey (storedKey: string): string {
  return storedKey.slice(LEASE_PREFIX.length)
}

/** LevelDB key of the record holding the newest fencing token granted on a key. */
export function fenceKey (key: string): string {
  return 'f!' + key
}

/** Parse a lease record; a damaged one is a CorruptionError. */
export function decodeLease (key: string, text: string): LeaseRecord {
  return decodeJson(`The lease record of key ${JSON.stringify(key)}`, { key }, text, 'it lacks its token, owner or expiry', (r: Partial<LeaseRecord>) =>
    Number.isSafeInteger(r.token) && typeof r.owner === 'string' && typeof r.expires === 'number')
}

/** Parse a fencing record (the newest token granted, in decimal); a damaged one is a CorruptionError. */
export function decodeFence (key: string, text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw CorruptionError.of(`The fencing token record of key ${JSON.stringify(key)}`, `it holds ${JSON.stringify(text.slice(0, 40))}, not a token`, { key })
  }
  return Number(text)
}

const CHANGES_PREFIX = 's!'

/** LevelDB range of the change records. */
export const CHANGES_RANGE = { gt: CHANGES_PREFIX, lt: 's"' } as const

/** LevelDB key of the change record whose first sequence number is `seq` (fixed width, so key order is seq order). */
export function changesKey (seq: number): string {
  return CHANGES_PREFIX + seq.toString(16).padStart(16, '0')
}

/** The first sequence number of a change record's LevelDB key. */
export function seqOfChangesKey (storedKey: string): number {
  return parseInt(storedKey.slice(CHANGES_PREFIX.length), 16)
}

/** The entries of a stored change record; one that is not a list of entries throws CorruptionError. */
export function decodeChanges (stored: string, text: string): Entry[] {
  return decodeJson<Entry[]>(`The change record ${stored}`, {}, text, 'it is not a list of [key, revision, flags] entries', (entries) =>
    Array.isArray(entries) && entries.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string' && typeof e[2] === 'number'))
}
