import { BatchConflictError, InvalidInputError } from './errors.js'
import type { JsonValue } from './json.js'
import { checkLimit, checkOptions, checkText } from './options.js'
import { describe, validateKey } from './revision.js'
import type { Revision } from './revision.js'
import type { KeysOptions } from './store.js'
import type { StrategyRef } from './strategies/types.js'

/** What a transaction reads through: the store at the moment its attempt started. */
export interface TxView {
  head: (key: string) => Promise<Revision | undefined>
  keys: (options: KeysOptions) => AsyncGenerator<string>
  close: () => Promise<void>
}

/** Options of store.transaction(). */
export interface TransactionOptions {
  /** How many times to run `fn` again when a key it read moved before it committed (default 8). */
  retries?: number
  /** Recorded on every revision the transaction writes. */
  author?: string
  message?: string
}

/** Options of tx.commit() and tx.delete(). */
export interface TxWriteOptions {
  /** For a key the transaction did not read: the strategy if another write got there first (see the README). */
  strategy?: StrategyRef
}

/** A write a transaction makes, applied when `fn` returns. */
export interface TxWrite {
  type: 'commit' | 'delete'
  /** Canonical JSON of the value (commit only). */
  valueJson?: string
  strategy?: StrategyRef
}

/** What a finished attempt asks the store to write: the reads to check and the writes to make. */
export interface TxCommit {
  /** Each key read, with the head it had (null: absent). */
  reads: Map<string, string | null>
  writes: Map<string, TxWrite>
  /** The head each written key had at the attempt's start (what an unread key's write is based on). */
  view: TxView
}

export const DEFAULT_RETRIES = 8
const MAX_BACKOFF_MS = 100

/**
 * The handle a transaction's `fn` gets. Reads see the store as of the attempt's start (one
 * snapshot) plus the transaction's own writes; writes are only collected, and made together
 * when `fn` returns, as one multi-key batch that also checks every key read still has the
 * head it was read at. `fn` may run several times: it must not act outside `tx`.
 */
export class Transaction {
  readonly #view: TxView
  readonly #serialize: (value: JsonValue) => string
  readonly #reads = new Map<string, Revision | undefined>()
  readonly #writes = new Map<string, TxWrite>()
  #over = false

  /** `serialize` checks and encodes a value as the store would (its size limit). */
  constructor (view: TxView, serialize: (value: JsonValue) => string) {
    this.#view = view
    this.#serialize = serialize
  }

  /** The key's head as of the transaction's start (its own writes are not revisions until it commits). */
  async head (key: string): Promise<Revision | undefined> {
    this.#assertOpen('head')
    validateKey(key)
    return await this.#read(key)
  }

  /** The key's value: the transaction's own write, else as of its start. */
  async get (key: string): Promise<JsonValue | undefined> {
    this.#assertOpen('get')
    validateKey(key)
    const write = this.#writes.get(key)
    if (write !== undefined) return write.valueJson === undefined ? undefined : JSON.parse(write.valueJson) as JsonValue
    const head = await this.#read(key)
    return head === undefined || head.deleted === true ? undefined : head.value
  }

  /**
   * Live keys in order as of the start, with the transaction's own creates and deletes.
   * The listing itself is not checked at commit (keys created meanwhile do not retry the
   * transaction); the keys it reads with get() or head() are.
   */
  async * keys (options: KeysOptions = {}): AsyncGenerator<string> {
    this.#assertOpen('keys')
    checkOptions(options, 'tx.keys')
    const prefix = checkText(options.prefix, 'tx.keys() option prefix') ?? ''
    if (options.after !== undefined) validateKey(options.after)
    const limit = checkLimit(options.limit, 'tx.keys() option limit')
    const after = options.after
    const own = [...this.#writes].filter(([key]) => key.startsWith(prefix) && (after === undefined || key > after)).sort(([a], [b]) => a < b ? -1 : 1)
    let count = 0
    let i = 0
    const listing = this.#view.keys({ prefix, ...(after === undefined ? {} : { after }) })
    for await (const key of listing) {
      for (; i < own.length && (own[i] as [string, TxWrite])[0] <= key; i++) {
        const [ownKey, write] = own[i] as [string, TxWrite]
        if (ownKey !== key && write.type === 'commit') {
          yield ownKey
          if (++count >= limit) return
        }
      }
      if (this.#writes.get(key)?.type === 'delete') continue
      yield key
      if (++count >= limit) return
    }
    for (; i < own.length; i++) {
      const [ownKey, write] = own[i] as [string, TxWrite]
      if (write.type !== 'commit') continue
      yield ownKey
      if (++count >= limit) return
    }
  }

  /** Write `value` to `key` when the transaction commits. */
  commit (key: string, value: JsonValue, options: TxWriteOptions = {}): void {
    this.#assertOpen('commit')
    validateKey(key)
    checkOptions(options, 'tx.commit')
    this.#writes.set(key, { type: 'commit', valueJson: this.#serialize(value), ...(options.strategy === undefined ? {} : { strategy: options.strategy }) })
  }

  /** Delete `key` when the transaction commits. */
  delete (key: string, options: TxWriteOptions = {}): void {
    this.#assertOpen('delete')
    validateKey(key)
    checkOptions(options, 'tx.delete')
    this.#writes.set(key, { type: 'delete', ...(options.strategy === undefined ? {} : { strategy: options.strategy }) })
  }

  /** End the attempt: later calls on `tx` are refused; returns what to commit. */
  end (): TxCommit {
    this.#over = true
    const reads = new Map<string, string | null>()
    for (const [key, head] of this.#reads) reads.set(key, head?.id ?? null)
    return { reads, writes: this.#writes, view: this.#view }
  }

  async #read (key: string): Promise<Revision | undefined> {
    if (this.#reads.has(key)) return this.#reads.get(key)
    const head = await this.#view.head(key)
    // The first read is the one checked; a concurrent second read of the same key sees the same snapshot.
    if (!this.#reads.has(key)) this.#reads.set(key, head)
    return head
  }

  #assertOpen (method: string): void {
    if (this.#over) throw new InvalidInputError(`tx.${method}() was called after the transaction's function returned; use tx only inside it (and await every call).`)
  }
}

/** The retries option: a whole number ≥ 0 (default DEFAULT_RETRIES). */
export function checkRetries (retries: unknown): number {
  if (retries === undefined) return DEFAULT_RETRIES
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0) throw new InvalidInputError(`transaction() option retries must be a whole number ≥ 0, got ${describe(retries)}.`)
  return retries
}

/** True for a refusal that running the transaction again may avoid: every refused op is a conflict (a key moved). */
export function isRetryable (err: unknown): err is BatchConflictError {
  return err instanceof BatchConflictError && err.conflicts.every((c) => c.code === 'REVKV_CONFLICT' || c.code === 'REVKV_MERGE_CONFLICT')
}

/** Wait before attempt `attempt` + 1: jittered and growing, so transactions that collided spread out. */
export async function backoff (attempt: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt)))
}

/** The error of a transaction that still conflicted after its last attempt: which keys moved. */
export function gaveUp (err: BatchConflictError, attempts: number): BatchConflictError {
  const keys = err.conflicts.map((c) => JSON.stringify(c.key)).join(', ')
  return new BatchConflictError(
    `Transaction gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: keys it depends on kept moving (last time ${keys}). Nothing of it was written. ` +
    'Run it again later, give it more retries, or make it touch fewer busy keys.', err.conflicts)
}
