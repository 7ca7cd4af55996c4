/**
 * `npm run bench:postgres`: the PostgreSQL suite (pg-suite.ts) against a throwaway cluster
 * with PostgreSQL's default durability settings (fsync on, synchronous commit), started here
 * so a fresh clone needs only the Debian `postgresql` package; or against the server at
 * --url. Writes benchmarks/results/postgres.json and postgres.md; exits non-zero if anything
 * was lost.
 */
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startCluster, skipReason } from '../test/pg/cluster.js'
import { runPostgresBench } from './pg-suite.js'

const results = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'benchmarks', 'results')
const { values } = parseArgs({ options: { url: { type: 'string' }, duration: { type: 'string', default: '3' }, rounds: { type: 'string', default: '2' } } })

try {
  const cluster = values.url === undefined ? await startCluster({ durable: true }) : undefined
  const url = values.url ?? cluster?.url
  if (url === undefined) throw new Error(`No PostgreSQL to benchmark: ${skipReason ?? 'none found'}. Install the Debian package postgresql, or give --url postgres://...`)
  try {
    mkdirSync(results, { recursive: true })
    await runPostgresBench({ url, durationMs: Number(values.duration) * 1000, rounds: Number(values.rounds), json: join(results, 'postgres.json'), markdown: join(results, 'postgres.md') })
  } finally {
    await cluster?.stop()
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
}
