import { InvalidInputError } from '../../errors.js'
import { connect, guarded } from './connection.js'
import type { PostgresConnection } from './connection.js'
import { PostgresEngine } from './engine.js'
import { prepareSchema, validateSchemaName } from './schema.js'

export { PostgresEngine } from './engine.js'
export type { PostgresConnection } from './connection.js'

/** Options of openPostgres(). */
export interface PostgresOptions {
  /** A connection URL (postgres://user@host:5432/database), or the caller's own pg.Pool (left open on close). */
  postgres: PostgresConnection
  /** The schema the store's tables live in, created if missing. Default 'revkv'. */
  schema?: string
  /** Connections in the pool revkv creates for a URL (default 10); ignored for a caller's pool. */
  poolSize?: number
  /** Wake other processes' watchers with NOTIFY and LISTEN (default true); false for servers without it. */
  notify?: boolean
  /** Create the schema and tables when the schema holds no store (default true); false: NotFoundError. */
  createIfMissing?: boolean | undefined
}

/** Opens (creating or upgrading its schema if needed) a revkv store in a PostgreSQL database. */
export async function openPostgres (options: PostgresOptions): Promise<PostgresEngine> {
  const schema = options.schema ?? 'revkv'
  validateSchemaName(schema)
  if (options.notify !== undefined && typeof options.notify !== 'boolean') throw new InvalidInputError(`notify must be true or false, not ${JSON.stringify(options.notify)}.`)
  const connection = connect(options.postgres, options.poolSize)
  try {
    await guarded(connection.server, 'open the store', async () => await prepareSchema(connection.pool, schema, options.createIfMissing !== false))
  } catch (err) {
    if (connection.owned) await connection.pool.end()
    throw err
  }
  return new PostgresEngine(connection, schema, options.notify ?? true)
}
