import { hash } from 'node:crypto'
import { canonicalJson, deepFreeze, frozenCopy, JsonShapeError, unstorableText } from './json.js'
import type { JsonValue } from './json.js'
import { CorruptionError, InvalidInputError, ValueTooLargeError } from './errors.js'

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
  validateText(key, 'Key')
  if (key.includes('\u0000')) throw new InvalidInputError(`Key ${JSON.stringify(key)} contains U+0000, which keys may not contain; remove it.`)
  // A UTF-16 unit is at most 3 UTF-8 bytes: short keys need no byte count.
  const bytes = key.length * 3 <= MAX_KEY_BYTES ? 0 : Buffer.byteLength(key, 'utf8')
  if (bytes > MAX_KEY_BYTES) {
    throw new InvalidInputError(`Key is ${bytes} UTF-8 bytes long; keys may be at most ${MAX_KEY_BYTES} bytes. Use a shorter key (for example a hash of the long one).`)
  }
}

/**
 * Throws InvalidInputError unless `text` can be stored as it is (well-formed Unicode):
 * every string that becomes part of a stored key or record passes through here or, inside
 * values, through canonicalJson's walk, which applies the same rule (json.ts unstorableText).
 */
export function validateText (text: string, what: string): void {
  const why = unstorableText(text)
  if (why !== undefined) throw new InvalidInputError(`${what} ${describe(text)} ${why}.`)
}

/** True when `id` looks like a full revision id (64 lowercase hex characters). */
export function isRevisionId (id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id)
}

/** Throws InvalidInputError unless `id` looks like a full revision id. */
export function validateRevisionId (id: unknown, what: string): asserts id is string {
  if (!isRevisionId(id)) {
    throw new InvalidInputError(`${what} must be a revision id (64 lowercase hex characters), got ${describe(id)}.`)
  }
}

/** Serialize a value for storage, enforcing JSON shape and the size limit. */
export function serializeValue (value: unknown, maxBytes: number): string {
  return withinLimit(storable(() => canonicalJson(value)), maxBytes)
}

/** A value as a write keeps it: its canonical JSON and a frozen copy made with it (see frozenCopy), shape and size checked. */
export interface StoredValue {
  json: string
  copy: JsonValue
}

/** Copy a value for a write, enforcing JSON shape and the size limit: the copy becomes the revision's value. */
export function storeValue (value: unknown, maxBytes: number): StoredValue {
  const stored = storable(() => frozenCopy(value))
  withinLimit(stored.json, maxBytes)
  return stored
}

/** Run a serialization, turning a value that is not JSON into InvalidInputError. */
function storable<T> (serialize: () => T): T {
  try {
    return serialize()
  } catch (err) {
    if (err instanceof JsonShapeError) throw new InvalidInputError(`Value is not storable JSON: ${err.message}.`, { cause: err })
    throw err
  }
}

/** `text`, unless it is more than `maxBytes` bytes of UTF-8 (ValueTooLargeError). */
function withinLimit (text: string, maxBytes: number): string {
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
  // `owned` is a value nobody else holds (a merge result, made of fresh and frozen parts, or
  // a write's frozenCopy): freezing it is enough. Anything else is parsed back, so the caller's object stays theirs.
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

/**
 * Decode a stored revision record (every field but the id). The one reader of revision
 * records: anything that is not JSON of a revision's shape throws CorruptionError naming
 * the revision and, when the caller knows it, the key (`key`: the key it should belong to).
 * The content is not re-hashed here (fsck does that): reads stay one parse per record.
 */
export function decodeRecord (id: string, record: string, key?: string): Omit<Revision, 'id'> {
  let parsed: unknown
  try {
    parsed = JSON.parse(record)
  } catch (err) {
    throw corruptRevision(id, key, 'its record is not valid JSON', err)
  }
  const why = shapeProblem(parsed)
  if (why !== undefined) throw corruptRevision(id, key ?? ownKey(parsed), why)
  return parsed as Omit<Revision, 'id'>
}

/** Turn a stored record back into a frozen Revision (`key`: the key it should belong to, named if it is damaged). */
export function parseRecord (id: string, record: string, key?: string): Revision {
  return deepFreeze({ id, ...decodeRecord(id, record, key) })
}

/** The CorruptionError of revision `id` (of `key`, when known). */
export function corruptRevision (id: string, key: string | undefined, reason: string, cause?: unknown): CorruptionError {
  const subject = `Revision ${id}${key === undefined ? '' : ` of key ${JSON.stringify(key)}`}`
  return CorruptionError.of(subject, reason, { key, revision: id }, cause === undefined ? undefined : { cause })
}

/** What makes a parsed record not a revision, or undefined when it has a revision's shape. */
/** What is wrong with a revision record's fields (every field but the id), or undefined when it has a revision's shape. */
export function shapeProblem (parsed: unknown): string | undefined {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'its record is not a JSON object'
  const r = parsed as Record<string, unknown>
  if (typeof r.key !== 'string') return 'its record has no key'
  if (!Array.isArray(r.parents) || r.parents.length > 2 || !r.parents.every(isRevisionId)) return 'its record has malformed parents'
  if (!Number.isSafeInteger(r.height) || (r.height as number) < 1) return 'its record has a malformed height'
  if (typeof r.time !== 'number') return 'its record has no time'
  if (r.deleted === true ? 'value' in r : !('value' in r)) return 'its record has neither a value nor a tombstone flag'
  return undefined
}

function ownKey (parsed: unknown): string | undefined {
  const key = (parsed as { key?: unknown } | null)?.key
  return typeof key === 'string' ? key : undefined
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
