/**
 * The contract every revkv store keeps: `Store` (embedded) and `RemoteStore` (a client of
 * `revkv serve`) both implement it, so code written against `RevkvStore` runs on either.
 * What differs between implementations is declared in `supports`, as abstract-level's
 * `db.supports` does, and callers read it instead of checking classes.
 */
import type { BatchOp, BatchOptions } from './batch-ops.js'
import type { Change, ChangesOptions } from './changes.js'
import type { CompactOptions, CompactReport } from './compact.js'
import type { ExportOptions, ImportReport } from './dump.js'
import type { JsonPatchOperation } from './json-diff.js'
import type { JsonValue } from './json.js'
import type { Lease, LockOptions, LocksOptions, RenewOptions } from './leases.js'
import type { Revision } from './revision.js'
import type { GetOptions, HeadOptions, KeysOptions, LogOptions, MergeOptions, ResolveOptions, WriteOptions } from './store.js'
import type { Strategy } from './strategies/types.js'
import type { VerifyOptions, VerifyReport } from './verify.js'

/** What a store can do beyond the common contract; a frozen object, the same for the store's whole life. */
export interface StoreCapabilities {
  /** Strategy objects, registerStrategy() and `rename` functions are accepted (functions cannot cross HTTP). */
  readonly customStrategies: boolean
  /** Writes are decided in the order they were called (a remote store's concurrent requests may arrive in any order). */
  readonly callOrder: boolean
  /** Other processes may write the same store, and watch() sees their writes: following changes is worth it. */
  readonly sharedWriters: boolean
}

/** The methods every store offers, with the same options, results, errors and codes. */
export interface RevkvStore {
  /** What this store can do (see StoreCapabilities). */
  readonly supports: StoreCapabilities

  /** Write a new value for a key; returns the new head revision. */
  commit: (key: string, value: JsonValue, options?: WriteOptions) => Promise<Revision>
  /** Delete a key by writing a tombstone revision; its history stays. */
  delete: (key: string, options?: WriteOptions) => Promise<Revision>
  /** Several writes to distinct keys, all or nothing; each key's new head, in op order. */
  batch: (ops: BatchOp[], options?: BatchOptions) => Promise<Revision[]>
  /** Join a revision (an unmerged one, or any side revision) into the key's head. */
  merge: (key: string, rev: string, options?: MergeOptions) => Promise<Revision>

  /** Take the lease on a key; writes without its token fail with LockedError until it ends. */
  lock: (key: string, options: LockOptions) => Promise<Lease>
  /** Extend the live lease with this token to `ttl` ms from now. */
  renew: (key: string, token: number, options: RenewOptions) => Promise<Lease>
  /** Release the lease with this token; resolves false when it had already ended. */
  unlock: (key: string, token: number) => Promise<boolean>
  /** The live leases (of keys starting with `prefix`), in key order. */
  locks: (options?: LocksOptions) => Promise<Lease[]>

  /** The key's current revision (or as of `asOf`; a tombstone if deleted), or undefined if it did not exist. */
  head: (key: string, options?: HeadOptions) => Promise<Revision | undefined>
  /** The key's value (or at revision `rev`, or as of `asOf`); undefined when missing or deleted. */
  get: (key: string, options?: GetOptions) => Promise<JsonValue | undefined>
  /** A revision by id, or undefined when there is none. */
  revision: (id: string) => Promise<Revision | undefined>
  /** Revisions reachable from the key's head, newest first. */
  log: (key: string, options?: LogOptions) => AsyncGenerator<Revision>
  /** RFC 6902 operations that turn revision `from`'s value into revision `to`'s. */
  diff: (key: string, from: string, to: string) => Promise<JsonPatchOperation[]>
  /** Revisions of the key kept unmerged by the manual strategy, oldest first. */
  conflicts: (key: string) => Promise<Revision[]>
  /** Keys that have revisions kept unmerged, in order. */
  conflictedKeys: () => AsyncGenerator<string>
  /** Live (not deleted) keys in order (or those live as of `asOf`). */
  keys: (options?: KeysOptions) => AsyncGenerator<string>
  /** A full revision id from an id, a unique prefix, or (with `key`) HEAD / HEAD~N. */
  resolveRevision: (ref: string, options?: ResolveOptions) => Promise<string>

  /** Every change after `since`, in sequence order. */
  changes: (options?: ChangesOptions) => AsyncGenerator<Change>
  /** The changes after `since`, then each new one as it happens, until the store closes or the loop stops. */
  watch: (options?: ChangesOptions) => AsyncGenerator<Change>

  /** A dump of the store at one moment: NDJSON lines, parents before children, heads after. */
  export: (options?: ExportOptions) => AsyncGenerator<string>
  /** Restore a dump made by export(), all or nothing. */
  import: (lines: AsyncIterable<string> | Iterable<string>) => Promise<ImportReport>
  /** Check the whole store (fsck); returns every problem found. */
  verify: (options?: VerifyOptions) => Promise<VerifyReport>
  /** Cut old history, keeping the newest `keep` revisions per key. */
  compact: (options: CompactOptions) => Promise<CompactReport>

  /** Make a custom strategy usable by name; InvalidInputError where supports.customStrategies is false. */
  registerStrategy: (strategy: Strategy) => void
  /** Settle what was accepted, then close; later calls throw ClosedError. */
  close: () => Promise<void>
}
