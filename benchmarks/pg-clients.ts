/**
 * `node dist/benchmarks/pg-clients.js [--rows N] [--url postgres://...]`: the PostgreSQL
 * engine's batch statement sent by `pg` (node-postgres, unnamed and named prepared
 * statements) and by `postgres` (porsager), in the same run, against a throwaway cluster
 * with PostgreSQL's default settings (or the server at --url). Two workloads, each with 64
 * concurrent writers and a pool of 10 connections per client:
 *   batched  every statement creates 100 keys (revision, head, change each), as group commit sends them
 *   single   every statement creates one key (a tenth of the rows: each is a commit of its own)
 * Rounds alternate between clients so drift on a shared machine hits each alike; the
 * median round counts. Prints rows per second and each client's ratio to `pg`.
 */
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import pg from 'pg'
import { openPostgres } from '../src/engines/postgres/index.js'
import { writeParams, writeStatement } from '../src/engines/postgres/batch.js'
import { quoteIdent } from '../src/engines/postgres/connection.js'
import { fakeRevision, move } from '../test/engine-suite.js'
import { startCluster } from '../test/pg/cluster.js'
import { machineInfo } from './machine.js'
import { median } from './stats.js'

/** One way of sending a statement with parameters. */
interface Client {
  name: string
  send: (sql: string, params: unknown[]) => Promise<void>
  end: () => Promise<void>
}

const WRITERS = 64
const POOL = 10
const SCHEMA = 'bench'

const { values } = parseArgs({ options: { rows: { type: 'string', default: '6400' }, rounds: { type: 'string', default: '3' }, url: { type: 'string' } } })
const rows = Number(values.rows)
const rounds = Number(values.rounds)
const cluster = values.url === undefined ? await startCluster({ durable: true }) : undefined
const url = values.url ?? cluster?.url
if (url === undefined) throw new Error('No PostgreSQL: install the Debian package postgresql, or give --url.')

try {
  await (await openPostgres({ postgres: url, schema: SCHEMA })).close()
  const sql = writeStatement(quoteIdent(SCHEMA), false)
  const clients = (): Client[] => {
    const pool = new pg.Pool({ connectionString: url, max: POOL })
    const named = new pg.Pool({ connectionString: url, max: POOL })
    const porsager = postgres(url, { max: POOL, onnotice: () => {} })
    return [
      { name: 'pg', send: async (text, params) => { await pool.query(text, params) }, end: async () => await pool.end() },
      { name: 'pg (named statement)', send: async (text, params) => { await named.query({ name: 'revkv_write', text, values: params }) }, end: async () => await named.end() },
      { name: 'postgres', send: async (text, params) => { await porsager.unsafe(text, params as never[], { prepare: true }) }, end: async () => await porsager.end() }
    ]
  }
  const all = clients()
  let unique = 0
  /** Rows per second for `rows` (single: a tenth) new keys in statements of `perStatement` rows, sent by 64 writers. */
  const measure = async (client: Client, perStatement: number): Promise<number> => {
    const statements = Math.ceil((perStatement === 1 ? rows / 10 : rows) / perStatement)
    let next = 0
    const run = ++unique
    const started = process.hrtime.bigint()
    await Promise.all(Array.from({ length: WRITERS }, async () => {
      while (next < statements) {
        const n = next++
        const contents = { revisions: new Map(), dropped: new Map(), moves: new Map(), changes: [] as Array<[string, string, number]> }
        for (let i = 0; i < perStatement; i++) {
          const key = `r${run}-s${n}-${i}`
          const r = fakeRevision(key)
          contents.revisions.set(r.id, { key, record: r.record })
          contents.moves.set(key, move(key, null, r.id))
          contents.changes.push([key, r.id, 0])
        }
        await client.send(sql, writeParams(contents, Date.now()))
      }
    }))
    return statements * perStatement / (Number(process.hrtime.bigint() - started) / 1e9)
  }
  const results: Record<string, Record<string, number>> = {}
  for (const [workload, perStatement] of [['batched', 100], ['single', 1]] as const) {
    const perClient = new Map<string, number[]>(all.map(c => [c.name, []]))
    // A warm-up round per client opens its connections and prepares the statement.
    for (const client of all) await measure(client, perStatement)
    for (let round = 0; round < rounds; round++) {
      for (const client of all) perClient.get(client.name)?.push(await measure(client, perStatement))
    }
    results[workload] = Object.fromEntries([...perClient].map(([name, rates]) => [name, median(rates)]))
  }
  for (const client of all) await client.end()
  console.log(`${machineInfo().cpu}, ${machineInfo().cores} cores, Node ${process.version}; ${rows} rows per batched round, ${rows / 10} per single round, median of ${rounds} rounds`)
  console.log('workload  client                 rows/s   ratio to pg')
  for (const [workload, byClient] of Object.entries(results)) {
    const basis = byClient.pg ?? NaN
    for (const [name, rate] of Object.entries(byClient)) {
      console.log(`${workload.padEnd(9)} ${name.padEnd(22)} ${Math.round(rate).toString().padStart(7)}   ${(rate / basis).toFixed(2)}`)
    }
  }
} finally {
  await cluster?.stop()
}
