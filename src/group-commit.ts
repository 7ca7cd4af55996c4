import type { Engine, EngineBatch, WriteOutcome } from './engines/engine.js'
import type { Revision } from './revision.js'

/** Something with records in a batch (a key's state), told when the batch is sealed and settled. */
export interface BatchMember {
  /** Called once when the batch is about to be written: add the member's final records. */
  seal (batch: Batch): void
  /** Called once when the batch is durable (`ok`) or failed; before the writers hear of it. */
  settle (ok: boolean, batch: Batch): void
}

/** A group of writes that go to the engine in one atomic batch (filled as writes are decided). */
export class Batch<Op = unknown> {
  /** The revisions whose records are in the batch. */
  readonly revisions: Revision[] = []
  /** The writes the batch acknowledges, answered in order once it settles (see GroupCommit). */
  readonly ops: Op[] = []
  readonly members = new Set<BatchMember>()
  /** True once the batch is being written; its members wait for it before deciding more. */
  sealed = false
  /** The engine's batch: records go in as writes are decided. */
  readonly records: EngineBatch
  /** What the engine did, once written: which keys were stale, the first sequence number. */
  outcome: WriteOutcome | undefined
  readonly #waiters: Array<(err: unknown) => void> = []
  readonly #first: Array<(err: unknown) => void> = []

  constructor (records: EngineBatch) {
    this.records = records
  }

  /** How many records the batch holds. */
  get size (): number {
    return this.records.size
  }

  /** True if the batch was written but left `key` alone: another process had moved its head. */
  stale (key: string): boolean {
    return this.outcome?.stale.has(key) === true
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

  /** Write the batch; `now` is the time leases are judged at. */
  async write (sync: boolean, now: number): Promise<void> {
    this.outcome = await this.records.write({ sync, now })
  }

  /** Settle the batch: members first, so state is consistent before any writer resumes. */
  finish (err: unknown): void {
    for (const member of this.members) member.settle(err === undefined, this)
    for (const waiter of this.#first) waiter(err)
    for (const waiter of this.#waiters) waiter(err)
  }
}

/**
 * Entries at which a pending batch is written before the end of the turn. Small, so that
 * LevelDB's writer starts on the first writes of a burst while the main thread decides the
 * rest: with 64 writers on distinct keys, 32 entries (16 commits) gave about 15% more
 * commits/s than 128, with or without fsync. A key with more writes queued is not cut off
 * by it (see added()), so a hot key still fills one batch per round trip.
 */
export const DEFAULT_FLUSH_ENTRIES = 32

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
  /** Epoch milliseconds now: the time of new revisions, and leases are judged at it. */
  clock: () => number
  /** A pending batch this large is written at once instead of at the end of the turn. */
  flushEntries?: number | undefined
  /** How many batches may be written at the same time. */
  maxInFlight?: number | undefined
}

/**
 * Group commit: writes decided in the same turn of the event loop share one engine batch,
 * and so one write (and with `sync` one fsync, or one round trip to a database server). A batch is written at the end of the turn,
 * or as soon as it holds `flushEntries` entries, so the engine writes the first part
 * of a burst while the main thread still decides the rest. Several batches may be in
 * flight; that is safe because a key with records in a sealed batch decides nothing more
 * until that batch settles (see WritePath), so no key is ever in two batches in flight and
 * their order on disk does not matter.
 */
export class GroupCommit<Op = unknown> {
  readonly #engine: Engine
  readonly #sync: boolean
  readonly #clock: () => number
  readonly #flushEntries: number
  readonly #maxInFlight: number
  #pending: Batch<Op> | undefined
  readonly #inflight = new Set<Batch<Op>>()
  #scheduled = false
  #idle: Array<() => void> = []
  readonly #hooks: SettleHooks<Op>

  /** `hooks` run when a batch is done: before its members and writers hear of it, and after. */
  constructor (engine: Engine, options: GroupCommitOptions, hooks: SettleHooks<Op>) {
    this.#engine = engine
    this.#sync = options.sync
    this.#clock = options.clock
    this.#flushEntries = options.flushEntries ?? DEFAULT_FLUSH_ENTRIES
    this.#maxInFlight = options.maxInFlight ?? 4
    this.#hooks = hooks
  }

  /** The batch that new writes join. Call added() after adding to it. */
  pending (): Batch<Op> {
    this.#pending ??= new Batch<Op>(this.#engine.batch())
    return this.#pending
  }

  /**
   * Entries were added to the pending batch: write it now if it is full, else by the end of
   * the turn. `early: false` keeps a full batch open for now: the writer still has writes
   * queued on a key of the batch, which would otherwise wait for it to be written.
   */
  added (early = true): void {
    const batch = this.#pending
    if (batch === undefined) return
    if (early && batch.size >= this.#flushEntries && this.#inflight.size < this.#maxInFlight) {
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
    batch.write(this.#sync, this.#clock()).then(() => this.#finish(batch, undefined), (err: unknown) => this.#finish(batch, err ?? new Error('batch failed')))
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
