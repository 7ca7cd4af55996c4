/**
 * One load-generating process of the server benchmark: `connections` closed loops, each on
 * its own keep-alive connection, for a bounded time and count, against 127.0.0.1 only.
 * Prints one JSON line with status counts, an encoded latency histogram and the revision
 * ids the server acknowledged, for the parent to add up and verify.
 */
import { Agent, request } from 'node:http'
import hdr from 'hdr-histogram-js'

/** What the parent asks one client process to do. */
export interface ClientConfig {
  url: string
  /** distinct: a key per connection, If-Match chains. hot: one key, ?parent= and a strategy. constant: the bare baseline route. */
  mode: 'distinct' | 'hot' | 'constant'
  strategy?: string
  connections: number
  durationMs: number
  maxRequests: number
  /** Distinguishes this process's keys and members from the others'. */
  id: number
}

/** What a client process reports. */
export interface ClientReport {
  /** Status counts of writes (PUT / PATCH). */
  writes: Record<string, number>
  /** Status counts of reads (the head re-read after a 409). */
  reads: Record<string, number>
  /** Base64 HDR histogram of write latencies in microseconds. */
  histogram: string
  /** Acknowledged revisions: [key, revision id] for every 200/201. */
  acked: Array<[string, string]>
  /** Per hot-key member: the last value this process had acknowledged. */
  members: Record<string, number>
  elapsedMs: number
}

interface Answer { status: number, etag: string | undefined }

function send (agent: Agent, base: URL, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: base.hostname, port: base.port, method, path, headers }, (res) => {
      res.resume()
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, etag: res.headers.etag?.replace(/"/g, '') }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function main (config: ClientConfig): Promise<ClientReport> {
  // Loopback only: the benchmark must never send traffic off this machine.
  const base = new URL(config.url)
  if (base.hostname !== '127.0.0.1' && base.hostname !== 'localhost') throw new Error(`refusing to load ${base.hostname}: loopback only`)
  const agent = new Agent({ keepAlive: true, maxSockets: config.connections })
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  const writes: Record<string, number> = {}
  const reads: Record<string, number> = {}
  const acked: Array<[string, string]> = []
  const members: Record<string, number> = {}
  const started = Date.now()
  const deadline = started + config.durationMs
  let sent = 0
  const count = (table: Record<string, number>, status: number): void => { table[status] = (table[status] ?? 0) + 1 }

  await Promise.all(Array.from({ length: config.connections }, async (_, c) => {
    const member = `m${config.id}-${c}`
    const key = config.mode === 'hot' ? 'hot' : `d${config.id}-${c}`
    const path = `/v1/keys/${encodeURIComponent(key)}`
    let etag: string | undefined
    let n = 0
    while (Date.now() < deadline && sent < config.maxRequests) {
      sent++
      const t0 = process.hrtime.bigint()
      let answer: Answer
      if (config.mode === 'constant') {
        answer = await send(agent, base, 'PUT', path, { 'content-type': 'application/json', 'if-match': '"x"' }, JSON.stringify({ n }))
      } else if (config.mode === 'distinct') {
        const condition: Record<string, string> = etag === undefined ? { 'if-none-match': '*' } : { 'if-match': `"${etag}"` }
        answer = await send(agent, base, 'PUT', path, { 'content-type': 'application/json', ...condition }, JSON.stringify({ n, writer: member }))
      } else {
        // Each writer edits only its own member, as a merge patch on the parent it last saw.
        const query = `?strategy=${config.strategy ?? 'reject'}${etag === undefined ? '' : `&parent=${etag}`}`
        answer = await send(agent, base, 'PATCH', path + query, { 'content-type': 'application/merge-patch+json' }, JSON.stringify({ [member]: n + 1 }))
      }
      histogram.recordValue(Math.max(1, Number(process.hrtime.bigint() - t0) / 1000))
      count(writes, answer.status)
      if (answer.status === 200 || answer.status === 201) {
        n++
        if (config.mode !== 'constant' && answer.etag !== undefined) {
          acked.push([key, answer.etag])
          if (config.mode === 'hot') members[member] = n
        }
        etag = answer.etag
      } else if (config.mode === 'hot') {
        // Stale (409) or kept unmerged: read the head again and retry, as a real client would.
        const head = await send(agent, base, 'GET', `${path}/head`, {})
        count(reads, head.status)
        etag = head.etag
      } else if (config.mode === 'distinct') {
        throw new Error(`distinct key ${key}: unexpected status ${answer.status}`)
      }
    }
  }))
  agent.destroy()
  return { writes, reads, histogram: hdr.encodeIntoCompressedBase64(histogram), acked, members, elapsedMs: Date.now() - started }
}

const config = JSON.parse(process.argv[2] ?? '{}') as ClientConfig
main(config).then((report) => {
  process.stdout.write(`${JSON.stringify(report)}\n`)
}, (err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`)
  process.exitCode = 1
})
