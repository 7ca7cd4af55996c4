/** The modules `npm run test:mutation` mutates, and the uvu files that test each. */
export interface MutationModule {
  /** The module's name: src/<file>.ts, mutated as dist/src/<file>.js. */
  file: string
  /** Test files (names without .test.js) whose failure kills a mutant of this module. */
  tests: string[]
  /** Mutate only from the first compiled line containing this text to the end of the file. */
  from?: string
}

/** Where a silent bug costs data; each with the fast subset of tests that covers it. */
export const MODULES: MutationModule[] = [
  { file: 'json-merge', tests: ['json-merge', 'merge-laws', 'json-merge-mutants'] },
  { file: 'revision', tests: ['revision', 'revision-mutants'] },
  { file: 'history', tests: ['history-mutants'] },
  { file: 'changes', tests: ['changes-mutants', 'changes-postgres-mutants'] },
  // The decision part: from loading a write's parent to the end (decide, resolve stale
  // writes, merge, check a strategy's answer), not the queueing above it.
  { file: 'write-path', tests: ['write-path-mutants', 'write-path-mutants-2', 'batch-write-path', 'transaction'], from: 'async #revisionOfKey(' },
  { file: 'verify', tests: ['verify', 'verify-mutants'] },
  { file: 'dump', tests: ['dump', 'dump-mutants'] }
]
