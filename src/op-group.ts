import { BatchConflictError, ConflictError, InvalidInputError, LockedError, MergeConflictError, NotFoundError } from './errors.js'
import type { BatchRefusal } from './errors.js'
import type { KeyState } from './key-state.js'
import type { Revision } from './revision.js'
import type { WriteOp } from './write-path.js'

/**
 * The most ops one multi-key batch may hold. A batch is decided as a whole and written as
 * one engine write (one LevelDB batch, one PostgreSQL statement), so it is held in memory
 * whole and its keys wait for each other; its changes carry their position in the batch in
 * 14 bits (see changes.ts). 10,000 keeps all of that small while far beyond etcd's 128.
 */
export const MAX_BATCH_OPS = 10_000

/** A refused op of a group, and the head it was judged against. */
export interface Refused {
  index: number
  error: unknown
  actual: string | null
}

/**
 * The ops of one multi-key batch. They wait in their keys' queues like other writes; once
 * every one of them is first in its queue they are decided together, and either all go into
 * one engine batch (bound with atomic(), so a shared engine writes all or none of them) or
 * none does. Queues are filled for all keys in one synchronous step, so any two groups are
 * in the same order in every queue they share: groups never wait for each other in a cycle.
 */
export class OpGroup {
  readonly ops: WriteOp[]
  /** The ops' key states, by op index, once gathered. */
  readonly states: KeyState[] = []
  /** When the group arrived (tick()). */
  readonly arrived: number
  /** Shared engines: a refusal was already checked against heads read anew. */
  checked = false
  /** True while the group's ops are being decided (their keys are held). */
  deciding = false
  /** Where the last readiness scan stopped (see WritePath's #tryGroup). */
  scan = 0
  readonly #results: Array<Revision | undefined>
  #left: number
  #over = false
  readonly #resolve: (results: Array<Revision | undefined>) => void
  readonly #reject: (err: unknown) => void

  constructor (ops: WriteOp[], arrived: number, resolve: (results: Array<Revision | undefined>) => void, reject: (err: unknown) => void) {
    this.ops = ops
    this.arrived = arrived
    this.#results = new Array<Revision | undefined>(ops.length)
    this.#left = ops.length
    this.#resolve = resolve
    this.#reject = reject
  }

  /** Op `index` is durable with this result; the group resolves once all are. */
  answered (index: number, result: Revision | undefined): void {
    this.#results[index] = result
    if (--this.#left === 0 && !this.#over) {
      this.#over = true
      this.#resolve(this.#results)
    }
  }

  /** The group failed (its first error is the one reported). */
  failed (err: unknown): void {
    if (this.#over) return
    this.#over = true
    this.#reject(err)
  }
}

/** A refusal the batch's caller can act on, as opposed to a failure of the store (a database down, damage). */
export function isRefusal (err: unknown): boolean {
  return err instanceof ConflictError || err instanceof LockedError || err instanceof NotFoundError || err instanceof InvalidInputError
}

/** What a refused group fails with: a failure of the store as it is, else one BatchConflictError listing every refused op. */
export function groupRefusal (group: OpGroup, refused: Refused[]): unknown {
  const failure = refused.find((r) => !isRefusal(r.error))
  if (failure !== undefined) return failure.error
  const conflicts = refused.map(({ index, error, actual }): BatchRefusal => {
    const op = group.ops[index] as WriteOp
    const err = error as ConflictError | LockedError | NotFoundError | InvalidInputError
    const expected = op.kind === 'check' ? op.expected : op.kind === 'merge' ? op.rev : op.parent
    return {
      index,
      key: op.key,
      code: err.code,
      message: err.message,
      expected,
      actual,
      ...(err instanceof MergeConflictError ? { places: err.conflicts } : {})
    }
  })
  const shown = conflicts.slice(0, 5).map((c) => `${JSON.stringify(c.key)} (${c.code})`).join(', ')
  const more = conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : ''
  return new BatchConflictError(
    `Batch refused: ${conflicts.length} of its ${group.ops.length} ops could not be applied (${shown}${more}), so nothing of the batch was written. ` +
    'Each refused op is in the error\'s conflicts with the head it was judged against: read those keys again and retry the batch, or give them strategies that settle stale writes (lww, merge).',
    conflicts)
}
