/**
 * `npm run bench`: the standard suite. Writes benchmarks/results/latest.json, latest.md
 * (the table) and latest.svg (the chart); exits non-zero if anything was lost.
 */
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runBench } from './run.js'

// Compiled to dist/benchmarks/main.js; results live beside the sources in benchmarks/results.
const results = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'benchmarks', 'results')
mkdirSync(results, { recursive: true })

try {
  await runBench({
    workload: 'standard',
    json: join(results, 'latest.json'),
    markdown: join(results, 'latest.md'),
    chart: join(results, 'latest.svg')
  })
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
}
