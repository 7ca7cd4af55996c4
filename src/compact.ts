import { InvalidInputError } from './errors.js'
import { walkHistory } from './history.js'
import type { LoadRevision } from './history.js'
import { mergeBase } from './history.js'
import type { Engine } from './engines/engine.js'
import { checkOptions, checkText } from './options.js'
import { describe } from './revision.js'
import type { Revision } from './revision.js'

/** Options of store.compact(). */
export interface CompactOptions {
  /** Revisions to keep per key on the first-parent line from the head (at least 1). */
  keep: number
  /** Only keys starting with this. */
  prefix?: string
}

/** What compaction did. */
export interface CompactReport {
  /** Keys whose history was cut. */
  keys: number
  /** Revisions dropped. */
  dropped: number
}

/** Throws unless `options` are compact()'s: a whole `keep` ≥ 1 and a string prefix, if any. */
export function checkCompactOptions (options: CompactOptions): void {
  checkOptions(options, 'compact')
  if (!Number.isSafeInteger(options.keep) || options.keep < 1) {
    throw new InvalidInputError(`compact() option keep must be a whole number ≥ 1 (revisions to keep per key), got ${describe(options.keep)}.`)
  }
  checkText(options.prefix, 'compact() option prefix')
}

/**
 * Cut each key's history like a shallow Git clone: keep the newest `keep` revisions on
 * the first-parent line from the head, and everything of the key at least as high as the
 * oldest of them (merged-in side revisions included), and, while revisions are kept
 * unmerged, everything down to their merge base with the head, so they can still be merged.
 * Older revisions are deleted and each leaves a marker (the dropped id and its key) that says history
 * was cut there: walks stop at it, and reading it is a NotFoundError that says so.
 *
 * Every chunk written leaves the store consistent (each missing parent has its marker), so
 * an interrupted compaction is only a shorter one; reads go on between chunks.
 */
export async function compactStore (engine: Engine, load: LoadRevision, unmergedOf: (key: string) => Promise<string[]>, options: CompactOptions): Promise<CompactReport> {
  let keys = 0
  let dropped = 0
  const prefix = options.prefix ?? ''
  for await (const [key, record] of engine.heads({ prefix })) {
    const head = await load(record.head, key)
    if (head === undefined) continue
    // The height the first-parent line reaches after `keep` revisions.
    let cut = head.height
    let rev: Revision | undefined = head
    for (let kept = 1; kept < options.keep && rev.parents[0] !== undefined; kept++) {
      rev = await load(rev.parents[0], key)
      if (rev === undefined) break
      cut = rev.height
    }
    const unmerged = (record.unmerged ?? 0) > 0 ? await unmergedOf(key) : []
    const starts: Revision[] = [head]
    for (const id of unmerged) {
      const side = await load(id, key)
      if (side === undefined) continue
      starts.push(side)
      const base = await mergeBase(head, side, load)
      if (base !== undefined) cut = Math.min(cut, base.height)
    }
    const drop: string[] = []
    const seen = new Set<string>()
    for (const start of starts) {
      for await (const old of walkHistory(start, load)) {
        if (seen.has(old.id)) continue
        seen.add(old.id)
        if (old.height < cut) drop.push(old.id)
      }
    }
    if (drop.length === 0) continue
    keys++
    await engine.drop(key, drop)
    dropped += drop.length
  }
  if (dropped > 0) await engine.reclaim()
  return { keys, dropped }
}
