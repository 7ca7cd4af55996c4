import { InvalidInputError, RemoteError } from '../errors.js'
import type { HeadLine, ReceiveOptions, SyncEndpoint, SyncInfo, SyncReport, Want } from './types.js'

/** How a RemoteStore reaches its server, as sync needs it. */
export interface SyncTransport {
  /** A request with an optional JSON body; its JSON answer. */
  request: (method: string, path: string, body?: string) => Promise<unknown>
  /** The lines of a streamed (NDJSON) answer to a request with an optional JSON body. */
  lines: (method: string, path: string, body?: string) => AsyncIterable<string>
  /** POST lines as a streamed NDJSON body; the JSON answer. */
  upload: (path: string, lines: AsyncIterable<string>) => Promise<unknown>
  /** The server's URL, for messages. */
  base: string
}

/**
 * The sync endpoint of a served store, over the /v1/sync routes (src/server/routes.ts).
 * Streams end with an end line, so an answer cut short is never taken for a whole one.
 */
export function remoteSyncEndpoint (t: SyncTransport): SyncEndpoint {
  return {
    info: async () => {
      const info = await t.request('GET', '/v1/sync/info') as Partial<SyncInfo> & Pick<SyncInfo, 'id' | 'seq'>
      // A server from before import stamps sends none: the same as a store never imported into.
      return { ...info, imports: info.imports ?? '' }
    },

    heads: async function * (prefix: string, since: number | undefined): AsyncGenerator<HeadLine> {
      const query = new URLSearchParams({ prefix, ...(since === undefined ? {} : { since: String(since) }) })
      let count = 0
      for await (const text of t.lines('GET', `/v1/sync/heads?${query.toString()}`)) {
        if (text === '') continue
        const line = JSON.parse(text) as { head?: HeadLine, end?: { keys: number } }
        if (line.end !== undefined) {
          if (line.end.keys !== count) break
          return
        }
        count++
        if (line.head !== undefined) yield line.head
      }
      throw new RemoteError(`The list of heads from ${t.base} ended before its end line: the server failed while reading it (its log has the details). Nothing is lost: sync again.`, 502)
    },

    headsOf: async (keys: string[]) => {
      const { heads } = await t.request('POST', '/v1/sync/heads', JSON.stringify({ keys })) as { heads: Array<HeadLine | null> }
      return heads.map((head) => head ?? undefined)
    },

    send: (wants: Want[]) => t.lines('POST', '/v1/sync/send', JSON.stringify({ wants })),

    receive: async (lines: AsyncIterable<string>, options: ReceiveOptions) => {
      const { strategy } = options
      if (strategy !== undefined && typeof strategy !== 'string') {
        throw new InvalidInputError(`A strategy runs where the store is, so a push to a server takes a strategy's name, not ${JSON.stringify(strategy.name)} as an object; register it in the server process.`)
      }
      const query = strategy === undefined ? '' : `?${new URLSearchParams({ strategy }).toString()}`
      const report = await t.upload(`/v1/sync/receive${query}`, lines) as SyncReport
      // A server from before `shallow` was reported sends none.
      return { ...report, shallow: report.shallow ?? [] }
    }
  }
}
