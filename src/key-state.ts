import type { Batch, BatchMember } from './group-commit.js'
import { conflictKey, encodeHead, headKey } from './layout.js'
import type { Revision } from './revision.js'
import type { WriteOp } from './write-path.js'

/** How many past heads a key remembers for merge-base shortcuts (writers rarely lag further). */
const MAX_PAST_HEADS = 1024

/** The in-memory state of one key: its head and unmerged revisions, decided and durable. */
export class KeyState implements BatchMember {
  readonly key: string
  /** The head as decided so far, including writes whose batch is not yet durable. */
  head: Revision | undefined
  /** Unmerged revision ids as decided so far. */
  unmerged: readonly string[]
  /** The head and unmerged ids as they are on disk. Reads see only these. */
  durableHead: Revision | undefined
  durableUnmerged: readonly string[]
  /** The batch holding this key's not-yet-durable records, if any. */
  batch: Batch | undefined
  /** Bumped whenever a batch settles, so a decision that awaited something can tell it is outdated. */
  epoch = 0
  /**
   * Recent heads of this key (the durable head counts too). A head only ever moves to
   * a revision whose first parent is the previous head, so each of these is an ancestor of
   * the current head: a stale write based on one of them has that parent as its merge base,
   * found without walking history.
   */
  readonly pastHeads = new Set<string>()
  /** Writes waiting for their decision, in arrival order. */
  readonly queue: WriteOp[] = []
  /** True while a decision loop runs for this key. */
  running = false
  #sealedHead: Revision | undefined
  #sealedUnmerged: readonly string[] = []
  readonly #onSettle: (state: KeyState) => void

  constructor (key: string, head: Revision | undefined, unmerged: readonly string[], onSettle: (state: KeyState) => void) {
    this.key = key
    this.head = this.durableHead = head
    this.unmerged = this.durableUnmerged = unmerged
    this.#onSettle = onSettle
  }

  /** True when `id` is the head, the durable head, or a head in between: an ancestor-or-self of the head. */
  isPastHead (id: string): boolean {
    return id === this.head?.id || id === this.durableHead?.id || this.pastHeads.has(id)
  }

  /** True while evicting this state from the cache would lose work. */
  get busy (): boolean {
    return this.running || this.batch !== undefined || this.queue.length > 0
  }

  /** Writes a single head record per key per batch: the key's final state in it. */
  seal (batch: Batch): void {
    const head = this.head
    if (head === undefined) return
    this.#sealedHead = head
    this.#sealedUnmerged = this.unmerged
    batch.put(headKey(this.key), encodeHead({ head: head.id, ...(head.deleted === true ? { deleted: true } : {}), unmerged: this.unmerged }))
    if (this.unmerged.length > 0 && this.durableUnmerged.length === 0) {
      batch.put(conflictKey(this.key), '')
    } else if (this.unmerged.length === 0 && this.durableUnmerged.length > 0) {
      batch.del(conflictKey(this.key))
    }
  }

  /** On success the sealed state is durable; on failure the decided state falls back to disk's. */
  settle (ok: boolean): void {
    if (ok) {
      this.durableHead = this.#sealedHead
      this.durableUnmerged = this.#sealedUnmerged
    } else {
      this.head = this.durableHead
      this.unmerged = this.durableUnmerged
    }
    this.batch = undefined
    if (!ok) {
      // The heads of the failed batch never existed: forget every shortcut, to be safe.
      this.pastHeads.clear()
    } else if (this.pastHeads.size > MAX_PAST_HEADS) {
      // Sets iterate in insertion order: drop the oldest half.
      let drop = this.pastHeads.size - MAX_PAST_HEADS / 2
      for (const id of this.pastHeads) {
        if (drop-- <= 0) break
        this.pastHeads.delete(id)
      }
    }
    this.epoch++
    this.#onSettle(this)
  }
}
