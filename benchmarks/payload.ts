import { mulberry32 } from './zipf.js'

/** A benchmark value: which writer wrote it, its sequence number, and padding to the wanted size. */
export interface Payload {
  [member: string]: string | number
  w: number
  n: number
  pad: string
}

const POOL_SIZE = 1 << 16
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
/** JSON of a payload without its padding is about this long ({"n":…,"pad":"","w":…}). */
const OVERHEAD = 30

/**
 * Values of about `size` bytes of JSON. The padding is random letters, not one repeated
 * character: LevelDB compresses blocks, and a repeated character would make bytes on disk
 * meaninglessly small. The pool is made once from the seed, so runs are repeatable.
 */
export class Payloads {
  readonly #pool: string
  readonly #padLength: number

  constructor (size: number, seed: number) {
    this.#padLength = Math.max(0, size - OVERHEAD)
    const random = mulberry32(seed)
    let pool = ''
    for (let i = 0; i < POOL_SIZE + this.#padLength; i++) pool += ALPHABET[Math.floor(random() * ALPHABET.length)]
    this.#pool = pool
  }

  /** The value writer `writer` writes as its `n`th write. */
  value (writer: number, n: number): Payload {
    // Different writes get different slices, so neighbouring values do not compress into each other.
    const offset = (Math.imul(n, 7919) + Math.imul(writer, 104729)) >>> 0
    const start = offset % POOL_SIZE
    return { n, pad: this.#pool.slice(start, start + this.#padLength), w: writer }
  }
}
