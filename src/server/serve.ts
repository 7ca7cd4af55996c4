import type { FastifyInstance } from 'fastify'
import type { Store } from '../store.js'
import { buildServer } from './app.js'
import type { ServerOptions } from './app.js'

/** Where to listen, on top of the server options. */
export interface ListenOptions extends ServerOptions {
  /** Port; 0 picks a free one (default 7070). */
  port?: number | undefined
  /** Interface; loopback only unless told otherwise (default 127.0.0.1). */
  host?: string | undefined
}

/** A listening revkv server. */
export interface RunningServer {
  /** The base URL it listens on, e.g. http://127.0.0.1:7070 */
  url: string
  app: FastifyInstance
  /** Stop accepting connections, finish in-flight requests (and so their writes), then close the store. */
  close: () => Promise<void>
}

/** Serve `store` over HTTP until close() is called. */
export async function serve (store: Store, options: ListenOptions = {}): Promise<RunningServer> {
  const app = buildServer(store, options)
  const host = options.host ?? '127.0.0.1'
  await app.listen({ port: options.port ?? 7070, host })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port
  const shown = host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | undefined
  return {
    url: `http://${shown}:${String(port)}`,
    app,
    close: async () => {
      closing ??= (async () => {
        await app.close()
        await store.close()
      })()
      await closing
    }
  }
}
