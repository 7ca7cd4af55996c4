import { hash } from 'node:crypto'
import { canonicalJson, deepFreeze, JsonShapeError } from './json.js'
import type { JsonValue } from './json.js'
import { InvalidInputError, ValueTooLargeError } from './errors.js'

/** An immutable, content-addressed version of one key, like a Git commit. */
export interface Revision {
  /** Lowercase hex SHA-256 of the canonical serialization of every other field. */
  readonly id: string
  /** The key this revision belongs to. */
  readonly key: string
  /** [] for a key's first revision, one id for an ordinary commit, two for a merge. */
  readonly parents: readonly string[]
  /** 1 + the largest parent height; 1 for a root. */
  readonly height: number
  /** Epoch milliseconds when the revision was made. */
  readonly time: number
  /** The value; absent on a tombstone. */
  readonly value?: JsonValue
  /** True on a tombstone (a delete), which has no value. */
  readonly deleted?: true
  /** Who wrote it. */
  readonly author?: string
  /** Why it was written. */
  readonly message?: string
  /** On a merge revision: the strategy that made it. */
  readonly strategy?: string
  /** The fencing token of the lease the revision was written under (see store.lock()); absent when written without one. */
  readonly token?: number
}

/** The fields of a revision before it is hashed; `parents` becomes the revision's own (frozen) array. */
export interface RevisionDraft {
  key: string
  parents: string[]
  height: number
  time: number
  value?: JsonValue | undefined
  deleted?: boolean | undefined
  author?: string | undefined
  message?: string | undefined
  strategy?: string | undefined
  token?: number | undefined
}

/** A revision together with the exact bytes that are stored and hashed. */
export interface SealedRevision {
  revision: Revision
  /** Canonical JSON of every field but `id`; the stored record and the hash input. */
  record: string
}

const MAX_KEY_BYTES = 1024
const ID_PATTERN = /^[0-9a-f]{64}$/

/** Throws InvalidInputError unless `key` is a valid revkv key. */
export function validateKey (key: unknown): asserts key is string {
  if (typeof key !== 'string') {
    throw new InvalidInputError(`Key must be a string, got ${describe(key)}.`)
  }
  if (key.length === 0) throw new InvalidInputError('Key must not be empty.')
  if (key.includes('\u0000')) throw new InvalidInputError(`Key ${JSON.stringify(key)} contains U+0000, which keys may not contain; remove it.`)
  // A UTF-16 unit is at most 3 UTF-8 bytes: short keys need no byte count.
  const bytes = key.length * 3 <= MAX_KEY_BYTES ? 0 : Buffer.byteLength(key, 'utf8')
  if (bytes > MAX_KEY_BYTES) {
    throw new InvalidInputError(`Key is ${bytes} UTF-8 bytes long; keys may be at most ${MAX_KEY_BYTES} bytes. Use a shorter key (for example a hash of the long one).`)
  }
}

/** Throws InvalidInputError unless `id` looks like a full revision id. */
export function validateRevisionId (id: unknown, what: string): asserts id is string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new InvalidInputError(`${what} must be a revision id (64 lowercase hex characters), got ${describe(id)}.`)
  }
}

/** Serialize a value for storage, enforcing JSON shape and the size limit. */
export function serializeValue (value: unknown, maxBytes: number): string {
  let text: string
  try {
    text = canonicalJson(value)
  } catch (err) {
    if (err instanceof JsonShapeError) throw new InvalidInputError(`Value is not storable JSON: ${err.message}.`, { cause: err })
    throw err
  }
  // Most values are far below the limit; only measure bytes when UTF-16 length could exceed it.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8')
    if (bytes > maxBytes) {
      throw new ValueTooLargeError(bytes, maxBytes)
    }
  }
  return text
}

/**
 * Build a revision record and its id. `valueJson` is the canonical JSON of the value,
 * already produced by serializeValue, so large values are serialized once per write;
 * `owned`, when given, is that value as an object no caller holds.
 */
export function sealRevision (draft: RevisionDraft, valueJson?: string, owned?: JsonValue): SealedRevision {
  // Members in sorted order, matching canonicalJson, so the record is canonical without re-sorting.
  let record = '{'
  if (draft.author !== undefined) record += `"author":${JSON.stringify(draft.author)},`
  if (draft.deleted === true) record += '"deleted":true,'
  record += `"height":${draft.height},"key":${JSON.stringify(draft.key)},`
  if (draft.message !== undefined) record += `"message":${JSON.stringify(draft.message)},`
  record += `"parents":${JSON.stringify(draft.parents)},`
  if (draft.strategy !== undefined) record += `"strategy":${JSON.stringify(draft.strategy)},`
  record += `"time":${draft.time}`
  if (draft.token !== undefined) record += `,"token":${draft.token}`
  let json: string | undefined
  if (draft.deleted !== true) {
    json = valueJson ?? canonicalJson(draft.value)
    record += `,"value":${json}`
  }
  record += '}'
  const id = hashRecord(record)
  // Built from the draft rather than by parsing the record back: only the value is parsed,
  // which gives the revision its own frozen copy, independent of the caller's object.
  const revision: Record<string, unknown> = { id, key: draft.key, parents: Object.freeze(draft.parents), height: draft.height, time: draft.time }
  // `owned` is a value nobody else holds (a merge result, made of fresh and frozen parts):
  // freezing it is enough. Anything else is parsed back, so the caller's object stays theirs.
  if (json !== undefined) revision.value = deepFreeze(owned ?? JSON.parse(json) as JsonValue)
  else revision.deleted = true
  if (draft.author !== undefined) revision.author = draft.author
  if (draft.message !== undefined) revision.message = draft.message
  if (draft.strategy !== undefined) revision.strategy = draft.strategy
  if (draft.token !== undefined) revision.token = draft.token
  return { revision: Object.freeze(revision) as unknown as Revision, record }
}

/** The id of a stored record: SHA-256 of its bytes, in hex. */
export function hashRecord (record: string): string {
  // The one-shot hash costs about half of createHash().update().digest() for small records.
  return hash('sha256', record, 'hex')
}

/** Turn a stored record back into a frozen Revision. */
export function parseRecord (id: string, record: string): Revision {
  const parsed = JSON.parse(record) as Omit<Revision, 'id'>
  return deepFreeze({ id, ...parsed })
}

/** True when a stored record still hashes to its id and is canonical (`parsed`: the record, if already parsed). */
export function verifyRecord (id: string, record: string, parsed: unknown = JSON.parse(record)): boolean {
  return hashRecord(record) === id && canonicalJson(parsed) === record
}

/** Short printable description of an unexpected argument, for error messages. */
export function describe (value: unknown): string {
  if (value === undefined) return 'undefined'
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`
}
