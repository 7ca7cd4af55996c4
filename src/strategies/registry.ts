import { InvalidInputError } from '../errors.js'
import { describe, validateText } from '../revision.js'
import { lww } from './lww.js'
import { manual } from './manual.js'
import { merge } from './merge.js'
import { reject } from './reject.js'
import type { Strategy, StrategyRef } from './types.js'

const BUILT_IN: readonly Strategy[] = [reject, lww, merge, manual]

/** Strategies by name, and the choice of a strategy for a write. */
export class StrategyRegistry {
  readonly #byName = new Map<string, Strategy>()
  readonly #default: Strategy
  /** Prefix rules, longest prefix first, so the first match is the longest. */
  readonly #prefixes: Array<[string, Strategy]>

  constructor (defaultStrategy: StrategyRef | undefined, prefixes: Record<string, StrategyRef> | undefined) {
    for (const s of BUILT_IN) this.#byName.set(s.name, s)
    this.#default = this.get(defaultStrategy ?? 'reject', 'option strategy')
    if (prefixes !== undefined && (typeof prefixes !== 'object' || prefixes === null)) {
      throw new InvalidInputError(`Option strategies must be an object of { keyPrefix: strategy }, got ${describe(prefixes)}.`)
    }
    this.#prefixes = Object.entries(prefixes ?? {})
      .map(([prefix, ref]): [string, Strategy] => [prefix, this.get(ref, `option strategies[${JSON.stringify(prefix)}]`)])
      .sort((a, b) => b[0].length - a[0].length)
  }

  /** Make a custom strategy usable by name; a later registration of the same name replaces it. */
  register (strategy: Strategy): void {
    validateStrategy(strategy, 'registerStrategy()')
    this.#byName.set(strategy.name, strategy)
  }

  /** The strategy named or given; `what` names the input in the error message. */
  get (ref: StrategyRef, what: string): Strategy {
    if (typeof ref === 'string') {
      const found = this.#byName.get(ref)
      if (found === undefined) {
        throw new InvalidInputError(`Unknown strategy ${JSON.stringify(ref)} in ${what}. Use one of ${[...this.#byName.keys()].join(', ')}, or register it first with store.registerStrategy().`)
      }
      return found
    }
    validateStrategy(ref, what)
    return ref
  }

  /** The strategy for a write: its own, else the longest matching prefix rule, else the default. */
  forKey (key: string, own: StrategyRef | undefined): Strategy {
    if (own !== undefined) return this.get(own, 'option strategy')
    for (const [prefix, strategy] of this.#prefixes) {
      if (key.startsWith(prefix)) return strategy
    }
    return this.#default
  }
}

function validateStrategy (strategy: unknown, what: string): asserts strategy is Strategy {
  const s = strategy as Partial<Strategy> | null
  if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || s.name === '' || typeof s.resolve !== 'function') {
    throw new InvalidInputError(`${what} needs a strategy name or an object { name: string, resolve(ctx) }, got ${describe(strategy)}.`)
  }
  // The name is recorded on the merge revisions the strategy makes.
  validateText(s.name, 'Strategy name')
}
