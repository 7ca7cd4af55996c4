import { ownStrategy } from './built-in.js'
import type { Resolution, ResolveContext, Strategy } from './types.js'

/**
 * `lww` (last write wins). On a stale commit the incoming write wins: it arrived last,
 * and the head it overwrites stays in history as the merge's first parent. When
 * `merge()` joins two stored revisions, the later `time` wins, ties broken by the
 * larger id, so every replica that joins the same pair picks the same winner.
 */
export const lww: Strategy = ownStrategy({
  name: 'lww',
  resolve (ctx: ResolveContext): Resolution {
    const theirsWins = ctx.mode === 'commit' ||
      ctx.theirsRev.time > ctx.oursRev.time ||
      (ctx.theirsRev.time === ctx.oursRev.time && ctx.theirsRev.id > ctx.oursRev.id)
    const winner = theirsWins ? ctx.theirs : ctx.ours
    return winner === undefined ? { deleted: true } : { value: winner }
  }
}, { base: false })
