import type { CorruptionError } from '../errors.js'

/**
 * The storage engine interface: what revkv asks of the database under a store.
 *
 * revkv decides everything about revisions (parents, strategies, merges, heads) in
 * src/write-path.ts; an engine only stores and reads the results. Each engine lives in its
 * own folder (src/engines/level/, src/engines/postgres/) and is the only code that knows
 * how records are laid out there. The split follows abstract-level: the store offers one
 * public API, and each implementation provides this smaller set of primitives and says
 * what it can do through `supports`.
 *
 * The one write primitive is `batch()`: a group of records and head moves written
 * atomically, where every head names the head it expects (compare-and-set). An engine
 * shared by several processes checks those expectations when it writes; the write path
 * decides again, against the new head, every write whose key moved meanwhile.
 */

/** The stored per-key pointer: the head and the revisions kept unmerged beside it. */
export interface HeadRecord {
  head: string
  deleted?: true
  /** How many revisions of the key are kept unmerged. */
  unmerged?: number
}

/** A lease as stored: its fencing token, who holds it and until when (epoch ms). */
export interface LeaseRecord {
  token: number
  owner: string
  expires: number
}

/** One change as stored: the key, the revision, and DELETED | KEPT flags (see changes.ts). */
export type Entry = [key: string, rev: string, flags: number]

/** Flag of a change whose revision is a tombstone. */
export const DELETED = 1
/** Flag of a change kept unmerged (manual strategy): the head did not move. */
export const KEPT = 2

/** A change that moved a key's head (as-of reads): its sequence number and the new head. */
export interface HeadChange {
  seq: number
  rev: string
}

/** What an engine can do; the write path, the store and the CLI read these instead of checking classes. */
export interface EngineCapabilities {
  /**
   * Other processes may write the same store. Then the engine checks each head's expected
   * value when it writes, in-memory state is only a hint, and reads go to the database.
   */
  readonly sharedWriters: boolean
  /** snapshot() gives a read view of one moment while writes go on. */
  readonly snapshots: boolean
  /** write({ sync: true }) makes each batch durable on stable storage before resolving. */
  readonly sync: boolean
  /** Other processes' changes can wake watchers at once; without it they are found by polling. */
  readonly notify: boolean
}

/** A read view of one moment of the store, released with close(). */
export interface EngineSnapshot {
  close: () => Promise<void>
}

/**
 * A head to move: written only if the key's stored head is still `expected` (null: the key
 * has none) with the unmerged count the move implies before it (head.unmerged - added +
 * removed), and no lease other than `token`'s is live on the key at the batch's `now`.
 */
export interface HeadMove {
  key: string
  expected: string | null
  head: HeadRecord
  /** The fencing token the writes carried, if any. */
  token?: number | undefined
  /** Revision ids that join the key's unmerged set. */
  added: string[]
  /** Revision ids that leave it (applied after `added`: an id may be in both). */
  removed: string[]
}

/** Options of EngineBatch.write(). */
export interface WriteBatchOptions {
  /** Durable on stable storage before resolving. */
  sync: boolean
  /** The store's clock now (epoch ms): leases that end by then no longer hold. */
  now: number
  /** If any head's expectation fails, write nothing at all (imports, multi-key batches). */
  allOrNothing?: boolean
}

/** What a batch write did. */
export interface WriteOutcome {
  /**
   * Keys whose stored head was no longer the expected one. Nothing of those keys (their
   * revisions, head, unmerged entries or changes) was written; with allOrNothing, nothing
   * at all was. Always empty on an engine without sharedWriters.
   */
  stale: ReadonlySet<string>
  /** The sequence number of the first change written (undefined if none was). */
  firstSeq: number | undefined
}

/**
 * Records to write atomically. Calls only collect (synchronously); nothing is visible to
 * readers until write() resolves, and a failed write leaves nothing behind.
 */
export interface EngineBatch {
  /** Store a revision record (content-addressed: writing an existing id is a no-op). */
  putRevision: (id: string, key: string, record: string) => void
  /** Leave the marker of a revision dropped by compaction (used by import). */
  putDropped: (id: string, key: string) => void
  /** Move a key's head, compare-and-set. At most one move per key per batch. */
  setHead: (move: HeadMove) => void
  /** Append one change; sequence numbers are given at write(), in the order added. */
  addChange: (entry: Entry) => void
  /**
   * Bind the head moves of these keys together (a multi-key batch): if any of them is
   * stale, nothing of any of them is written and all are reported stale, while the rest of
   * the batch is written as usual. A no-op on an engine without sharedWriters.
   */
  atomic: (keys: readonly string[]) => void
  /** How many records the batch holds (for flushing large batches early). */
  readonly size: number
  /** Write it; rejects only when the database failed (then nothing was written). */
  write: (options: WriteBatchOptions) => Promise<WriteOutcome>
}

/** What a lease grant found: the lease it granted, or the live one held by someone else. */
export type LeaseGrant = { granted: LeaseRecord } | { held: LeaseRecord }

/** A record as the whole-store scan of verify() sees it: decoded, or the damage that stopped decoding. */
export type ScannedRecord =
  | { kind: 'revision', id: string, text: string }
  | { kind: 'head', key: string, record: HeadRecord | CorruptionError }
  | { kind: 'unmerged', key: string, id: string }
  | { kind: 'dropped', id: string, key: string }
  | { kind: 'changes', name: string, entries: Entry[] | CorruptionError }
  | { kind: 'conflict', key: string }
  | { kind: 'lease', key: string, record: LeaseRecord | CorruptionError }
  | { kind: 'fence', key: string, record: number | CorruptionError }
  | { kind: 'format', version: string }
  | { kind: 'sync', name: string }
  | { kind: 'unknown', name: string }

/** Synchronous point reads (see Engine.readSync). */
export interface SyncReads {
  head: (key: string) => HeadRecord | undefined
  revision: (id: string) => string | undefined
}

/** Where a read looks: a snapshot, or the latest data when absent. */
export interface ReadAt {
  snapshot?: EngineSnapshot | undefined
}

/** Options of Engine.heads(). */
export interface HeadsOptions extends ReadAt {
  /** Only keys starting with this. */
  prefix?: string
  /** Only keys after this one (which starts with the prefix). */
  after?: string | undefined
}

/** The primitives a storage engine provides. Every method may be called concurrently. */
export interface Engine {
  /** A name for messages: 'level', 'postgres'. */
  readonly name: string
  /** Where the store is, for messages (a directory, a database and schema). */
  readonly location: string
  readonly supports: EngineCapabilities

  /** A revision record's text, or undefined. */
  revision: (id: string, at?: ReadAt) => Promise<string | undefined>
  /**
   * Point reads of the latest data that complete on the calling thread (LevelDB's getSync:
   * the memtable, block cache and OS page cache answer in microseconds), where the database
   * offers them; absent on an engine whose reads are round trips. The write path uses them
   * to load a key it has not seen without a trip through the thread pool.
   */
  readonly readSync?: SyncReads | undefined
  /** The key of a revision dropped by compaction, or undefined. */
  dropped: (id: string, at?: ReadAt) => Promise<string | undefined>
  /** A key's head record, or undefined if the key never existed. A damaged one throws CorruptionError. */
  head: (key: string, at?: ReadAt) => Promise<HeadRecord | undefined>
  /** Each key's head record (undefined where it has none), in one read. A damaged one throws CorruptionError. */
  headRecords: (keys: string[]) => Promise<Array<HeadRecord | undefined>>
  /** The ids of a key's unmerged revisions. */
  unmerged: (key: string, at?: ReadAt) => Promise<string[]>
  /** Head records in key order. */
  heads: (options: HeadsOptions) => AsyncIterable<[key: string, record: HeadRecord]>
  /** Keys with unmerged revisions, in order. */
  conflictedKeys: () => AsyncIterable<string>
  /** Revision records whose id starts with a lowercase hex prefix, in id order. */
  revisionsByPrefix: (prefix: string, limit?: number) => AsyncIterable<[id: string, record: string]>

  /** The last sequence number written (0 for none). */
  lastSeq: () => Promise<number>
  /** Changes with a sequence number above `since`, in order. */
  changes: (since: number) => AsyncIterable<[seq: number, entry: Entry]>
  /** The change numbered `seq`, or undefined (never written, or a failed batch's number). */
  change: (seq: number, at?: ReadAt) => Promise<Entry | undefined>
  /**
   * As-of reads: of the key's changes that moved its head (not KEPT ones), the last one
   * numbered `seq` or below ('at'), or the first one numbered above `seq` ('after').
   */
  headChange: (key: string, seq: number, which: 'at' | 'after', at?: ReadAt) => Promise<HeadChange | undefined>
  /**
   * Wake `listener` when another process may have written changes (engines with notify).
   * Returns the function that stops listening.
   */
  listen?: (listener: () => void) => Promise<() => Promise<void>>

  /** A new batch to fill and write. */
  batch: () => EngineBatch
  /** Drop revisions of `key` (compaction): delete their records and leave dropped markers, atomically. */
  drop: (key: string, ids: string[]) => Promise<void>
  /** Give space freed by drop() back to the file system, where the engine can. */
  reclaim: () => Promise<void>

  /** Every lease record (live or ended, until released), in key order. */
  leases: () => AsyncIterable<[key: string, record: LeaseRecord]>
  /** A key's lease record (live or ended, until released), or undefined. */
  lease: (key: string) => Promise<LeaseRecord | undefined>
  /** The newest fencing token ever granted on a key, or undefined. */
  fence: (key: string) => Promise<number | undefined>
  /**
   * Atomically: unless a lease is live on the key at `now`, grant one until `expires` with
   * the next fencing token (the newest ever granted on the key + 1, counted durably).
   */
  grantLease: (key: string, owner: string, expires: number, now: number, options: { sync: boolean }) => Promise<LeaseGrant>
  /** Atomically: extend the lease with `token` to `expires`, if it is still live at `now`; else undefined. */
  renewLease: (key: string, token: number, expires: number, now: number, options: { sync: boolean }) => Promise<LeaseRecord | undefined>
  /** Atomically: remove the lease with `token`, if it is still the key's; false otherwise. */
  releaseLease: (key: string, token: number, options: { sync: boolean }) => Promise<boolean>

  /** A sync mark: what this store noted under `name` about syncing with another store (src/sync/marks.ts), or undefined. */
  syncMark: (name: string) => Promise<string | undefined>
  /**
   * Record a sync mark, durably and on its own. Marks are advisory: a lost or stale one
   * costs a fuller sync, never data, so they need no atomicity with the heads they describe.
   */
  setSyncMark: (name: string, value: string) => Promise<void>

  /** Every stored record, for verify(), read at one moment. */
  scan: () => AsyncIterable<ScannedRecord>
  /** A read view of one moment (only with supports.snapshots). */
  snapshot: () => Promise<EngineSnapshot>
  /** Close the database connection(s), if the engine opened them. */
  close: () => Promise<void>
}

/** The layout version every engine writes and checks at open; a newer one is refused rather than misread. */
export const FORMAT_VERSION = '1'
