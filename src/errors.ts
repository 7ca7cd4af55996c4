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

/** One place where both sides of a merge changed the same thing differently. */
export interface ConflictPlace {
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

/** A key, revision or parent does not exist (404). */
export class NotFoundError extends RevkvError {
  constructor (message: string) {
    super(message, 'REVKV_NOT_FOUND', 404)
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

/** The LevelDB directory is held by another process (423). */
export class LockedError extends RevkvError {
  /** The directory that is locked. */
  readonly path: string

  constructor (path: string, options?: { cause?: unknown }) {
    super(
      `The store at ${path} is open in another process. LevelDB lets one process at a time open a directory: ` +
      'close the other process, or let processes share the store through one server (`revkv serve`).',
      'REVKV_LOCKED', 423, options
    )
    this.path = path
  }
}

/** The store was closed, or is closing, so it takes no more operations (503). */
export class ClosedError extends RevkvError {
  constructor (operation: string) {
    super(`Cannot ${operation}: the store is closed. Open it again with Store.open().`, 'REVKV_CLOSED', 503)
  }
}

/** A RemoteStore request failed outside the store's own errors: unreachable server, bad token, bad answer. */
export class RemoteError extends RevkvError {
  constructor (message: string, status: number, options?: { cause?: unknown }) {
    super(message, 'REVKV_REMOTE', status, options)
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
