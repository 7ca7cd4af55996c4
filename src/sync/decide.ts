import { mergeBase } from '../history.js'
import type { LoadRevision } from '../history.js'
import type { JsonValue } from '../json.js'
import { sealRevision, serializeValue } from '../revision.js'
import type { Revision, SealedRevision } from '../revision.js'
import { baseless } from '../strategies/built-in.js'
import type { Strategy } from '../strategies/types.js'

/** How an incoming head meets the local one. */
export type HeadOutcome =
  /** The incoming head is the local head or already in its history: nothing moves. */
  | { kind: 'same' }
  /** The key is new here, or the local head is in the incoming head's history. */
  | { kind: 'fastForward' }
  /** Diverged, and the strategy joined the two heads into this merge revision. */
  | { kind: 'merged', merge: SealedRevision }
  /**
   * Diverged, and not settled: the incoming head is kept unmerged. `cut` names a revision
   * compaction dropped where the search for the two heads' common ancestor stopped, when
   * that is why (a strategy that needs the base cannot be asked without it).
   */
  | { kind: 'kept', cut?: string }

/**
 * Decide a key's head when another store's head arrives, as `git pull` would: fast-forward,
 * nothing, or (diverged) the strategy settles it.
 *
 * A merge made here must be the one the other side would make if it pulled first, or two
 * stores that pull from each other at once would each make their own merge revision and
 * never agree. So the two heads are ordered the same way on both sides (the later `time`,
 * then the larger id, is "ours" and the first parent), the strategy is asked in `merge`
 * mode (lww then picks the same winner either way), and the merge revision carries only
 * fields both sides know: no author, and the later head's time. Equal inputs give equal
 * revisions, and so equal ids.
 */
export async function decideHead (local: Revision | undefined, incoming: Revision, load: LoadRevision, strategy: Strategy, maxValueBytes: number): Promise<HeadOutcome> {
  if (local === undefined) return { kind: 'fastForward' }
  if (local.id === incoming.id) return { kind: 'same' }
  let cut: string | undefined
  // A revision that cannot be loaded is one compaction dropped (on either side).
  const tracked: LoadRevision = (id, key) => {
    const note = (rev: Revision | undefined): Revision | undefined => {
      if (rev === undefined) cut ??= id
      return rev
    }
    const loaded = load(id, key)
    return loaded instanceof Promise ? loaded.then(note) : note(loaded)
  }
  const base = await mergeBase(local, incoming, tracked)
  if (base?.id === incoming.id) return { kind: 'same' }
  if (base?.id === local.id) return { kind: 'fastForward' }
  // No common ancestor found, but history was cut on the way: the base may lie beyond the
  // cut, and a merge without it would take every difference for a conflict (or worse, for
  // a custom strategy). Keep the incoming head for a person, and say why.
  if (base === undefined && cut !== undefined && !baseless.has(strategy)) return { kind: 'kept', cut }
  const [ours, theirs] = later(local, incoming) ? [local, incoming] : [incoming, local]
  const resolution = await strategy.resolve({
    key: local.key,
    mode: 'merge',
    base: valueOf(base),
    ours: valueOf(ours),
    theirs: valueOf(theirs),
    baseRev: base,
    oursRev: ours,
    theirsRev: theirs
  })
  const r = resolution as { value?: JsonValue, deleted?: unknown } | null
  // Anything but a result (reject, keep, conflicts, or an answer of no known shape) keeps
  // the incoming head unmerged: a sync never loses a revision and never fails a whole pull
  // over one key; merge() settles it later with everything a person needs to see.
  if (r === null || typeof r !== 'object' || !('value' in r || r.deleted === true)) return { kind: 'kept' }
  let valueJson: string | undefined
  if ('value' in r) {
    try {
      valueJson = serializeValue(r.value, maxValueBytes)
    } catch {
      // A merged value this store cannot hold (too large, not JSON): kept for a person to settle.
      return { kind: 'kept' }
    }
  }
  const merge = sealRevision({
    key: local.key,
    parents: [ours.id, theirs.id],
    height: Math.max(ours.height, theirs.height) + 1,
    time: ours.time,
    strategy: strategy.name,
    message: `Sync merge of ${theirs.id.slice(0, 12)} into ${ours.id.slice(0, 12)} (${strategy.name})`,
    ...(valueJson === undefined ? { deleted: true } : {})
  }, valueJson)
  return { kind: 'merged', merge }
}

/** True when `rev` is `of` or in its history. */
export async function inHistory (rev: Revision, of: Revision, load: LoadRevision): Promise<boolean> {
  return rev.id === of.id || (await mergeBase(of, rev, load))?.id === rev.id
}

/** The order both sides agree on: later time first, then the larger id. */
function later (a: Revision, b: Revision): boolean {
  return a.time !== b.time ? a.time > b.time : a.id > b.id
}

function valueOf (rev: Revision | undefined): JsonValue | undefined {
  return rev === undefined || rev.deleted === true ? undefined : rev.value
}
