import type { RevkvDatabase } from './layout.js'
import { UTF8 } from './layout.js'
import type { Revision } from './revision.js'

/** One operation of a write batch. */
export type BatchEntry = { type: 'put', key: string, value: string } | { type: 'del', key: string }

/** Something with records in a batch (a key's state), told when the batch is sealed and settled. */
export interface BatchMember {
  /** Called once when the batch is about to be written: add the member's final records. */
  seal (entries: BatchEntry[]): void
  /** Called once when the batch is durable (`ok`) or failed; before the writers' promises settle. */
  settle (ok: boolean): void
}

/** A group of writes that go to LevelDB in one atomic batch. */
export class Batch {
  readonly entries: BatchEntry[] = []
  /** The revisions whose records are among the entries. */
  readonly revisions: Revision[] = []
  readonly members = new Set<BatchMember>()
  readonly done: Promise<void>
  #resolve!: () => void
  #reject!: (err: unknown) => void

  constructor () {
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    // A batch nobody awaits (every writer already failed) must not be an unhandled rejection.
    this.done.catch(() => {})
  }

  /** Settle the batch: members first, so state is consistent before any writer resumes. */
  finish (err: unknown): void {
    for (const member of this.members) member.settle(err === undefined)
    if (err === undefined) this.#resolve()
    else this.#reject(err)
  }
}

/**
 * Group commit: every write decided while the previous batch is being written joins the
 * next batch, so one LevelDB write (and, with `sync`, one fsync) serves all of them, and
 * the main thread prepares batch N+1 while LevelDB writes batch N. One batch is in
 * flight at a time, which keeps batches in order on disk.
 */
export class GroupCommit {
  readonly #db: RevkvDatabase
  readonly #options: { sync: boolean, keyEncoding: 'utf8', valueEncoding: 'utf8' }
  #pending: Batch | undefined
  #inflight: Batch | undefined
  #scheduled = false
  #idle: Array<() => void> = []
  readonly #beforeSettle: (batch: Batch, ok: boolean) => void

  /** `beforeSettle` runs when a batch is done, before its members and writers hear of it. */
  constructor (db: RevkvDatabase, sync: boolean, beforeSettle: (batch: Batch, ok: boolean) => void) {
    this.#db = db
    this.#beforeSettle = beforeSettle
    this.#options = { ...UTF8, sync }
  }

  /** The batch being written now, if any. */
  get inflight (): Batch | undefined {
    return this.#inflight
  }

  /** The batch that new writes join; it is written on a later turn of the event loop. */
  pending (): Batch {
    if (this.#pending === undefined) {
      this.#pending = new Batch()
      this.#schedule()
    }
    return this.#pending
  }

  /** Resolves when nothing is pending or in flight. */
  async idle (): Promise<void> {
    if (this.#pending === undefined && this.#inflight === undefined) return
    await new Promise<void>(resolve => this.#idle.push(resolve))
  }

  #schedule (): void {
    if (this.#scheduled || this.#inflight !== undefined) return
    this.#scheduled = true
    // setImmediate, not a microtask: every write decided in this turn, including those
    // resumed by promise callbacks, joins the same batch.
    setImmediate(() => {
      this.#scheduled = false
      this.#flush()
    })
  }

  #flush (): void {
    const batch = this.#pending
    if (batch === undefined || this.#inflight !== undefined) return
    this.#pending = undefined
    this.#inflight = batch
    for (const member of batch.members) member.seal(batch.entries)
    this.#db.batch(batch.entries, this.#options).then(() => this.#finish(batch, undefined), (err: unknown) => this.#finish(batch, err ?? new Error('batch failed')))
  }

  #finish (batch: Batch, err: unknown): void {
    this.#inflight = undefined
    this.#beforeSettle(batch, err === undefined)
    batch.finish(err)
    if (this.#pending !== undefined) {
      this.#schedule()
    } else {
      for (const resolve of this.#idle.splice(0)) resolve()
    }
  }
}
