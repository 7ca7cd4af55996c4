/**
 * `npm run test:mutation [-- [--survivors] module...]`: Stryker mutation testing of the
 * modules where a silent bug costs data. Too slow for CI on 2 cores; run it on demand.
 *
 * Why the compiled JavaScript is mutated, not the TypeScript: every test imports dist/, so
 * mutating src/*.ts would need a tsc build per mutant (seconds each, thousands of mutants).
 * Stryker instead mutates dist/src/<module>.js in its sandbox with all mutants switched in
 * at once (each activated by an environment variable), and its command runner runs only
 * the uvu files that test that module, stopping at the first failure. dist/src/x.js is
 * tsc's one-to-one output of src/x.ts without the types, so its score is the module's.
 *
 * `--survivors` reruns only the mutants that survived the last full run of each module
 * (from reports/mutation/<module>.json) and updates that report: after adding tests, this
 * checks them in minutes instead of the hour a full run takes. It is sound only while the
 * module's source is unchanged since that run (added tests cannot revive a killed mutant).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Stryker } from '@stryker-mutator/core'
import type { LogLevel } from '@stryker-mutator/api/core'
import { SHARED_URL_ENV, startCluster } from '../pg/cluster.js'
import { MODULES, type MutationModule } from './modules.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** A mutant as Stryker's JSON report records it (lines and columns 1-based). */
interface ReportedMutant {
  id: string
  mutatorName: string
  replacement?: string
  status: string
  location: { start: { line: number, column: number }, end: { line: number, column: number } }
}

interface Report { files: Record<string, { mutants: ReportedMutant[] }> }

const reportPath = (name: string): string => join(root, 'reports', 'mutation', `${name}.json`)

function readReport (name: string): ReportedMutant[] {
  const report = JSON.parse(readFileSync(reportPath(name), 'utf8')) as Report
  return Object.values(report.files).flatMap((f) => f.mutants)
}

/** Killed, or hung the tests (a timeout is caught too). Mutants that did not compile or run count neither way. */
const isKilled = (m: ReportedMutant): boolean => m.status === 'Killed' || m.status === 'Timeout'
const isSurvivor = (m: ReportedMutant): boolean => m.status === 'Survived' || m.status === 'NoCoverage'

/** The same mutant across runs: what it replaces where, by which mutator. */
const identity = (m: ReportedMutant): string =>
  `${m.mutatorName}|${m.replacement ?? ''}|${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column}`

/** `dist/src/<file>.js`, limited to the lines from `from` on where the module says so. */
function wholeModule (m: MutationModule): string[] {
  const file = `dist/src/${m.file}.js`
  if (m.from === undefined) return [file]
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const start = lines.findIndex((line) => line.includes(m.from as string))
  if (start < 0) throw new Error(`${file}: no line contains ${JSON.stringify(m.from)}; update test/mutation/modules.ts`)
  return [`${file}:${start + 1}-${lines.length}`]
}

/** One range per survivor (Stryker's ranges take 1-based lines and 0-based columns). */
function survivorRanges (m: MutationModule, survivors: ReportedMutant[]): string[] {
  return survivors.map(({ location: { start, end } }) => `dist/src/${m.file}.js:${start.line}:${start.column - 1}-${end.line}:${end.column - 1}`)
}

async function stryker (m: MutationModule, mutate: string[], reportName: string): Promise<ReportedMutant[]> {
  const tests = `^(${m.tests.join('|')})\\.test\\.js$`
  await new Stryker({
    mutate,
    testRunner: 'command',
    commandRunner: { command: `node node_modules/uvu/bin.js dist/test "${tests}" --bail` },
    // The command runner cannot tell which tests cover a mutant: every mutant runs the subset.
    coverageAnalysis: 'off',
    // The machine is shared: one test process at a time.
    concurrency: 1,
    reporters: ['clear-text', 'json'],
    jsonReporter: { fileName: `reports/mutation/${reportName}.json` },
    clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
    ignorePatterns: ['/src', '/cli', '/examples', '/reports', '/.stryker-tmp'],
    // One sandbox folder per run, so cleaning up after one run never touches another's.
    tempDirName: `.stryker-tmp/${reportName}`,
    cleanTempDir: true,
    logLevel: 'warn' as LogLevel
  }).runMutationTest()
  return readReport(reportName)
}

interface Score { module: string, mutants: number, killed: number, score: number }

async function run (m: MutationModule, survivorsOnly: boolean): Promise<Score> {
  let mutants: ReportedMutant[]
  if (survivorsOnly) {
    if (!existsSync(reportPath(m.file))) throw new Error(`No earlier run of ${m.file} to take survivors from: run \`npm run test:mutation -- ${m.file}\` first.`)
    const earlier = readReport(m.file)
    const survivors = earlier.filter(isSurvivor)
    const again = survivors.length === 0 ? [] : await stryker(m, survivorRanges(m, survivors), `${m.file}.survivors`)
    const now = new Map(again.map((x) => [identity(x), x]))
    mutants = earlier.map((x) => isSurvivor(x) ? now.get(identity(x)) ?? x : x)
    const report = JSON.parse(readFileSync(reportPath(m.file), 'utf8')) as Report
    for (const file of Object.values(report.files)) file.mutants = file.mutants.map((x) => isSurvivor(x) ? now.get(identity(x)) ?? x : x)
    writeFileSync(reportPath(m.file), JSON.stringify(report))
  } else {
    mutants = await stryker(m, wholeModule(m), m.file)
  }
  const counted = mutants.filter((x) => isKilled(x) || isSurvivor(x))
  const killed = counted.filter(isKilled).length
  for (const x of counted.filter(isSurvivor)) {
    console.log(`survived: src/${m.file} (dist line ${x.location.start.line}:${x.location.start.column}) ${x.mutatorName} -> ${JSON.stringify(x.replacement ?? '')}`)
  }
  return { module: m.file, mutants: counted.length, killed, score: counted.length === 0 ? 100 : 100 * killed / counted.length }
}

const args = process.argv.slice(2)
const survivorsOnly = args.includes('--survivors')
const wanted = args.filter((a) => a !== '--survivors')
const unknown = wanted.filter((w) => !MODULES.some((m) => m.file === w))
if (unknown.length > 0) {
  console.error(`Unknown module(s) ${unknown.join(', ')}; choose from ${MODULES.map((m) => m.file).join(', ')}.`)
  process.exit(2)
}
// One PostgreSQL server for the whole run, shared by every mutant's test process (each
// test uses schemas of its own), instead of a cluster started per mutant.
const cluster = await startCluster()
if (cluster !== undefined) process.env[SHARED_URL_ENV] = cluster.url
const scores: Score[] = []
try {
  for (const m of MODULES.filter((m) => wanted.length === 0 || wanted.includes(m.file))) scores.push(await run(m, survivorsOnly))
} finally {
  await cluster?.stop()
}

console.log('\n| module | mutants | killed | score |\n| --- | ---: | ---: | ---: |')
for (const s of scores) console.log(`| \`src/${s.module}.ts\` | ${s.mutants} | ${s.killed} | ${s.score.toFixed(1)}% |`)
const low = scores.filter((s) => s.score < 85)
if (low.length > 0) {
  console.error(`Below the 85% target: ${low.map((s) => s.module).join(', ')}. Kill the survivors with tests, or name them in test/mutation/equivalent.md.`)
  process.exitCode = 1
}
