import { DELETED, KEPT } from './engines/engine.js'
import type { Engine, Entry } from './engines/engine.js'
import type { Batch, BatchMember } from './group-commit.js'

/** One change of the store: a key's head moved to `rev` (a tombstone if `deleted`), or `rev` was kept unmerged. */
export interface Change {
  /** Store-wide, strictly increasing; resume a feed with the last one seen. */
  seq: number
  key: string
  rev: string
  deleted?: true
  /** The write was kept unmerged by the manual strategy; the head did not move. */
  kept?: true
  /**
   * Made by a multi-key batch (store.batch, a transaction): the sequence number of the
   * batch's first change. A batch's changes have consecutive numbers and share this id.
   */
  tx?: number
  /** With tx: how many changes the batch made (its last one is tx + txSize - 1). */
  txSize?: number
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

/**
 * A multi-key batch's changes carry their position in the batch and the batch's size in the
 * stored flags (14 bits each above DELETED and KEPT, so an int4 column and old records
 * stay as they are): a reader derives the batch's id from any one change, even one read
 * from the middle of the batch. A size of 0 means a change of no multi-key batch.
 */
const TX_OFFSET_SHIFT = 2
const TX_SIZE_SHIFT = 16
const TX_FIELD = 0x3fff
/** The most changes one multi-key batch can number (the size field's range). */
export const MAX_TX_CHANGES = TX_FIELD

/** Where a change stands in its multi-key batch: its position and the batch's size. */
export interface TxPosition {
  offset: number
  size: number
}

interface Pending {
  entries: Entry[]
  first: number
  done: boolean
}

interface Watcher {
  notify: (change: Change) => void
  wake: () => void
}

/** How often watchers look for other processes' changes when nothing wakes them (engines with sharedWriters). */
export const POLL_MS = 250

/**
 * The changes feed. Each batch's changes get consecutive sequence numbers from the engine
 * when the batch is written, and a change becomes visible (to changes() and watchers) only
 * once every change numbered before it is durable, so a consumer that resumes from the last
 * sequence number it saw can never skip one.
 *
 * With an engine of one process (LevelDB) the numbers are given in the order batches are
 * written, batches may finish out of order, and changes are published here in number order
 * as batches finish; the numbers of a failed batch are simply never used. With an engine
 * shared by other processes the database orders the numbers (see the engine), so watchers
 * are fed from the database itself: after each local batch, when the engine says another
 * process wrote (notify), and by polling every POLL_MS while anyone watches, so that no
 * change depends on a notification arriving.
 */
export class ChangeLog implements BatchMember {
  readonly #engine: Engine
  readonly #shared: boolean
  #published = 0
  readonly #pending = new Map<Batch, Pending>()
  readonly #order: Pending[] = []
  readonly #watchers = new Set<Watcher>()
  #closed = false
  #loading: Promise<void> | undefined
  #loaded = false
  /** Shared engines: the read of new changes under way, and whether another is wanted after it. */
  #tailing: Promise<void> | undefined
  #tailAgain = false
  #poll: NodeJS.Timeout | undefined
  #unlisten: Promise<(() => Promise<void>) | undefined> | undefined

  constructor (engine: Engine) {
    this.#engine = engine
    this.#shared = engine.supports.sharedWriters
  }

  /**
   * Undefined once the feed knows its last sequence number, else a promise of that.
   * Loaded on first use (the first write or read of the feed), not at open: finding the
   * last change is a read that opening a store and answering a first `get` should not pay.
   */
  ready (): Promise<void> | undefined {
    if (this.#loaded) return undefined
    if (this.#loading === undefined) {
      const loading = this.#engine.lastSeq().then((last) => { this.#published = Math.max(this.#published, last) })
      this.#loading = loading
      // Registered first, so it runs before any write that waited for the load: no write
      // can slip past the writes queued behind the load.
      loading.then(() => { this.#loaded = true }, () => { this.#loading = undefined })
    }
    return this.#loading
  }

  /** The last sequence number readers can see, once the feed is loaded: every change up to it is durable. */
  async visible (): Promise<number> {
    await this.ready()
    // A shared engine's database holds only changes whose predecessors are durable too.
    return this.#shared ? await this.#engine.lastSeq() : this.#published
  }

  /** The last sequence number visible to readers. */
  get published (): number {
    return this.#published
  }

  /** Record a change made by a write decided into `batch`. */
  record (batch: Batch, key: string, rev: string, deleted: boolean, kept: boolean, tx?: TxPosition): void {
    const entry = changeEntry(key, rev, deleted, kept, tx)
    batch.records.addChange(entry)
    let pending = this.#pending.get(batch)
    if (pending === undefined) {
      pending = { entries: [], first: 0, done: false }
      this.#pending.set(batch, pending)
      batch.members.add(this)
    }
    pending.entries.push(entry)
  }

  seal (batch: Batch): void {
    // Only a one-process engine publishes here, in the order batches are written.
    const pending = this.#pending.get(batch)
    if (pending !== undefined && !this.#shared) this.#order.push(pending)
  }

  settle (ok: boolean, batch: Batch): void {
    const pending = this.#pending.get(batch)
    if (pending === undefined) return
    this.#pending.delete(batch)
    pending.done = true
    if (this.#shared) {
      const first = batch.outcome?.firstSeq
      if (!ok || first === undefined) return
      // With watchers, read what the database has (other processes' changes too, in order).
      // Without, only note how far the feed reached: a watcher that comes later replays from
      // its own `since`, and every change numbered below this batch's was committed before it.
      if (this.#watchers.size > 0) this.#tail()
      else this.#published = Math.max(this.#published, first + pending.entries.filter(([key]) => !batch.stale(key)).length - 1)
      return
    }
    if (!ok || batch.outcome?.firstSeq === undefined) pending.entries.length = 0
    else pending.first = batch.outcome.firstSeq
    // Publish in sequence order only: everything up to the oldest batch still in flight.
    while (this.#order[0]?.done === true) {
      const next = this.#order.shift() as Pending
      for (const [i, entry] of next.entries.entries()) this.#publish(toChange(next.first + i, entry))
    }
  }

  /**
   * Publish changes written outside the write path (sync applies heads with writes paused,
   * so no batch of the write path is in flight before them): `firstSeq` is their batch's.
   */
  written (firstSeq: number | undefined, entries: readonly Entry[]): void {
    if (firstSeq === undefined || entries.length === 0) return
    if (this.#shared) {
      if (this.#watchers.size > 0) this.#tail()
      else this.#published = Math.max(this.#published, firstSeq + entries.length - 1)
      return
    }
    for (const [i, entry] of entries.entries()) this.#publish(toChange(firstSeq + i, entry))
  }

  #publish (change: Change): void {
    this.#published = change.seq
    for (const watcher of this.#watchers) watcher.notify(change)
  }

  /** Shared engines: read what the database has past the last published change, one read at a time. */
  #tail (): void {
    if (this.#tailing !== undefined) {
      this.#tailAgain = true
      return
    }
    this.#tailing = (async () => {
      do {
        this.#tailAgain = false
        for await (const [seq, entry] of this.#engine.changes(this.#published)) this.#publish(toChange(seq, entry))
      } while (this.#tailAgain && !this.#closed)
    })().catch(() => {
      // The database is unreachable: the next poll, notification or local write tries again.
    }).finally(() => { this.#tailing = undefined })
  }

  /** Changes after `since`, in order, up to the last published one. */
  async * read (options: ChangesOptions = {}): AsyncGenerator<Change> {
    await this.ready()
    const since = options.since ?? 0
    const prefix = options.prefix ?? ''
    let left = options.limit ?? Infinity
    if (left <= 0) return
    // A shared engine's database holds only changes whose predecessors are durable too.
    const last = this.#shared ? Infinity : this.#published
    for await (const [seq, entry] of this.#engine.changes(since)) {
      if (seq > last) return
      if (!entry[0].startsWith(prefix)) continue
      yield toChange(seq, entry)
      if (--left <= 0) return
    }
  }

  /** Shared engines: look for other processes' changes while anyone watches. */
  #follow (): void {
    if (!this.#shared || this.#poll !== undefined) return
    this.#poll = setInterval(() => { this.#tail() }, POLL_MS)
    this.#poll.unref()
    const listen = this.#engine.listen
    if (this.#engine.supports.notify && listen !== undefined) {
      this.#unlisten ??= listen.call(this.#engine, () => { this.#tail() }).catch(() => undefined)
    }
  }

  #unfollow (): void {
    if (this.#watchers.size > 0 || this.#poll === undefined) return
    clearInterval(this.#poll)
    this.#poll = undefined
    const unlisten = this.#unlisten
    this.#unlisten = undefined
    void unlisten?.then(async (stop) => { await stop?.() }).catch(() => {})
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
    this.#follow()
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
      this.#unfollow()
      options.signal?.removeEventListener('abort', stop)
    }
  }

  /** End every watch. */
  async close (): Promise<void> {
    this.#closed = true
    for (const watcher of this.#watchers) watcher.wake()
    this.#watchers.clear()
    this.#unfollow()
    await this.#tailing
  }
}

/** The stored form of a change: a head moved to `rev` (a tombstone if `deleted`), or `rev` kept unmerged (`kept`). */
export function changeEntry (key: string, rev: string, deleted: boolean, kept: boolean, tx?: TxPosition): Entry {
  return [key, rev, (deleted ? DELETED : 0) | (kept ? KEPT : 0) | (tx === undefined ? 0 : (tx.offset << TX_OFFSET_SHIFT) | (tx.size << TX_SIZE_SHIFT))]
}

/** A stored change as the feed gives it. */
export function toChange (seq: number, [key, rev, flags]: Entry): Change {
  const change: Change = { seq, key, rev }
  if ((flags & DELETED) !== 0) change.deleted = true
  if ((flags & KEPT) !== 0) change.kept = true
  const size = (flags >>> TX_SIZE_SHIFT) & TX_FIELD
  if (size > 0) {
    change.tx = seq - ((flags >>> TX_OFFSET_SHIFT) & TX_FIELD)
    change.txSize = size
  }
  return change
}
