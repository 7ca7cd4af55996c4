/**
 * Long answers as NDJSON streams: a dump, and the progress of a whole-store operation
 * (verify, compact) followed by its result. Streaming keeps the server's memory flat, lets
 * a slow client pause the producer (backpressure), and keeps proxies and clients from
 * timing out an operation that takes minutes.
 */
import { Readable } from 'node:stream'
import { logServerError, problemOf } from './problem.js'

/** The media type of every NDJSON body the server sends or takes. */
export const NDJSON = 'application/x-ndjson'

/** How often a running operation says it is alive when it has no news (ms). */
export const HEARTBEAT_MS = 10_000

/** Bytes gathered into one write: many lines per write, but never a large buffer. */
const CHUNK_BYTES = 64 * 1024

/**
 * A stream of `lines`, each followed by a newline, written in chunks of about `chunkBytes`
 * (0: each line as soon as it comes, for progress). Nothing is sent before the first chunk,
 * so a failure before it still gets its own status and problem.
 */
export function ndjsonStream (lines: AsyncIterable<string>, chunkBytes = CHUNK_BYTES): Readable {
  return Readable.from(chunks(lines, chunkBytes), { objectMode: false })
}

async function * chunks (lines: AsyncIterable<string>, chunkBytes: number): AsyncGenerator<string> {
  let chunk = ''
  for await (const line of lines) {
    chunk += `${line}\n`
    if (chunk.length >= chunkBytes) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk !== '') yield chunk
}

/**
 * The lines of a running operation: `{"progress":n}` whenever it reports progress (and every
 * `heartbeatMs` without news), then `{"result":…}`, or `{"error":<problem>}` if it failed
 * after the answer had begun (a failure before the first line is thrown, so it keeps its
 * status). The operation runs to its end even if the client goes away.
 */
export async function * operationLines (run: (progress: (done: number) => void) => Promise<unknown>, heartbeatMs = HEARTBEAT_MS): AsyncGenerator<string> {
  let done = 0
  let started = false
  let wake: (() => void) | undefined
  let outcome: { result: unknown } | { error: unknown } | undefined
  const task = run((n) => {
    done = n
    wake?.()
  }).then((result) => { outcome = { result } }, (error: unknown) => { outcome = { error } })
  void task.finally(() => wake?.())
  while (outcome === undefined) {
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      wake = resolve
      timer = setTimeout(resolve, heartbeatMs)
    })
    clearTimeout(timer)
    wake = undefined
    if (outcome === undefined) {
      started = true
      yield JSON.stringify({ progress: done })
    }
  }
  const settled = outcome as { result: unknown } | { error: unknown }
  if ('error' in settled && !started) throw settled.error
  if ('error' in settled) {
    const p = problemOf(settled.error)
    logServerError(settled.error, p)
    yield JSON.stringify({ error: p })
  } else {
    yield JSON.stringify({ result: settled.result })
  }
}
