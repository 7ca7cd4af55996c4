import { InvalidInputError } from './errors.js'
import { describe, validateText } from './revision.js'

/** Throws unless a method's options argument is a plain object. */
export function checkOptions (options: unknown, method: string): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidInputError(`${method}() options must be an object, got ${describe(options)}.`)
  }
}

/**
 * A string option, or undefined; anything else, or a string that cannot be stored as it is
 * (a lone UTF-16 surrogate), is refused. `what` names it in messages, e.g. "Option author".
 */
export function checkText (value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new InvalidInputError(`${what} must be a string, got ${describe(value)}.`)
  validateText(value, what)
  return value
}

/** A `limit` option as a count (Infinity when absent). */
export function checkLimit (limit: unknown, what: string): number {
  if (limit === undefined) return Infinity
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) throw new InvalidInputError(`${what} must be a whole number ≥ 0, got ${describe(limit)}.`)
  return limit
}
