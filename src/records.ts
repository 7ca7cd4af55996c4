import type { AbstractSnapshot } from 'abstract-level'
import { KeyState } from './key-state.js'
import { decodeHead, droppedKey, headKey, idOfUnmergedKey, revisionKey, unmergedRange, UTF8 } from './layout.js'
import type { RevkvDatabase } from './layout.js'
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

/** Where a read looks: an explicit snapshot (the store at one moment), or the latest data when absent. */
export interface ReadAt {
  snapshot?: AbstractSnapshot | undefined
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
  readonly #db: RevkvDatabase
  readonly #revisions: LruMap<string, Revision>
  readonly #states: LruMap<string, KeyState | Loading>
  readonly #onSettle: (state: KeyState) => void

  constructor (db: RevkvDatabase, options: CacheOptions, onSettle: (state: KeyState) => void) {
    this.#db = db
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
    const cached = this.#revisions.get(id)
    if (cached !== undefined) return cached
    return this.#db.get(revisionKey(id), readOptions(at)).then((record) => {
      if (record === undefined) return undefined
      const rev = parseRecord(id, record, key)
      this.#revisions.set(id, rev)
      return rev
    })
  }

  /** The key of a revision dropped by compaction, or undefined if `id` was never dropped. */
  async dropped (id: string, at?: ReadAt): Promise<string | undefined> {
    return await this.#db.get(droppedKey(id), readOptions(at))
  }

  /** A revision history points to (of `key`, if known), or undefined where compaction cut history; missing otherwise is damage. */
  linked (id: string, key?: string, at?: ReadAt): Revision | Promise<Revision | undefined> {
    const found = this.revision(id, key, at)
    return found instanceof Promise ? found.then(async (rev) => rev ?? await this.#cut(id, key, at)) : found ?? this.#cut(id, key, at)
  }

  /** The ids of a key's revisions kept unmerged, as stored (at the snapshot `at`, if given). */
  async unmerged (key: string, at?: ReadAt): Promise<string[]> {
    const ids: string[] = []
    for await (const stored of this.#db.keys({ ...unmergedRange(key), ...readOptions(at) })) ids.push(idOfUnmergedKey(stored))
    return ids
  }

  async #cut (id: string, key: string | undefined, at: ReadAt | undefined): Promise<undefined> {
    if (await this.dropped(id, at) === undefined) throw corruptRevision(id, key, 'history refers to it but its record is missing')
    return undefined
  }

  /** The state of a key (for reading), loaded from disk on first use and cached (bounded) after. */
  state (key: string): KeyState | Promise<KeyState> {
    const cached = this.#states.get(key)
    if (cached instanceof Loading) return cached.promise
    return cached ?? this.#startLoad(key).promise
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
    (cached ?? this.#startLoad(key)).waiters.push([use, fail])
  }

  /** The durable head of a key (what is on disk, never a write still in flight). */
  head (key: string): Revision | undefined | Promise<Revision | undefined> {
    const state = this.state(key)
    return state instanceof Promise ? state.then((s) => s.durableHead) : state.durableHead
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
    const text = await this.#db.get(headKey(key), UTF8)
    if (text === undefined) return new KeyState(key, undefined, [], this.#onSettle)
    const record = decodeHead(key, text)
    const head = await this.revision(record.head, key)
    if (head === undefined) throw corruptRevision(record.head, key, 'the key\'s head record points to it but its record is missing')
    const unmerged = (record.unmerged ?? 0) > 0 ? await this.unmerged(key) : []
    return new KeyState(key, head, unmerged, this.#onSettle)
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

function readOptions (at: ReadAt | undefined): typeof UTF8 | (typeof UTF8 & ReadAt) {
  return at?.snapshot === undefined ? UTF8 : { ...UTF8, snapshot: at.snapshot }
}
