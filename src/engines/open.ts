import { InvalidInputError } from '../errors.js'
import type { Engine } from './engine.js'
import { openLevelDatabase, openLevelDirectory } from './level/engine.js'
import type { RevkvDatabase } from './level/layout.js'
import type { PostgresConnection } from './postgres/connection.js'

/** Where a store's records are: exactly one of path, db and postgres. */
export interface EngineOptions {
  /** A LevelDB directory, created if missing (unless createIfMissing is false). */
  path?: string
  /** An abstract-level database with string keys and values, e.g. a MemoryLevel. */
  db?: RevkvDatabase
  /** With `path` or `postgres`: create the store when there is none (default true); false: NotFoundError. */
  createIfMissing?: boolean
  /** A PostgreSQL connection URL (postgres://user@host:5432/database) or your own pg.Pool (left open on close). */
  postgres?: PostgresConnection
  /** With `postgres`: the schema of the store's tables, created if missing (default 'revkv'). */
  schema?: string
  /** With a `postgres` URL: connections in the pool revkv opens (default 10). */
  poolSize?: number
  /** With `postgres`: wake other processes' watchers with NOTIFY/LISTEN (default true; they also poll). */
  notify?: boolean
}

const WHERE = ['path', 'db', 'postgres'] as const
const POSTGRES_ONLY = ['schema', 'poolSize', 'notify'] as const

/** Open the engine the options name; the store's layout is created or checked on the way. */
export async function openEngine (options: EngineOptions): Promise<Engine> {
  const given = WHERE.filter((name) => options[name] !== undefined)
  if (given.length !== 1) {
    throw new InvalidInputError(`Store.open() needs exactly one of { path } (a LevelDB directory), { db } (an abstract-level database) or { postgres } (a PostgreSQL URL or pg.Pool)${given.length > 1 ? `, got ${given.join(' and ')}` : ''}.`)
  }
  if (options.postgres === undefined) {
    const misplaced = POSTGRES_ONLY.find((name) => options[name] !== undefined)
    if (misplaced !== undefined) throw new InvalidInputError(`Option ${misplaced} goes with { postgres }; a LevelDB store has no ${misplaced}.`)
  }
  if (options.db !== undefined) return await openLevelDatabase(options.db)
  if (options.path !== undefined) return await openLevelDirectory(options.path, options.createIfMissing !== false)
  // Loaded only when used, so LevelDB stores (and the CLI's start) do not load the PostgreSQL client.
  const { openPostgres } = await import('./postgres/index.js')
  return await openPostgres({ postgres: options.postgres as PostgresConnection, schema: options.schema, poolSize: options.poolSize, notify: options.notify, createIfMissing: options.createIfMissing })
}
