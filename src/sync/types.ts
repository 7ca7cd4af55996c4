import type { StrategyRef } from '../strategies/types.js'

/**
 * What one store offers another for sync, whether it is in this process (a Store) or behind
 * a server (a RemoteStore). Negotiation is a few calls per batch of keys, never one per
 * revision: heads are listed in a stream, compared in batches, and the revisions a side
 * lacks come back as one stream of dump-format lines per batch.
 */
export interface SyncEndpoint {
  /** This store's sync id (made on first use, kept) and its last visible change sequence number. */
  info: () => Promise<SyncInfo>
  /** The head lines of keys starting with `prefix`: every key, or (with `since`) those changed after that sequence number. */
  heads: (prefix: string, since: number | undefined) => AsyncIterable<HeadLine>
  /** The head lines of these keys, undefined where a key has none. */
  headsOf: (keys: string[]) => Promise<Array<HeadLine | undefined>>
  /**
   * For each wanted key: its history as dump lines (markers of cut history, revisions parents
   * first) down to the revisions the receiver says it has, then its head line; then an end line.
   */
  send: (wants: Want[]) => AsyncIterable<string>
  /** Check and apply lines of another store's send(), moving heads by the rules of sync. */
  receive: (lines: AsyncIterable<string>, options: ReceiveOptions) => Promise<SyncReport>
}

/** A store's identity for sync marks, and how far its changes feed goes. */
export interface SyncInfo {
  id: string
  seq: number
  /** The stamp of its last import ('' for none): imported keys are not in the feed (see marks.ts). */
  imports: string
}

/** A key's head as sync exchanges it (a dump's head line). */
export interface HeadLine {
  key: string
  head: string
  deleted?: true
  /** Revisions of the key kept unmerged beside the head. */
  unmerged?: string[]
}

/** A key whose history the receiver wants, and revisions it has of it already (the sender stops there). */
export interface Want {
  key: string
  haves: string[]
}

/** Options of receive(). */
export interface ReceiveOptions {
  /** Settles diverged heads instead of the receiving store's strategy for each key (over HTTP: a name). */
  strategy?: StrategyRef | undefined
}

/** Options of store.pull() and store.push(). */
export interface SyncOptions {
  /** Only keys starting with this (default: every key). */
  prefix?: string
  /**
   * How diverged heads are settled on the side whose heads move (pull: this store; push: the
   * target). Default: that store's own strategy for each key. Over HTTP, a strategy's name.
   */
  strategy?: StrategyRef
  /** Compare every key, not only those changed since the last sync (the mark is still updated). Default false. */
  full?: boolean
}

/** What a pull or push did. */
export interface SyncReport {
  /** Keys whose heads were compared (all keys on a first sync, the changed ones afterwards). */
  keys: number
  /** Revisions stored that the receiving side did not have. */
  revisions: number
  /** Keys whose head moved forward to the other side's (keys new there included). */
  fastForwards: number
  /** Keys whose diverged heads were joined by a merge revision (strategies merge, lww). */
  merges: number
  /** Keys whose incoming head was kept unmerged beside the head (reject, manual, or a merge conflict); settle them with merge(). */
  conflicts: string[]
  /**
   * Keys of `conflicts` kept because compaction cut history (revision `cut`) where the two
   * heads' common ancestor was searched for, so a strategy that needs it could not merge:
   * settle them with merge() and an explicit value (or resolutions).
   */
  shallow: Array<{ key: string, cut: string }>
  /** Bytes of the revision streams sent (NDJSON, as on the wire). */
  bytes: number
  /** Keys not applied at all, with why: a revision that failed its checks (tampered), or a key leased on the receiving side. The next sync tries them again. */
  refused: Array<{ key: string, reason: string }>
}

/** A report of nothing done yet. */
export function emptyReport (): SyncReport {
  return { keys: 0, revisions: 0, fastForwards: 0, merges: 0, conflicts: [], shallow: [], bytes: 0, refused: [] }
}

/** Add `more` into `into` (the counts of a sync are the sums of its batches'). */
export function addReport (into: SyncReport, more: SyncReport): void {
  into.keys += more.keys
  into.revisions += more.revisions
  into.fastForwards += more.fastForwards
  into.merges += more.merges
  into.bytes += more.bytes
  into.conflicts.push(...more.conflicts)
  into.shallow.push(...more.shallow)
  into.refused.push(...more.refused)
}

/** The key under which Store and RemoteStore offer their SyncEndpoint (not part of the public API). */
export const kSync = Symbol('revkv.sync')

/** Anything sync can talk to: a Store or a RemoteStore. */
export interface SyncPeer {
  [kSync]: () => SyncEndpoint
}
