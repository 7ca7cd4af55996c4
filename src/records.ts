import type { CorruptionError } from './errors.js'
import type { Engine, HeadRecord, ReadAt } from './engines/engine.js'
import { KeyState } from './key-state.js'
import { LruMap } from './lru.js'
import { corruptRevision, parseRecord } from './revision.js'
import type { Revision } from './revision.js'

/** A key state being loaded, and the writes waiting for it. */
class Loading {
  readonly waiters: Array<[use: (state: KeyState) => void, fail: (err: unknown) => void]> = []
  constructor (readonly promise: Promise<KeyState>) {
    // Writers hear of a failure through `fail`; readers through the promise they await.
    promise.catch(() => {})
  }
}

/** Cache bounds; both caches hold only what can be read again from disk. */
export interface CacheOptions {
  /** How many keys' heads to keep in memory (default 100,000). */
  headCacheSize?: number
  /** How many revisions to keep in memory (default 20,000). */
  revisionCacheSize?: number
}

/**
 * Reading records: revisions by id and key states by key, through bounded caches.
 * Nothing here writes; the write path updates these caches as its batches settle.
 */
export class Records {
  readonly #engine: Engine
  readonly #revisions: LruMap<string, Revision>
  readonly #states: LruMap<string, KeyState | Loading>
  readonly #onSettle: (state: KeyState) => void
  /** Revisions just written by this process, found before the cache and the engine. */
  readonly #written: (id: string) => Revision | undefined
  /** Head reads asked for in this turn of the event loop, answered by one engine read (shared engines). */
  #headReads: Map<string, Array<[resolve: (record: HeadRecord | undefined) => void, reject: (err: unknown) => void]>> | undefined

  constructor (engine: Engine, options: CacheOptions, onSettle: (state: KeyState) => void, written: (id: string) => Revision | undefined = () => undefined) {
    this.#engine = engine
    this.#written = written
    this.#revisions = new LruMap(options.revisionCacheSize ?? 20_000)
    this.#states = new LruMap(options.headCacheSize ?? 100_000, (s) => s instanceof Loading || s.busy)
    this.#onSettle = onSettle
  }

  /**
   * A stored revision, or undefined when no revision has that id. Revisions never change
   * once written, so the cache answers for any snapshot (`at`) that holds the revision.
   * `key`, when the caller knows which key the revision should belong to, is named if its
   * record is damaged.
   */
  revision (id: string, key?: string, at?: ReadAt): Revision | undefined | Promise<Revision | undefined> {
    const cached = this.#revisions.get(id) ?? this.#written(id)
    if (cached !== undefined) return cached
    const sync = this.#engine.readSync
    if (sync !== undefined && at === undefined) return this.#parsed(id, sync.revision(id), key)
    return this.#engine.revision(id, at).then((record) => this.#parsed(id, record, key))
  }

  /** A revision read from its record (cached), or undefined when there was none. */
  #parsed (id: string, record: string | undefined, key: string | undefined): Revision | undefined {
    if (record === undefined) return undefined
    const rev = parseRecord(id, record, key)
    this.#revisions.set(id, rev)
    return rev
  }

  /** The key of a revision dropped by compaction, or undefined if `id` was never dropped. */
  async dropped (id: string, at?: ReadAt): Promise<string | undefined> {
    return await this.#engine.dropped(id, at)
  }

  /** A revision history points to (of `key`, if known), or undefined where compaction cut history; missing otherwise is damage. */
  linked (id: string, key?: string, at?: ReadAt): Revision | Promise<Revision | undefined> {
    const found = this.revision(id, key, at)
    return found instanceof Promise ? found.then(async (rev) => rev ?? await this.#cut(id, key, at)) : found ?? this.#cut(id, key, at)
  }

  /** The ids of a key's revisions kept unmerged, as stored (at the snapshot `at`, if given). */
  async unmerged (key: string, at?: ReadAt): Promise<string[]> {
    return await this.#engine.unmerged(key, at)
  }

  async #cut (id: string, key: string | undefined, at: ReadAt | undefined): Promise<undefined> {
    if (await this.dropped(id, at) === undefined) throw corruptRevision(id, key, 'history refers to it but its record is missing')
    return undefined
  }

  /** The state of a key (for reading), loaded from disk on first use and cached (bounded) after. */
  state (key: string): KeyState | Promise<KeyState> {
    const cached = this.#states.get(key)
    if (cached instanceof Loading) return cached.promise
    return cached ?? this.#loadSync(key) ?? this.#startLoad(key).promise
  }

  /**
   * The state of a key, for a write: `use` runs with it synchronously, in call order, in the
   * same callback that puts a freshly loaded state in the cache. The write is then queued
   * on the state (making it busy, so never evicted) before anything else can run: an idle
   * state could otherwise be evicted in between and a second state loaded for the same
   * key, letting two writes pass the same conflict check.
   */
  stateFor (key: string, use: (state: KeyState) => void, fail: (err: unknown) => void): void {
    const cached = this.#states.get(key)
    if (cached instanceof KeyState) {
      use(cached)
      return
    }
    let loaded: KeyState | undefined
    try {
      loaded = cached === undefined ? this.#loadSync(key) : undefined
    } catch (err) {
      fail(err)
      return
    }
    if (loaded !== undefined) use(loaded)
    else (cached ?? this.#startLoad(key)).waiters.push([use, fail])
  }

  /**
   * A key's state read at once, where the engine reads synchronously and the key has no
   * unmerged revisions (listing those takes an iterator): an insert or a cold key then
   * costs no trip through the thread pool. Undefined when it must be loaded asynchronously.
   */
  #loadSync (key: string): KeyState | undefined {
    const sync = this.#engine.readSync
    if (sync === undefined) return undefined
    const record = sync.head(key)
    if ((record?.unmerged ?? 0) > 0) return undefined
    let head: Revision | undefined
    if (record !== undefined) {
      head = this.revision(record.head, key) as Revision | undefined
      if (head === undefined) throw missingHead(key, record.head)
    }
    const state = new KeyState(key, head, [], this.#onSettle)
    this.#states.set(key, state)
    return state
  }

  /**
   * The durable head of a key (what is stored, never a write still in flight). With an
   * engine shared by other processes the cached state is only a hint, so it is read anew.
   */
  head (key: string): Revision | undefined | Promise<Revision | undefined> {
    if (this.#engine.supports.sharedWriters) return this.#read(key).then((read) => read.head)
    const state = this.state(key)
    return state instanceof Promise ? state.then((s) => s.durableHead) : state.durableHead
  }

  /** The ids of a key's unmerged revisions as stored (read anew where other processes write). */
  async durableUnmerged (key: string): Promise<string[]> {
    if (this.#engine.supports.sharedWriters) return await this.unmerged(key)
    return (await this.state(key)).durableUnmerged
  }

  /** Read a key's state again from the engine (another process moved its head); the key must have no batch. */
  async reload (state: KeyState): Promise<void> {
    const { head, unmerged } = await this.#read(state.key)
    state.reset(head, unmerged)
  }

  #startLoad (key: string): Loading {
    // The loading entry stands in the cache (pinned) while loading, so concurrent callers share one load.
    const loading = new Loading(this.#load(key).then((state) => {
      this.#states.set(key, state)
      for (const [use] of loading.waiters) use(state)
      return state
    }, (err: unknown) => {
      this.#states.delete(key)
      for (const [, fail] of loading.waiters) fail(err)
      throw err
    }))
    this.#states.set(key, loading)
    return loading
  }

  async #load (key: string): Promise<KeyState> {
    const { head, unmerged } = await this.#read(key)
    return new KeyState(key, head, unmerged, this.#onSettle)
  }

  /**
   * A key's head record from the engine. Where other processes write, every read of a head
   * goes to the database, so the reads asked for in one turn of the event loop share one
   * engine read (as writes share one batch): many writers reading heads cost one round trip.
   */
  #headRecord (key: string): Promise<HeadRecord | undefined> {
    return new Promise((resolve, reject) => {
      if (this.#headReads === undefined) {
        this.#headReads = new Map()
        setImmediate(() => { this.#readHeads() })
      }
      const waiting = this.#headReads.get(key)
      if (waiting === undefined) this.#headReads.set(key, [[resolve, reject]])
      else waiting.push([resolve, reject])
    })
  }

  #readHeads (): void {
    const reads = this.#headReads as Map<string, Array<[(record: HeadRecord | undefined) => void, (err: unknown) => void]>>
    this.#headReads = undefined
    const keys = [...reads.keys()]
    this.#engine.headRecords(keys).then((records) => {
      records.forEach((record, i) => { for (const [resolve] of reads.get(keys[i] as string) ?? []) resolve(record) })
    }, (err: unknown) => {
      for (const waiting of reads.values()) for (const [, reject] of waiting) reject(err)
    })
  }

  /** A key's head revision and unmerged ids, from the engine. */
  async #read (key: string): Promise<{ head: Revision | undefined, unmerged: string[] }> {
    const record = await this.#headRecord(key)
    if (record === undefined) return { head: undefined, unmerged: [] }
    return { head: await this.#headOf(key, record), unmerged: (record.unmerged ?? 0) > 0 ? await this.unmerged(key) : [] }
  }

  /** A key's head as stored at the snapshot `at`, read from the engine (never the cached state, which is the latest). */
  async headAt (key: string, at: ReadAt): Promise<Revision | undefined> {
    const record = await this.#engine.head(key, at)
    return record === undefined ? undefined : await this.#headOf(key, record, at)
  }

  async #headOf (key: string, record: HeadRecord, at?: ReadAt): Promise<Revision> {
    const head = await this.revision(record.head, key, at)
    if (head === undefined) throw missingHead(key, record.head)
    return head
  }

  /** Forget the cached states of keys changed behind the write path's back (import); busy ones stay. */
  forget (keys: Iterable<string>): void {
    for (const key of keys) {
      const state = this.#states.get(key)
      if (state instanceof KeyState && !state.busy) this.#states.delete(key)
    }
  }

  /** Forget the cached revisions (heads stay: compaction never drops a head). */
  clearRevisions (): void {
    this.#revisions.clear()
  }

  /** Forget everything cached (used by close()). */
  clear (): void {
    this.#revisions.clear()
    this.#states.clear()
  }
}

/** The damage of a head record naming a revision that is not stored. */
function missingHead (key: string, id: string): CorruptionError {
  return corruptRevision(id, key, 'the key\'s head record points to it but its record is missing')
}
