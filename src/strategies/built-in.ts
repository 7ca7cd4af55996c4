import type { Strategy } from './types.js'

/**
 * Strategies of revkv's own. Their results are made of the frozen revision values they
 * were given and of fresh objects, so the store may keep a result without copying it; a
 * custom strategy's result is copied, since its author may still hold and change it.
 */
export const builtIn = new WeakSet<Strategy>()

/**
 * Built-in strategies that never read the merge base (lww, reject, manual): the write path
 * does not look for it for them. Finding it may walk history, which under many writers on
 * one key (each stale by many heads) costs more the more writers there are.
 */
export const baseless = new WeakSet<Strategy>()

/** Mark a strategy as revkv's own (`base: false`: it never reads the merge base); returns it. */
export function ownStrategy<S extends Strategy> (strategy: S, options: { base?: false } = {}): S {
  builtIn.add(strategy)
  if (options.base === false) baseless.add(strategy)
  return strategy
}
