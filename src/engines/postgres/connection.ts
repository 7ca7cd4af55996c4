import pg from 'pg'
import { InvalidInputError, UnavailableError } from '../../errors.js'

/** What openPostgres() connects with: a connection string, or the caller's own pg.Pool. */
export type PostgresConnection = string | pg.Pool

/**
 * Timeouts of a pool revkv creates (a caller's pool keeps its own settings). They turn a
 * dead or unreachable server into an error instead of a hang:
 * - connecting gives up after CONNECT_TIMEOUT_MS (a stopped server refuses at once; a
 *   black-holed one is caught here);
 * - the server cancels any statement running longer than STATEMENT_TIMEOUT_MS (a batch
 *   waits for row locks of other writers, so this is generous);
 * - the client gives up on a reply after QUERY_TIMEOUT_MS, a little later, for a server
 *   that stopped answering without closing the connection;
 * - TCP keepalive finds connections that died while idle.
 */
export const CONNECT_TIMEOUT_MS = 10_000
export const STATEMENT_TIMEOUT_MS = 30_000
export const QUERY_TIMEOUT_MS = 35_000

/** A pool to use, whether revkv made it (and so ends it on close), and the server it talks to. */
export interface Connection {
  pool: pg.Pool
  owned: boolean
  /** "host:port/database", for messages; never with a password. */
  server: string
}

/** Opens a pool for a connection string, or adopts the caller's pool (left open on close). */
export function connect (connection: PostgresConnection, poolSize: number | undefined): Connection {
  if (typeof connection === 'string') {
    let url: URL
    try {
      url = new URL(connection)
    } catch (err) {
      throw new InvalidInputError(`postgres: ${JSON.stringify(redact(connection))} is not a connection URL. Give one like postgres://user@host:5432/database.`, { cause: err })
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new InvalidInputError(`postgres: the URL must start with postgres:// or postgresql://, not ${url.protocol}//.`)
    }
    if (poolSize !== undefined && !(Number.isSafeInteger(poolSize) && poolSize >= 2)) {
      // One connection is held by LISTEN and one by each open snapshot; fewer than 2 could wait forever.
      throw new InvalidInputError(`poolSize must be an integer of at least 2, not ${String(poolSize)}.`)
    }
    const pool = new pg.Pool({
      connectionString: connection,
      max: poolSize ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true
    })
    // An idle connection that dies (server restart) is reported here; without a listener
    // Node would end the process. The next query opens a new connection.
    pool.on('error', () => {})
    return { pool, owned: true, server: describe(url.hostname, url.port, url.pathname.slice(1)) }
  }
  if (connection instanceof pg.Pool) {
    const o = connection.options
    return { pool: connection, owned: false, server: describe(o.host, o.port, o.database, o.connectionString) }
  }
  throw new InvalidInputError('postgres: give a connection URL (postgres://user@host/database) or a pg.Pool. ' +
    'A single pg.Client is not enough: revkv holds one connection for LISTEN and one per open snapshot, so it needs a pool.')
}

function describe (host: string | undefined, port: string | number | undefined, database: string | undefined, connectionString?: string): string {
  if (host === undefined && connectionString !== undefined) {
    try {
      const url = new URL(connectionString)
      return describe(url.hostname, url.port, url.pathname.slice(1))
    } catch {}
  }
  return `${host ?? process.env.PGHOST ?? 'localhost'}:${port === undefined || port === '' ? 5432 : port}/${database ?? process.env.PGDATABASE ?? ''}`
}

function redact (text: string): string {
  return text.replace(/:[^:@/]*@/, ':***@')
}

/** Quotes an SQL identifier (schema or channel name). */
export function quoteIdent (name: string): string {
  return '"' + name.replaceAll('"', '""') + '"'
}

// SQLSTATE classes and codes that mean the server is gone, restarting or cannot take us:
// 08 connection exception, 57P01-57P03 shutdown / crash / starting up, 53300 too many connections,
// 57014 a statement cancelled by statement_timeout.
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014'])
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT'])

/** True when `err` says the server could not be reached or answered no more (not a fault of the statement). */
export function isUnavailable (err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || UNAVAILABLE_ERRNO.has(code))) return true
  // node-postgres reports a lost connection and its own timeouts by message only.
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended/i.test(err.message)
}

/** Runs one database operation; a lost or unreachable server becomes UnavailableError naming it. */
export async function guarded<T> (server: string, doing: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (!isUnavailable(err)) throw err
    const write = doing.startsWith('write')
    throw new UnavailableError(
      `PostgreSQL at ${server} is unavailable (${(err as Error).message}), so revkv could not ${doing}.` +
      (write ? ' The write was not acknowledged: it may or may not have been applied, and retrying it is safe.' : '') +
      ' Check that the server is running and reachable; the store works again once it is, without reopening.',
      server, { cause: err })
  }
}

const RETRIED_STATES = new Set(['40001', '40P01'])
const MAX_ATTEMPTS = 8

/**
 * Runs a statement again on serialization failure (40001, how CockroachDB reports any
 * conflict) or deadlock (40P01), a bounded number of times with a short random pause.
 * Both abort the whole statement, so nothing of a failed attempt was written.
 */
export async function retried<T> (run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (attempt >= MAX_ATTEMPTS || typeof code !== 'string' || !RETRIED_STATES.has(code)) throw err
      await new Promise(resolve => setTimeout(resolve, Math.random() * 5 * attempt))
    }
  }
}
