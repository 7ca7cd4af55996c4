/**
 * `npm run test:mutation [module...]`: Stryker mutation testing of the modules where a
 * silent bug costs data. Too slow for CI on 2 cores; run it on demand.
 *
 * Why the compiled JavaScript is mutated, not the TypeScript: every test imports dist/, so
 * mutating src/*.ts would need a tsc build per mutant (seconds each, thousands of mutants).
 * Stryker instead mutates dist/src/<module>.js in its sandbox with all mutants switched in
 * at once (each activated by an environment variable), and its command runner runs only
 * the uvu files that test that module, stopping at the first failure. dist/src/x.js is
 * tsc's one-to-one output of src/x.ts without the types, so its score is the module's.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Stryker } from '@stryker-mutator/core'
import type { LogLevel, MutantResult } from '@stryker-mutator/api/core'
import { MODULES, type MutationModule } from './modules.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** `dist/src/<file>.js`, limited to the lines from `from` on where the module says so. */
function mutateSpec (m: MutationModule): string {
  const file = `dist/src/${m.file}.js`
  if (m.from === undefined) return file
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const start = lines.findIndex((line) => line.includes(m.from as string))
  if (start < 0) throw new Error(`${file}: no line contains ${JSON.stringify(m.from)}; update test/mutation/modules.ts`)
  return `${file}:${start + 1}-${lines.length}`
}

interface Score { module: string, mutants: number, killed: number, survived: MutantResult[], score: number }

async function run (m: MutationModule): Promise<Score> {
  const tests = `^(${m.tests.join('|')})\\.test\\.js$`
  const stryker = new Stryker({
    mutate: [mutateSpec(m)],
    testRunner: 'command',
    commandRunner: { command: `node node_modules/uvu/bin.js dist/test "${tests}" --bail` },
    // The command runner cannot tell which tests cover a mutant: every mutant runs the subset.
    coverageAnalysis: 'off',
    // The machine is shared: one test process at a time.
    concurrency: 1,
    reporters: ['clear-text', 'json'],
    jsonReporter: { fileName: `reports/mutation/${m.file}.json` },
    clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
    ignorePatterns: ['/src', '/cli', '/examples', '/reports'],
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
    logLevel: 'warn' as LogLevel
  })
  const results = await stryker.runMutationTest()
  // Timeouts count as killed (a mutant that hangs the tests is caught); mutants no test
  // ran or that do not compile do not count either way.
  const counted = results.filter((r) => ['Killed', 'Timeout', 'Survived', 'NoCoverage'].includes(r.status))
  const killed = counted.filter((r) => r.status === 'Killed' || r.status === 'Timeout').length
  const survived = counted.filter((r) => r.status === 'Survived' || r.status === 'NoCoverage')
  return { module: m.file, mutants: counted.length, killed, survived, score: counted.length === 0 ? 100 : 100 * killed / counted.length }
}

const wanted = process.argv.slice(2)
const unknown = wanted.filter((w) => !MODULES.some((m) => m.file === w))
if (unknown.length > 0) {
  console.error(`Unknown module(s) ${unknown.join(', ')}; choose from ${MODULES.map((m) => m.file).join(', ')}.`)
  process.exit(2)
}
const scores: Score[] = []
for (const m of MODULES.filter((m) => wanted.length === 0 || wanted.includes(m.file))) scores.push(await run(m))

console.log('\n| module | mutants | killed | score |\n| --- | ---: | ---: | ---: |')
for (const s of scores) console.log(`| \`src/${s.module}.ts\` | ${s.mutants} | ${s.killed} | ${s.score.toFixed(1)}% |`)
const low = scores.filter((s) => s.score < 85)
if (low.length > 0) {
  console.error(`Below the 85% target: ${low.map((s) => s.module).join(', ')}. Kill the survivors with tests, or name them in test/mutation/equivalent.md.`)
  process.exitCode = 1
}
