import { resolve } from 'node:path'
import { InvalidInputError } from '../errors.js'
import type { Engine } from '../engines/engine.js'
import { describe } from '../revision.js'

/**
 * Named remotes, as `git remote` keeps them: other stores this one syncs with, by a short
 * name (`origin`, set by `revkv clone`). They live in the store itself (one sync mark
 * holding a JSON object), so a store moved or copied keeps them, and a PostgreSQL store
 * shared by many processes has one list. Only locations are kept, never credentials: a
 * server's token comes from --token or REVKV_TOKEN when a sync runs.
 */

const MARK = 'remotes'

/** Remote names: what `git remote` allows in practice, short enough to type. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** The named remotes of a store, name to location. */
export async function readRemotes (engine: Engine): Promise<Record<string, string>> {
  const text = await engine.syncMark(MARK)
  if (text === undefined) return {}
  const parsed = JSON.parse(text) as Record<string, string>
  return Object.fromEntries(Object.entries(parsed).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
}

/** Add (or, with location undefined, remove) a named remote; returns the location kept. */
export async function writeRemote (engine: Engine, name: unknown, location: unknown): Promise<string | undefined> {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidInputError(`Remote name ${describe(name)} is not one: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. origin).`)
  }
  const remotes = await readRemotes(engine)
  const kept = location === undefined ? undefined : remoteLocation(location)
  if (kept === undefined) delete remotes[name]
  else remotes[name] = kept
  await engine.setSyncMark(MARK, JSON.stringify(remotes))
  return kept
}

/**
 * Where another store is, in the form remotes keep it: an http(s):// server URL, a
 * postgres:// URL, or a store directory made absolute (a relative one would mean another
 * place from another working directory).
 */
export function remoteLocation (location: unknown): string {
  if (typeof location !== 'string' || location.trim() === '' || location.includes('\u0000')) {
    throw new InvalidInputError(`Remote location ${describe(location)} is not one: give a server URL (http://host:7070), a postgres:// URL, or a store directory.`)
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(location)?.[1]?.toLowerCase()
  if (scheme === undefined) return resolve(location)
  if (!['http', 'https', 'postgres', 'postgresql'].includes(scheme)) {
    throw new InvalidInputError(`Remote location ${location} has the scheme ${scheme}://, which revkv does not speak: give an http(s):// server URL, a postgres:// URL, or a store directory.`)
  }
  try {
    void new URL(location)
  } catch {
    throw new InvalidInputError(`Remote location ${location} is not a valid URL; give one like http://127.0.0.1:7070 or postgres://user@host:5432/db.`)
  }
  return location
}
