import type { Engine, ReadAt } from './engines/engine.js'
import { ClosedError, InvalidInputError } from './errors.js'
import type { JsonValue } from './json.js'
import { checkOptions } from './options.js'
import { checkKeysOptions, checkLogOptions, liveKeys, logFrom, revisionOfKey } from './reads.js'
import type { Records } from './records.js'
import { parseRecord, validateKey } from './revision.js'
import type { Revision } from './revision.js'
import type { KeysOptions, LogOptions } from './store.js'

/** Options of a snapshot's get(). */
export interface SnapshotGetOptions {
  /** Read this revision of the key (one the snapshot holds) instead of its head. */
  rev?: string
}

/**
 * A read-only view of the whole store at one moment (store.snapshot()): later writes and
 * compaction do not show in it. It reads the engine's snapshot (a LevelDB snapshot, a
 * PostgreSQL REPEATABLE READ transaction), never the store's cached heads, which are the
 * latest. Revisions reached through heads come from the cache where they are there: a
 * revision never changes once written, and every one a snapshot's head leads to was
 * written before it. Held until close(), which the store's close() also does.
 */
export class StoreSnapshot {
  readonly #engine: Engine
  readonly #records: Records
  readonly #at: ReadAt
  readonly #released: () => void
  #closing: Promise<void> | undefined

  /** @internal Made by store.snapshot(). */
  constructor (engine: Engine, records: Records, at: ReadAt, released: () => void) {
    this.#engine = engine
    this.#records = records
    this.#at = at
    this.#released = released
  }

  /** The key's head at the snapshot's moment (a tombstone if deleted then), or undefined if it did not exist. */
  async head (key: string): Promise<Revision | undefined> {
    this.#assertOpen('read a head')
    validateKey(key)
    return await this.#records.headAt(key, this.#at)
  }

  /** The key's value at the snapshot's moment (or at revision `rev`); undefined when missing or deleted then. */
  async get (key: string, options: SnapshotGetOptions = {}): Promise<JsonValue | undefined> {
    this.#assertOpen('get')
    validateKey(key)
    checkOptions(options, 'get')
    if ('asOf' in options) throw new InvalidInputError('A snapshot reads one moment, so its get() takes no asOf: read asOf from the store (store.get(key, { asOf })).')
    const rev = options.rev === undefined
      ? await this.#records.headAt(key, this.#at)
      // Read from the snapshot itself: the cache may hold revisions written after it.
      : await revisionOfKey(key, options.rev, 'option rev', async (id) => await this.#revision(id, key), async (id) => await this.#records.dropped(id, this.#at))
    return rev === undefined || rev.deleted === true ? undefined : rev.value
  }

  /** Keys live (not deleted) at the snapshot's moment, in order. */
  async * keys (options: KeysOptions = {}): AsyncGenerator<string> {
    this.#assertOpen('list keys')
    if ('asOf' in options) throw new InvalidInputError('A snapshot reads one moment, so its keys() takes no asOf: read asOf from the store (store.keys({ asOf })).')
    yield * liveKeys(this.#engine, checkKeysOptions(options), this.#at)
  }

  /** Revisions reachable from the key's head at the snapshot's moment, newest first. */
  async * log (key: string, options: LogOptions = {}): AsyncGenerator<Revision> {
    this.#assertOpen('read a log')
    validateKey(key)
    const checked = checkLogOptions(options)
    const head = await this.#records.headAt(key, this.#at)
    yield * logFrom(head, (id, of) => this.#records.linked(id, of, this.#at), checked)
  }

  /** Release the snapshot (what it holds: a LevelDB snapshot, a PostgreSQL connection); later reads throw ClosedError. */
  async close (): Promise<void> {
    this.#closing ??= (async () => {
      this.#released()
      await this.#at.snapshot?.close()
    })()
    await this.#closing
  }

  #assertOpen (operation: string): void {
    if (this.#closing !== undefined) throw new ClosedError(operation, 'the snapshot is closed; take a new one with store.snapshot()')
  }

  async #revision (id: string, key: string): Promise<Revision | undefined> {
    const record = await this.#engine.revision(id, this.#at)
    return record === undefined ? undefined : parseRecord(id, record, key)
  }
}
