import type { ConflictPlace } from '../errors.js'
import type { JsonValue } from '../json.js'
import type { Revision } from '../revision.js'

/** What a strategy is asked to decide: a stale write (`commit`) or joining two stored revisions (`merge`). */
export type ResolveMode = 'commit' | 'merge'

/** The three sides of a decision. Values are undefined where that side is absent or deleted. */
export interface ResolveContext {
  key: string
  /** 'commit' when a stale write arrives, 'merge' when `store.merge()` joins two stored revisions. */
  mode: ResolveMode
  /** The value at the nearest common ancestor of ours and theirs. */
  base: JsonValue | undefined
  /** The value at the current head. */
  ours: JsonValue | undefined
  /** The value of the incoming (or side) revision. */
  theirs: JsonValue | undefined
  baseRev: Revision | undefined
  oursRev: Revision
  theirsRev: Revision
}

/**
 * A strategy's answer. `value` / `deleted` settle the write into a merge revision;
 * `conflicts` refuses it with a MergeConflictError; `reject` refuses it with a
 * ConflictError; `keep` stores it unmerged beside the head (only meaningful on commit).
 */
export type Resolution =
  | { value: JsonValue }
  | { deleted: true }
  | { conflicts: ConflictPlace[] }
  | { reject: true }
  | { keep: true }

/** A named policy for stale writes: built in (reject, lww, merge, manual) or your own. */
export interface Strategy {
  readonly name: string
  resolve (ctx: ResolveContext): Resolution | Promise<Resolution>
}

/** A strategy given by its registered name or as an object. */
export type StrategyRef = string | Strategy
