import { randomUUID } from 'node:crypto'
import type { Engine } from '../engines/engine.js'

/**
 * Sync marks: what a store notes, per other store and per prefix, about how far they have
 * synced, so the next sync reads only what changed since. A pull notes the other store's
 * change sequence number it has read up to; a push, its own. Stores are told apart by a
 * sync id each makes on first use (a random UUID), never by URL or path, which change.
 * Marks are advisory (see Engine.setSyncMark): a missing or unusable one means a full sync.
 */

const ID = 'id'

/** This store's sync id, made and kept on first use. */
export async function syncId (engine: Engine): Promise<string> {
  const id = await engine.syncMark(ID)
  if (id !== undefined) return id
  const made = randomUUID()
  // Within a process the caller reads the id once (StoreSync). Two processes sharing a
  // PostgreSQL store may each write one at first use; the last stays, and marks other stores
  // keep under the other id cost them one full sync, no data.
  await engine.setSyncMark(ID, made)
  return made
}

/** The name of a mark about the store `remote`, for a pull or a push of keys starting with `prefix`. */
export function markName (direction: 'pull' | 'push', remote: string, prefix: string): string {
  return `${direction} ${remote} ${JSON.stringify(prefix)}`
}

/** A mark's sequence number, or undefined when there is none (or it is not one). */
export async function readMark (engine: Engine, name: string): Promise<number | undefined> {
  const text = await engine.syncMark(name)
  const seq = Number(text)
  return text !== undefined && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined
}

/** Note a mark. */
export async function writeMark (engine: Engine, name: string, seq: number): Promise<void> {
  await engine.setSyncMark(name, String(seq))
}
