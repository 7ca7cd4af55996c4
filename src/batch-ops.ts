import { InvalidInputError, ValueTooLargeError } from './errors.js'
import type { JsonValue } from './json.js'
import { MAX_BATCH_OPS } from './op-group.js'
import { describe, validateKey } from './revision.js'
import type { StrategyRef } from './strategies/types.js'

/** One write of store.batch(): the meanings of commit() and delete(), per op. */
export interface BatchOp {
  type: 'commit' | 'delete'
  key: string
  /** The new value (commit only). */
  value?: JsonValue
  /** undefined: on top of the head; null: create only (commit only); a revision id: stale unless it is the head. */
  parent?: string | null
  /** The strategy if the op is stale; overrides prefix rules and the default. */
  strategy?: StrategyRef
  /** The fencing token of the lease held on the key, if it is leased. */
  lock?: number
}

/** Options of store.batch(), shared by every revision the batch writes. */
export interface BatchOptions {
  author?: string
  message?: string
}

const FIELDS = new Set(['type', 'key', 'value', 'parent', 'strategy', 'lock'])

/**
 * The ops of a batch, their shape checked before anything is queued: an array of at most
 * MAX_BATCH_OPS ops, each with known fields only, and each key once.
 */
export function checkBatchOps (ops: unknown): BatchOp[] {
  if (!Array.isArray(ops)) {
    throw new InvalidInputError(`batch() takes an array of ops ({ type: 'commit' | 'delete', key, value?, parent?, strategy?, lock? }), got ${describe(ops)}.`)
  }
  if (ops.length > MAX_BATCH_OPS) {
    throw new InvalidInputError(`The batch has ${ops.length} ops; a batch holds at most ${MAX_BATCH_OPS.toLocaleString('en-US')} (see the README, "Batches"). Split it into several batches, or use a transaction per group of keys that must change together.`)
  }
  const seen = new Map<string, number>()
  ops.forEach((op: unknown, index) => {
    const where = `Batch op ${index}`
    if (op === null || typeof op !== 'object' || Array.isArray(op)) throw new InvalidInputError(`${where} must be an object like { type: 'commit', key, value }, got ${describe(op)}.`)
    const fields = op as Record<string, unknown>
    for (const field of Object.keys(fields)) {
      if (!FIELDS.has(field)) throw new InvalidInputError(`${where} has an unknown field ${JSON.stringify(field)}; an op has type, key, value, parent, strategy and lock.`)
    }
    const { type, key } = fields
    if (type !== 'commit' && type !== 'delete') throw new InvalidInputError(`${where} has type ${describe(type)}; it must be 'commit' or 'delete'.`)
    inOp(index, () => { validateKey(key) })
    const first = seen.get(key as string)
    if (first !== undefined) throw new InvalidInputError(`${where} writes key ${JSON.stringify(key)} again (op ${first} does already); a key may appear once per batch: fold the two ops into one.`)
    seen.set(key as string, index)
    if (type === 'commit' && fields.value === undefined) throw new InvalidInputError(`${where} is a commit of key ${JSON.stringify(key)} without a value; give value (any JSON value), or make it a delete.`)
    if (type === 'delete' && fields.value !== undefined) throw new InvalidInputError(`${where} is a delete of key ${JSON.stringify(key)} with a value; a delete writes a tombstone: drop the value, or make it a commit.`)
    if (type === 'delete' && fields.parent === null) throw new InvalidInputError(`${where} is a create-only delete (parent: null) of key ${JSON.stringify(key)}; give the head revision id as parent, or no parent.`)
  })
  return ops as BatchOp[]
}

/** Run `check` for op `index`, naming the op in what it throws (a value too large keeps its own class and fix). */
export function inOp<T> (index: number, check: () => T): T {
  try {
    return check()
  } catch (err) {
    if (err instanceof ValueTooLargeError || !(err instanceof InvalidInputError)) throw err
    throw new InvalidInputError(`Batch op ${index}: ${err.message}`, { cause: err })
  }
}
