import type { AbstractBatchOptions, AbstractChainedBatch } from 'abstract-level'
import { UTF8 } from './layout.js'
import type { RevkvDatabase } from './layout.js'
import type { Revision } from './revision.js'

/** Something with records in a batch (a key's state), told when the batch is sealed and settled. */
export interface BatchMember {
  /** Called once when the batch is about to be written: add the member's final records. */
  seal (batch: Batch): void
  /** Called once when the batch is durable (`ok`) or failed; before the writers hear of it. */
  settle (ok: boolean, batch: Batch): void
}

type Chain = AbstractChainedBatch<RevkvDatabase, string, string>

/**
 * A group of writes that go to LevelDB in one atomic batch. Entries go straight into a
 * chained batch as writes are decided: for classic-level that copies each entry to the
 * native batch at once, which costs the main thread about half of an array batch.
 */
export class Batch<Op = unknown> {
  /** The revisions whose records are in the batch. */
  readonly revisions: Revision[] = []
  /** The writes the batch acknowledges, answered in order once it settles (see GroupCommit). */
  readonly ops: Op[] = []
  readonly members = new Set<BatchMember>()
  /** True once the batch is being written; its members wait for it before deciding more. */
  sealed = false
  /** How many entries the batch holds. */
  size = 0
  readonly #chain: Chain
  readonly #waiters: Array<(err: unknown) => void> = []
  readonly #first: Array<(err: unknown) => void> = []

  constructor (chain: Chain) {
    this.#chain = chain
  }

  put (key: string, value: string): void {
    this.#chain.put(key, value)
    this.size++
  }

  del (key: string): void {
    this.#chain.del(key)
    this.size++
  }

  /**
   * Call `callback` with undefined once the batch is durable, or with the error that failed
   * it. `first` callbacks run before the others: writers refused against this batch hear
   * first, so when they retry they are ahead of the writers it acknowledged, and on a hot
   * key under `reject` the winner changes from round to round instead of starving the rest.
   */
  onDone (callback: (err: unknown) => void, first = false): void {
    (first ? this.#first : this.#waiters).push(callback)
  }

  /** Write the batch. */
  async write (options: AbstractBatchOptions<string, string>): Promise<void> {
    await this.#chain.write(options)
  }

  /** Settle the batch: members first, so state is consistent before any writer resumes. */
  finish (err: unknown): void {
    for (const member of this.members) member.settle(err === undefined, this)
    for (const waiter of this.#first) waiter(err)
    for (const waiter of this.#waiters) waiter(err)
  }
}

/** What the write path does when a batch settles. */
export interface SettleHooks<Op> {
  /** Before members and writers hear of it (e.g. move its revisions to the caches). */
  beforeSettle: (batch: Batch<Op>, ok: boolean) => void
  /** After members settled and refused writers heard: answer the batch's writes. */
  afterSettle: (batch: Batch<Op>, err: unknown) => void
}

/** Tuning of the group-commit write path. */
export interface GroupCommitOptions {
  /** fsync each batch before acknowledging it. */
  sync: boolean
  /** A pending batch this large is written at once instead of at the end of the turn. */
  flushEntries?: number | undefined
  /** How many batches may be written at the same time. */
  maxInFlight?: number | undefined
}

/**
 * Group commit: writes decided in the same turn of the event loop share one LevelDB batch,
 * and so one write (and with `sync` one fsync). A batch is written at the end of the turn,
 * or as soon as it holds `flushEntries` entries, so LevelDB's threads write the first part
 * of a burst while the main thread still decides the rest. Several batches may be in
 * flight; that is safe because a key with records in a sealed batch decides nothing more
 * until that batch settles (see WritePath), so no key is ever in two batches in flight and
 * their order on disk does not matter.
 */
export class GroupCommit<Op = unknown> {
  readonly #db: RevkvDatabase
  readonly #options: AbstractBatchOptions<string, string>
  readonly #flushEntries: number
  readonly #maxInFlight: number
  #pending: Batch<Op> | undefined
  readonly #inflight = new Set<Batch<Op>>()
  #scheduled = false
  #idle: Array<() => void> = []
  readonly #hooks: SettleHooks<Op>

  /** `hooks` run when a batch is done: before its members and writers hear of it, and after. */
  constructor (db: RevkvDatabase, options: GroupCommitOptions, hooks: SettleHooks<Op>) {
    this.#db = db
    // abstract-level copies batch options onto every entry, so encodings are passed only when
    // the database's defaults are not already utf8. `sync` is classic-level's; others ignore it.
    const utf8 = db.keyEncoding().name === 'utf8' && db.valueEncoding().name === 'utf8'
    this.#options = { ...(utf8 ? {} : UTF8), sync: options.sync } as AbstractBatchOptions<string, string>
    this.#flushEntries = options.flushEntries ?? 128
    this.#maxInFlight = options.maxInFlight ?? 4
    this.#hooks = hooks
  }

  /** The batch that new writes join. Call added() after adding to it. */
  pending (): Batch<Op> {
    this.#pending ??= new Batch<Op>(this.#db.batch() as Chain)
    return this.#pending
  }

  /** Entries were added to the pending batch: write it now if it is full, else by the end of the turn. */
  added (): void {
    const batch = this.#pending
    if (batch === undefined) return
    if (batch.size >= this.#flushEntries && this.#inflight.size < this.#maxInFlight) {
      this.#flush()
    } else if (!this.#scheduled) {
      this.#scheduled = true
      // setImmediate, not a microtask: every write decided in this turn, including those
      // resumed by promise callbacks, joins the same batch.
      setImmediate(() => {
        this.#scheduled = false
        if (this.#inflight.size < this.#maxInFlight) this.#flush()
      })
    }
  }

  /** Resolves when nothing is pending or in flight. */
  async idle (): Promise<void> {
    if (this.#pending === undefined && this.#inflight.size === 0) return
    await new Promise<void>(resolve => this.#idle.push(resolve))
  }

  #flush (): void {
    const batch = this.#pending
    if (batch === undefined) return
    this.#pending = undefined
    this.#inflight.add(batch)
    batch.sealed = true
    for (const member of batch.members) member.seal(batch)
    batch.write(this.#options).then(() => this.#finish(batch, undefined), (err: unknown) => this.#finish(batch, err ?? new Error('batch failed')))
  }

  #finish (batch: Batch<Op>, err: unknown): void {
    this.#inflight.delete(batch)
    this.#hooks.beforeSettle(batch, err === undefined)
    batch.finish(err)
    this.#hooks.afterSettle(batch, err)
    if (this.#pending !== undefined) {
      this.added()
    } else if (this.#inflight.size === 0) {
      for (const resolve of this.#idle.splice(0)) resolve()
    }
  }
}
