import type { JsonValue } from './json.js'

/** Stable machine-readable error codes. They do not change between major versions; messages may. */
export type ErrorCode =
  | 'REVKV_CONFLICT'
  | 'REVKV_MERGE_CONFLICT'
  | 'REVKV_NOT_FOUND'
  | 'REVKV_INVALID'
  | 'REVKV_LOCKED'
  | 'REVKV_CLOSED'
  | 'REVKV_REMOTE'
  | 'REVKV_CORRUPT'
  | 'REVKV_UNAVAILABLE'
  | HttpErrorCode

/**
 * One place where both sides of a merge changed the same thing differently. A `value`
 * place is one value at `path`; a `range` place is a stretch of array elements, where
 * `path` points at the index the stretch starts at in the base array and `base`, `ours`
 * and `theirs` are always present, each the array of that side's elements there (possibly
 * empty), so a conflict over elements is never mistaken for one over an element that is
 * itself an array.
 */
export interface ConflictPlace {
  /** 'value': one value at `path`; 'range': a stretch of array elements starting at `path`. */
  kind: 'value' | 'range'
  /** RFC 6901 JSON Pointer into the value ('' is the whole value). */
  path: string
  /** The value there at the common ancestor; absent when it did not exist. */
  base?: JsonValue
  /** The value there at the current head; absent when removed or deleted. */
  ours?: JsonValue
  /** The value there in the incoming revision; absent when removed or deleted. */
  theirs?: JsonValue
}

/** Base of every error revkv throws: branch on `code`, show `message` to people. */
export class RevkvError extends Error {
  /** Stable code, e.g. REVKV_CONFLICT. */
  readonly code: ErrorCode
  /** The HTTP status that best describes the failure (409, 404, 400, 423, 500, 503). */
  readonly status: number

  constructor (message: string, code: ErrorCode, status: number, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.status = status
  }

  /** Plain JSON form for machine interfaces (`--json`, HTTP problem bodies). */
  toJSON (): Record<string, unknown> {
    return { name: this.name, code: this.code, status: this.status, message: this.message }
  }
}

/** A write's parent is stale and the key's strategy did not settle it (409). */
export class ConflictError extends RevkvError {
  /** The key written. */
  readonly key: string
  /** The parent the write named: a revision id, or null for create-only. */
  readonly expected: string | null
  /** The key's head when the write was judged, or null when the key had none. */
  readonly actual: string | null
  /** Under the `manual` strategy: the id of the revision kept unmerged (nothing was lost). */
  readonly kept: string | undefined

  constructor (message: string, fields: { key: string, expected: string | null, actual: string | null, kept?: string | undefined }, code: ErrorCode = 'REVKV_CONFLICT') {
    super(message, code, 409)
    this.key = fields.key
    this.expected = fields.expected
    this.actual = fields.actual
    this.kept = fields.kept
  }

  override toJSON (): Record<string, unknown> {
    return { ...super.toJSON(), key: this.key, expected: this.expected, actual: this.actual, kept: this.kept }
  }
}

/** A three-way merge found places changed differently on both sides; nothing was written (409). */
export class MergeConflictError extends ConflictError {
  /** Every conflicting JSON Pointer with its base, ours and theirs values. */
  readonly conflicts: ConflictPlace[]

  constructor (message: string, fields: { key: string, expected: string | null, actual: string | null, conflicts: ConflictPlace[] }) {
    super(message, fields, 'REVKV_MERGE_CONFLICT')
    this.conflicts = fields.conflicts
  }

  override toJSON (): Record<string, unknown> {
    return { ...super.toJSON(), conflicts: this.conflicts }
  }
}

/** One refused op of a multi-key batch (store.batch, a transaction's commit). */
export interface BatchRefusal {
  /** The op's position in the batch. */
  index: number
  key: string
  /** Why it was refused: REVKV_CONFLICT, REVKV_MERGE_CONFLICT, REVKV_LOCKED, REVKV_NOT_FOUND or REVKV_INVALID. */
  code: ErrorCode
  message: string
  /** The parent the op named (null: create only), or undefined when it named none. */
  expected: string | null | undefined
  /** The key's head when the op was judged, or null when the key had none. */
  actual: string | null
  /** A merge conflict's places, each with its base, ours and theirs values. */
  places?: ConflictPlace[]
}

/**
 * A multi-key batch had refused ops, so nothing of it was written (409). `conflicts` lists
 * every refused op, not only the first; `key`, `expected` and `actual` are the first one's.
 */
export class BatchConflictError extends ConflictError {
  /** Every refused op, in op order. */
  readonly conflicts: BatchRefusal[]

  constructor (message: string, conflicts: BatchRefusal[]) {
    const first = conflicts[0]
    super(message, { key: first?.key ?? '', expected: first?.expected ?? null, actual: first?.actual ?? null })
    this.conflicts = conflicts
  }

  override toJSON (): Record<string, unknown> {
    return { ...super.toJSON(), conflicts: this.conflicts }
  }
}

/** A key, revision or parent does not exist (404), or history was cut by compaction where a read needed it. */
export class NotFoundError extends RevkvError {
  /** The revision compaction dropped, when that is why: the read reached history cut there. */
  readonly dropped: string | undefined

  constructor (message: string, fields: { dropped?: string | undefined } = {}) {
    super(message, 'REVKV_NOT_FOUND', 404)
    this.dropped = fields.dropped
  }

  override toJSON (): Record<string, unknown> {
    return this.dropped === undefined ? super.toJSON() : { ...super.toJSON(), dropped: this.dropped }
  }
}

/** An argument is not acceptable; the message names it and says how to fix it (400). */
export class InvalidInputError extends RevkvError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, 'REVKV_INVALID', 400, options)
  }
}

/**
 * A value over the store's size limit (400, code REVKV_INVALID like any bad input). It
 * carries the numbers, so each interface can name its own way to raise the limit.
 */
export class ValueTooLargeError extends InvalidInputError {
  /** The value's size in bytes of JSON. */
  readonly bytes: number
  /** The store's limit (its maxValueBytes). */
  readonly limit: number

  constructor (bytes: number, limit: number, fix = 'open the store with a larger maxValueBytes') {
    super(`Value is ${bytes} bytes as JSON, over the limit of ${limit} bytes. Store less, or ${fix}.`)
    this.bytes = bytes
    this.limit = limit
  }

  override toJSON (): Record<string, unknown> {
    return { ...super.toJSON(), bytes: this.bytes, limit: this.limit }
  }
}

/** What a LockedError names: the directory for an open store, the key and holder for a lease. */
export interface LockedFields {
  /** The LevelDB directory held by another process. */
  path?: string | undefined
  /** The leased key the write or lease call was refused on. */
  key?: string | undefined
  /** Who holds the lease now (absent when nobody does, e.g. a fenced write after expiry). */
  owner?: string | undefined
  /** When the holder's lease ends, epoch milliseconds. */
  expires?: number | undefined
  /** The fencing token of the lease held now. */
  token?: number | undefined
}

/**
 * Something is locked (423): the LevelDB directory is held by another process (`path`), or
 * a key is leased and the write or lease call does not carry the live lease's token (`key`,
 * and `owner`, `expires`, `token` of the holder when there is one).
 */
export class LockedError extends RevkvError {
  /** The directory that is locked. */
  readonly path: string | undefined
  /** The leased key. */
  readonly key: string | undefined
  /** The lease holder's owner. */
  readonly owner: string | undefined
  /** When the holder's lease ends (epoch ms). */
  readonly expires: number | undefined
  /** The holder's fencing token. */
  readonly token: number | undefined

  constructor (message: string, fields: LockedFields, options?: { cause?: unknown }) {
    super(message, 'REVKV_LOCKED', 423, options)
    this.path = fields.path
    this.key = fields.key
    this.owner = fields.owner
    this.expires = fields.expires
    this.token = fields.token
  }

  /** The error for a LevelDB directory held by another process. */
  static directory (path: string, options?: { cause?: unknown }): LockedError {
    return new LockedError(
      `The store at ${path} is open in another process. LevelDB lets one process at a time open a directory: ` +
      'close the other process, or let processes share the store through one server (`revkv serve`).',
      { path }, options)
  }

  override toJSON (): Record<string, unknown> {
    const { path, key, owner, expires, token } = this
    return { ...super.toJSON(), path, key, owner, expires, token }
  }
}

/** The store (or a snapshot of it) was closed, or is closing, so it takes no more operations (503). */
export class ClosedError extends RevkvError {
  constructor (operation: string, state = 'the store is closed; open it again to go on') {
    super(`Cannot ${operation}: ${state}.`, 'REVKV_CLOSED', 503)
  }
}

/** A RemoteStore request failed outside the store's own errors: unreachable server, bad token, bad answer. */
export class RemoteError extends RevkvError {
  constructor (message: string, status: number, options?: { cause?: unknown }) {
    super(message, 'REVKV_REMOTE', status, options)
  }
}

/** A write sent to a server started with `revkv serve --read-only` (403): it serves reads, exports and pulls only. */
export class ReadOnlyError extends RevkvError {
  constructor (message: string) {
    super(message, 'REVKV_READ_ONLY', 403)
  }
}

/**
 * The database server cannot be reached or dropped the connection (503). A write that
 * fails so was not acknowledged: it may or may not have been applied, and retrying it is
 * safe (revisions are content-addressed and heads move by compare-and-set).
 */
export class UnavailableError extends RevkvError {
  /** The server, as "host:port/database" (never with a password). */
  readonly server: string

  constructor (message: string, server: string, options?: { cause?: unknown }) {
    super(message, 'REVKV_UNAVAILABLE', 503, options)
    this.server = server
  }

  override toJSON (): Record<string, unknown> {
    return { ...super.toJSON(), server: this.server }
  }
}

/**
 * A stored record cannot be read back: the store is damaged (500). Nothing is guessed or
 * skipped; the message names the record and says to run fsck, which lists all damage.
 */
export class CorruptionError extends RevkvError {
  /** The key the damaged record belongs to, when the reader knows it. */
  readonly key: string | undefined
  /** The revision whose record is damaged or missing, when a revision record is concerned. */
  readonly revision: string | undefined
  /** What is wrong with the record, e.g. "its record is not valid JSON". */
  readonly reason: string

  constructor (message: string, fields: { key?: string | undefined, revision?: string | undefined, reason: string }, options?: { cause?: unknown }) {
    super(message, 'REVKV_CORRUPT', 500, options)
    this.key = fields.key
    this.revision = fields.revision
    this.reason = fields.reason
  }

  /** The error for a damaged record: `subject` names it in a sentence ("Revision … of key …"), `reason` says what is wrong. */
  static of (subject: string, reason: string, fields: { key?: string | undefined, revision?: string | undefined }, options?: { cause?: unknown }): CorruptionError {
    return new CorruptionError(
      `${subject} is damaged: ${reason}. Run \`revkv fsck\` (store.verify()) to list every damaged record, ` +
      'then restore the keys concerned from an export or a backup.',
      { ...fields, reason }, options)
  }

  override toJSON (): Record<string, unknown> {
    return { ...super.toJSON(), key: this.key, revision: this.revision, reason: this.reason }
  }
}

/** Codes of requests the HTTP server refuses on its own: the request, not the store, is at fault. */
export type HttpErrorCode =
  | 'REVKV_UNAUTHORIZED'
  | 'REVKV_NO_ROUTE'
  | 'REVKV_METHOD_NOT_ALLOWED'
  | 'REVKV_TIMEOUT'
  | 'REVKV_PRECONDITION_FAILED'
  | 'REVKV_TOO_LARGE'
  | 'REVKV_UNSUPPORTED_MEDIA_TYPE'
  | 'REVKV_PATCH_FAILED'
  | 'REVKV_PRECONDITION_REQUIRED'
  | 'REVKV_READ_ONLY'
  | 'REVKV_INTERNAL'

/**
 * A refusal by `revkv serve` itself, answered as problem+json with `status` and any
 * `fields` as members (a failed precondition's `actual` head). Only the server raises it;
 * RemoteStore sees these as RemoteError, or InvalidInputError for a 4xx about the input.
 */
export class HttpError extends RevkvError {
  /** Extra problem members. */
  readonly fields: Record<string, unknown>

  constructor (message: string, code: ErrorCode, status: number, fields: Record<string, unknown> = {}) {
    super(message, code, status)
    this.fields = fields
  }

  override toJSON (): Record<string, unknown> {
    return { ...super.toJSON(), ...this.fields }
  }
}

/** The decoded record, or the CorruptionError its decoding threw (fsck reports damage and goes on). */
export function decoded<T> (decode: () => T): T | CorruptionError {
  try {
    return decode()
  } catch (err) {
    if (err instanceof CorruptionError) return err
    throw err
  }
}
