/** Small helpers shared by the tests. */
import { spawn } from 'node:child_process'
import { MemoryLevel } from 'memory-level'
import * as assert from 'uvu/assert'
import type { Change } from '../src/index.js'

/** The rejection of a promise, failing the test if it resolves. */
export async function rejection (promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new assert.Assertion({ message: 'expected the operation to fail, but it succeeded', operator: 'rejects', expects: 'a rejection', actual: 'success' })
}

/** Everything an async iterable yields. */
export async function all<T> (items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

/** Options one batch write received, and how it was made (a chained batch or an array of ops). */
export interface RecordedWrite {
  kind: 'chained' | 'array'
  options: Record<string, unknown>
}

/** A batch write held back by holdNext(): `reached` resolves once the write has been asked for; release() lets it go on. */
export interface HeldWrite {
  reached: Promise<void>
  release: () => void
}

/** A real memory-level database whose batch writes are recorded, and can be made to fail or be held until released. */
export interface InstrumentedDb {
  db: MemoryLevel<string, string>
  /** Every batch write so far, in the order they were asked for. */
  writes: RecordedWrite[]
  /** Fail the next `n` batch writes with "simulated disk failure". */
  failNext: (n?: number) => void
  /** Hold the next batch write (after any already held) until the test releases it. */
  holdNext: () => HeldWrite
}

/**
 * Wrap a MemoryLevel's batch(): revkv writes through chained batches (the group-commit
 * path, compact, import) and the array form is wrapped too, so no write goes unseen.
 * The database stays real: a held write is the real write, started late.
 */
export function instrumentedDb (db = new MemoryLevel<string, string>()): InstrumentedDb {
  type Chain = { write: (options?: Record<string, unknown>) => Promise<void>, close: () => Promise<void> }
  const original = db.batch.bind(db) as unknown as (...args: unknown[]) => Chain | Promise<void>
  const writes: RecordedWrite[] = []
  const holds: Array<{ reached: () => void, released: Promise<void> }> = []
  let failures = 0
  /** Record the write, then fail it, hold it, or let it through. */
  const gate = async (kind: RecordedWrite['kind'], options: Record<string, unknown> | undefined): Promise<boolean> => {
    writes.push({ kind, options: { ...options } })
    // Decided when the write is asked for, so a held write can be one that will fail.
    const fail = failures > 0
    if (fail) failures--
    const hold = holds.shift()
    if (hold !== undefined) {
      hold.reached()
      await hold.released
    }
    return !fail
  }
  Object.assign(db, {
    batch: (...args: unknown[]) => {
      if (args.length > 0) {
        return (async () => {
          if (!await gate('array', args[1] as Record<string, unknown> | undefined)) throw new Error('simulated disk failure')
          await original(...args)
        })()
      }
      const chain = original() as Chain
      const write = chain.write.bind(chain)
      chain.write = async (options?: Record<string, unknown>): Promise<void> => {
        if (!await gate('chained', options)) {
          await chain.close()
          throw new Error('simulated disk failure')
        }
        await write(options)
      }
      return chain
    }
  })
  return {
    db,
    writes,
    failNext: (n = 1) => { failures = n },
    holdNext: () => {
      let reached = (): void => {}
      let release = (): void => {}
      const reachedPromise = new Promise<void>((resolve) => { reached = resolve })
      const released = new Promise<void>((resolve) => { release = resolve })
      holds.push({ reached, released })
      return { reached: reachedPromise, release }
    }
  }
}

/** Resolve after the current turn of the event loop and everything it queued (setImmediate, not a timer). */
export async function nextTurn (): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
}

/** A clock the test moves by hand (StoreOptions.clock), so time-dependent behaviour is tested without sleeping. */
export function fakeClock (start = Date.UTC(2026, 0, 1)): { now: () => number, advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => { time += ms } }
}

/** A changes read never shows part of a batch: every batch it shows a change of, it shows whole. */
export function assertWholeBatches (changes: Change[], when: string): void {
  const bySeq = new Map(changes.map((c) => [c.seq, c]))
  for (const change of changes) {
    if (change.tx === undefined) continue
    const size = change.txSize as number
    assert.ok(change.seq >= change.tx && change.seq < change.tx + size, `${when}: change ${change.seq} lies within its batch ${change.tx} (size ${size})`)
    for (let seq = change.tx; seq < change.tx + size; seq++) {
      const other = bySeq.get(seq)
      assert.ok(other !== undefined, `${when}: the changes feed shows change ${change.seq} of batch ${change.tx} but not its change ${seq} (size ${size})`)
      assert.is(other.tx, change.tx, `${when}: change ${seq} belongs to batch ${change.tx}`)
      assert.is(other.txSize, size)
    }
  }
}

/** How a child run by runChild() ended; `silent`: it was killed for writing nothing for too long. */
export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
  silent: boolean
}

/**
 * Run `script` in a child node process (stderr shown), calling `onLine` with each line it
 * writes to stdout and a kill() that SIGKILLs it, until it exits. A child that writes
 * nothing for `silenceMs` is killed and reported `silent` (a guard against a hung child, not
 * a measurement).
 */
export async function runChild (script: string, args: string[], onLine: (line: string, kill: () => void) => void, silenceMs: number): Promise<ChildExit> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const kill = (): void => { child.kill('SIGKILL') }
  let partial = ''
  let silent = false
  const guard = setTimeout(() => { silent = true; kill() }, silenceMs)
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) onLine(line, kill)
    guard.refresh()
  })
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => { resolve([c, s]) }))
  clearTimeout(guard)
  return { code, signal, silent }
}
