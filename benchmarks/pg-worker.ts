/**
 * A worker process of a multi-process PostgreSQL run (forked by pg-run.ts): opens the run's
 * store, says it is ready, drives its share of the writers when told to go, and sends back
 * what it did and every write the store acknowledged to it.
 */
import { openSide } from './pg-run.js'
import type { WorkerMessage } from './pg-run.js'
import { Ledger } from './verify.js'
import { driveWriters } from './writers.js'

/** Send a message and resolve once it is handed to the channel: disconnecting before that would drop it. */
const send = async (message: WorkerMessage): Promise<void> => {
  await new Promise<void>((resolve) => { process.send?.(message, undefined, {}, () => { resolve() }) ?? resolve() })
}

process.once('message', (start: WorkerMessage) => {
  if (start.kind !== 'start') return
  const work = async (): Promise<void> => {
    const ledger = new Ledger()
    const side = await openSide(start.spec, start.schema, start.ctx, ledger, false)
    try {
      const go = new Promise<void>((resolve) => process.once('message', () => { resolve() }))
      await send({ kind: 'ready' })
      await go
      // Global writer numbers, so keys and hot-object members stay distinct across processes.
      const attempt = side.workload.attempt
      const drive = await driveWriters({ writers: start.writers, durationMs: start.ctx.durationMs, ops: start.ctx.ops === undefined ? undefined : start.ctx.ops / start.spec.processes, attempt: async (w, retrying) => await attempt(w + start.first, retrying), isConflict: side.isConflict })
      await send({ kind: 'report', report: { drive, ledger: ledger.toData() } })
    } finally {
      await side.close()
    }
  }
  work().catch(async (err: unknown) => { await send({ kind: 'failed', message: err instanceof Error ? err.message : String(err) }) }).finally(() => { process.disconnect?.() })
})
