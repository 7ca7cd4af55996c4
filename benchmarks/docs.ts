/**
 * `npm run docs:bench` (also the last step of `npm run bench` and its siblings): rewrite the
 * README's benchmark tables from benchmarks/results/*.json.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { readmeTables, readResults } from './readme-tables.js'

// Compiled to dist/benchmarks/docs.js; the README and results live beside the sources.
const README = fileURLToPath(new URL('../../README.md', import.meta.url))
const RESULTS = fileURLToPath(new URL('../../benchmarks/results/', import.meta.url))

try {
  const before = readFileSync(README, 'utf8')
  const after = readmeTables(before, readResults(RESULTS))
  if (after === before) {
    process.stderr.write('README.md: benchmark tables already match benchmarks/results.\n')
  } else {
    writeFileSync(README, after)
    process.stderr.write('README.md: benchmark tables rewritten from benchmarks/results.\n')
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
}
