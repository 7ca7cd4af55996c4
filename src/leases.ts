import { ClosedError, InvalidInputError, LockedError } from './errors.js'
import type { Engine, LeaseRecord } from './engines/engine.js'
import { describe, validateText } from './revision.js'

/**
 * Leases: pessimistic locking with fencing tokens.
 *
 * A lease lets one client write a key for a while; every other write to the key is refused
 * with LockedError until the lease is released or expires. Leases alone are not safe: a
 * client can pause (a GC pause, a swapped-out VM, a slow network) past its lease's end,
 * another client takes the lease, and the first one wakes and writes believing it still
 * holds it (the hole etcd's Jepsen analysis found, and Kleppmann's argument in "How to do
 * distributed locking"). So every lease carries a fencing token that strictly increases per
 * key across every lease ever granted on it, every write under a lease carries its token,
 * and the store, which sees every write, refuses one whose token is not the live lease's:
 * the paused client's older token is refused, even when nobody holds the lease any more.
 * Revisions written under a lease record its token, so history shows who wrote under which lease.
 */

/** A lease on a key: its fencing token, who holds it and until when. */
export interface Lease {
  /** The leased key. */
  key: string
  /** The fencing token: strictly increasing per key; carry it on writes (`lock` option). */
  token: number
  /** Who holds it (the `owner` option, else the store's author, else 'anonymous'). */
  owner: string
  /** When it ends by itself, epoch milliseconds. */
  expires: number
}

/** Options of store.lock(). */
export interface LockOptions {
  /** How long the lease lasts, in milliseconds (1 to 86,400,000: one day). */
  ttl: number
  /** Who holds it, shown to writers it refuses (default: the store's author, else 'anonymous'). */
  owner?: string
  /** How long to queue for a held lease, in milliseconds, first come first served (default 0: fail at once). */
  wait?: number
  /** Stop waiting when this aborts (the caller leaves the queue with LockedError). */
  signal?: AbortSignal | undefined
}

/** Options of store.renew(). */
export interface RenewOptions {
  /** The lease's new duration from now, in milliseconds (1 to 86,400,000). */
  ttl: number
}

/** Options of store.locks(). */
export interface LocksOptions {
  /** Only leases on keys starting with this. */
  prefix?: string
}

/** The HTTP request header that carries a lease's fencing token on writes, renewals and releases. */
export const LOCK_TOKEN_HEADER = 'Revkv-Lock-Token'

/** The longest lease: a lease guards an edit in progress; hold one longer by renewing it. */
export const MAX_TTL_MS = 24 * 60 * 60 * 1000
/** The longest wait for a lease (a queued caller holds a request open meanwhile). */
export const MAX_WAIT_MS = 60 * 60 * 1000
/** Longest owner name, so a refusal's message stays readable. */
const MAX_OWNER_LENGTH = 256
/** setTimeout's largest delay; later expiries are checked again when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1

interface Waiter {
  owner: string
  ttl: number
  resolve: (lease: Lease) => void
  reject: (err: unknown) => void
  timer: NodeJS.Timeout
  /** Set when its wait ran out while a grant for it was under way: refused if that grant fails. */
  late?: string
}

/** How often a caller waiting for a lease held by another process looks whether it has ended. */
const POLL_MS = 100

/** A lease option in milliseconds: a whole number in [min, max]; anything else names the fix. */
export function checkMs (value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`${name} must be a whole number of milliseconds from ${min} to ${max.toLocaleString('en-US')}, got ${describe(value)}.`)
  }
  return value
}

/** A fencing token as given by a caller: a whole number ≥ 1. */
export function checkToken (token: unknown, name: string): number {
  if (typeof token !== 'number' || !Number.isSafeInteger(token) || token < 1) {
    throw new InvalidInputError(`${name} must be a lease's fencing token (a whole number ≥ 1, as store.lock() returned it), got ${describe(token)}.`)
  }
  return token
}

/** Where a lease ends, as people read it. */
function until (expires: number, now: number): string {
  return `${new Date(expires).toISOString()} (${Math.max(0, (expires - now) / 1000).toFixed(1)} s from now)`
}

/**
 * The lease table of one store: every live lease in memory (read once, before the first
 * write or lease call), the wait queues, and the persistence of leases and fencing tokens.
 * Calls on one key run one after another; write checks are synchronous, so the write path
 * decides each write against the leases as they are at that moment.
 */
export class Leases {
  readonly #engine: Engine
  readonly #clock: () => number
  readonly #sync: boolean
  /** Other processes share the store: the table here is a cache, refreshed per call, and waits poll. */
  readonly #shared: boolean
  /** Leases by key as granted; an entry past its `expires` is dead (see #held). */
  readonly #leases = new Map<string, LeaseRecord>()
  /** The newest token granted per key, where known (else read from its f! record). */
  readonly #fences = new Map<string, number>()
  readonly #queues = new Map<string, Waiter[]>()
  readonly #tails = new Map<string, Promise<unknown>>()
  /** Timers that hand an expiring lease to the next waiter. */
  readonly #expiry = new Map<string, NodeJS.Timeout>()
  #loading: Promise<void> | undefined
  #loaded = false
  #closed = false

  constructor (engine: Engine, clock: () => number, sync: boolean) {
    this.#engine = engine
    this.#clock = clock
    this.#sync = sync
    this.#shared = engine.supports.sharedWriters
  }

  /** Undefined once the leases are loaded; until then the promise of loading them (a gate for writes). */
  ready (): Promise<void> | undefined {
    return this.#loaded ? undefined : this.#load()
  }

  /**
   * Throws unless a write carrying `token` (or none) may change `key` now: without a live
   * lease any write without a token may; with one, only a write carrying its token.
   */
  check (key: string, token: number | undefined): void {
    if (token === undefined && this.#leases.size === 0) return
    const now = this.#clock()
    const lease = this.#held(key, now)
    if (lease === undefined) {
      // An ended lease is forgotten (its record goes with the next grant, or at the next open).
      if (this.#leases.has(key) && !this.#queues.has(key)) this.#leases.delete(key)
      if (token === undefined) return
      throw new LockedError(
        `Token ${token} does not hold the lease on key ${JSON.stringify(key)}: that lease expired or was released, and nobody holds one now. ` +
        'A write under a lease that is gone is refused (fencing), since someone else may have written meanwhile. Read the head again and take a new lease with lock().',
        { key })
    }
    if (token === lease.token) return
    if (token !== undefined && token > lease.token) throw unknownToken(key, token)
    throw this.#lockedBy(key, lease, now, token === undefined
      ? 'Write with the lease\'s token (option lock), or wait for the lease to end.'
      : `Token ${token} is from an older lease (fencing): the lease it named ended and a newer one was granted. Read the head again and take a new lease.`)
  }

  /** Grant a lease on `key`, queueing up to `wait` ms behind a held one (first come, first served). */
  async lock (key: string, options: { ttl: number, owner: string, wait: number, signal?: AbortSignal | undefined }): Promise<Lease> {
    await this.#ready()
    // A queued caller's promise is returned wrapped: the key's lease calls must go on
    // (an unlock must run) while it waits.
    const granted = await this.#serial(key, async (): Promise<{ lease: Lease } | { queued: Promise<Lease> }> => {
      await this.#refresh(key)
      await this.#promote(key)
      const now = this.#clock()
      let held = this.#held(key, now)
      if (held === undefined) {
        const grant = await this.#grant(key, options.owner, options.ttl)
        if ('lease' in grant) return grant
        held = grant.held
      }
      if (options.wait === 0) throw this.#lockedBy(key, held, now, 'Wait for it (option wait) or try again after it ends.')
      return { queued: this.#enqueue(key, options) }
    })
    return 'lease' in granted ? granted.lease : await granted.queued
  }

  /** Extend a live lease to `ttl` ms from now. */
  async renew (key: string, token: number, ttl: number): Promise<Lease> {
    await this.#ready()
    return await this.#serial(key, async () => {
      await this.#refresh(key)
      await this.#promote(key)
      const now = this.#clock()
      const held = this.#held(key, now)
      const renewed = held?.token === token ? await this.#engine.renewLease(key, token, now + ttl, now, { sync: this.#sync }) : undefined
      if (renewed === undefined) throw await this.#notHeld(key, token, await this.#refresh(key), now, 'renew')
      this.#leases.set(key, renewed)
      this.#scheduleExpiry(key)
      return leaseOf(key, renewed)
    })
  }

  /** Release a live lease; false when it had already expired or been released. */
  async unlock (key: string, token: number): Promise<boolean> {
    await this.#ready()
    return await this.#serial(key, async () => {
      await this.#refresh(key)
      const now = this.#clock()
      const held = this.#held(key, now)
      // On disk first: until the release is durable, writes stay refused.
      if (held?.token !== token || !await this.#engine.releaseLease(key, token, { sync: this.#sync })) {
        const err = await this.#notHeld(key, token, await this.#refresh(key), now, 'unlock')
        if (err !== undefined) throw err
        return false
      }
      if (this.#leases.get(key) === held) this.#leases.delete(key)
      await this.#promote(key)
      return true
    })
  }

  /** The live leases, by key (on a store shared with other processes, as stored). */
  async list (options: LocksOptions): Promise<Lease[]> {
    await this.#ready()
    const now = this.#clock()
    const prefix = options.prefix ?? ''
    const out: Lease[] = []
    const leases = this.#shared ? this.#engine.leases() : this.#leases
    for await (const [key, record] of leases) {
      if (record.expires > now && key.startsWith(prefix)) out.push(leaseOf(key, record))
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  /** Refuse every queued caller, stop the timers, and wait for lease calls under way. */
  async close (): Promise<void> {
    this.#closed = true
    for (const timer of this.#expiry.values()) clearTimeout(timer)
    this.#expiry.clear()
    for (const queue of this.#queues.values()) {
      for (const waiter of queue.splice(0)) {
        clearTimeout(waiter.timer)
        waiter.reject(new ClosedError('wait for a lease'))
      }
    }
    this.#queues.clear()
    await Promise.allSettled([...this.#tails.values()])
  }

  /** The key's lease if it is live at `now`. */
  #held (key: string, now: number): LeaseRecord | undefined {
    const lease = this.#leases.get(key)
    return lease !== undefined && lease.expires > now ? lease : undefined
  }

  #lockedBy (key: string, lease: LeaseRecord, now: number, fix: string): LockedError {
    return new LockedError(`Key ${JSON.stringify(key)} is locked: ${lease.owner} holds its lease (token ${lease.token}) until ${until(lease.expires, now)}. ${fix}`,
      { key, owner: lease.owner, expires: lease.expires, token: lease.token })
  }

  /**
   * Why `token` cannot renew or release the lease on `key`: someone else holds it now, the
   * token was never granted, or (undefined) its lease already ended and nobody holds one.
   */
  async #notHeld (key: string, token: number, held: LeaseRecord | undefined, now: number, call: 'renew' | 'unlock'): Promise<Error | undefined> {
    if (token > await this.#newest(key)) return unknownToken(key, token)
    if (held !== undefined) return this.#lockedBy(key, held, now, `Token ${token} is from an earlier lease, which ended; it cannot ${call} this one.`)
    if (call === 'unlock') return undefined
    return new LockedError(`Cannot renew the lease with token ${token} on key ${JSON.stringify(key)}: it expired or was released. An ended lease cannot be renewed; take a new one with lock() and read the head again.`, { key })
  }

  /**
   * Grant a lease now (the caller made sure none is held here). The engine grants it
   * atomically; on a store shared with other processes it may find one held there, which
   * is then known here too and returned as held.
   */
  async #grant (key: string, owner: string, ttl: number): Promise<{ lease: Lease } | { held: LeaseRecord }> {
    const now = this.#clock()
    const result = await this.#engine.grantLease(key, owner, now + ttl, now, { sync: this.#sync })
    if ('held' in result) {
      this.#leases.set(key, result.held)
      this.#scheduleExpiry(key)
      return { held: result.held }
    }
    const lease = result.granted
    this.#leases.set(key, lease)
    this.#fences.set(key, lease.token)
    this.#scheduleExpiry(key)
    return { lease: leaseOf(key, lease) }
  }

  /** Hand a free lease to the first caller queued for it. */
  async #promote (key: string): Promise<void> {
    const queue = this.#queues.get(key)
    if (queue === undefined || queue.length === 0 || this.#held(key, this.#clock()) !== undefined) return
    const waiter = queue.shift() as Waiter
    if (queue.length === 0) this.#queues.delete(key)
    let grant: { lease: Lease } | { held: LeaseRecord }
    try {
      grant = await this.#grant(key, waiter.owner, waiter.ttl)
    } catch (err) {
      clearTimeout(waiter.timer)
      waiter.reject(err)
      return
    }
    if ('lease' in grant) {
      clearTimeout(waiter.timer)
      waiter.resolve(grant.lease)
    } else if (waiter.late !== undefined) {
      waiter.reject(this.#lockedBy(key, grant.held, this.#clock(), `Gave up waiting for it ${waiter.late}.`))
    } else {
      // Another process took it first: back to the head of the queue.
      this.#queues.set(key, [waiter, ...(this.#queues.get(key) ?? [])])
      this.#scheduleExpiry(key)
    }
  }

  #enqueue (key: string, options: { ttl: number, owner: string, wait: number, signal?: AbortSignal | undefined }): Promise<Lease> {
    return new Promise<Lease>((resolve, reject) => {
      const { signal } = options
      const giveUp = (why: string): void => {
        const queue = this.#queues.get(key) ?? []
        const at = queue.indexOf(waiter)
        if (at === -1) {
          waiter.late = why
          return
        }
        queue.splice(at, 1)
        if (queue.length === 0) this.#queues.delete(key)
        clearTimeout(waiter.timer)
        const now = this.#clock()
        const held = this.#held(key, now)
        waiter.reject(held === undefined
          ? new LockedError(`Gave up waiting for the lease on key ${JSON.stringify(key)} ${why}.`, { key })
          : this.#lockedBy(key, held, now, `Gave up waiting for it ${why}.`))
      }
      const onAbort = (): void => { giveUp('(the wait was aborted)') }
      const waiter: Waiter = {
        owner: options.owner,
        ttl: options.ttl,
        resolve: (lease) => { signal?.removeEventListener('abort', onAbort); resolve(lease) },
        reject: (err) => { signal?.removeEventListener('abort', onAbort); reject(err) },
        timer: setTimeout(() => { giveUp(`after ${options.wait} ms (option wait)`) }, options.wait)
      }
      const queue = this.#queues.get(key)
      if (queue === undefined) this.#queues.set(key, [waiter])
      else queue.push(waiter)
      if (signal?.aborted === true) onAbort()
      else signal?.addEventListener('abort', onAbort, { once: true })
      this.#scheduleExpiry(key)
    })
  }

  /** While callers wait for a key, wake up when its lease ends, to hand it on. */
  #scheduleExpiry (key: string): void {
    clearTimeout(this.#expiry.get(key))
    this.#expiry.delete(key)
    const lease = this.#leases.get(key)
    if (this.#closed || lease === undefined || (this.#queues.get(key)?.length ?? 0) === 0) return
    const timer = setTimeout(() => {
      this.#expiry.delete(key)
      void this.#serial(key, async () => {
        await this.#refresh(key)
        await this.#promote(key)
        this.#scheduleExpiry(key)
      }).catch(() => {})
    }, Math.min(this.#shared ? POLL_MS : MAX_TIMER_MS, Math.max(0, lease.expires - this.#clock())))
    timer.unref()
    this.#expiry.set(key, timer)
  }

  /**
   * On a store shared with other processes, read a key's lease as stored (others may have
   * taken or released it); returns the live one. Elsewhere the table here is the truth.
   */
  async #refresh (key: string): Promise<LeaseRecord | undefined> {
    if (this.#shared) {
      const stored = await this.#engine.lease(key)
      if (stored === undefined) this.#leases.delete(key)
      else this.#leases.set(key, stored)
    }
    return this.#held(key, this.#clock())
  }

  /** Read a key's lease again before a refused write is decided again (shared stores). */
  async reload (key: string): Promise<void> {
    if (this.#shared) await this.#serial(key, async () => { await this.#refresh(key) })
  }

  /** The newest token ever granted on `key` (0 if none). */
  async #newest (key: string): Promise<number> {
    const known = this.#fences.get(key)
    if (known !== undefined) return known
    const newest = await this.#engine.fence(key) ?? 0
    this.#fences.set(key, newest)
    return newest
  }

  /** Run lease calls on one key one after another. */
  async #serial<T> (key: string, task: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new ClosedError('use a lease')
    const previous = this.#tails.get(key) ?? Promise.resolve()
    const run = previous.then(task, task)
    const tail = run.catch(() => {})
    this.#tails.set(key, tail)
    void tail.then(() => { if (this.#tails.get(key) === tail) this.#tails.delete(key) })
    return await run
  }

  async #ready (): Promise<void> {
    if (this.#closed) throw new ClosedError('use a lease')
    await this.ready()
  }

  #load (): Promise<void> {
    this.#loading ??= (async () => {
      const now = this.#clock()
      const ended: Array<[key: string, token: number]> = []
      for await (const [key, record] of this.#engine.leases()) {
        if (record.expires <= now) ended.push([key, record.token])
        else this.#leases.set(key, record)
      }
      // Leases that ended while the store was closed are tidied away, so the scan stays short.
      for (const [key, token] of ended) await this.#engine.releaseLease(key, token, { sync: false })
      this.#loaded = true
    })()
    // A failed load is tried again by the next caller.
    this.#loading.catch(() => { this.#loading = undefined })
    return this.#loading
  }
}

function leaseOf (key: string, record: LeaseRecord): Lease {
  return { key, token: record.token, owner: record.owner, expires: record.expires }
}

function unknownToken (key: string, token: number): InvalidInputError {
  return new InvalidInputError(`Token ${token} was never granted on key ${JSON.stringify(key)}: give the token store.lock() returned (revkv lock prints it).`)
}

/** An owner name: a non-empty string of at most 256 characters. */
export function checkOwner (owner: unknown): string {
  if (typeof owner !== 'string' || owner === '' || owner.length > MAX_OWNER_LENGTH) {
    throw new InvalidInputError(`lock() option owner must be a non-empty string of at most ${MAX_OWNER_LENGTH} characters, got ${describe(owner)}.`)
  }
  validateText(owner, 'lock() option owner')
  return owner
}
