import type { Strategy } from './types.js'

/**
 * Strategies of revkv's own. Their results are made of the frozen revision values they
 * were given and of fresh objects, so the store may keep a result without copying it; a
 * custom strategy's result is copied, since its author may still hold and change it.
 */
export const builtIn = new WeakSet<Strategy>()

/** Mark a strategy as revkv's own; returns it. */
export function ownStrategy<S extends Strategy> (strategy: S): S {
  builtIn.add(strategy)
  return strategy
}
