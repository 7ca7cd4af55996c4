import type { Batch, BatchMember } from './group-commit.js'
import { CorruptionError } from './errors.js'
import { UTF8 } from './layout.js'
import type { RevkvDatabase } from './layout.js'

/** One change of the store: a key's head moved to `rev` (a tombstone if `deleted`), or `rev` was kept unmerged. */
export interface Change {
  /** Store-wide, strictly increasing; resume a feed with the last one seen. */
  seq: number
  key: string
  rev: string
  deleted?: true
  /** The write was kept unmerged by the manual strategy; the head did not move. */
  kept?: true
}

/** Options of store.changes() and store.watch(). */
export interface ChangesOptions {
  /** Only changes after this sequence number (default 0: from the start). */
  since?: number
  /** Only keys starting with this. */
  prefix?: string
  /** At most this many (changes() only). */
  limit?: number
  /** watch() only: end the watch when this signal aborts. */
  signal?: AbortSignal
}

/** One change as stored: the key, the revision, and DELETED | KEPT flags. */
export type Entry = [key: string, rev: string, flags: number]
const DELETED = 1
const KEPT = 2
const PREFIX = 's!'

/** The entries of a stored change record; one that is not a list of entries throws CorruptionError. */
export function decodeChanges (stored: string, text: string): Entry[] {
  let entries: unknown
  try {
    entries = JSON.parse(text)
  } catch (err) {
    throw CorruptionError.of(`The change record ${stored}`, 'it is not valid JSON', {}, { cause: err })
  }
  if (!Array.isArray(entries) || !entries.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string' && typeof e[2] === 'number')) {
    throw CorruptionError.of(`The change record ${stored}`, 'it is not a list of [key, revision, flags] entries', {})
  }
  return entries as Entry[]
}

/** LevelDB key of the change record whose first sequence number is `seq` (fixed width, so key order is seq order). */
function changeKey (seq: number): string {
  return PREFIX + seq.toString(16).padStart(16, '0')
}

interface Pending {
  entries: Entry[]
  first: number
  /** How many sequence numbers the batch took (kept when a failed batch drops its entries). */
  count: number
  done: boolean
}

interface Watcher {
  notify: (change: Change) => void
  wake: () => void
}

/**
 * The changes feed. Sequence numbers are given when a batch is sealed, and each batch
 * writes one record (s!<first seq>) listing its changes, so the feed costs one entry per
 * batch, not per write. Batches may finish out of order; a change becomes visible (to
 * changes() and watchers) only once every batch sealed before it has finished, so a
 * consumer that resumes from the last sequence number it saw can never skip one. The
 * numbers of a failed batch are simply never used.
 */
export class ChangeLog implements BatchMember {
  readonly #db: RevkvDatabase
  #next: number
  #published: number
  readonly #pending = new Map<Batch, Pending>()
  readonly #order: Pending[] = []
  readonly #watchers = new Set<Watcher>()
  #closed = false

  #loading: Promise<void> | undefined
  #loaded = false

  constructor (db: RevkvDatabase) {
    this.#db = db
    this.#next = 1
    this.#published = 0
  }

  /**
   * Undefined once the feed knows its last sequence number, else a promise of that.
   * Loaded on first use (the first write or read of the feed), not at open: finding the
   * last change record is an iterator seek, about a millisecond on a large store, which
   * opening a store and answering a first `get` should not pay.
   */
  ready (): Promise<void> | undefined {
    if (this.#loaded) return undefined
    if (this.#loading === undefined) {
      const loading = this.#findLast()
      this.#loading = loading
      // Registered first, so it runs before any write that waited for the load: no write
      // can slip past the writes queued behind the load.
      loading.then(() => { this.#loaded = true }, () => { this.#loading = undefined })
    }
    return this.#loading
  }

  async #findLast (): Promise<void> {
    for await (const [key, value] of this.#db.iterator({ gt: PREFIX, lt: 's"', reverse: true, limit: 1, ...UTF8 })) {
      const last = parseInt(key.slice(PREFIX.length), 16) + decodeChanges(key, value).length - 1
      this.#next = last + 1
      this.#published = last
    }
  }

  /** The last sequence number visible to readers. */
  get published (): number {
    return this.#published
  }

  /** Record a change made by a write decided into `batch`. */
  record (batch: Batch, key: string, rev: string, deleted: boolean, kept: boolean): void {
    let pending = this.#pending.get(batch)
    if (pending === undefined) {
      pending = { entries: [], first: 0, count: 0, done: false }
      this.#pending.set(batch, pending)
      batch.members.add(this)
    }
    pending.entries.push([key, rev, (deleted ? DELETED : 0) | (kept ? KEPT : 0)])
  }

  seal (batch: Batch): void {
    const pending = this.#pending.get(batch)
    if (pending === undefined) return
    pending.first = this.#next
    pending.count = pending.entries.length
    this.#next += pending.count
    this.#order.push(pending)
    batch.put(changeKey(pending.first), JSON.stringify(pending.entries))
  }

  settle (ok: boolean, batch: Batch): void {
    const pending = this.#pending.get(batch)
    if (pending === undefined) return
    this.#pending.delete(batch)
    pending.done = true
    if (!ok) pending.entries.length = 0
    // Publish in sequence order only: everything up to the oldest batch still in flight.
    while (this.#order[0]?.done === true) {
      const next = this.#order.shift() as Pending
      for (const [i, entry] of next.entries.entries()) {
        const change = toChange(next.first + i, entry)
        this.#published = change.seq
        for (const watcher of this.#watchers) watcher.notify(change)
      }
      // A failed batch's numbers are passed over: they were never written.
      this.#published = Math.max(this.#published, next.first + next.count - 1)
    }
  }

  /** Changes after `since`, in order, up to the last published one. */
  async * read (options: ChangesOptions = {}): AsyncGenerator<Change> {
    await this.ready()
    const since = options.since ?? 0
    const prefix = options.prefix ?? ''
    let left = options.limit ?? Infinity
    if (left <= 0) return
    // The record holding since + 1 may start before it: start from the last record at or before it.
    let start = changeKey(since + 1)
    for await (const key of this.#db.keys({ gt: PREFIX, lte: start, reverse: true, limit: 1, ...UTF8 })) start = key
    for await (const [key, value] of this.#db.iterator({ gte: start, lt: 's"', ...UTF8 })) {
      const first = parseInt(key.slice(PREFIX.length), 16)
      for (const [i, entry] of decodeChanges(key, value).entries()) {
        const seq = first + i
        if (seq > this.#published) return
        if (seq <= since || !entry[0].startsWith(prefix)) continue
        yield toChange(seq, entry)
        if (--left <= 0) return
      }
    }
  }

  /** Changes after `since`, then every new one as it is published, until the store closes or the caller stops. */
  async * watch (options: ChangesOptions = {}): AsyncGenerator<Change> {
    await this.ready()
    const prefix = options.prefix ?? ''
    const queue: Change[] = []
    let wake: (() => void) | undefined
    const listener: Watcher = {
      notify: (change) => {
        if (!change.key.startsWith(prefix)) return
        queue.push(change)
        wake?.()
      },
      wake: () => wake?.()
    }
    // Listen before replaying, so nothing published during the replay is missed;
    // sequence numbers drop what the replay already gave.
    this.#watchers.add(listener)
    const stop = (): void => { wake?.() }
    options.signal?.addEventListener('abort', stop)
    const over = (): boolean => this.#closed || options.signal?.aborted === true
    try {
      let last = options.since ?? 0
      for await (const change of this.read({ since: last, prefix })) {
        last = change.seq
        yield change
      }
      for (;;) {
        while (queue.length > 0) {
          const change = queue.shift() as Change
          if (change.seq <= last) continue
          last = change.seq
          yield change
        }
        if (over()) return
        await new Promise<void>((resolve) => { wake = resolve })
        if (over()) return
        wake = undefined
      }
    } finally {
      this.#watchers.delete(listener)
      options.signal?.removeEventListener('abort', stop)
    }
  }

  /** End every watch. */
  close (): void {
    this.#closed = true
    for (const watcher of this.#watchers) watcher.wake()
  }
}

function toChange (seq: number, [key, rev, flags]: Entry): Change {
  return { seq, key, rev, ...((flags & DELETED) !== 0 ? { deleted: true as const } : {}), ...((flags & KEPT) !== 0 ? { kept: true as const } : {}) }
}
