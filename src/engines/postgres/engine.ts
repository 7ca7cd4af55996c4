import type pg from 'pg'
import { CorruptionError, InvalidInputError } from '../../errors.js'
import { isRevisionId } from '../../revision.js'
import { KEPT } from '../engine.js'
import type { Engine, EngineBatch, EngineCapabilities, EngineSnapshot, Entry, HeadChange, HeadRecord, HeadsOptions, LeaseGrant, LeaseRecord, ReadAt, ScannedRecord } from '../engine.js'
import { PostgresBatch } from './batch.js'
import { guarded, quoteIdent } from './connection.js'
import type { Connection } from './connection.js'
import { listenOn } from './listen.js'
import { paged, prefixBounds } from './pages.js'

/** A read view of one moment: a REPEATABLE READ READ ONLY transaction on a connection of its own. */
class PostgresSnapshot implements EngineSnapshot {
  readonly client: pg.PoolClient
  #closed = false
  // A connection lost while the snapshot is idle is reported here; the next read on it fails.
  // Removed at close: the client goes back to the pool, and each snapshot would add one more.
  readonly #ignore = (): void => {}

  constructor (client: pg.PoolClient) {
    this.client = client
    client.on('error', this.#ignore)
  }

  get closed (): boolean {
    return this.#closed
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      await this.client.query('COMMIT')
      this.client.release()
    } catch (err) {
      this.client.release(err as Error)
    } finally {
      this.client.off('error', this.#ignore)
    }
  }
}

interface HeadRow { key: string, head: string, deleted: boolean, unmerged: number }
interface LeaseRow { key: string, token: string, owner: string, expires: string }

/** The lease columns of a heads row, named as LeaseRow. */
const LEASE = 'key, lease_token AS token, lease_owner AS owner, lease_expires AS expires'

/** A revkv store in a PostgreSQL schema, shared by any number of processes. */
export class PostgresEngine implements Engine {
  readonly name = 'postgres'
  readonly location: string
  readonly supports: EngineCapabilities
  readonly #connection: Connection
  readonly #s: string
  readonly #channel: string | undefined
  readonly #snapshots = new Set<PostgresSnapshot>()
  readonly #listeners = new Set<() => Promise<void>>()

  constructor (connection: Connection, schema: string, notify: boolean) {
    this.#connection = connection
    this.#s = quoteIdent(schema)
    this.#channel = notify ? `revkv_changes_${schema}` : undefined
    this.location = `PostgreSQL ${connection.server}, schema ${schema}`
    this.supports = { sharedWriters: true, snapshots: true, sync: true, notify }
  }

  async revision (id: string, at?: ReadAt): Promise<string | undefined> {
    const rows = await this.#query<{ record: string }>('read a revision', `SELECT record FROM ${this.#s}.revisions WHERE id = $1`, [id], at)
    return rows[0]?.record
  }

  async dropped (id: string, at?: ReadAt): Promise<string | undefined> {
    const rows = await this.#query<{ key: string }>('read a dropped revision', `SELECT key FROM ${this.#s}.dropped WHERE id = $1`, [id], at)
    return rows[0]?.key
  }

  async head (key: string, at?: ReadAt): Promise<HeadRecord | undefined> {
    const rows = await this.#query<HeadRow>('read a head', `SELECT key, head, deleted, unmerged FROM ${this.#s}.heads WHERE key = $1 AND head IS NOT NULL`, [key], at)
    const row = rows[0]
    if (row === undefined) return undefined
    const record = headRecord(row)
    if (record instanceof CorruptionError) throw record
    return record
  }

  async headRecords (keys: string[]): Promise<Array<HeadRecord | undefined>> {
    const rows = await this.#query<HeadRow>('read heads', `SELECT key, head, deleted, unmerged FROM ${this.#s}.heads WHERE key = ANY($1::text[]) AND head IS NOT NULL`, [keys])
    const found = new Map(rows.map(row => [row.key, row]))
    return keys.map(key => {
      const row = found.get(key)
      if (row === undefined) return undefined
      const record = headRecord(row)
      if (record instanceof CorruptionError) throw record
      return record
    })
  }

  async unmerged (key: string, at?: ReadAt): Promise<string[]> {
    const rows = await this.#query<{ id: string }>('read unmerged revisions', `SELECT id FROM ${this.#s}.unmerged WHERE key = $1 ORDER BY id`, [key], at)
    return rows.map(row => row.id)
  }

  async * heads (options: HeadsOptions): AsyncIterable<[key: string, record: HeadRecord]> {
    const { where, params } = prefixBounds('key', options.prefix ?? '')
    const rows = paged<HeadRow>(async (last, limit) => {
      const after = last?.key ?? options.after
      const cond = ['head IS NOT NULL', ...where, ...(after === undefined ? [] : [`key > $${params.length + 1}`])]
      return await this.#query<HeadRow>('list heads',
        `SELECT key, head, deleted, unmerged FROM ${this.#s}.heads WHERE ${cond.join(' AND ')} ORDER BY key LIMIT ${limit}`,
        after === undefined ? params : [...params, after], options)
    })
    for await (const row of rows) {
      const record = headRecord(row)
      if (record instanceof CorruptionError) throw record
      yield [row.key, record]
    }
  }

  async * conflictedKeys (): AsyncIterable<string> {
    for await (const row of this.#conflicted(undefined)) yield row.key
  }

  async * revisionsByPrefix (prefix: string, limit = Infinity): AsyncIterable<[id: string, record: string]> {
    const { where, params } = prefixBounds('id', prefix)
    let left = limit
    const rows = paged<{ id: string, record: string }>(async (last, page) => await this.#query('list revisions',
      `SELECT id, record FROM ${this.#s}.revisions WHERE ${[...where, last === undefined ? 'true' : `id > $${params.length + 1}`].join(' AND ')} ORDER BY id LIMIT ${Math.min(page, left)}`,
      last === undefined ? params : [...params, last.id]))
    if (left <= 0) return
    for await (const row of rows) {
      yield [row.id, row.record]
      if (--left <= 0) return
    }
  }

  async lastSeq (): Promise<number> {
    const rows = await this.#query<{ seq: string }>('read the change counter', `SELECT seq FROM ${this.#s}.meta`, [])
    return Number(rows[0]?.seq ?? 0)
  }

  async * changes (since: number): AsyncIterable<[seq: number, entry: Entry]> {
    for await (const row of this.#changeRows(since, undefined)) yield [Number(row.seq), [row.key, row.rev, row.flags]]
  }

  async change (seq: number, at?: ReadAt): Promise<Entry | undefined> {
    const rows = await this.#query<{ key: string, rev: string, flags: number }>('read a change', `SELECT key, rev, flags FROM ${this.#s}.changes WHERE seq = $1`, [seq], at)
    const row = rows[0]
    return row === undefined ? undefined : [row.key, row.rev, row.flags]
  }

  /** One read of the index changes_key (key, seq): a few rows, however long the feed. */
  async headChange (key: string, seq: number, which: 'at' | 'after', at?: ReadAt): Promise<HeadChange | undefined> {
    const rows = await this.#query<{ seq: string, rev: string }>('read a key\'s changes', `SELECT seq, rev FROM ${this.#s}.changes
  WHERE key = $1 AND seq ${which === 'at' ? '<=' : '>'} $2 AND flags & ${KEPT} = 0 ORDER BY seq ${which === 'at' ? 'DESC' : 'ASC'} LIMIT 1`, [key, seq], at)
    const row = rows[0]
    return row === undefined ? undefined : { seq: Number(row.seq), rev: row.rev }
  }

  async listen (listener: () => void): Promise<() => Promise<void>> {
    if (this.#channel === undefined) throw new InvalidInputError('This PostgreSQL store was opened with notify: false, so it cannot listen; poll changes() instead.')
    const stop = await listenOn(this.#connection.pool, this.#connection.server, this.#channel, listener)
    const stopOnce = async (): Promise<void> => {
      if (this.#listeners.delete(stopOnce)) await stop()
    }
    this.#listeners.add(stopOnce)
    return stopOnce
  }

  batch (): EngineBatch {
    const { pool, server } = this.#connection
    return new PostgresBatch({ pool, server, schema: this.#s, channel: this.#channel })
  }

  async drop (key: string, ids: string[]): Promise<void> {
    // One statement: the records go and their markers appear atomically.
    await this.#query('drop revisions', `WITH gone AS (
  DELETE FROM ${this.#s}.revisions WHERE key = $1 AND id = ANY($2::text[])
) INSERT INTO ${this.#s}.dropped (id, key) SELECT id, $1 FROM unnest($2::text[]) AS d (id) ON CONFLICT (id) DO NOTHING`, [key, ids])
  }

  /**
   * Nothing to do: PostgreSQL's autovacuum makes space freed by drop() reusable, and
   * VACUUM FULL, which would give it back to the file system, locks the table against
   * every process's writes while it runs. Run it in a maintenance window if needed.
   */
  async reclaim (): Promise<void> {}

  async * leases (): AsyncIterable<[key: string, record: LeaseRecord]> {
    for await (const row of this.#leaseRows(undefined)) yield [row.key, leaseRecord(row)]
  }

  async lease (key: string): Promise<LeaseRecord | undefined> {
    const rows = await this.#query<LeaseRow>('read a lease', `SELECT ${LEASE} FROM ${this.#s}.heads WHERE key = $1 AND lease_token IS NOT NULL`, [key])
    return rows[0] === undefined ? undefined : leaseRecord(rows[0])
  }

  async fence (key: string): Promise<number | undefined> {
    const rows = await this.#query<{ fence: string | null }>('read a fencing token', `SELECT fence FROM ${this.#s}.heads WHERE key = $1`, [key])
    const fence = rows[0]?.fence
    return fence === undefined || fence === null ? undefined : Number(fence)
  }

  // The lease calls are single statements on the key's heads row: each is atomic across
  // processes, and every commit is durable whatever `sync` says (see the README).

  async grantLease (key: string, owner: string, expires: number, now: number): Promise<LeaseGrant> {
    // A grant and a live lease's release or expiry can cross: try again, a few times.
    for (let attempt = 1; ; attempt++) {
      const granted = await this.#query<LeaseRow>('grant a lease', `INSERT INTO ${this.#s}.heads AS h (key, head, deleted, unmerged, fence, lease_token, lease_owner, lease_expires)
  VALUES ($1, NULL, false, 0, 1, 1, $2, $3)
  ON CONFLICT (key) DO UPDATE SET fence = coalesce(h.fence, 0) + 1, lease_token = coalesce(h.fence, 0) + 1, lease_owner = $2, lease_expires = $3
  WHERE h.lease_expires IS NULL OR h.lease_expires <= $4
  RETURNING ${LEASE}`, [key, owner, expires, now])
      if (granted[0] !== undefined) return { granted: leaseRecord(granted[0]) }
      const held = await this.lease(key)
      if (held !== undefined && held.expires > now) return { held }
      if (attempt >= 5) throw new Error(`Could not grant a lease on key ${JSON.stringify(key)}: it kept changing under the grant.`)
    }
  }

  async renewLease (key: string, token: number, expires: number, now: number): Promise<LeaseRecord | undefined> {
    const rows = await this.#query<LeaseRow>('renew a lease',
      `UPDATE ${this.#s}.heads SET lease_expires = $3 WHERE key = $1 AND lease_token = $2 AND lease_expires > $4 RETURNING ${LEASE}`, [key, token, expires, now])
    return rows[0] === undefined ? undefined : leaseRecord(rows[0])
  }

  async releaseLease (key: string, token: number): Promise<boolean> {
    const rows = await this.#query('release a lease',
      `UPDATE ${this.#s}.heads SET lease_token = NULL, lease_owner = NULL, lease_expires = NULL WHERE key = $1 AND lease_token = $2 RETURNING key`, [key, token])
    return rows.length > 0
  }

  async syncMark (name: string): Promise<string | undefined> {
    const rows = await this.#query<{ value: string }>('read a sync mark', `SELECT value FROM ${this.#s}.sync WHERE name = $1`, [name])
    return rows[0]?.value
  }

  async setSyncMark (name: string, value: string): Promise<void> {
    await this.#query('write a sync mark', `INSERT INTO ${this.#s}.sync (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`, [name, value])
  }

  async * scan (): AsyncIterable<ScannedRecord> {
    const at = { snapshot: await this.snapshot() }
    const s = this.#s
    try {
      const version = await this.#query<{ version: string }>('scan the store', `SELECT version FROM ${s}.meta`, [], at)
      for (const row of version) yield { kind: 'format', version: row.version }
      const revisions = paged<{ id: string, record: string }>(async (last, limit) => await this.#query('scan the store',
        `SELECT id, record FROM ${s}.revisions WHERE id > $1 ORDER BY id LIMIT ${limit}`, [last?.id ?? ''], at))
      for await (const row of revisions) yield { kind: 'revision', id: row.id, text: row.record }
      for await (const row of this.heads(at)) yield { kind: 'head', key: row[0], record: row[1] }
      const unmerged = paged<{ key: string, id: string }>(async (last, limit) => await this.#query('scan the store',
        `SELECT key, id FROM ${s}.unmerged WHERE (key, id) > ($1, $2) ORDER BY key, id LIMIT ${limit}`, [last?.key ?? '', last?.id ?? ''], at))
      for await (const row of unmerged) yield { kind: 'unmerged', key: row.key, id: row.id }
      const dropped = paged<{ id: string, key: string }>(async (last, limit) => await this.#query('scan the store',
        `SELECT id, key FROM ${s}.dropped WHERE id > $1 ORDER BY id LIMIT ${limit}`, [last?.id ?? ''], at))
      for await (const row of dropped) yield { kind: 'dropped', id: row.id, key: row.key }
      for await (const row of this.#changeRows(0, at)) yield { kind: 'changes', name: `change ${row.seq}`, entries: [[row.key, row.rev, row.flags]] }
      for await (const row of this.#conflicted(at)) yield { kind: 'conflict', key: row.key }
      for await (const row of this.#leaseRows(at)) yield { kind: 'lease', key: row.key, record: leaseRecord(row) }
      const fences = paged<{ key: string, fence: string }>(async (last, limit) => await this.#query('scan the store',
        `SELECT key, fence FROM ${s}.heads WHERE fence IS NOT NULL AND key > $1 ORDER BY key LIMIT ${limit}`, [last?.key ?? ''], at))
      for await (const row of fences) yield { kind: 'fence', key: row.key, record: Number(row.fence) }
    } finally {
      await at.snapshot.close()
    }
  }

  async snapshot (): Promise<EngineSnapshot> {
    return await guarded(this.#connection.server, 'open a snapshot', async () => {
      const client = await this.#connection.pool.connect()
      const snapshot = new PostgresSnapshot(client)
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
        // The snapshot is taken by the transaction's first statement, not by BEGIN.
        await client.query('SELECT 1')
      } catch (err) {
        client.release(err as Error)
        throw err
      }
      this.#snapshots.add(snapshot)
      const close = snapshot.close.bind(snapshot)
      snapshot.close = async () => {
        this.#snapshots.delete(snapshot)
        await close()
      }
      return snapshot
    })
  }

  async close (): Promise<void> {
    await Promise.all([...this.#listeners].map(async stop => await stop()))
    await Promise.all([...this.#snapshots].map(async snapshot => await snapshot.close()))
    if (this.#connection.owned) await this.#connection.pool.end()
  }

  #conflicted (at: ReadAt | undefined): AsyncIterable<{ key: string }> {
    // unmerged > 0 is the predicate of the partial index heads_conflicted, so this reads the index.
    return paged<{ key: string }>(async (last, limit) => await this.#query('list conflicted keys',
      `SELECT key FROM ${this.#s}.heads WHERE unmerged > 0 AND key > $1 ORDER BY key LIMIT ${limit}`, [last?.key ?? ''], at))
  }

  #changeRows (since: number, at: ReadAt | undefined): AsyncIterable<{ seq: string, key: string, rev: string, flags: number }> {
    return paged<{ seq: string, key: string, rev: string, flags: number }>(async (last, limit) => await this.#query('read changes',
      `SELECT seq, key, rev, flags FROM ${this.#s}.changes WHERE seq > $1 ORDER BY seq LIMIT ${limit}`, [last?.seq ?? since], at))
  }

  #leaseRows (at: ReadAt | undefined): AsyncIterable<LeaseRow> {
    return paged<LeaseRow>(async (last, limit) => await this.#query('read leases',
      `SELECT ${LEASE} FROM ${this.#s}.heads WHERE lease_token IS NOT NULL AND key > $1 ORDER BY key LIMIT ${limit}`, [last?.key ?? ''], at))
  }

  async #query<R extends pg.QueryResultRow> (doing: string, sql: string, params: unknown[], at?: ReadAt): Promise<R[]> {
    const snapshot = at?.snapshot
    if (snapshot !== undefined && !(snapshot instanceof PostgresSnapshot && this.#snapshots.has(snapshot))) {
      throw new InvalidInputError(`Cannot ${doing} at that snapshot: it is closed, or it is not one of this store's.`)
    }
    const on = snapshot?.client ?? this.#connection.pool
    return await guarded(this.#connection.server, doing, async () => (await on.query<R>(sql, params)).rows)
  }
}

function headRecord (row: HeadRow): HeadRecord | CorruptionError {
  if (!isRevisionId(row.head)) {
    return CorruptionError.of(`The head record of key ${JSON.stringify(row.key)}`, 'it does not name a head revision', { key: row.key })
  }
  return { head: row.head, ...(row.deleted ? { deleted: true as const } : {}), ...(row.unmerged > 0 ? { unmerged: row.unmerged } : {}) }
}

function leaseRecord (row: LeaseRow): LeaseRecord {
  return { token: Number(row.token), owner: row.owner, expires: Number(row.expires) }
}
