/**
 * Finding the store a command works on (a LevelDB directory, a PostgreSQL URL, or a server)
 * and opening it. LevelDB lets one process at a time
 * hold a directory, so a command that finds the store busy waits for it (up to --wait ms)
 * instead of failing at once: two scripts running revkv side by side both get their turn.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RevkvStore, Store, StoreOptions } from '../src/index.js'
import { loadLibrary } from './library.js'
import type { Library } from './library.js'
import type { GlobalArgs } from './command.js'
import { commandLine, explain, shellQuote } from './output.js'

/** What a command works on: the store itself, or a server sharing it (--remote); commands read `supports`, never the class. */
export type StoreHandle = RevkvStore

/** The store directory used when neither --db nor REVKV_DB names one. */
export const DEFAULT_STORE = './.revkv'

const FIRST_RETRY_MS = 10
const MAX_RETRY_MS = 200
/** After this long waiting for the lock, say so on stderr, so a slow command is not a silent one. */
const NOTICE_AFTER_MS = 1000

/** The schema of a PostgreSQL store when --schema is not given (the library's default too). */
export const DEFAULT_SCHEMA = 'revkv'

/** The store directory or PostgreSQL URL: --db, else $REVKV_DB, else ./.revkv. */
export function storePath (args: Pick<GlobalArgs, 'db'>): string {
  if (args.db !== undefined && args.db !== '') return args.db
  const fromEnv = process.env.REVKV_DB
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_STORE
}

/** Where a local store is: a LevelDB directory, or a schema in a PostgreSQL database. */
export type StoreLocation =
  | { engine: 'level', path: string }
  | { engine: 'postgres', url: string, schema: string }

/** True for a postgres:// or postgresql:// URL, which --db and REVKV_DB take beside a directory. */
export function isPostgresUrl (text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text)
}

/**
 * The store a command opens: `given` (init's [dir]) or --db / $REVKV_DB / ./.revkv, read as a
 * PostgreSQL URL when it is one. --schema names the schema there; with a directory it is a
 * usage error rather than an option silently ignored.
 */
export async function storeLocation (args: Pick<GlobalArgs, 'db' | 'schema'>, given?: string): Promise<StoreLocation> {
  const where = given ?? storePath(args)
  if (isPostgresUrl(where)) return { engine: 'postgres', url: where, schema: args.schema ?? DEFAULT_SCHEMA }
  if (args.schema !== undefined) {
    const { InvalidInputError } = await loadLibrary()
    throw new InvalidInputError(`--schema ${args.schema} names a schema of a PostgreSQL store, but the store is the directory ${where}. Give --db postgres://user@host:5432/database, or leave --schema out.`)
  }
  return { engine: 'level', path: where }
}

/** The URL without its password, for messages and output: a password is never printed. */
export function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    // Not a URL after all: hide whatever lies between the user name and the host.
    return url.replace(/:[^:@/]*@/, ':***@')
  }
}

/** The location as messages name it: the absolute directory, or the redacted URL and schema. */
export function describeLocation (location: StoreLocation): string {
  return location.engine === 'level' ? resolve(location.path) : `schema ${location.schema} of ${redactUrl(location.url)}`
}

/**
 * Open the store at `location`, created only with `create`. A LevelDB directory waits for
 * another process's lock (up to `wait` ms); PostgreSQL has no such lock (many processes
 * share one store), and opening upgrades an older layout in place, as Store.open() does.
 */
export async function openLocation (location: StoreLocation, options: { create: boolean, wait: number, store?: Omit<StoreOptions, 'path' | 'db' | 'createIfMissing'> }): Promise<Store> {
  if (location.engine === 'level') return await openStore(location.path, options)
  const lib = await loadLibrary()
  try {
    return await lib.Store.open({ ...options.store, postgres: location.url, schema: location.schema, createIfMissing: options.create })
  } catch (err) {
    // The library's message names its own option (createIfMissing); the CLI's fix is init.
    if ((err as { code?: unknown }).code !== 'REVKV_NOT_FOUND') throw err
    const schema = location.schema === DEFAULT_SCHEMA ? '' : ` --schema ${shellQuote(location.schema)}`
    throw explain(err, { message: `No revkv store in ${describeLocation(location)}. Create one with: revkv --db ${shellQuote(redactUrl(location.url))}${schema} init` })
  }
}

/** Time as the lock wait sees it: the real clock, or a test's own, so a wait can be checked without sleeping. */
export interface WaitClock {
  now: () => number
  sleep: (ms: number) => Promise<unknown>
}

const REAL_CLOCK: WaitClock = { now: () => Date.now(), sleep }

/** Open the store at `path`, waiting up to `wait` ms for another process to let go of it. */
export async function openStore (path: string, options: { create: boolean, wait: number, store?: Omit<StoreOptions, 'path' | 'db' | 'createIfMissing'>, clock?: WaitClock }): Promise<Store> {
  const lib = await loadLibrary()
  const clock = options.clock ?? REAL_CLOCK
  const deadline = clock.now() + options.wait
  let delay = FIRST_RETRY_MS
  let noticed = false
  const started = clock.now()
  for (;;) {
    try {
      return await lib.Store.open({ ...options.store, path, createIfMissing: options.create })
    } catch (err) {
      // The library's message names its own option (createIfMissing); the CLI's fix is init.
      if ((err as { code?: unknown }).code === 'REVKV_NOT_FOUND' && !options.create) {
        throw explain(err, { message: `No revkv store at ${resolve(path)}${existsSync(path) ? ' (the directory exists but holds no store)' : ''}. Create one with: ${commandLine('init', [path])}` })
      }
      if ((err as { code?: unknown }).code !== 'REVKV_LOCKED') throw err
      const left = deadline - clock.now()
      if (left <= 0) {
        throw explain(err, {
          hint: [
            options.wait === 0 ? 'Gave up at once (--wait 0); pass --wait <ms> to wait for the other process.' : `Waited ${options.wait} ms for the other process; pass a larger --wait <ms> to wait longer.`,
            'To let many processes share this store, run `revkv serve --db <dir>` once and give the others --remote <url> (or REVKV_REMOTE).'
          ]
        })
      }
      if (!noticed && clock.now() - started >= NOTICE_AFTER_MS) {
        noticed = true
        process.stderr.write(`Waiting for the store at ${path}: another process has it open...\n`)
      }
      // Backoff with jitter, so several waiting processes do not retry in lockstep.
      await clock.sleep(Math.min(left, delay * (0.5 + Math.random())))
      delay = Math.min(delay * 2, MAX_RETRY_MS)
    }
  }
}

/**
 * The server URL from --remote, else $REVKV_REMOTE; undefined for a local store. An explicit
 * --db beats $REVKV_REMOTE, as a flag beats the environment (--db with --remote is a usage error).
 */
export function remoteUrl (args: Pick<GlobalArgs, 'remote' | 'db'>): string | undefined {
  if (args.remote === undefined && args.db !== undefined) return undefined
  const url = args.remote ?? process.env.REVKV_REMOTE
  return url === undefined || url === '' ? undefined : url
}

/**
 * Run `work` on the command's store: a server with --remote / REVKV_REMOTE, else the
 * directory of --db / REVKV_DB / ./.revkv. The store is always closed afterwards, so every
 * accepted write is on disk (or answered by the server) before the process exits.
 */
export async function withStore<T> (args: Pick<GlobalArgs, 'db' | 'schema' | 'wait' | 'remote' | 'token' | 'max-value-bytes'>, work: (store: StoreHandle, lib: Library) => Promise<T>): Promise<T> {
  const lib = await loadLibrary()
  const url = remoteUrl(args)
  const token = args.token ?? process.env.REVKV_TOKEN
  if (url !== undefined && args.schema !== undefined) {
    throw new lib.InvalidInputError('--schema names a schema of a PostgreSQL store this command opens itself; with --remote the server has its store (start it with `revkv serve --db postgres://... --schema <name>`).')
  }
  if (url !== undefined && args['max-value-bytes'] !== undefined) {
    throw new lib.InvalidInputError('--max-value-bytes sets the limit of a store this command opens itself; with --remote the server\'s limit applies (start it with `revkv serve --max-value-bytes <bytes>`).')
  }
  const store: StoreHandle = url !== undefined
    ? await lib.RemoteStore.open({ url, ...(token === undefined || token === '' ? {} : { token }) })
    : await openLocation(await storeLocation(args), { create: false, wait: args.wait, store: storeLimits(args) })
  try {
    return await work(store, lib)
  } catch (err) {
    // The library's advice (open the store with a larger maxValueBytes) in the command line's words.
    if (err instanceof lib.ValueTooLargeError) throw new lib.ValueTooLargeError(err.bytes, err.limit, 'pass a larger --max-value-bytes <bytes>')
    throw err
  } finally {
    await store.close()
  }
}

/** The store options the global command-line options set. */
export function storeLimits (args: Pick<GlobalArgs, 'max-value-bytes'>): Pick<StoreOptions, 'maxValueBytes'> {
  const bytes = args['max-value-bytes']
  return bytes === undefined ? {} : { maxValueBytes: bytes }
}
