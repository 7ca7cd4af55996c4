import type pg from 'pg'
import { guarded, quoteIdent } from './connection.js'

/** How long to wait before listening again after the LISTEN connection was lost. */
const RELISTEN_MS = 1000

/**
 * Listens on `channel` on a connection of its own, and calls `listener` for each
 * notification. A lost connection is opened again (every RELISTEN_MS until the server is
 * back), and the listener is called once then, since notifications sent meanwhile were
 * missed. Nothing depends on notifications arriving: the change log also polls.
 */
export async function listenOn (pool: pg.Pool, server: string, channel: string, listener: () => void): Promise<() => Promise<void>> {
  let client: pg.PoolClient | undefined
  let stopped = false
  let timer: NodeJS.Timeout | undefined

  const attach = async (): Promise<void> => {
    const next = await pool.connect()
    const lost = (): void => {
      next.removeListener('notification', listener)
      next.release(true)
      if (client === next) client = undefined
      if (!stopped) retry()
    }
    next.on('notification', listener)
    next.once('error', lost)
    try {
      await next.query(`LISTEN ${quoteIdent(channel)}`)
    } catch (err) {
      next.removeListener('error', lost)
      next.removeListener('notification', listener)
      next.release(true)
      throw err
    }
    client = next
  }
  const retry = (): void => {
    timer = setTimeout(() => {
      attach().then(listener, retry)
    }, RELISTEN_MS)
    timer.unref()
  }

  await guarded(server, 'listen for changes', attach)
  return async () => {
    stopped = true
    clearTimeout(timer)
    const held = client
    client = undefined
    if (held === undefined) return
    held.removeAllListeners('notification')
    held.removeAllListeners('error')
    held.on('error', () => {}) // a connection lost now is discarded below
    // The listening connection goes back to the pool only if UNLISTEN worked; else it is discarded.
    try {
      await held.query('UNLISTEN *')
      held.release()
    } catch (err) {
      held.release(err as Error)
    }
  }
}
