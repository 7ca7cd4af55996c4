/**
 * A size-bounded map that forgets the least recently used entries. Entries for which
 * `pinned` returns true are never evicted (a key with writes in progress must keep its
 * one in-memory state), so the bound is soft while many keys are busy at once.
 */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>()
  readonly #max: number
  readonly #pinned: (value: V) => boolean

  constructor (max: number, pinned: (value: V) => boolean = () => false) {
    this.#max = Math.max(1, max)
    this.#pinned = pinned
  }

  get size (): number {
    return this.#map.size
  }

  /** The value, marked as most recently used. */
  get (key: K): V | undefined {
    const value = this.#map.get(key)
    if (value !== undefined) {
      this.#map.delete(key)
      this.#map.set(key, value)
    }
    return value
  }

  set (key: K, value: V): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.#max) this.#evict()
  }

  delete (key: K): void {
    this.#map.delete(key)
  }

  clear (): void {
    this.#map.clear()
  }

  #evict (): void {
    // Evict down to 7/8 of the bound, so eviction runs once per many inserts, not on every one.
    const target = Math.floor(this.#max * 7 / 8)
    for (const [key, value] of this.#map) {
      if (this.#map.size <= target) break
      if (!this.#pinned(value)) this.#map.delete(key)
    }
  }
}
