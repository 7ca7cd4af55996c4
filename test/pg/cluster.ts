import { execFile, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { appendFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)

/** A throwaway PostgreSQL server in a temporary directory, listening on 127.0.0.1 only. */
export interface Cluster {
  /** Connection URL of the test database. */
  url: string
  /** Stops the server for good and removes its directory. */
  stop: () => Promise<void>
  /** Stops and starts the server again: same data directory, same port. */
  restart: () => Promise<void>
  /** Stops the server, keeping its data (for fault tests). */
  stopServer: () => Promise<void>
  /** Starts the stopped server again. */
  startServer: () => Promise<void>
}

/** Why startCluster() returned undefined, once it did. */
export let skipReason: string | undefined

/** The directory of the newest Debian PostgreSQL binaries (/usr/lib/postgresql/N/bin), or undefined. */
export function findPostgresBin (): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).filter(v => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
  for (const version of versions) {
    const bin = join(root, version, 'bin')
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin
  }
  return undefined
}

let warned = false

/**
 * Starts a throwaway cluster (`durable`: with PostgreSQL's default durability settings), or returns undefined (setting skipReason, printing the skip
 * notice once) when PostgreSQL is not installed. With REVKV_REQUIRE_POSTGRES=1, as in
 * .ci/run, a missing PostgreSQL throws instead.
 */
export async function startCluster (options: { durable?: boolean } = {}): Promise<Cluster | undefined> {
  const bin = findPostgresBin()
  if (bin === undefined) {
    skipReason = 'no initdb and pg_ctl found under /usr/lib/postgresql/*/bin'
    if (process.env.REVKV_REQUIRE_POSTGRES === '1') throw new Error(`REVKV_REQUIRE_POSTGRES=1 but ${skipReason}. Install the Debian package \`postgresql\`.`)
    if (!warned) console.warn(`PostgreSQL tests skipped: ${skipReason}. Install the Debian package \`postgresql\` (or run \`.ci/run\`) to run them.`)
    warned = true
    return undefined
  }
  // The server refuses to run as root: as root, run initdb and pg_ctl as `postgres`, owning the directory.
  const asRoot = process.getuid?.() === 0
  const owner = asRoot ? userIds('postgres') : undefined
  const dir = mkdtempSync(join(tmpdir(), 'revkv-pg-'))
  const data = join(dir, 'data')
  const log = join(dir, 'server.log')
  if (owner !== undefined) chownSync(dir, owner.uid, owner.gid)
  const as = async (tool: string, args: string[]): Promise<void> => {
    const [file, argv] = owner === undefined ? [join(bin, tool), args] : ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
    try {
      await run(file, argv, { cwd: dir })
    } catch (err) {
      const { stderr, stdout } = err as { stderr?: string, stdout?: string }
      throw new Error(`${tool} ${args.join(' ')} failed: ${stderr ?? ''}${stdout ?? ''}`, { cause: err })
    }
  }
  let stopped = false
  const removeNow = (): void => {
    // On process exit: synchronous, immediate shutdown, then the directory goes.
    if (stopped) return
    stopped = true
    const argv = [join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']
    if (owner === undefined) spawnSync(argv[0] as string, argv.slice(1), { stdio: 'ignore' })
    else spawnSync('runuser', ['-u', 'postgres', '--', ...argv], { stdio: 'ignore' })
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', removeNow)
  try {
    // --no-sync and, for tests, fsync=off: this cluster is thrown away afterwards, so
    // durability on power loss does not matter. Benchmarks ask for `durable`: the defaults.
    await as('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'])
    const port = await freePort()
    await appendFile(data + '/postgresql.conf', [
      '', "listen_addresses = '127.0.0.1'", `port = ${port}`, `unix_socket_directories = '${dir}'`,
      ...(options.durable === true ? [] : ['fsync = off', 'full_page_writes = off']), 'max_connections = 200', ''
    ].join('\n'))
    const startServer = async (): Promise<void> => await as('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', 'start'])
    const stopServer = async (): Promise<void> => await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
    await startServer()
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' })
    await admin.connect()
    await admin.query('CREATE DATABASE revkv_test')
    await admin.end()
    return {
      url: `postgres://postgres@127.0.0.1:${port}/revkv_test`,
      stopServer,
      startServer,
      restart: async () => {
        await stopServer()
        await startServer()
      },
      stop: async () => {
        process.removeListener('exit', removeNow)
        if (stopped) return
        stopped = true
        await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {})
        rmSync(dir, { recursive: true, force: true })
      }
    }
  } catch (err) {
    process.removeListener('exit', removeNow)
    removeNow()
    throw err
  }
}

function userIds (name: string): { uid: number, gid: number } {
  const out = spawnSync('id', ['-u', name], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' })
  if (out.status !== 0 || gid.status !== 0) throw new Error(`Running as root, but there is no user ${name} to run PostgreSQL as (the server refuses root).`)
  return { uid: Number(out.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')))
    })
  })
}

let shared: Promise<Cluster | undefined> | undefined

/** Names a running server that sharedCluster() uses instead of starting one (set by test/mutation/run.ts). */
export const SHARED_URL_ENV = 'REVKV_TEST_POSTGRES_URL'

/**
 * One cluster for every test file that only needs a server (uvu runs all files in one
 * process): started on first use, removed when the process exits. Tests that stop the
 * server start their own with startCluster(). With REVKV_TEST_POSTGRES_URL set, the server
 * at that URL is used and left alone: mutation testing starts one test process per mutant,
 * and a cluster for each would cost more than the tests.
 */
export async function sharedCluster (): Promise<Cluster | undefined> {
  const url = process.env[SHARED_URL_ENV]
  if (url !== undefined && url !== '') shared ??= Promise.resolve(borrowed(url))
  shared ??= startCluster()
  return await shared
}

/** A server another process owns: usable, but not this process's to stop or restart. */
function borrowed (url: string): Cluster {
  const refuse = async (): Promise<void> => { throw new Error(`The server at ${SHARED_URL_ENV} belongs to another process; start your own with startCluster().`) }
  return { url, stop: async () => {}, restart: refuse, stopServer: refuse, startServer: refuse }
}
