import type pg from 'pg'
import type { EngineBatch, Entry, HeadMove, WriteBatchOptions, WriteOutcome } from '../engine.js'
import { guarded, retried } from './connection.js'
import { transaction } from './schema.js'

/** What a batch needs from its engine: the pool, the quoted schema, the server name and the notify channel (or none). */
export interface BatchTarget {
  pool: pg.Pool
  schema: string
  server: string
  channel: string | undefined
}

/**
 * The one statement that writes a batch, in one round trip. Arrays come in as parameters
 * and are unnested; data-modifying CTEs do the rest:
 *
 * 1. `upd` moves each head whose row still holds the expected head and the unmerged count
 *    the move started from, and no lease live at `now` other than the writes' token. Under
 *    READ COMMITTED, an UPDATE that waited for another transaction's lock on the row
 *    re-checks its WHERE on the newest row version, so this is a real compare-and-set (and
 *    why leases live in the heads row: see schema.ts). `ins` creates the heads expected to
 *    be absent; ON CONFLICT waits for a concurrent creator and then skips the key, unless
 *    the row only holds a lease (null head) that does not stop these writes.
 * 2. `stale` is every moved-for key that did not move. Revisions, dropped markers,
 *    unmerged changes and change rows of stale keys are not written.
 * 3. `seq` takes the change numbers: it adds the batch's change count to the counter in
 *    meta, after (it depends on) the head moves and the other writes. The counter row's
 *    lock is then held until commit, so a second batch numbers its changes only after the
 *    first one committed: numbers are handed out in commit order, a reader that sees seq N
 *    can already see every seq below N, and a rolled-back batch took no numbers (no gaps).
 *    This is what makes changes(since) resumable across processes. Batches without
 *    changes do not touch the counter, so they do not wait for each other there.
 * 4. With notify, pg_notify wakes listeners; PostgreSQL delivers it at commit, and only
 *    when the batch wrote changes.
 *
 * Inputs are sorted by key, so concurrent batches tend to lock head rows in the same
 * order; a deadlock that still happens aborts the statement and it is run again.
 */
export function writeStatement (s: string, notify: boolean): string {
  return `WITH mv AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::integer[], $6::integer[], $7::bigint[])
    AS m (key, expected, head, deleted, unmerged, before, token)
), upd AS (
  UPDATE ${s}.heads AS h SET head = mv.head, deleted = mv.deleted, unmerged = mv.unmerged
  FROM mv WHERE h.key = mv.key AND h.head = mv.expected AND h.unmerged = mv.before
    AND (h.lease_expires IS NULL OR h.lease_expires <= $20 OR h.lease_token = mv.token)
  RETURNING h.key
), ins AS (
  INSERT INTO ${s}.heads AS h (key, head, deleted, unmerged)
  SELECT key, head, deleted, unmerged FROM mv WHERE expected IS NULL
  ON CONFLICT (key) DO UPDATE SET head = excluded.head, deleted = excluded.deleted, unmerged = excluded.unmerged
  WHERE h.head IS NULL AND (h.lease_expires IS NULL OR h.lease_expires <= $20
    OR h.lease_token = (SELECT token FROM mv WHERE mv.key = excluded.key))
  RETURNING h.key
), stale AS (
  SELECT key FROM mv WHERE key NOT IN (SELECT key FROM upd UNION ALL SELECT key FROM ins)
), rev AS (
  INSERT INTO ${s}.revisions (id, key, record)
  SELECT id, key, record FROM unnest($8::text[], $9::text[], $10::text[]) AS r (id, key, record)
  WHERE key NOT IN (SELECT key FROM stale)
  ON CONFLICT (id) DO NOTHING
  RETURNING 1
), drp AS (
  INSERT INTO ${s}.dropped (id, key)
  SELECT id, key FROM unnest($11::text[], $12::text[]) AS d (id, key)
  WHERE key NOT IN (SELECT key FROM stale)
  ON CONFLICT (id) DO NOTHING
  RETURNING 1
), uadd AS (
  INSERT INTO ${s}.unmerged (key, id)
  SELECT key, id FROM unnest($13::text[], $14::text[]) AS a (key, id)
  WHERE key NOT IN (SELECT key FROM stale)
  ON CONFLICT (key, id) DO NOTHING
  RETURNING 1
), udel AS (
  DELETE FROM ${s}.unmerged AS u USING unnest($15::text[], $16::text[]) AS r (key, id)
  WHERE u.key = r.key AND u.id = r.id AND r.key NOT IN (SELECT key FROM stale)
  RETURNING 1
), chg AS (
  SELECT key, rev, flags, row_number() OVER (ORDER BY ord) AS n
  FROM unnest($17::text[], $18::text[], $19::integer[]) WITH ORDINALITY AS c (key, rev, flags, ord)
  WHERE key NOT IN (SELECT key FROM stale)
), cnt AS (
  -- Counting the other writes here makes them run before the counter is locked, so the
  -- lock that serializes numbering is held for as short a time as possible.
  SELECT (SELECT count(*) FROM chg) AS n,
    (SELECT count(*) FROM rev) + (SELECT count(*) FROM drp) + (SELECT count(*) FROM uadd) + (SELECT count(*) FROM udel) AS written
), seq AS (
  UPDATE ${s}.meta SET seq = meta.seq + cnt.n FROM cnt WHERE cnt.n > 0 AND cnt.written >= 0
  RETURNING meta.seq - cnt.n AS base
), chi AS (
  INSERT INTO ${s}.changes (seq, key, rev, flags)
  SELECT seq.base + chg.n, chg.key, chg.rev, chg.flags FROM seq, chg
)
SELECT (SELECT base FROM seq) AS base, ARRAY(SELECT key FROM stale ORDER BY key) AS stale${notify ? ',\n  (SELECT pg_notify($21, \'\') FROM seq) AS notified' : ''}`
}

const byKey = (a: { key: string }, b: { key: string }): number => a.key < b.key ? -1 : a.key > b.key ? 1 : 0

/** A batch for PostgresEngine: collects records, then writes them with one statement. */
export class PostgresBatch implements EngineBatch {
  readonly #target: BatchTarget
  readonly #revisions = new Map<string, { key: string, record: string }>()
  readonly #dropped = new Map<string, string>()
  readonly #moves = new Map<string, HeadMove>()
  readonly #changes: Entry[] = []
  /** Keys bound by atomic(): each group is written whole or not at all. */
  readonly #groups: Array<readonly string[]> = []
  /** Keys of groups taken out because one of their keys was stale (kept across a retried run). */
  readonly #unwritten = new Set<string>()

  constructor (target: BatchTarget) {
    this.#target = target
  }

  get size (): number {
    return this.#revisions.size + this.#dropped.size + this.#moves.size + this.#changes.length
  }

  putRevision (id: string, key: string, record: string): void {
    this.#revisions.set(id, { key, record })
  }

  putDropped (id: string, key: string): void {
    this.#dropped.set(id, key)
  }

  setHead (move: HeadMove): void {
    // The statement judges each key once; two moves of one key would make the second one's
    // expectation meaningless, so this is a bug in the caller.
    if (this.#moves.has(move.key)) throw new Error(`Two head moves of key ${JSON.stringify(move.key)} in one batch.`)
    this.#moves.set(move.key, move)
  }

  addChange (entry: Entry): void {
    this.#changes.push(entry)
  }

  atomic (keys: readonly string[]): void {
    this.#groups.push(keys)
  }

  async write (options: WriteBatchOptions): Promise<WriteOutcome> {
    const { server } = this.#target
    // sync: every commit is durable (synchronous_commit stays at the server's setting), so
    // sync: false is not less durable; see the README's PostgreSQL section.
    return await guarded(server, 'write the batch', async () => await retried(async () => {
      if (options.allOrNothing === true) {
        // All or nothing: roll the statement back when any key was stale. The stale keys
        // are still reported, and the counter is rolled back too.
        const row = await this.#attempt(options.now, (stale) => stale.size > 0)
        return { stale: row.stale, firstSeq: row.stale.size === 0 ? row.first : undefined }
      }
      if (this.#groups.length === 0) {
        const row = await this.#run(this.#target.pool, options.now)
        return { stale: row.stale, firstSeq: row.first }
      }
      return await this.#writeGroups(options.now)
    }))
  }

  /**
   * A batch with multi-key groups: the statement's compare-and-set is per key, so a group
   * one of whose keys turned out stale was half written. Its transaction is then rolled
   * back, the group taken out, and the rest written again (a group that went stale meanwhile
   * too): the common case, no group stale, costs a transaction around the one statement.
   */
  async #writeGroups (now: number): Promise<WriteOutcome> {
    for (;;) {
      let broken: Array<readonly string[]> = []
      const row = await this.#attempt(now, (stale) => {
        broken = this.#groups.filter((keys) => keys.some((key) => stale.has(key)))
        return broken.length > 0
      })
      if (broken.length === 0) {
        for (const key of this.#unwritten) row.stale.add(key)
        return { stale: row.stale, firstSeq: row.first }
      }
      const out = new Set(broken.flat())
      // Taking a key out takes every record of it, other groups' too (a key's later group
      // builds on its earlier one in the same batch): a group sharing a key taken out goes
      // out whole as well, or its other keys would be written without it.
      for (let grew = true; grew;) {
        grew = false
        for (const keys of this.#groups) {
          if (keys.some((key) => out.has(key)) && keys.some((key) => !out.has(key))) {
            for (const key of keys) out.add(key)
            grew = true
          }
        }
      }
      for (const key of out) this.#unwritten.add(key)
      this.#without(out)
      if (this.#moves.size === 0) return { stale: new Set(this.#unwritten), firstSeq: undefined }
    }
  }

  /** Run the statement in a transaction, rolled back (and its outcome still returned) when `undo` says so. */
  async #attempt (now: number, undo: (stale: ReadonlySet<string>) => boolean): Promise<StatementRow> {
    return await transaction(this.#target.pool, async client => {
      const row = await this.#run(client, now)
      if (undo(row.stale)) throw new StaleRollback(row)
      return row
    }).catch((err: unknown) => {
      if (err instanceof StaleRollback) return err.row
      throw err
    })
  }

  async #run (client: pg.Pool | pg.PoolClient, now: number): Promise<StatementRow> {
    const { schema, channel } = this.#target
    const params = writeParams({ revisions: this.#revisions, dropped: this.#dropped, moves: this.#moves, changes: this.#changes }, now)
    if (channel !== undefined) params.push(channel)
    const { rows } = await client.query<{ base: string | null, stale: string[] }>(writeStatement(schema, channel !== undefined), params)
    const row = rows[0]
    if (row === undefined) throw new Error('The batch statement returned no row.')
    return { stale: new Set(row.stale), first: row.base === null ? undefined : Number(row.base) + 1 }
  }

  /** Take every record of these keys out of the batch. */
  #without (keys: ReadonlySet<string>): void {
    for (const [id, { key }] of this.#revisions) if (keys.has(key)) this.#revisions.delete(id)
    for (const [id, key] of this.#dropped) if (keys.has(key)) this.#dropped.delete(id)
    for (const key of keys) this.#moves.delete(key)
    const kept = this.#changes.filter(([key]) => !keys.has(key))
    this.#changes.length = 0
    this.#changes.push(...kept)
  }
}

/** What one run of the statement did: the stale keys, and the first change number it took. */
interface StatementRow {
  stale: Set<string>
  first: number | undefined
}

/** What a batch holds, as writeParams() takes it. */
export interface BatchContents {
  revisions: Map<string, { key: string, record: string }>
  dropped: Map<string, string>
  moves: Map<string, HeadMove>
  changes: Entry[]
}

/** The parameters $1-$20 of writeStatement() for a batch's contents (sorted by key) and the time leases are judged at. */
export function writeParams ({ revisions: revisionMap, dropped: droppedMap, moves: moveMap, changes }: BatchContents, now: number): unknown[] {
  const moves = [...moveMap.values()].sort(byKey)
  const revisions = [...revisionMap].map(([id, r]) => ({ id, ...r })).sort(byKey)
  const dropped = [...droppedMap].map(([id, key]) => ({ id, key })).sort(byKey)
  const added: Array<{ key: string, id: string }> = []
  const removed: Array<{ key: string, id: string }> = []
  for (const move of moves) {
    // `removed` applies after `added`: an id in both ends up absent, so it is only deleted.
    const gone = new Set(move.removed)
    for (const id of move.added) if (!gone.has(id)) added.push({ key: move.key, id })
    for (const id of gone) removed.push({ key: move.key, id })
  }
  return [
    moves.map(m => m.key), moves.map(m => m.expected), moves.map(m => m.head.head),
    moves.map(m => m.head.deleted === true), moves.map(m => m.head.unmerged ?? 0),
    // The count the key's row must hold before the move (HeadMove's contract), and the writes' token.
    moves.map(m => (m.head.unmerged ?? 0) - m.added.length + m.removed.length), moves.map(m => m.token ?? null),
    revisions.map(r => r.id), revisions.map(r => r.key), revisions.map(r => r.record),
    dropped.map(d => d.id), dropped.map(d => d.key),
    added.map(a => a.key), added.map(a => a.id),
    removed.map(r => r.key), removed.map(r => r.id),
    changes.map(c => c[0]), changes.map(c => c[1]), changes.map(c => c[2]),
    now
  ]
}

/** Carries the outcome of a rolled-back statement out of its transaction. */
class StaleRollback extends Error {
  readonly row: StatementRow

  constructor (row: StatementRow) {
    super('A key was stale; the batch was rolled back.')
    this.row = row
  }
}
