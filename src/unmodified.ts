/**
 * Timestamp validation (If-Unmodified-Since, the `ifUnmodifiedSince` option). A client
 * names the modification time of the revision it read; the write goes ahead only while
 * that revision is still the head. Times are compared in whole units (milliseconds in the
 * library, seconds over HTTP, whose dates have no finer grain), so within one unit the
 * date alone cannot say which revision was read: when the head and its first parent fall
 * in the same unit as the date, the head counts as modified. That refusal is the price
 * of never letting a write through on top of a revision its writer did not see.
 */
import type { Revision } from './revision.js'

/** A head's time and, when needed, its first parent's time. */
export interface HeadTimes {
  head: Pick<Revision, 'time' | 'parents'>
  /** Only called when the head has a parent and falls in the date's unit; undefined where compaction cut history. */
  parentTime: () => number | undefined | Promise<number | undefined>
}

/**
 * Whether the head may have changed after `since` (ms), judged in units of `unit` ms:
 * a head in a later unit did; one in an earlier unit did not; one in the same unit did
 * unless it is the only revision of its line in that unit (then it is the one read).
 */
export function modifiedSince (times: HeadTimes, since: number, unit: number): boolean | Promise<boolean> {
  const headUnit = Math.floor(times.head.time / unit)
  const sinceUnit = Math.floor(since / unit)
  if (headUnit !== sinceUnit) return headUnit > sinceUnit
  if (times.head.parents.length === 0) return false
  const sameUnit = (time: number | undefined): boolean => time === undefined || Math.floor(time / unit) === headUnit
  const parentTime = times.parentTime()
  // A parent cut by compaction (undefined) has an unknown time: counted as the same unit, to be safe.
  return parentTime instanceof Promise ? parentTime.then(sameUnit) : sameUnit(parentTime)
}

/** An HTTP-date (IMF-fixdate) for a time in ms, to the second. */
export function httpDate (time: number): string {
  return new Date(time).toUTCString()
}
