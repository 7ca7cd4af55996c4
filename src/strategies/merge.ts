import { InvalidInputError } from '../errors.js'
import { describe } from '../revision.js'
import { mergeJson } from '../json-merge.js'
import { ownStrategy } from './built-in.js'
import type { ConflictSide, PlaceResolution } from '../json-merge.js'
import type { Resolution, ResolveContext, Strategy } from './types.js'

/** Options of the `merge` strategy. */
export interface MergeStrategyOptions {
  /** Settle conflicting places with this side instead of failing with MergeConflictError. */
  onConflict?: ConflictSide | undefined
}

/** The `merge` strategy; `onConflict` is visible so a remote client can pass it on by name. */
export interface MergeStrategy extends Strategy {
  readonly onConflict: ConflictSide | undefined
}

/**
 * Build a `merge` strategy: a JSON three-way merge of base, ours and theirs.
 * Without `onConflict`, any place changed differently on both sides fails the write.
 */
export function mergeStrategy (options: MergeStrategyOptions = {}): MergeStrategy {
  return resolvingMerge(options.onConflict, undefined)
}

/**
 * The `merge` strategy with conflicting places settled by pointer, for store.merge() only:
 * resolutions answer conflicts someone has seen, so they never apply to stale writes.
 */
export function resolvingMerge (onConflict: ConflictSide | undefined, resolutions: Record<string, PlaceResolution> | undefined): MergeStrategy {
  if (onConflict !== undefined && onConflict !== 'ours' && onConflict !== 'theirs') {
    throw new InvalidInputError(`onConflict must be 'ours' or 'theirs', got ${describe(onConflict)}.`)
  }
  return ownStrategy({
    name: 'merge',
    onConflict,
    resolve (ctx: ResolveContext): Resolution {
      const result = mergeJson(ctx.base, ctx.ours, ctx.theirs, { onConflict, resolutions })
      if (result.conflicts.length > 0 && onConflict === undefined) return { conflicts: result.conflicts }
      return result.value === undefined ? { deleted: true } : { value: result.value }
    }
  })
}

/** `merge` with conflicts reported, the default registered under the name 'merge'. */
export const merge: Strategy = mergeStrategy()
