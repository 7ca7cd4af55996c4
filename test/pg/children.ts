/**
 * Drives writer processes (test/fixtures/pg-writer.ts) for the PostgreSQL tests: spawns
 * them, collects what they report, and waits on conditions of it. Every wait is on an
 * event (a line a child printed), with a generous liveness bound that turns a hang into a
 * failure naming what was awaited; nothing is judged by time.
 */
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { WriterConfig, WriterMessage } from '../fixtures/pg-writer.js'

/** The default child: the single-key writers of writer-loop.ts. */
export const WRITER = fileURLToPath(new URL('../fixtures/pg-writer.js', import.meta.url))

/** How long any awaited condition may take before the test gives up on it: a hang guard, not a measurement. */
export const LIVENESS_MS = 120_000

type Ack = Extract<WriterMessage, { type: 'ack' }>
type Failure = Extract<WriterMessage, { type: 'error' }>
type Done = Extract<WriterMessage, { type: 'done' }>

/**
 * What a child prints, one JSON line each: `ready` once its store is open, then its own
 * acknowledgements (A) and failures, then `done` (D). Another child script speaks the same
 * protocol with its own A and D (see startWriters' `script`).
 */
type ChildMessage<A, D> = { type: 'ready' } | A | Failure | D

/**
 * Something that changes as events arrive; until() waits for a condition of it, re-checked
 * after each event.
 */
export class Progress {
  readonly #waiters = new Set<() => void>()

  /** Something happened: re-check every awaited condition. */
  changed (): void {
    for (const check of [...this.#waiters]) check()
  }

  /** Resolves once `condition` holds; fails, naming `what`, if it has not after LIVENESS_MS. */
  async until (condition: () => boolean, what: string): Promise<void> {
    if (condition()) return
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return
        this.#waiters.delete(check)
        clearTimeout(guard)
        resolve()
      }
      const guard = setTimeout(() => {
        this.#waiters.delete(check)
        reject(new Error(`Gave up after ${LIVENESS_MS} ms waiting for ${what}.`))
      }, LIVENESS_MS)
      this.#waiters.add(check)
    })
  }
}

/** One writer process and everything it reported so far. */
export class WriterProcess<A extends { type: 'ack' } = Ack, D extends { type: 'done' } = Done> {
  readonly acks: A[] = []
  readonly errors: Failure[] = []
  done: D | undefined
  exitCode: number | null | undefined
  readonly #child: ChildProcessWithoutNullStreams
  readonly #progress: Progress
  #ready = false
  #stderr = ''

  /** Spawns the child running `script` (its config as JSON in argv[2]); `progress` hears of every line it prints (shared by several children and in-process writers). */
  constructor (config: object, progress: Progress, script = WRITER) {
    this.#progress = progress
    this.#child = spawn(process.execPath, [script, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.#child.stderr.setEncoding('utf8').on('data', (chunk: string) => { this.#stderr += chunk })
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as ChildMessage<A, D>
      if (message.type === 'ready') this.#ready = true
      else if (message.type === 'ack') this.acks.push(message as A)
      else if (message.type === 'error') this.errors.push(message as Failure)
      else this.done = message as D
      progress.changed()
    })
    this.#child.on('exit', (code) => {
      this.exitCode = code
      progress.changed()
    })
  }

  /** Resolves once the child has opened its store (or fails if it exited first). */
  async ready (): Promise<void> {
    await this.#progress.until(() => this.#ready || this.exitCode !== undefined, 'a writer process to open its store')
    if (!this.#ready) throw new Error(`The writer process exited (code ${String(this.exitCode)}) before opening its store: ${this.#stderr}`)
  }

  /** Tell the child to start writing. */
  go (): void {
    this.#child.stdin.write('go\n')
  }

  /** Tell the child to stop after its writers' current writes (for ops: 0). */
  stop (): void {
    this.#child.stdin.write('stop\n')
  }

  /** Resolves with the child's final report once it has exited cleanly. */
  async finished (): Promise<D> {
    await this.#progress.until(() => this.exitCode !== undefined, 'a writer process to finish')
    if (this.exitCode !== 0 || this.done === undefined) throw new Error(`The writer process exited with code ${String(this.exitCode)}: ${this.#stderr}`)
    return this.done
  }

  /** Kill the child if it is still running (after a failed test). */
  kill (): void {
    if (this.exitCode === undefined) this.#child.kill('SIGKILL')
  }
}

/**
 * Spawns `count` writer processes with `config` (named p0, p1, ...), waits until all are
 * ready, then starts them together. `script` is another child speaking the same protocol.
 */
export async function startWriters (count: number, config: Omit<WriterConfig, 'name'>, progress: Progress): Promise<WriterProcess[]>
export async function startWriters<A extends { type: 'ack' }, D extends { type: 'done' }> (count: number, config: object, progress: Progress, script: string): Promise<Array<WriterProcess<A, D>>>
export async function startWriters<A extends { type: 'ack' }, D extends { type: 'done' }> (count: number, config: object, progress: Progress, script = WRITER): Promise<Array<WriterProcess<A, D>>> {
  const children = Array.from({ length: count }, (_, i) => new WriterProcess<A, D>({ ...config, name: `p${i}` }, progress, script))
  try {
    await Promise.all(children.map(async (child) => { await child.ready() }))
  } catch (err) {
    for (const child of children) child.kill()
    throw err
  }
  for (const child of children) child.go()
  return children
}
