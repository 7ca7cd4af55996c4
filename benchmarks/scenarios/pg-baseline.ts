/**
 * The baseline of the PostgreSQL benchmarks: the versioned write most teams write by hand.
 * A table of current values with a revision column, a history table, and one transaction per
 * write: `UPDATE kv SET rev = $new ... WHERE key = $k AND rev = $old`, then the history row.
 * An UPDATE that matches no row means the writer's revision is stale: it rolls back, and the
 * writer re-reads and tries again. For the hot key that retry is the hand-written equivalent
 * of revkv's `merge`: each writer re-reads the object, sets its own member again on the fresh
 * value and retries, so no writer's change is lost (what a clean three-way merge gives).
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import type { JsonValue } from '../../src/index.js'
import type { VersionedTarget, Workload } from '../store-run.js'
import type { ScenarioContext } from '../types.js'
import type { Ledger, VerifiableStore } from '../verify.js'
import { distinctWorkload } from './distinct.js'
import { defaults as hotDefaults, mergeWorkload } from './hot.js'

/** A write whose revision was no longer the key's: the writer re-reads and retries. */
export class StaleWriteError extends Error {
  readonly code = 'BASELINE_STALE'
}

/** True for the baseline's stale writes (the ones retried). */
export function isStaleWrite (err: unknown): boolean {
  return err instanceof StaleWriteError
}

/** The two workloads the baseline has: a key per writer, or one hot object with a member per writer. */
export type BaselineWorkload = 'distinct' | 'hot'

/** The baseline's tables in one schema, on a pool of its own. */
export class NaiveVersionedTable {
  readonly #pool: pg.Pool
  readonly #s: string

  constructor (url: string, schema: string, poolSize: number) {
    this.#pool = new pg.Pool({ connectionString: url, max: poolSize })
    this.#s = `"${schema}"`
  }

  /** Create the schema and its two tables. */
  async create (): Promise<void> {
    await this.#pool.query(`CREATE SCHEMA IF NOT EXISTS ${this.#s}`)
    await this.#pool.query(`CREATE TABLE IF NOT EXISTS ${this.#s}.kv (key text PRIMARY KEY, rev text NOT NULL, value text NOT NULL)`)
    await this.#pool.query(`CREATE TABLE IF NOT EXISTS ${this.#s}.history (key text NOT NULL, rev text NOT NULL, parent text, value text NOT NULL, PRIMARY KEY (key, rev))`)
  }

  /** The key's revision and value, or undefined. */
  async read (key: string): Promise<{ id: string, value: JsonValue } | undefined> {
    const { rows } = await this.#pool.query<{ rev: string, value: string }>(`SELECT rev, value FROM ${this.#s}.kv WHERE key = $1`, [key])
    const row = rows[0]
    return row === undefined ? undefined : { id: row.rev, value: JSON.parse(row.value) as JsonValue }
  }

  /** One transaction: move the key from `parent` (null: create) to a new revision, and record it in history; throws StaleWriteError if `parent` is not the key's revision. */
  async write (key: string, parent: string | null, value: JsonValue): Promise<string> {
    const rev = randomUUID()
    const text = JSON.stringify(value)
    const client = await this.#pool.connect()
    try {
      await client.query('BEGIN')
      const moved = parent === null
        ? await client.query(`INSERT INTO ${this.#s}.kv (key, rev, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [key, rev, text])
        : await client.query(`UPDATE ${this.#s}.kv SET rev = $2, value = $3 WHERE key = $1 AND rev = $4`, [key, rev, text, parent])
      if (moved.rowCount !== 1) {
        await client.query('ROLLBACK')
        throw new StaleWriteError(`Key ${key} is no longer at revision ${String(parent)}.`)
      }
      await client.query(`INSERT INTO ${this.#s}.history (key, rev, parent, value) VALUES ($1, $2, $3, $4)`, [key, rev, parent, text])
      await client.query('COMMIT')
      return rev
    } catch (err) {
      if (!(err instanceof StaleWriteError)) await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
  }

  /**
   * The workload on these tables: the very operations of revkv's scenarios, through the
   * versioned UPDATE. On the hot key the acknowledgements come back on several connections
   * in any order, so only the history and the final object are checked, not which write was last.
   */
  workload (workload: BaselineWorkload, ctx: ScenarioContext, ledger: Ledger): Workload {
    const target: VersionedTarget = { read: async (key) => await this.read(key), write: async (key, value, parent) => await this.write(key, parent, value) }
    if (workload === 'distinct') return distinctWorkload(ctx, target, ledger)
    ledger.unordered(hotDefaults.key)
    return mergeWorkload(ctx, target, ledger)
  }

  /** The tables as the nothing-lost check reads them: a key's history is its chain of parents from the current revision. */
  verifiable (): VerifiableStore {
    const s = this.#s
    const pool = this.#pool
    return {
      head: async (key) => {
        const current = await this.read(key)
        return current === undefined ? undefined : { id: current.id }
      },
      log: async function * (key) {
        const { rows } = await pool.query<{ rev: string }>(
          `WITH RECURSIVE chain (rev, parent) AS (SELECT h.rev, h.parent FROM ${s}.history h JOIN ${s}.kv k ON k.key = h.key AND k.rev = h.rev WHERE h.key = $1 ` +
          `UNION ALL SELECT h.rev, h.parent FROM ${s}.history h JOIN chain c ON h.key = $1 AND h.rev = c.parent) SELECT rev FROM chain`, [key])
        for (const row of rows) yield { id: row.rev }
      },
      conflicts: async () => [],
      get: async (key) => (await this.read(key))?.value
    }
  }

  /** Close the pool. */
  async close (): Promise<void> {
    await this.#pool.end()
  }
}
