interface Slot<V> {
  value: V
  used: boolean
}

/**
 * A size-bounded map that forgets entries not used recently (the CLOCK approximation of
 * LRU: a read only sets a flag, so hits cost no reordering). Entries for which `pinned`
 * returns true are never evicted (a key with writes in progress must keep its one
 * in-memory state), so the bound is soft while many keys are busy at once.
 */
export class LruMap<K, V> {
  readonly #map = new Map<K, Slot<V>>()
  readonly #max: number
  readonly #pinned: (value: V) => boolean

  constructor (max: number, pinned: (value: V) => boolean = () => false) {
    this.#max = Math.max(1, max)
    this.#pinned = pinned
  }

  get size (): number {
    return this.#map.size
  }

  /** The value, marked as recently used. */
  get (key: K): V | undefined {
    const slot = this.#map.get(key)
    if (slot === undefined) return undefined
    slot.used = true
    return slot.value
  }

  set (key: K, value: V): void {
    const slot = this.#map.get(key)
    if (slot !== undefined) {
      slot.value = value
      slot.used = true
      return
    }
    this.#map.set(key, { value, used: false })
    if (this.#map.size > this.#max) this.#evict()
  }

  delete (key: K): void {
    this.#map.delete(key)
  }

  clear (): void {
    this.#map.clear()
  }

  #evict (): void {
    // Evict down to 7/8 of the bound, so eviction runs once per many inserts. Used or pinned
    // entries get a second chance: moved to the back with the flag cleared.
    const target = Math.floor(this.#max * 7 / 8)
    let budget = this.#map.size * 2
    for (const [key, slot] of this.#map) {
      if (this.#map.size <= target || budget-- <= 0) break
      this.#map.delete(key)
      if (slot.used || this.#pinned(slot.value)) {
        slot.used = false
        this.#map.set(key, slot)
      }
    }
  }
}
