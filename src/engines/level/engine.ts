import { existsSync, statSync } from 'node:fs'
import { join, resolve as resolvePath } from 'node:path'
import type { AbstractBatchOptions, AbstractChainedBatch, AbstractSnapshot } from 'abstract-level'
import { Level } from 'level'
import { decoded, InvalidInputError, LockedError, NotFoundError } from '../../errors.js'
import { describe } from '../../revision.js'
import { FORMAT_VERSION, KEPT } from '../engine.js'
import type { Engine, EngineCapabilities, EngineSnapshot, Entry, HeadChange, HeadRecord, HeadsOptions, LeaseGrant, LeaseRecord, ReadAt, ScannedRecord, SyncReads } from '../engine.js'
import { LevelBatch } from './batch.js'
import {
  CHANGES_RANGE, changesKey, CONFLICT_RANGE, decodeChanges, decodeFence, decodeHead, decodeLease, droppedKey, fenceKey, FORMAT_KEY, headKey, headRange,
  idOfRevisionKey, idOfUnmergedKey, inHeadRange, keyOfConflictKey, keyOfHeadKey, keyOfLeaseKey, LEASE_RANGE, leaseKey, revisionKey, revisionRange,
  seqOfChangesKey, syncMarkKey, unmergedRange, UTF8
} from './layout.js'
import type { RevkvDatabase } from './layout.js'

/** A LevelDB snapshot, as the engine interface sees it. */
class LevelSnapshot implements EngineSnapshot {
  constructor (readonly snapshot: AbstractSnapshot) {}
  async close (): Promise<void> {
    await this.snapshot.close()
  }
}

/** Drops written per LevelDB batch by compaction: small batches keep the store responsive meanwhile. */
const DROP_CHUNK = 1000

/**
 * The LevelDB engine: any abstract-level database with string keys and values (classic-level
 * on a directory, memory-level, ...), owned by one process. Record layout: ./layout.ts.
 */
export class LevelEngine implements Engine {
  readonly name = 'level'
  readonly location: string
  readonly supports: EngineCapabilities
  readonly db: RevkvDatabase
  /** The next change sequence number, once lastSeq() has read it. */
  #nextSeq: number | undefined
  #loadingSeq: Promise<void> | undefined
  readonly #batchOptions: AbstractBatchOptions<string, string>
  readonly readSync: SyncReads | undefined

  constructor (db: RevkvDatabase, location: string) {
    this.db = db
    this.location = location
    this.supports = Object.freeze({ sharedWriters: false, snapshots: db.supports.explicitSnapshots, sync: true, notify: false })
    // classic-level and memory-level declare getSync in their manifest; level-supports' types do not list it yet.
    if ((db.supports as { getSync?: boolean }).getSync === true) {
      this.readSync = {
        head: (key) => {
          const text = db.getSync(headKey(key), UTF8)
          return text === undefined ? undefined : decodeHead(key, text)
        },
        revision: (id) => db.getSync(revisionKey(id), UTF8)
      }
    }
    // abstract-level copies batch options onto every entry, so encodings are passed only when
    // the database's defaults are not already utf8. `sync` is classic-level's; others ignore it.
    const utf8 = db.keyEncoding().name === 'utf8' && db.valueEncoding().name === 'utf8'
    this.#batchOptions = (utf8 ? {} : UTF8) as AbstractBatchOptions<string, string>
  }

  async revision (id: string, at?: ReadAt): Promise<string | undefined> {
    return await this.db.get(revisionKey(id), readOptions(at))
  }

  async dropped (id: string, at?: ReadAt): Promise<string | undefined> {
    return await this.db.get(droppedKey(id), readOptions(at))
  }

  async head (key: string, at?: ReadAt): Promise<HeadRecord | undefined> {
    const text = await this.db.get(headKey(key), readOptions(at))
    return text === undefined ? undefined : decodeHead(key, text)
  }

  async headRecords (keys: string[]): Promise<Array<HeadRecord | undefined>> {
    return (await this.db.getMany(keys.map(headKey), UTF8)).map((text, i) => text === undefined ? undefined : decodeHead(keys[i] as string, text))
  }

  async unmerged (key: string, at?: ReadAt): Promise<string[]> {
    const ids: string[] = []
    for await (const stored of this.db.keys({ ...unmergedRange(key), ...readOptions(at) })) ids.push(idOfUnmergedKey(stored))
    return ids
  }

  async * heads (options: HeadsOptions): AsyncGenerator<[string, HeadRecord]> {
    const prefix = options.prefix ?? ''
    for await (const [stored, text] of this.db.iterator({ ...headRange(prefix, options.after), ...readOptions(options) })) {
      if (!inHeadRange(stored, prefix)) break
      const key = keyOfHeadKey(stored)
      yield [key, decodeHead(key, text)]
    }
  }

  async * conflictedKeys (): AsyncGenerator<string> {
    for await (const stored of this.db.keys({ ...CONFLICT_RANGE, ...UTF8 })) yield keyOfConflictKey(stored)
  }

  async * revisionsByPrefix (prefix: string, limit?: number): AsyncGenerator<[string, string]> {
    for await (const [stored, record] of this.db.iterator({ ...revisionRange(prefix), ...UTF8, ...(limit === undefined ? {} : { limit }) })) {
      yield [idOfRevisionKey(stored), record]
    }
  }

  /** Read once, by an iterator seek: about a millisecond on a large store, which open() should not pay. */
  async lastSeq (): Promise<number> {
    this.#loadingSeq ??= (async () => {
      let last = 0
      for await (const [key, value] of this.db.iterator({ ...CHANGES_RANGE, reverse: true, limit: 1, ...UTF8 })) {
        last = seqOfChangesKey(key) + decodeChanges(key, value).length - 1
      }
      this.#nextSeq = last + 1
    })()
    // A failed read is tried again by the next caller.
    this.#loadingSeq.catch(() => { this.#loadingSeq = undefined })
    if (this.#nextSeq === undefined) await this.#loadingSeq
    return (this.#nextSeq as number) - 1
  }

  /**
   * Hand out `count` sequence numbers, returning the first: at once once the last one is
   * known, else after reading it (callers waiting for that resume in call order, so batches
   * are still numbered in the order they were written).
   */
  #takeSeq (count: number): number | Promise<number> {
    const take = (): number => {
      const first = this.#nextSeq as number
      this.#nextSeq = first + count
      return first
    }
    return this.#nextSeq !== undefined ? take() : this.lastSeq().then(take)
  }

  async * changes (since: number, at?: ReadAt): AsyncGenerator<[number, Entry]> {
    const options = readOptions(at)
    // The record holding since + 1 may start before it: start from the last record at or before it.
    let start = changesKey(since + 1)
    for await (const key of this.db.keys({ gt: CHANGES_RANGE.gt, lte: start, reverse: true, limit: 1, ...options })) start = key
    for await (const [key, value] of this.db.iterator({ gte: start, lt: CHANGES_RANGE.lt, ...options })) {
      const first = seqOfChangesKey(key)
      for (const [i, entry] of decodeChanges(key, value).entries()) {
        if (first + i > since) yield [first + i, entry]
      }
    }
  }

  async change (seq: number, at?: ReadAt): Promise<Entry | undefined> {
    // The record holding it is the last one starting at or before it.
    for await (const [stored, text] of this.db.iterator({ gt: CHANGES_RANGE.gt, lte: changesKey(seq), reverse: true, limit: 1, ...readOptions(at) })) {
      return decodeChanges(stored, text)[seq - seqOfChangesKey(stored)]
    }
    return undefined
  }

  /**
   * Change records hold a batch's changes, not one key's, so this scans them: back from
   * `seq` ('at') or on from it ('after') until the key's change. The cost grows with the
   * changes between `seq` and the key's nearest change, the whole feed when it has none.
   */
  async headChange (key: string, seq: number, which: 'at' | 'after', at?: ReadAt): Promise<HeadChange | undefined> {
    const moved = (entry: Entry): boolean => entry[0] === key && (entry[2] & KEPT) === 0
    if (which === 'after') {
      for await (const [number, entry] of this.changes(seq, at)) if (moved(entry)) return { seq: number, rev: entry[1] }
      return undefined
    }
    for await (const [stored, text] of this.db.iterator({ gt: CHANGES_RANGE.gt, lte: changesKey(seq), reverse: true, ...readOptions(at) })) {
      const first = seqOfChangesKey(stored)
      const entries = decodeChanges(stored, text)
      for (let i = Math.min(entries.length - 1, seq - first); i >= 0; i--) {
        const entry = entries[i] as Entry
        if (moved(entry)) return { seq: first + i, rev: entry[1] }
      }
    }
    return undefined
  }

  batch (): LevelBatch {
    return new LevelBatch(this.db.batch() as AbstractChainedBatch<RevkvDatabase, string, string>, this.#batchOptions, (count) => this.#takeSeq(count))
  }

  async drop (key: string, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += DROP_CHUNK) {
      const batch = this.db.batch()
      for (const id of ids.slice(i, i + DROP_CHUNK)) {
        batch.del(revisionKey(id), UTF8)
        batch.put(droppedKey(id), key, UTF8)
      }
      await batch.write()
    }
  }

  async reclaim (): Promise<void> {
    // Give the space back now rather than whenever LevelDB would compact (classic-level only).
    const compactRange = (this.db as unknown as { compactRange?: (start: string, end: string) => Promise<void> }).compactRange
    if (typeof compactRange === 'function') await compactRange.call(this.db, 'r!', 'r"')
  }

  async * leases (): AsyncGenerator<[string, LeaseRecord]> {
    for await (const [stored, text] of this.db.iterator({ ...LEASE_RANGE, ...UTF8 })) {
      const key = keyOfLeaseKey(stored)
      yield [key, decodeLease(key, text)]
    }
  }

  async lease (key: string): Promise<LeaseRecord | undefined> {
    const text = await this.db.get(leaseKey(key), UTF8)
    return text === undefined ? undefined : decodeLease(key, text)
  }

  async fence (key: string): Promise<number | undefined> {
    const text = await this.db.get(fenceKey(key), UTF8)
    return text === undefined ? undefined : decodeFence(key, text)
  }

  // The lease calls below read, then write: atomic because one process owns the directory
  // and the store's lease table runs the calls on one key one after another (leases.ts).

  async grantLease (key: string, owner: string, expires: number, now: number, { sync }: { sync: boolean }): Promise<LeaseGrant> {
    const held = await this.lease(key)
    if (held !== undefined && held.expires > now) return { held }
    const lease: LeaseRecord = { token: (await this.fence(key) ?? 0) + 1, owner, expires }
    // One atomic batch: a lease is never on disk without its token counted.
    await this.db.batch([
      { type: 'put', key: leaseKey(key), value: JSON.stringify(lease) },
      { type: 'put', key: fenceKey(key), value: String(lease.token) }
    ], { ...UTF8, sync } as AbstractBatchOptions<string, string>)
    return { granted: lease }
  }

  async renewLease (key: string, token: number, expires: number, now: number, { sync }: { sync: boolean }): Promise<LeaseRecord | undefined> {
    const held = await this.lease(key)
    if (held?.token !== token || held.expires <= now) return undefined
    const renewed = { ...held, expires }
    await this.db.put(leaseKey(key), JSON.stringify(renewed), { ...UTF8, sync } as AbstractBatchOptions<string, string>)
    return renewed
  }

  async releaseLease (key: string, token: number, { sync }: { sync: boolean }): Promise<boolean> {
    if ((await this.lease(key))?.token !== token) return false
    await this.db.del(leaseKey(key), { ...UTF8, sync } as AbstractBatchOptions<string, string>)
    return true
  }

  async syncMark (name: string): Promise<string | undefined> {
    return await this.db.get(syncMarkKey(name), UTF8)
  }

  async setSyncMark (name: string, value: string): Promise<void> {
    await this.db.put(syncMarkKey(name), value, { ...UTF8, sync: true } as AbstractBatchOptions<string, string>)
  }

  async * scan (): AsyncGenerator<ScannedRecord> {
    for await (const [stored, text] of this.db.iterator(UTF8)) {
      const prefix = stored.slice(0, 2)
      const name = stored.slice(2)
      if (prefix === 'r!') yield { kind: 'revision', id: name, text }
      else if (prefix === 'h!') yield { kind: 'head', key: name, record: decoded(() => decodeHead(name, text)) }
      else if (prefix === 'u!') yield { kind: 'unmerged', key: name.slice(0, name.lastIndexOf('\u0000')), id: idOfUnmergedKey(stored) }
      else if (prefix === 'd!') yield { kind: 'dropped', id: name, key: text }
      else if (prefix === 's!') yield { kind: 'changes', name: stored, entries: decoded(() => decodeChanges(stored, text)) }
      else if (prefix === 'c!') yield { kind: 'conflict', key: name }
      else if (prefix === 'l!') yield { kind: 'lease', key: name, record: decoded(() => decodeLease(name, text)) }
      else if (prefix === 'f!') yield { kind: 'fence', key: name, record: decoded(() => decodeFence(name, text)) }
      else if (prefix === 'y!') yield { kind: 'sync', name }
      else if (stored === FORMAT_KEY) yield { kind: 'format', version: text }
      else yield { kind: 'unknown', name: stored }
    }
  }

  async snapshot (): Promise<EngineSnapshot> {
    return new LevelSnapshot(this.db.snapshot())
  }

  async close (): Promise<void> {
    await this.db.close()
  }
}

/** Open the LevelDB engine on a directory (created if missing, unless createIfMissing is false). */
export async function openLevelDirectory (path: string, createIfMissing: boolean): Promise<LevelEngine> {
  if (typeof path !== 'string' || path === '') throw new InvalidInputError(`Option path must be a directory path, got ${describe(path)}.`)
  const location = resolvePath(path)
  if (existsSync(location) && !statSync(location).isDirectory()) {
    throw new InvalidInputError(`${location} is a file, not a store directory. Give the directory of a store (or a new path to create one).`)
  }
  // Checked here rather than left to LevelDB, which would leave LOCK and LOG files behind
  // in a directory that holds no store.
  if (!createIfMissing && !existsSync(join(location, 'CURRENT'))) {
    throw new NotFoundError(`No revkv store at ${location}${existsSync(location) ? ' (the directory exists but holds no store)' : ''}. Create one with \`revkv init ${path}\` (or open it with createIfMissing: true).`)
  }
  const db = new Level<string, string>(location, UTF8)
  try {
    await db.open({ createIfMissing })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') throw LockedError.directory(location, { cause: err })
    throw err
  }
  return await withFormat(new LevelEngine(db, location))
}

/** Open the LevelDB engine on an abstract-level database given by the caller (opened if it is not yet). */
export async function openLevelDatabase (db: RevkvDatabase): Promise<LevelEngine> {
  if (db.status !== 'open') await db.open()
  return await withFormat(new LevelEngine(db, 'the given database'))
}

/** The engine, once its layout version is checked (and written, if the database is empty). */
async function withFormat (engine: LevelEngine): Promise<LevelEngine> {
  const { db } = engine
  const format = await db.get(FORMAT_KEY, UTF8)
  if (format === undefined) {
    // Only an empty database becomes a store: data without revkv's layout record is someone
    // else's, and writing into it would mix two formats.
    for await (const _ of db.keys({ ...UTF8, limit: 1 })) {
      await db.close()
      throw new InvalidInputError('This database holds records but no revkv layout record (m!format): it is not a revkv store, or it is damaged. Open an empty directory or a revkv store.')
    }
    await db.put(FORMAT_KEY, FORMAT_VERSION, UTF8)
  } else if (format !== FORMAT_VERSION) {
    await db.close()
    throw new InvalidInputError(`This store uses layout version ${format}, which this revkv (layout ${FORMAT_VERSION}) cannot read. Upgrade revkv.`)
  }
  return engine
}

function readOptions (at: ReadAt | undefined): typeof UTF8 | (typeof UTF8 & { snapshot: AbstractSnapshot }) {
  const snapshot = at?.snapshot
  return snapshot === undefined ? UTF8 : { ...UTF8, snapshot: (snapshot as LevelSnapshot).snapshot }
}
