import { ClosedError, InvalidInputError, LockedError, NotFoundError } from './errors.js'
import { diffValues } from './json-diff.js'
import type { JsonPatchOperation } from './json-diff.js'
import { checkResolutions } from './json-merge.js'
import type { ConflictSide, PlaceResolution } from './json-merge.js'
import type { JsonValue } from './json.js'
import type { Engine } from './engines/engine.js'
import { openEngine } from './engines/open.js'
import type { EngineOptions } from './engines/open.js'
import type { CacheOptions } from './records.js'
import { decodeRecord, describe, serializeValue, storeValue, validateKey, validateRevisionId } from './revision.js'
import type { Revision, StoredValue } from './revision.js'
import { resolvingMerge } from './strategies/merge.js'
import { StrategyRegistry } from './strategies/registry.js'
import type { Strategy, StrategyRef } from './strategies/types.js'
import { WritePath } from './write-path.js'
import { ChangeLog } from './changes.js'
import type { Change, ChangesOptions } from './changes.js'
import { verifyStore } from './verify.js'
import { exportLines, importLines } from './dump.js'
import { checkCompactOptions, compactStore } from './compact.js'
import type { CompactOptions, CompactReport } from './compact.js'
import type { ExportOptions, ImportReport } from './dump.js'
import type { VerifyOptions, VerifyReport } from './verify.js'
import { checkDate, checkLimit, checkOptions, checkText } from './options.js'
import { checkOnExists } from './create.js'
import type { OnExists, RenameFunction } from './create.js'
import { checkMs, checkOwner, checkToken, Leases, MAX_TTL_MS, MAX_WAIT_MS } from './leases.js'
import type { Lease, LockOptions, LocksOptions, RenewOptions } from './leases.js'
import type { CommitOp, WriteOp } from './write-path.js'
import { checkBatchOps, inOp } from './batch-ops.js'
import type { BatchOp, BatchOptions } from './batch-ops.js'
import { backoff, checkRetries, gaveUp, isRetryable, Transaction } from './transaction.js'
import type { TransactionOptions, TxCommit, TxView } from './transaction.js'
import type { RevkvStore, StoreCapabilities } from './store-interface.js'
import { StoreSync } from './sync/store-side.js'
import { pull, push } from './sync/sync.js'
import { kSync } from './sync/types.js'
import { readRemotes, writeRemote } from './sync/remotes.js'
import { stampImport } from './sync/marks.js'
import type { SyncOptions, SyncPeer, SyncReport } from './sync/types.js'
import { headAsOf, keysAsOf, momentOf } from './as-of.js'
import type { AsOf, AsOfReader, Moment } from './as-of.js'
import { checkKeysOptions, checkLogOptions, liveKeys, logFrom, revisionOfKey } from './reads.js'
import { StoreSnapshot } from './snapshot.js'

/** Options of Store.open(). Give `path` (a LevelDB directory) or `db` (any abstract-level database). */
export interface StoreOptions extends CacheOptions, EngineOptions {
  /** The strategy for stale writes when nothing more specific applies (default 'reject'). */
  strategy?: StrategyRef
  /** Strategies by key prefix; the longest matching prefix wins. */
  strategies?: Record<string, StrategyRef>
  /** fsync every write batch before acknowledging its writes (default false). */
  sync?: boolean
  /** The largest value accepted, in bytes of JSON (default 1 MiB). */
  maxValueBytes?: number
  /** The author recorded on writes that name none. */
  author?: string
  /** Group commit: a batch is written once it holds this many entries, else at the end of the turn (default 32). */
  batchSize?: number
  /** Group commit: how many batches may be written at once (default 4). */
  batchesInFlight?: number
  /** The time now in epoch milliseconds, for revision times and lease expiry (default Date.now); tests pass a fake one. */
  clock?: () => number
}

/** Options of commit() and delete(). */
export interface WriteOptions {
  /** undefined: on top of the head (never stale); null: create only; a revision id: stale unless it is the head. */
  parent?: string | null
  /** The strategy for this write if it is stale; overrides prefix rules and the default. */
  strategy?: StrategyRef
  /**
   * With parent null, when the key is live: 'reject' (default: a stale create, decided by the
   * strategy), 'replace' (write on top of the head) or 'rename' (create under the first free
   * name, see `rename`). The returned revision's `key` says where the value went.
   */
  onExists?: OnExists
  /** With onExists 'rename': names the n-th candidate (default: `report.json` -> `report (1).json`). */
  rename?: RenameFunction
  /** Refuse the write (ConflictError) if the key's head was written after this time: give the `time` of the revision you read. */
  ifUnmodifiedSince?: Date
  author?: string
  message?: string
  /** The fencing token of the lease held on the key (store.lock()); needed to write a leased key. */
  lock?: number
}

/** Options of merge(). */
export interface MergeOptions {
  /** How to join (default 'merge'); 'reject' and 'manual' cannot settle a merge. */
  strategy?: StrategyRef
  /** With the merge strategy: settle conflicting places with this side. */
  onConflict?: ConflictSide
  /** An explicit resolution: the merged value, written as is. */
  value?: JsonValue
  /**
   * With the merge strategy: settle conflicting places by their JSON Pointer (the `path`
   * MergeConflictError reports) with 'ours', 'theirs', 'base' or { value }. Places not named
   * still conflict; a pointer that names no conflicting place is an InvalidInputError.
   */
  resolutions?: Record<string, PlaceResolution>
  author?: string
  message?: string
  /** The fencing token of the lease held on the key; needed to merge into a leased key. */
  lock?: number
}

/** Options of get(). */
export interface GetOptions extends HeadOptions {
  /** Read this revision of the key instead of the head. */
  rev?: string
}

/** Options of head() (and get()). */
export interface HeadOptions {
  /** Read the key as it was then: a time (a Date, epoch ms) or { seq }, a changes-feed sequence number (see the README). */
  asOf?: AsOf
}

/** Options of log(). */
export interface LogOptions {
  /** At most this many revisions. */
  limit?: number
  /** Follow only first parents: the line of heads, without merged-in side revisions. */
  firstParent?: boolean
}

/** Options of keys(). */
export interface KeysOptions {
  /** Only keys starting with this. */
  prefix?: string
  /** At most this many keys. */
  limit?: number
  /** Start after this key (for paging). */
  after?: string
  /** The keys that were live then: a time (a Date, epoch ms) or { seq } (see the README). */
  asOf?: AsOf
}

/** Options of resolveRevision(). */
export interface ResolveOptions {
  /** The key the revision must belong to; needed for HEAD and HEAD~N. */
  key?: string
}

/** A write op before its promise callbacks are attached (distributed over the union). */
type OpFields = WriteOp extends infer T ? T extends WriteOp ? Omit<T, 'resolve' | 'reject' | 'arrived'> : never : never

const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
const MIN_PREFIX = 4
/**
 * Batches in flight on an engine shared with other processes. PostgreSQL commits batches
 * one after another (the change counter's row lock, see engines/postgres/batch.ts), so more
 * in flight would only split the writes waiting meanwhile into smaller batches, each holding
 * a connection while it waits: one in flight measured ~1.5× the throughput of four on
 * distinct keys, and the same on a hot key.
 */
const SHARED_BATCHES_IN_FLIGHT = 1
/** Store's capabilities: writes decided in this process, in call order; other processes write too where the engine says so. */
const STORE_SUPPORTS = Object.freeze<StoreCapabilities>({ customStrategies: true, callOrder: true, sharedWriters: false })
/**
 * On an engine shared with other processes, reads and writes are round trips over a pool
 * of connections that may complete in any order, and other processes' writes interleave:
 * who wins a hot key is the database's order, not this process's call order.
 */
const SHARED_STORE_SUPPORTS = Object.freeze<StoreCapabilities>({ customStrategies: true, callOrder: false, sharedWriters: true })

/** A versioned key-value store: every write is an immutable revision in a per-key history. */
export class Store implements RevkvStore {
  readonly #engine: Engine
  readonly #path: WritePath
  readonly #strategies: StrategyRegistry
  readonly #maxValueBytes: number
  readonly #author: string | undefined
  readonly #sync: boolean
  readonly #clock: () => number
  readonly #snapshots = new Set<StoreSnapshot>()
  #closing: Promise<void> | undefined
  #syncSide: StoreSync | undefined

  private constructor (engine: Engine, options: StoreOptions, strategies: StrategyRegistry, maxValueBytes: number) {
    this.#engine = engine
    this.#strategies = strategies
    this.#maxValueBytes = maxValueBytes
    this.#author = options.author
    this.#sync = options.sync === true
    const clock = options.clock ?? Date.now
    this.#clock = clock
    const leases = new Leases(engine, clock, options.sync === true)
    this.#path = new WritePath(engine, new ChangeLog(engine), leases, { ...options, sync: options.sync === true, maxValueBytes, flushEntries: options.batchSize, maxInFlight: options.batchesInFlight ?? (engine.supports.sharedWriters ? SHARED_BATCHES_IN_FLIGHT : undefined), clock })
  }

  /** Open a store on a LevelDB directory (a path) or on the database given in options. */
  static async open (pathOrOptions: string | StoreOptions): Promise<Store> {
    const options: StoreOptions = typeof pathOrOptions === 'string' ? { path: pathOrOptions } : pathOrOptions
    if (options === null || typeof options !== 'object') {
      throw new InvalidInputError(`Store.open() needs a directory path or an options object, got ${describe(pathOrOptions)}.`)
    }
    const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES
    if (!Number.isSafeInteger(maxValueBytes) || maxValueBytes < 1) {
      throw new InvalidInputError(`Option maxValueBytes must be a positive integer, got ${describe(options.maxValueBytes)}.`)
    }
    for (const name of ['headCacheSize', 'revisionCacheSize', 'batchSize', 'batchesInFlight'] as const) {
      const size = options[name]
      if (size !== undefined && (!Number.isSafeInteger(size) || size < 1)) {
        throw new InvalidInputError(`Option ${name} must be a positive integer, got ${describe(size)}.`)
      }
    }
    checkText(options.author, 'Option author')
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new InvalidInputError(`Option clock must be a function returning epoch milliseconds (like Date.now), got ${describe(options.clock)}.`)
    }
    // Strategies are checked before the database is touched: bad options leave nothing behind.
    const strategies = new StrategyRegistry(options.strategy, options.strategies)
    return new Store(await openEngine(options), options, strategies, maxValueBytes)
  }

  /** What this store can do; whether other processes write it is the engine's to say. */
  get supports (): StoreCapabilities {
    return this.#engine.supports.sharedWriters ? SHARED_STORE_SUPPORTS : STORE_SUPPORTS
  }

  /** The largest value a write may store, in bytes of JSON (the maxValueBytes it was opened with). */
  get maxValueBytes (): number {
    return this.#maxValueBytes
  }

  /** Write a new value for a key; returns the new head revision. */
  commit (key: string, value: JsonValue, options: WriteOptions = {}): Promise<Revision> {
    // Not async: the hot path returns the write path's own promise, one promise hop fewer.
    try {
      this.#assertOpen('commit')
      validateKey(key)
      checkOptions(options, 'commit')
      const stored = storeValue(value, this.#maxValueBytes)
      return this.#write(this.#writeOp('commit', key, stored, options))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** Delete a key by writing a tombstone revision; its history stays. */
  async delete (key: string, options: WriteOptions = {}): Promise<Revision> {
    this.#assertOpen('delete')
    validateKey(key)
    checkOptions(options, 'delete')
    if (options.parent === null) {
      throw new InvalidInputError('delete() cannot be create-only (parent: null); give the head revision id as parent, or no parent.')
    }
    return await this.#write(this.#writeOp('delete', key, undefined, options))
  }

  /**
   * Several writes to distinct keys, all or nothing: each op is decided by its key's rules,
   * and either every op's revisions are written in one atomic commit, or none is and the
   * BatchConflictError lists every refused op. Returns each key's new head, in op order.
   */
  async batch (ops: BatchOp[], options: BatchOptions = {}): Promise<Revision[]> {
    this.#assertOpen('batch')
    checkOptions(options, 'batch')
    const author = checkText(options.author, 'batch() option author') ?? this.#author
    const message = checkText(options.message, 'batch() option message')
    const writes = checkBatchOps(ops).map((op, i) => inOp(i, () => {
      const stored = op.type === 'commit' ? storeValue(op.value, this.#maxValueBytes) : undefined
      return this.#writeOp(op.type, op.key, stored, { parent: op.parent, strategy: op.strategy, lock: op.lock }, author, message) as WriteOp
    }))
    if (writes.length === 0) return []
    return await this.#path.submitGroup(writes) as Revision[]
  }

  /**
   * Run `fn` as a serializable transaction: its reads see one snapshot of the store taken
   * when it starts, and its writes are made together when it returns, only if every key it
   * read still has the head it saw; otherwise `fn` runs again (up to `retries` times, with
   * jittered backoff). `fn` may run several times, so it must not act outside `tx`.
   * Resolves with what `fn` returned.
   */
  async transaction<T> (fn: (tx: Transaction) => Promise<T> | T, options: TransactionOptions = {}): Promise<T> {
    this.#assertOpen('transaction')
    if (typeof fn !== 'function') throw new InvalidInputError(`transaction() takes a function (tx) => ..., got ${describe(fn)}.`)
    checkOptions(options, 'transaction')
    const retries = checkRetries(options.retries)
    const author = checkText(options.author, 'transaction() option author') ?? this.#author
    const message = checkText(options.message, 'transaction() option message')
    for (let attempt = 0; ; attempt++) {
      // One snapshot per attempt (closed with the store, like any other).
      const view: TxView = await this.snapshot()
      let open = true
      const release = async (): Promise<void> => {
        if (!open) return
        open = false
        await view.close()
      }
      try {
        const tx = new Transaction(view, (value) => serializeValue(value, this.#maxValueBytes))
        let commit: TxCommit | undefined
        let result: T
        try {
          result = await fn(tx)
        } finally {
          commit = tx.end()
        }
        // A transaction that writes nothing read one snapshot: that moment is its place in the serial order.
        if (commit.writes.size > 0) {
          const ops = await this.#txOps(commit, author, message)
          // The snapshot goes before the commit waits: on PostgreSQL it holds a pooled connection the commit may need.
          await release()
          await this.#path.submitGroup(ops)
        }
        return result
      } catch (err) {
        if (!isRetryable(err)) throw err
        if (attempt >= retries) throw gaveUp(err, attempt + 1)
      } finally {
        await release()
      }
      await backoff(attempt)
    }
  }

  /**
   * The ops that commit a transaction: a key read and written is written on the head it
   * was read at, refused if that moved; a key only read is checked; a key only written is
   * written on the head it had at the start, a stale one settled by its strategy.
   */
  async #txOps ({ reads, writes, view }: TxCommit, author: string | undefined, message: string | undefined): Promise<WriteOp[]> {
    const ops: WriteOp[] = []
    for (const [key, write] of writes) {
      const read = reads.get(key)
      const parent = read !== undefined ? read : (await view.head(key))?.id ?? null
      const strategy = read !== undefined ? 'reject' : write.strategy
      const op = this.#writeOp(write.type, key, write.valueJson, { strategy }, author, message) as CommitOp
      op.parent = parent
      ops.push(op)
    }
    for (const [key, expected] of reads) {
      if (!writes.has(key)) ops.push({ kind: 'check', key, expected, author, message, token: undefined } satisfies OpFields as WriteOp)
    }
    return ops
  }

  /** Join a revision (an unmerged one, or any side revision) into the key's head. */
  async merge (key: string, rev: string, options: MergeOptions = {}): Promise<Revision> {
    this.#assertOpen('merge')
    validateKey(key)
    validateRevisionId(rev, 'merge() revision')
    checkOptions(options, 'merge')
    let strategy: Strategy
    if (options.onConflict !== undefined || options.resolutions !== undefined) {
      const given = options.onConflict !== undefined ? 'onConflict' : 'resolutions'
      if (options.strategy !== undefined && options.strategy !== 'merge') {
        throw new InvalidInputError(`Option ${given} goes with strategy 'merge', not ${describe(options.strategy)}.`)
      }
      if (options.value !== undefined) {
        throw new InvalidInputError(`Option ${given} settles conflicts of a three-way merge, but option value is the whole merged value already: give one or the other.`)
      }
      strategy = resolvingMerge(options.onConflict, options.resolutions === undefined ? undefined : this.#ownResolutions(options.resolutions))
    } else {
      strategy = this.#strategies.get(options.strategy ?? 'merge', 'option strategy')
      // Refused up front, not only when a merge is needed: the call is wrong either way.
      if (strategy.name === 'reject' || strategy.name === 'manual') {
        throw new InvalidInputError(`Strategy ${JSON.stringify(strategy.name)} cannot settle a merge; use strategy 'merge' or 'lww', or give an explicit value.`)
      }
    }
    const valueJson = options.value === undefined ? undefined : serializeValue(options.value, this.#maxValueBytes)
    const token = options.lock === undefined ? undefined : checkToken(options.lock, 'merge() option lock')
    return await this.#write({ kind: 'merge', key, rev, strategy, valueJson, author: checkText(options.author, 'Option author') ?? this.#author, message: checkText(options.message, 'Option message'), token })
  }

  /**
   * Take the lease on a key (which need not exist yet): until it ends, every write to the
   * key without its token fails with LockedError. Queues up to `wait` ms behind a held lease.
   */
  async lock (key: string, options: LockOptions): Promise<Lease> {
    this.#assertOpen('lock')
    validateKey(key)
    checkOptions(options, 'lock')
    const ttl = checkMs(options.ttl, 'lock() option ttl', 1, MAX_TTL_MS)
    const wait = options.wait === undefined ? 0 : checkMs(options.wait, 'lock() option wait', 0, MAX_WAIT_MS)
    const owner = checkOwner(options.owner ?? this.#author ?? 'anonymous')
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new InvalidInputError(`lock() option signal must be an AbortSignal, got ${describe(options.signal)}.`)
    const lease = await this.#path.leases.lock(key, { ttl, owner, wait, signal: options.signal })
    await this.#path.settled(key)
    return lease
  }

  /** Extend the live lease with this token to `ttl` ms from now; an ended lease cannot be renewed. */
  async renew (key: string, token: number, options: RenewOptions): Promise<Lease> {
    this.#assertOpen('renew')
    validateKey(key)
    checkToken(token, 'renew() token')
    checkOptions(options, 'renew')
    return await this.#path.leases.renew(key, token, checkMs(options.ttl, 'renew() option ttl', 1, MAX_TTL_MS))
  }

  /** Release the lease with this token; resolves false when it had already ended. */
  async unlock (key: string, token: number): Promise<boolean> {
    this.#assertOpen('unlock')
    validateKey(key)
    checkToken(token, 'unlock() token')
    return await this.#path.leases.unlock(key, token)
  }

  /** The live leases (of keys starting with `prefix`), in key order. */
  async locks (options: LocksOptions = {}): Promise<Lease[]> {
    this.#assertOpen('list locks')
    checkOptions(options, 'locks')
    checkText(options.prefix, 'locks() option prefix')
    return await this.#path.leases.list(options)
  }

  /** The key's current revision (or as of `asOf`; a tombstone if deleted), or undefined if it did not exist. */
  head (key: string, options?: HeadOptions): Promise<Revision | undefined> {
    try {
      this.#assertOpen('read a head')
      validateKey(key)
      if (options !== undefined) return this.#headAt(key, momentOf(options, 'head'))
      return Promise.resolve(this.#path.records.head(key))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** The key's value (or at revision `rev`, or as of `asOf`); undefined when missing or deleted. */
  async get (key: string, options: GetOptions = {}): Promise<JsonValue | undefined> {
    this.#assertOpen('get')
    validateKey(key)
    const moment = momentOf(options, 'get')
    const rev = options.rev !== undefined ? await this.#revisionOfKey(key, options.rev, 'option rev') : await this.#headAt(key, moment)
    return rev === undefined || rev.deleted === true ? undefined : rev.value
  }

  /** A revision by id, or undefined when there is none. */
  async revision (id: string): Promise<Revision | undefined> {
    this.#assertOpen('read a revision')
    validateRevisionId(id, 'Revision id')
    return await this.#path.records.revision(id)
  }

  /** Every revision reachable from the key's head, newest first (height, then time). */
  async * log (key: string, options: LogOptions = {}): AsyncGenerator<Revision> {
    this.#assertOpen('read a log')
    validateKey(key)
    const checked = checkLogOptions(options)
    yield * logFrom(await this.#path.records.head(key), (id, of) => this.#path.records.linked(id, of), checked)
  }

  /** RFC 6902 operations that turn revision `from`'s value into revision `to`'s. */
  async diff (key: string, from: string, to: string): Promise<JsonPatchOperation[]> {
    this.#assertOpen('diff')
    validateKey(key)
    const [a, b] = await Promise.all([this.#revisionOfKey(key, from, 'diff() from'), this.#revisionOfKey(key, to, 'diff() to')])
    return diffValues(a.deleted === true ? undefined : a.value, b.deleted === true ? undefined : b.value)
  }

  /** Revisions of the key kept unmerged by the manual strategy, oldest first (time, then id). */
  async conflicts (key: string): Promise<Revision[]> {
    this.#assertOpen('list conflicts')
    validateKey(key)
    const unmerged = await this.#path.records.durableUnmerged(key)
    const revisions = await Promise.all(unmerged.map(async (id) => await this.#linked(id, key)))
    return revisions.sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1))
  }

  /** Every change after `since` (a head moved, or a write was kept unmerged), in sequence order. */
  async * changes (options: ChangesOptions = {}): AsyncGenerator<Change> {
    this.#assertOpen('read changes')
    checkChangesOptions(options, 'changes')
    yield * this.#path.changes.read(options)
  }

  /**
   * The changes after `since`, then each new one as it happens, until the store closes or
   * the loop stops. Restart with the last `seq` seen to miss nothing and see nothing twice.
   */
  async * watch (options: ChangesOptions = {}): AsyncGenerator<Change> {
    this.#assertOpen('watch')
    checkChangesOptions(options, 'watch')
    yield * this.#path.changes.watch(options)
  }

  /** Keys that have revisions kept unmerged, in order. */
  async * conflictedKeys (): AsyncGenerator<string> {
    this.#assertOpen('list conflicts')
    yield * this.#engine.conflictedKeys()
  }

  /** Live (not deleted) keys in order (or those live as of `asOf`). */
  async * keys (options: KeysOptions = {}): AsyncGenerator<string> {
    this.#assertOpen('list keys')
    const range = checkKeysOptions(options)
    const moment = momentOf(options, 'keys')
    if (moment === undefined) yield * liveKeys(this.#engine, range)
    else yield * keysAsOf(this.#asOfReader(), moment, range)
  }

  /**
   * A read-only view (get, head, keys, log) of the whole store at this moment, unaffected by
   * later writes and compaction, until its close() (or the store's). It holds what the
   * engine needs for that: a LevelDB snapshot (older records are kept meanwhile), or on
   * PostgreSQL a transaction on a pooled connection of its own.
   */
  async snapshot (): Promise<StoreSnapshot> {
    this.#assertOpen('take a snapshot')
    if (!this.#engine.supports.snapshots) {
      throw new InvalidInputError('This database cannot take snapshots (its abstract-level supports.explicitSnapshots is false): open the store on a LevelDB directory, memory-level or PostgreSQL, or read with asOf instead.')
    }
    const at = { snapshot: await this.#engine.snapshot() }
    if (this.#closing !== undefined) {
      await at.snapshot.close()
      throw new ClosedError('take a snapshot')
    }
    const snapshot: StoreSnapshot = new StoreSnapshot(this.#engine, this.#path.records, at, () => { this.#snapshots.delete(snapshot) })
    this.#snapshots.add(snapshot)
    return snapshot
  }

  /**
   * Turn what a person typed into a revision id: a full id, a unique prefix of at least
   * 4 hex characters, or (with `key`) HEAD and HEAD~N (first-parent ancestors).
   */
  async resolveRevision (ref: string, options: ResolveOptions = {}): Promise<string> {
    this.#assertOpen('resolve a revision')
    if (typeof ref !== 'string') throw new InvalidInputError(`A revision must be a string, got ${describe(ref)}.`)
    const { key } = options
    if (key !== undefined) validateKey(key)
    const headRef = /^HEAD(?:~(\d+))?$/.exec(ref)
    if (headRef !== null) {
      if (key === undefined) throw new InvalidInputError(`${ref} needs a key: say which key's head you mean.`)
      let rev = await this.#path.records.head(key)
      if (rev === undefined) throw new NotFoundError(`Key ${JSON.stringify(key)} does not exist, so it has no ${ref}.`)
      const steps = Number(headRef[1] ?? 0)
      for (let n = 0; n < steps; n++) {
        const parent = rev.parents[0]
        // n steps taken from the head reached the root: the line of heads holds n + 1 revisions.
        if (parent === undefined) throw new NotFoundError(`${ref} goes past the first revision of key ${JSON.stringify(key)}: its first-parent line has ${n + 1} revision${n === 0 ? ' (HEAD only)' : `s (HEAD to HEAD~${n})`}.`)
        rev = await this.#linked(parent, key)
      }
      return rev.id
    }
    const prefix = ref.toLowerCase()
    if (!/^[0-9a-f]+$/.test(prefix) || prefix.length > 64) {
      throw new InvalidInputError(`${JSON.stringify(ref)} is not a revision: give a revision id, a unique prefix of at least ${MIN_PREFIX} hex characters, HEAD or HEAD~N.`)
    }
    if (prefix.length < MIN_PREFIX) throw new InvalidInputError(`Revision prefix ${JSON.stringify(ref)} is too short: give at least ${MIN_PREFIX} hex characters.`)
    const matches: string[] = []
    // Without a key, 64 candidates are plenty to list; with one, every revision of the
    // prefix is read (other keys' do not count), stopping at the second of this key.
    for await (const [id, record] of this.#engine.revisionsByPrefix(prefix, key === undefined ? 64 : undefined)) {
      if (key === undefined || decodeRecord(id, record).key === key) matches.push(id)
      if (key !== undefined && matches.length > 1) break
    }
    if (matches.length === 0) {
      const droppedFrom = prefix.length === 64 ? await this.#path.records.dropped(prefix) : undefined
      if (droppedFrom !== undefined && (key === undefined || droppedFrom === key)) {
        throw new NotFoundError(`Revision ${prefix} of key ${JSON.stringify(droppedFrom)} was dropped by compaction: history was cut before it.`)
      }
      throw new NotFoundError(`No revision ${key === undefined ? '' : `of key ${JSON.stringify(key)} `}starts with ${prefix}.`)
    }
    if (matches.length > 1) {
      throw new InvalidInputError(`Revision prefix ${prefix} is ambiguous; it matches:\n${matches.map((id) => `  ${id}`).join('\n')}\nGive more characters.`)
    }
    return matches[0] as string
  }

  /**
   * Check the whole store (fsck): every revision re-hashed, parents, heights, heads,
   * unmerged entries and the conflict index; returns every problem found. Reads one
   * consistent snapshot, so writes may go on meanwhile.
   */
  async verify (options: VerifyOptions = {}): Promise<VerifyReport> {
    this.#assertOpen('verify')
    return await verifyStore(this.#engine, options)
  }

  /**
   * Cut old history: per key, keep the newest `keep` revisions on the first-parent line
   * (and what kept conflicts still need to merge), drop the rest, and give the space back.
   */
  async compact (options: CompactOptions): Promise<CompactReport> {
    this.#assertOpen('compact')
    checkCompactOptions(options)
    const records = this.#path.records
    const report = await compactStore(this.#engine, (id, of) => records.linked(id, of), async (key) => await records.durableUnmerged(key), options)
    // Dropped revisions may still sit in caches: forget them, so reading one says it was dropped.
    this.#path.forgetRevisions()
    return report
  }

  /**
   * A dump of every key (or those starting with `prefix`): NDJSON lines, parents before
   * children, heads after. The dump is the store at one moment, the reading of the first
   * line: it reads an explicit LevelDB snapshot, so writes (and compaction) go on meanwhile
   * and none of them shows in it. A database without explicit snapshots pauses writes instead.
   */
  async * export (options: ExportOptions = {}): AsyncGenerator<string> {
    this.#assertOpen('export')
    checkOptions(options, 'export')
    const prefix = checkText(options.prefix, 'export() option prefix') ?? ''
    const records = this.#path.records
    if (this.#engine.supports.snapshots) {
      const at = { snapshot: await this.#engine.snapshot() }
      try {
        yield * exportLines(this.#engine, (id, of) => records.linked(id, of, at), async (key) => await records.unmerged(key, at), prefix, at)
      } finally {
        await at.snapshot.close()
      }
      return
    }
    const release = await this.#path.pause()
    try {
      yield * exportLines(this.#engine, (id, of) => records.linked(id, of), async (key) => await records.unmerged(key), prefix)
    } finally {
      release()
    }
  }

  /**
   * Restore a dump made by export(): every revision re-hashed, parents checked, and nothing
   * written unless the whole dump is sound. Keys in the dump must not exist in this store.
   */
  async import (lines: AsyncIterable<string> | Iterable<string>): Promise<ImportReport> {
    this.#assertOpen('import')
    const records = this.#path.records
    // Which keys exist is read from the engine: the final check runs with every write settled.
    const report = await importLines(this.#engine, toAsync(lines), async (id) => await records.revision(id),
      async (task) => await this.#path.exclusive(async () => {
        // Stamped before the keys are written (a crash after them still leaves a new stamp)
        // and again after (a sync that read the first stamp may have missed them). Not
        // before the dump is read: a stream must be read from the start, with no await first.
        await stampImport(this.#engine)
        const report = await task()
        // Cached states may say "no such key" for keys that now exist.
        records.forget((report as ImportReport).keys)
        return report
      }), { sync: this.#sync, clock: this.#clock, leased: async (key) => await this.#leaseHeld(key) })
    // Stamped again once the keys are in: a sync that read the first stamp may have missed them.
    await stampImport(this.#engine)
    return report
  }

  /** Why a write without a token to `key` would be refused by a live lease here (the LockedError's message), or undefined. */
  async #leaseHeld (key: string): Promise<string | undefined> {
    await this.#path.leases.ready()
    try {
      this.#path.leases.check(key, undefined)
      return undefined
    } catch (err) {
      if (err instanceof LockedError) return err.message
      throw err
    }
  }

  /**
   * Bring in what `source` (another Store or a RemoteStore) has, for keys starting with
   * `prefix`: missing revisions are copied (each re-hashed and checked, parents first) and
   * each key's head fast-forwards, stays, or (diverged) is settled by `strategy` or this
   * store's strategy for the key. Only keys changed since the last pull are compared.
   */
  async pull (source: SyncPeer, options: SyncOptions = {}): Promise<SyncReport> {
    this.#assertOpen('pull')
    return await pull(this[kSync](), syncEndpointOf(source, 'pull() source'), options)
  }

  /** Send `target` (another Store or a RemoteStore) what this store has that it lacks; the mirror of pull(), settled by the target's strategies. */
  async push (target: SyncPeer, options: SyncOptions = {}): Promise<SyncReport> {
    this.#assertOpen('push')
    return await push(this[kSync](), syncEndpointOf(target, 'push() target'), options)
  }

  /** This store's named remotes (name to location), sorted by name: the stores `revkv pull`, `push` and `sync` reach by name. */
  async remotes (): Promise<Record<string, string>> {
    this.#assertOpen('remotes')
    return await readRemotes(this.#engine)
  }

  /**
   * Name another store for sync: `location` is a server URL, a postgres:// URL or a store
   * directory (kept absolute); undefined removes the name. Kept in this store; returns the
   * location as kept. No credentials are kept: a server's token is given when syncing.
   */
  async setRemote (name: string, location: string | undefined): Promise<string | undefined> {
    this.#assertOpen('setRemote')
    return await writeRemote(this.#engine, name, location)
  }

  /**
   * A new store at `pathOrOptions` (as Store.open takes) holding everything `source` has: a
   * first pull, which also remembers the source, so later pulls bring only changes. The
   * store must be empty; the returned store is open.
   */
  static async clone (source: SyncPeer, pathOrOptions: string | StoreOptions, options: Omit<SyncOptions, 'strategy'> = {}): Promise<Store> {
    const endpoint = syncEndpointOf(source, 'Store.clone() source')
    const store = await Store.open(pathOrOptions)
    try {
      for await (const _ of store.#engine.heads({})) throw new InvalidInputError('Store.clone() needs an empty store to clone into; this one holds keys. Pull into it instead, or give a new path.')
      await pull(store[kSync](), endpoint, options)
      return store
    } catch (err) {
      await store.close()
      throw err
    }
  }

  /** This store's side of sync (see src/sync/); not part of the public API. */
  [kSync] (): StoreSync {
    this.#assertOpen('sync')
    this.#syncSide ??= new StoreSync({
      engine: this.#engine,
      revision: async (id) => await this.#path.records.revision(id),
      linked: (id, of) => this.#path.records.linked(id, of),
      strategyFor: (key) => this.#strategies.forKey(key, undefined),
      strategy: (ref) => this.#strategies.get(ref, 'option strategy'),
      maxValueBytes: this.#maxValueBytes,
      exclusive: async (keys, task) => await this.#path.exclusive(async () => {
        try {
          return await task()
        } finally {
          // Cached states hold the heads these keys had before.
          this.#path.records.forget(keys())
        }
      }),
      written: (firstSeq, entries) => { this.#path.changes.written(firstSeq, entries) },
      leased: async (key) => {
        const held = await this.#leaseHeld(key)
        return held === undefined ? undefined : `it is leased here (${held})`
      },
      visibleSeq: async () => await this.#path.changes.visible(),
      changes: (since, prefix) => this.#path.changes.read({ since, prefix }),
      unmergedOf: async (key) => await this.#path.records.unmerged(key),
      sync: this.#sync,
      clock: this.#clock
    })
    return this.#syncSide
  }

  /** Make a custom strategy usable by name (in options, prefix rules and per write). */
  registerStrategy (strategy: Strategy): void {
    this.#assertOpen('register a strategy')
    this.#strategies.register(strategy)
  }

  /** Wait for every accepted write to be settled on disk, then close the database. */
  async close (): Promise<void> {
    this.#closing ??= (async () => {
      await this.#path.leases.close()
      await this.#path.idle()
      await this.#path.changes.close()
      await Promise.all([...this.#snapshots].map(async (snapshot) => { await snapshot.close() }))
      this.#path.records.clear()
      await this.#engine.close()
    })()
    await this.#closing
  }

  #assertOpen (operation: string): void {
    if (this.#closing !== undefined) throw new ClosedError(operation)
  }

  /**
   * The write op of a commit or delete, its options checked (built in one object: this is
   * the hot path). `value` is the stored value, or only its JSON (a transaction's write).
   */
  #writeOp (kind: 'commit' | 'delete', key: string, value: StoredValue | string | undefined, options: WriteOptions, author = checkText(options.author, 'Option author') ?? this.#author, message = checkText(options.message, 'Option message')): OpFields {
    const { parent } = options
    const onExists = checkOnExists(options)
    // Only the shape here; the full check runs in the write path unless the parent is the
    // head, whose id is valid by construction (this keeps a regex off every commit).
    if (parent !== undefined && parent !== null && (typeof parent !== 'string' || parent.length !== 64)) validateRevisionId(parent, 'Option parent')
    return {
      kind,
      key,
      valueJson: typeof value === 'object' ? value.json : value,
      value: typeof value === 'object' ? value.copy : undefined,
      parent,
      strategy: this.#strategies.forKey(key, options.strategy),
      onExists,
      rename: options.rename,
      ifUnmodifiedSince: checkDate(options.ifUnmodifiedSince, 'ifUnmodifiedSince'),
      author,
      message,
      token: options.lock === undefined ? undefined : checkToken(options.lock, 'Option lock')
    }
  }


  /** Resolutions checked, their values serialized like any value and parsed back: the store's own copies. */
  #ownResolutions (resolutions: unknown): Record<string, PlaceResolution> {
    const own: Record<string, PlaceResolution> = {}
    for (const [path, choice] of checkResolutions(resolutions)) {
      own[path] = typeof choice === 'string' ? choice : { value: JSON.parse(serializeValue(choice.value, this.#maxValueBytes)) as JsonValue }
    }
    return own
  }

  #write (fields: OpFields): Promise<Revision> {
    return this.#path.submit(fields as WriteOp)
  }

  async #revisionOfKey (key: string, id: string, what: string): Promise<Revision> {
    const records = this.#path.records
    return await revisionOfKey(key, id, what, (id) => records.revision(id, key), async (id) => await records.dropped(id))
  }

  /** The key's head at `moment` (now when undefined). */
  async #headAt (key: string, moment: Moment | undefined): Promise<Revision | undefined> {
    return moment === undefined ? await this.#path.records.head(key) : await headAsOf(this.#asOfReader(), key, moment)
  }

  #asOfReader (): AsOfReader {
    const { records, changes } = this.#path
    return {
      engine: this.#engine,
      head: (key) => records.head(key),
      linked: (id, key) => records.linked(id, key),
      // A shared engine's database holds only changes whose predecessors are committed;
      // here, changes are readable up to the last one published (every one before it is durable).
      lastSeq: async () => this.#engine.supports.sharedWriters ? await this.#engine.lastSeq() : (await changes.ready(), changes.published)
    }
  }

  async #linked (id: string, key: string): Promise<Revision> {
    const rev = await this.#path.records.linked(id, key)
    if (rev === undefined) throw new NotFoundError(`Revision ${id} was dropped by compaction: history was cut before it.`)
    return rev
  }
}

/** The sync endpoint of a Store or RemoteStore given to pull, push or clone. */
function syncEndpointOf (peer: SyncPeer, what: string): ReturnType<SyncPeer[typeof kSync]> {
  if (peer === null || typeof peer !== 'object' || typeof (peer as Partial<SyncPeer>)[kSync] !== 'function') {
    throw new InvalidInputError(`${what} must be a Store or a RemoteStore, got ${describe(peer)}.`)
  }
  return peer[kSync]()
}

async function * toAsync (lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string> {
  yield * lines
}

function checkChangesOptions (options: ChangesOptions, method: string): void {
  checkOptions(options, method)
  const { since } = options
  if (since !== undefined && (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0)) {
    throw new InvalidInputError(`${method}() option since must be a sequence number (a whole number ≥ 0), got ${describe(since)}.`)
  }
  checkText(options.prefix, `${method}() option prefix`)
  checkLimit(options.limit, `${method}() option limit`)
}
