/**
 * A size-bounded cache with two generations: new and recently read entries live in the
 * young map; when it fills half the bound, it becomes the old map and the previous old
 * map is dropped. Reads and writes cost one or two Map operations and eviction costs
 * nothing per entry, which matters on the write path (every commit caches its revision).
 * Entries for which `pinned` returns true survive a rotation (a key with writes in
 * progress must keep its one in-memory state), so the bound is soft while many keys are busy.
 * A rotation comes after `max / 2` insertions, not when the young map holds that many: the
 * pinned entries carried over would otherwise fill it at once, and with more pinned entries
 * than that (a large batch against a small cache) every insertion would rotate, copying them all.
 */
export class LruMap<K, V> {
  #young = new Map<K, V>()
  #old = new Map<K, V>()
  readonly #half: number
  readonly #pinned: ((value: V) => boolean) | undefined
  /** Insertions since the last rotation. */
  #inserted = 0

  constructor (max: number, pinned?: (value: V) => boolean) {
    this.#half = Math.max(1, Math.floor(max / 2))
    this.#pinned = pinned
  }

  get size (): number {
    return this.#young.size + this.#old.size
  }

  /** The value; an old entry that is read moves back to the young generation. */
  get (key: K): V | undefined {
    const young = this.#young.get(key)
    if (young !== undefined) return young
    const old = this.#old.get(key)
    if (old !== undefined) {
      this.#old.delete(key)
      this.#insert(key, old)
    }
    return old
  }

  set (key: K, value: V): void {
    this.#old.delete(key)
    this.#insert(key, value)
  }

  delete (key: K): void {
    this.#young.delete(key)
    this.#old.delete(key)
  }

  clear (): void {
    this.#young.clear()
    this.#old.clear()
  }

  #insert (key: K, value: V): void {
    this.#young.set(key, value)
    if (++this.#inserted < this.#half) return
    this.#inserted = 0
    const dropped = this.#old
    this.#old = this.#young
    this.#young = new Map()
    if (this.#pinned !== undefined) {
      for (const [k, v] of dropped) if (this.#pinned(v)) this.#young.set(k, v)
    }
  }
}
