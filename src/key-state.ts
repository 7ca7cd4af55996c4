import type { Batch, BatchMember } from './group-commit.js'
import type { Revision } from './revision.js'
import type { WriteOp } from './write-path.js'

let ticks = 0

/** How many past heads a key remembers as merge-base shortcuts (see KeyState's #pastHeads). */
const MAX_PAST_HEADS = 1024

/** A counter that only grows: orders events within this process (a write's arrival, a head confirmed). */
export function tick (): number {
  return ++ticks
}

/** The in-memory state of one key: its head and unmerged revisions, decided and durable. */
export class KeyState implements BatchMember {
  readonly key: string
  /** The head as decided so far, including writes whose batch is not yet durable. */
  head: Revision | undefined
  /** Unmerged revision ids as decided so far. */
  readonly unmerged: Set<string>
  /** The head as it is on disk. Reads see only this. */
  durableHead: Revision | undefined
  /** The batch holding this key's not-yet-durable records, if any. */
  batch: Batch | undefined
  /** Bumped whenever a batch settles, so a decision that awaited something can tell it is outdated. */
  epoch = 0
  /**
   * The key's last MAX_PAST_HEADS heads, oldest first. A head only ever moves to a revision
   * whose first parent is the previous head, so each of these is an ancestor of the current
   * head: a stale write based on one of them (a writer lagging by a few batches, the usual
   * case on a hot key) has that parent as its merge base, found without walking history.
   * Bounded by count, not by batches: with hundreds of writers on one key a round of their
   * writes spans several batches, and a walk per write would cost more the more writers.
   */
  readonly #pastHeads = new Set<string>()
  /** The same ids in insertion order, a ring: the oldest is found without iterating a Set whose front is all deletions. */
  readonly #pastRing: Array<string | undefined> = []
  #pastNext = 0
  /** Writes waiting for their decision, in arrival order. */
  readonly queue: WriteOp[] = []
  /** True while a decision loop runs for this key. */
  running = false
  /** Multi-key batches holding this state while gathering their keys' states (kept in the cache meanwhile). */
  pins = 0
  /**
   * Another process may have moved the key (a shared engine found it stale, or a refusal
   * must be checked against the stored head): read it again before deciding more.
   */
  stale = false
  /** When (tick()) the durable head was last confirmed by the engine: read from it, or written by a batch. */
  confirmed = tick()
  /** The fencing token the writes in the key's batch carried (the engine checks it against leases). */
  token: number | undefined
  #sealedHead: Revision | undefined
  /**
   * Unmerged ids added and removed since the last settled batch. Each is one record
   * (u!<key>\0<id>), so keeping the thousandth conflict of a hot key writes one small
   * record, not a list of a thousand; on failure the changes are undone from these.
   */
  #added: string[] = []
  #removed: string[] = []
  readonly #onSettle: (state: KeyState) => void

  constructor (key: string, head: Revision | undefined, unmerged: Iterable<string>, onSettle: (state: KeyState) => void) {
    this.key = key
    this.head = this.durableHead = head
    this.unmerged = new Set(unmerged)
    this.#onSettle = onSettle
  }

  /** The unmerged ids as they are on disk. */
  get durableUnmerged (): string[] {
    const durable = new Set(this.unmerged)
    for (const id of this.#added) durable.delete(id)
    for (const id of this.#removed) durable.add(id)
    return [...durable]
  }

  /** Keep a revision unmerged (decided; written with the key's next batch). */
  addUnmerged (id: string): void {
    if (this.unmerged.has(id)) return
    this.unmerged.add(id)
    this.#added.push(id)
  }

  /** A kept revision was merged. */
  removeUnmerged (id: string): void {
    if (this.unmerged.delete(id)) this.#removed.push(id)
  }

  /** True when `id` is the head, the durable head, or a recent head: an ancestor-or-self of the head. */
  isPastHead (id: string): boolean {
    return id === this.head?.id || id === this.durableHead?.id || this.#pastHeads.has(id)
  }

  /** Move the head to a revision whose first parent is the current head. */
  moveHead (head: Revision): void {
    if (this.head !== undefined && head !== this.head) {
      const oldest = this.#pastRing[this.#pastNext]
      if (oldest !== undefined) this.#pastHeads.delete(oldest)
      this.#pastRing[this.#pastNext] = this.head.id
      this.#pastNext = (this.#pastNext + 1) % MAX_PAST_HEADS
      this.#pastHeads.add(this.head.id)
    }
    this.head = head
  }

  /** Start again from the stored state, read anew (only while the key has no batch). */
  reset (head: Revision | undefined, unmerged: Iterable<string>): void {
    this.head = this.durableHead = head
    this.unmerged.clear()
    for (const id of unmerged) this.unmerged.add(id)
    this.#forgetPast()
    this.stale = false
    this.confirmed = tick()
    this.epoch++
  }

  /** True while evicting this state from the cache would lose work. */
  get busy (): boolean {
    return this.running || this.batch !== undefined || this.queue.length > 0 || this.pins > 0
  }

  /**
   * Moves the head once per key per batch (to the key's final state in it), expecting the
   * durable head: an engine shared with other processes writes nothing of the key if that
   * is no longer so.
   */
  seal (batch: Batch): void {
    const head = this.head
    if (head === undefined) return
    this.#sealedHead = head
    batch.records.setHead({
      key: this.key,
      expected: this.durableHead?.id ?? null,
      head: { head: head.id, ...(head.deleted === true ? { deleted: true } : {}), unmerged: this.unmerged.size },
      token: this.token,
      added: this.#added,
      removed: this.#removed
    })
  }

  /**
   * On success the sealed state is durable; on failure, or when the engine found the key
   * moved by another process (stale), the decided state falls back to disk's as it was known.
   */
  settle (written: boolean, batch: Batch): void {
    const ok = written && !batch.stale(this.key)
    if (written && !ok) this.stale = true
    if (ok) {
      this.durableHead = this.#sealedHead
      this.confirmed = tick()
    } else {
      this.head = this.durableHead
      for (const id of this.#removed) this.unmerged.add(id)
      for (const id of this.#added) this.unmerged.delete(id)
    }
    if (this.#added.length > 0) this.#added = []
    if (this.#removed.length > 0) this.#removed = []
    this.batch = undefined
    this.token = undefined
    // The heads of a failed batch never existed: forget every shortcut, to be safe.
    if (!ok) this.#forgetPast()
    this.epoch++
    this.#onSettle(this)
  }

  #forgetPast (): void {
    this.#pastHeads.clear()
    this.#pastRing.length = 0
    this.#pastNext = 0
  }
}
