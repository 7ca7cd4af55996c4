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
  let current: { client: pg.PoolClient, settle: () => void, detach: () => void } | undefined
  let stopped = false
  let timer: NodeJS.Timeout | undefined

  const attach = async (): Promise<void> => {
    const client = await pool.connect()
    let gone = false
    // Once settled, `lost` stays attached as a no-op until the client is released, so an
    // error on the way out cannot end the process; then it is removed.
    const settle = (): void => {
      gone = true
      client.removeListener('notification', listener)
    }
    const detach = (): void => {
      client.removeListener('error', lost)
      client.removeListener('end', lost)
    }
    // The server may end the connection with an error (a shutdown) or just close it.
    function lost (): void {
      if (gone) return
      settle()
      client.release(true)
      detach()
      if (current?.client === client) current = undefined
      if (!stopped) retry()
    }
    client.on('notification', listener)
    client.on('error', lost)
    client.once('end', lost)
    try {
      await client.query(`LISTEN ${quoteIdent(channel)}`)
    } catch (err) {
      settle()
      client.release(true)
      detach()
      throw err
    }
    if (stopped) {
      // Stopped while this connection was being opened.
      settle()
      client.release(true)
      detach()
      return
    }
    current = { client, settle, detach }
  }
  const retry = (): void => {
    timer = setTimeout(() => {
      attach().then(() => { if (!stopped) listener() }, () => { if (!stopped) retry() })
    }, RELISTEN_MS)
    // Not unref'd: like the listening connection it replaces, it keeps a watching process alive until stop().
  }

  await guarded(server, 'listen for changes', attach)
  return async () => {
    stopped = true
    clearTimeout(timer)
    const held = current
    current = undefined
    if (held === undefined) return
    held.settle()
    // The listening connection goes back to the pool only if UNLISTEN worked; else it is discarded.
    try {
      await held.client.query('UNLISTEN *')
      held.client.release()
    } catch (err) {
      held.client.release(err as Error)
    }
    held.detach()
  }
}
