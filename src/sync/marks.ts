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
/**
 * Imports write no changes to the feed, so a sync that reads only changes since its mark
 * would never see imported keys. Instead every import stamps the store anew (before and
 * after writing, so a crash in between still leaves a new stamp), a mark notes the stamp it
 * was taken under, and a mark under another stamp means a full comparison, once.
 */
const IMPORT_STAMP = 'import'

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

/** The stamp of this store's last import ('' before any). */
export async function importStamp (engine: Engine): Promise<string> {
  return await engine.syncMark(IMPORT_STAMP) ?? ''
}

/** Note that keys are being (or were) imported: marks taken before now no longer cover every key. */
export async function stampImport (engine: Engine): Promise<void> {
  await engine.setSyncMark(IMPORT_STAMP, randomUUID())
}

/** The name of a mark about the store `remote`, for a pull or a push of keys starting with `prefix`. */
export function markName (direction: 'pull' | 'push', remote: string, prefix: string): string {
  return `${direction} ${remote} ${JSON.stringify(prefix)}`
}

/** Where a sync got to: the feed's sequence number, under the feed store's import stamp. */
export interface Mark {
  seq: number
  imports: string
}

/** A mark, or undefined when there is none (or it is not one). */
export async function readMark (engine: Engine, name: string): Promise<Mark | undefined> {
  const text = await engine.syncMark(name)
  if (text === undefined) return undefined
  const space = text.indexOf(' ')
  const seq = Number(space === -1 ? text : text.slice(0, space))
  // A mark written before import stamps existed holds the number alone: under no stamp.
  return Number.isSafeInteger(seq) && seq >= 0 ? { seq, imports: space === -1 ? '' : text.slice(space + 1) } : undefined
}

/** Note a mark. */
export async function writeMark (engine: Engine, name: string, mark: Mark): Promise<void> {
  await engine.setSyncMark(name, `${mark.seq} ${mark.imports}`)
}
