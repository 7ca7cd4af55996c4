/**
 * The writers of the PostgreSQL tests, run in a child process (test/fixtures/pg-writer.ts)
 * or in the test's own process: each writer, in a closed loop, reads a key's head and
 * commits on it with the head as parent, so concurrent writers make stale writes that the
 * key's strategy settles. Every acknowledged revision and every failure is reported the
 * moment it happens.
 */
import type { JsonValue, Revision, Store } from '../../src/index.js'

/** Which writers to run and on what. */
export interface WriterLoopOptions {
  /** Names the writers: `${name}w${i}`. */
  name: string
  strategy: 'reject' | 'lww' | 'merge'
  writers: number
  /** Writes per writer; 0 writes until stopped() says so. */
  ops: number
  keys: string[]
  stopped: () => boolean
}

/** What a writer reports: an acknowledged write (`id` as commit() returned it, `n` the writer's count), or a failed one. */
export type WriterEvent =
  | { type: 'ack', writer: string, key: string, id: string, n: number }
  | { type: 'error', writer: string, error: unknown }

/** What the writers did in all: each writer's last acknowledged count per key, and how many stale writes were redone. */
export interface WriterTotals {
  last: Record<string, Record<string, number>>
  retries: number
}

/** After a failed write (the server is down), a writer pauses this long before the next one instead of spinning. */
const BACKOFF_MS = 20

/**
 * Runs the writers to the end. Under `merge` each writer writes its own member (`{ [writer]: n }`
 * on top of the head's value), so every merge is clean and its last value must survive;
 * otherwise it writes `{ writer, n }`. Under `reject` a refused stale write is redone on
 * the head read again, as an application would.
 */
export async function runWriters (store: Store, options: WriterLoopOptions, report: (event: WriterEvent) => void): Promise<WriterTotals> {
  const totals: WriterTotals = { last: {}, retries: 0 }
  const valueFor = (writer: string, n: number, head: Revision | undefined): JsonValue => {
    if (options.strategy !== 'merge') return { writer, n }
    const value = head?.deleted !== true ? head?.value : undefined
    return { ...(typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}), [writer]: n }
  }
  const write = async (writer: string, n: number, key: string): Promise<void> => {
    for (;;) {
      const head = await store.head(key)
      try {
        const rev = await store.commit(key, valueFor(writer, n, head), { parent: head?.id ?? null, strategy: options.strategy })
        ;(totals.last[writer] ??= {})[key] = n
        report({ type: 'ack', writer, key, id: rev.id, n })
        return
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'REVKV_CONFLICT' || options.strategy !== 'reject') throw err
        totals.retries++
      }
    }
  }
  await Promise.all(Array.from({ length: options.writers }, async (_, w) => {
    const writer = `${options.name}w${w}`
    for (let n = 1; options.ops === 0 ? !options.stopped() : n <= options.ops; n++) {
      try {
        await write(writer, n, options.keys[(w + n * 3) % options.keys.length] as string)
      } catch (error) {
        report({ type: 'error', writer, error })
        await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS))
      }
    }
  }))
  return totals
}
