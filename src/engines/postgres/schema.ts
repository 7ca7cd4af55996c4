import type pg from 'pg'
import { InvalidInputError, NotFoundError } from '../../errors.js'
import { FORMAT_VERSION } from '../engine.js'
import { quoteIdent, retried } from './connection.js'

/**
 * The PostgreSQL layout: the only file that knows the tables. Keys and ids are
 * `text COLLATE "C"`, so they sort by code point (byte order of UTF-8), as LevelDB does.
 *
 *   meta       one row: the layout version and the last change sequence number
 *   revisions  id -> the revision's canonical JSON (content-addressed, never rewritten)
 *   heads      key -> head, deleted, unmerged count, the key's lease (token, owner, expires)
 *              and fence (the newest fencing token ever granted); a partial index on
 *              unmerged > 0 lists conflicted keys (LevelDB's c! index, kept by the database).
 *              A key that was leased but never written has a row with a null head.
 *   unmerged   (key, id) for each revision kept unmerged
 *   dropped    id -> key of a revision dropped by compaction
 *   changes    seq -> key, rev, flags (DELETED | KEPT), one row per change; the index
 *              changes_key (key, seq) finds a key's change at a sequence number (as-of reads)
 *   sync       name -> value: sync marks (src/sync/marks.ts), how far this store synced with
 *              another. Added without a layout version change: an older revkv never reads
 *              it, and prepareSchema() creates it in a store made before it existed.
 *
 * Leases live in the heads row, not a table of their own, so that a batch's
 * compare-and-set checks the head, the unmerged count and the lease on one row: under READ
 * COMMITTED, PostgreSQL re-checks an UPDATE's WHERE on the newest version of the row it
 * updates, but reads every other table at the statement's start, so a lease granted in
 * another table meanwhile would go unseen.
 */
export const TABLES = ['meta', 'revisions', 'heads', 'unmerged', 'dropped', 'changes', 'sync'] as const

/** The sync marks table (see above), created with the rest or added to an older store at open. */
function syncTable (s: string): string {
  return `CREATE TABLE IF NOT EXISTS ${s}.sync (name text COLLATE "C" PRIMARY KEY, value text NOT NULL)`
}

/** Schema names revkv accepts: plain identifiers, short enough for the notify channel name. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/

/** Throws InvalidInputError unless `schema` is a name revkv can use. */
export function validateSchemaName (schema: unknown): asserts schema is string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema) || /^pg_/i.test(schema)) {
    throw new InvalidInputError(`schema: ${JSON.stringify(schema)} is not a usable schema name. Use 1 to 48 letters, digits and underscores, ` +
      'starting with a letter or underscore and not with pg_ (the name is used exactly, case included), e.g. "revkv".')
  }
}

function ddl (s: string): string[] {
  const key = 'text COLLATE "C" NOT NULL'
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.meta (one boolean PRIMARY KEY DEFAULT true CHECK (one), version text NOT NULL, seq bigint NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${s}.revisions (id ${key} PRIMARY KEY, key ${key}, record text NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${s}.heads (key ${key} PRIMARY KEY, head text COLLATE "C", deleted boolean NOT NULL, unmerged integer NOT NULL, ` +
      'lease_token bigint, lease_owner text, lease_expires bigint, fence bigint)',
    `CREATE INDEX IF NOT EXISTS heads_conflicted ON ${s}.heads (key) WHERE unmerged > 0`,
    `CREATE TABLE IF NOT EXISTS ${s}.unmerged (key ${key}, id ${key}, PRIMARY KEY (key, id))`,
    `CREATE TABLE IF NOT EXISTS ${s}.dropped (id ${key} PRIMARY KEY, key ${key})`,
    `CREATE TABLE IF NOT EXISTS ${s}.changes (seq bigint PRIMARY KEY, key ${key}, rev ${key}, flags integer NOT NULL)`,
    changesKeyIndex(s),
    syncTable(s),
    `INSERT INTO ${s}.meta (version, seq) VALUES ('${FORMAT_VERSION}', 0) ON CONFLICT (one) DO NOTHING`
  ]
}

/**
 * The index of as-of reads. It was added after layout 1 without a new layout version: an
 * index changes nothing a revkv without it reads or writes (PostgreSQL keeps it up to date
 * for every writer), so older revkv versions keep working on the store. open() adds it to a
 * store created before it (see prepareSchema).
 */
function changesKeyIndex (s: string): string {
  return `CREATE INDEX IF NOT EXISTS changes_key ON ${s}.changes (key, seq)`
}

/**
 * Statements that bring a layout from version N to N + 1, keyed by N. There is no older
 * layout yet; a later one adds its entry here and open() applies it in place.
 */
const UPGRADES: Record<number, (schema: string) => string[]> = {}

// Two processes creating the same schema at once race inside the catalog: the loser of
// CREATE ... IF NOT EXISTS gets unique_violation (23505) or duplicate_schema/table
// (42P06/42P07). The whole creation is one transaction, so it is simply run again.
const CREATE_RACES = new Set(['23505', '42P06', '42P07', '40001', '40P01'])

/** Creates the schema and tables if missing (NotFoundError instead when `createIfMissing` is false), refuses a newer layout, upgrades an older one. */
export async function prepareSchema (pool: pg.Pool, schema: string, createIfMissing = true): Promise<void> {
  const s = quoteIdent(schema)
  const found = await pool.query<{ name: string }>(
    'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_name = ANY($2::text[])', [schema, TABLES])
  const names = new Set(found.rows.map(row => row.name))
  if (names.size > 0 && !names.has('meta')) {
    throw new InvalidInputError(`Schema ${schema} holds tables named like revkv's (${[...names].join(', ')}) but no revkv meta table: ` +
      'it is not a revkv store. Open the store in another schema (option schema).')
  }
  if (!names.has('meta') && !createIfMissing) {
    throw new NotFoundError(`No revkv store in schema ${schema}. Create one with \`revkv --db <url> --schema ${schema} init\` (or open it with createIfMissing: true).`)
  }
  // Creation is one transaction, so a store is never half created: a meta table means it is all there.
  for (let attempt = 1; !names.has('meta'); attempt++) {
    try {
      await transaction(pool, async client => {
        for (const statement of ddl(s)) await client.query(statement)
      })
      break
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (attempt >= 5 || typeof code !== 'string' || !CREATE_RACES.has(code)) throw err
    }
  }
  await retried(async () => await transaction(pool, async client => {
    const { rows } = await client.query<{ version: string }>(`SELECT version FROM ${s}.meta FOR UPDATE`)
    // Under the meta row's lock, so two processes opening an older store do not race to add it.
    if (!names.has('sync')) await client.query(syncTable(s))
    const version = Number(rows[0]?.version)
    const current = Number(FORMAT_VERSION)
    if (!Number.isSafeInteger(version)) {
      throw new InvalidInputError(`Schema ${schema} has a revkv meta table without a layout version: it is damaged. Restore it from a backup or an export.`)
    }
    if (version > current) {
      throw new InvalidInputError(`The store in schema ${schema} uses layout version ${version}, which this revkv (layout ${current}) cannot read. Upgrade revkv.`)
    }
    for (let from = version; from < current; from++) {
      const upgrade = UPGRADES[from]
      if (upgrade === undefined) throw new InvalidInputError(`The store in schema ${schema} uses layout version ${from}, which this revkv cannot upgrade. Export it with the revkv that wrote it and import it.`)
      for (const statement of upgrade(s)) await client.query(statement)
      await client.query(`UPDATE ${s}.meta SET version = $1`, [String(from + 1)])
    }
  }))
  // Looked up first: CREATE INDEX takes a lock that waits for every write in progress.
  const index = await pool.query('SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = $2', [schema, 'changes_key'])
  if (index.rowCount === 0) {
    try {
      await pool.query(changesKeyIndex(s))
    } catch (err) {
      // Another process opening the store created it at the same moment.
      const code = (err as { code?: unknown }).code
      if (typeof code !== 'string' || !CREATE_RACES.has(code)) throw err
    }
  }
}

/** Runs `body` in a transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it throws. */
export async function transaction<T> (pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query(begin)
    const result = await body(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    try {
      await client.query('ROLLBACK')
    } catch (rollbackErr) {
      // The connection itself failed: do not return it to the pool.
      broken = rollbackErr as Error
    }
    throw err
  } finally {
    client.release(broken)
  }
}
