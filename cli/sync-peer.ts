/**
 * What the sync commands (clone, pull, push, sync, remote) share: the local store they work
 * on (never a server: a served store cannot pull), the other store named by a remote name
 * or a location and opened for the length of one sync, and how a sync's report is printed.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Store, SyncPeer, SyncReport } from '../src/index.js'
import type { GlobalArgs } from './command.js'
import { loadLibrary } from './library.js'
import type { Library } from './library.js'
import { CommandError, count, quoteKey, shellQuote, shortId } from './output.js'
import type { Output } from './output.js'
import { DEFAULT_SCHEMA, isPostgresUrl, openLocation, openStore, redactUrl, remoteUrl, withStore } from './store-location.js'
import type { StoreLocation } from './store-location.js'

/** The remote a clone names, and pull, push and sync use when none is given. */
export const DEFAULT_REMOTE = 'origin'

type LocalArgs = Pick<GlobalArgs, 'db' | 'schema' | 'wait' | 'remote' | 'max-value-bytes'>

/** Run `work` on the local store of --db / REVKV_DB / ./.revkv, closed afterwards; --remote is refused. */
export async function withLocalStore<T> (args: LocalArgs, command: string, work: (store: Store, lib: Library) => Promise<T>): Promise<T> {
  const lib = await loadLibrary()
  if (remoteUrl(args) !== undefined) {
    throw new lib.InvalidInputError(`revkv ${command} works on a store it opens itself (--db, or REVKV_DB), not on a server's (--remote or REVKV_REMOTE): a served store is the other side of a sync. Run it as: revkv --db <dir> ${command} <server url>.`)
  }
  // With no server named, withStore opens the local store: a Store, not a RemoteStore.
  return await withStore({ ...args, token: undefined }, async (store) => await work(store as Store, lib))
}

/** Another store, open for one sync. */
export interface OpenPeer {
  peer: SyncPeer
  /** How messages name it: the remote's name and location (a password hidden). */
  label: string
  close: () => Promise<void>
}

/**
 * Where `given` leads: a remote name of `store` (default origin), or a location itself (a
 * URL, or a path: anything with a '/', starting with '.', or an existing directory).
 */
export async function peerLocation (store: Store, given: string | undefined, lib: Library): Promise<{ name?: string, location: string }> {
  const name = given ?? DEFAULT_REMOTE
  const remotes = await store.remotes()
  const location = remotes[name]
  if (location !== undefined) return { name, location }
  if (given !== undefined && (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(given) || given.includes('/') || given.startsWith('.') || existsSync(given))) {
    return { location: lib.remoteLocation(given) }
  }
  throw new lib.NotFoundError(given === undefined
    ? `This store has no remote named ${DEFAULT_REMOTE} (revkv clone sets it). Add one with: revkv remote add ${DEFAULT_REMOTE} <server url or directory>, or name the other store: revkv pull <server url or directory>.`
    : `${noSuchRemote(given, remotes)} Add it with: revkv remote add ${shellQuote(given)} <server url or directory>, or give a server URL or a directory.`)
}

/** The message for a remote name the store does not have, with the ones it has. */
export function noSuchRemote (name: string, remotes: Record<string, string>): string {
  const known = Object.keys(remotes)
  return `No remote named ${name}${known.length === 0 ? ' (this store has none)' : ` (this store has: ${known.join(', ')})`}.`
}

/** Open the store at `location` for a sync with `local` (a server through RemoteStore, with --token or REVKV_TOKEN). */
export async function openPeer (target: { name?: string, location: string }, local: StoreLocation, args: Pick<GlobalArgs, 'token' | 'wait'>, lib: Library): Promise<OpenPeer> {
  const { location } = target
  const label = target.name === undefined ? redactUrl(location) : `${target.name} (${redactUrl(location)})`
  if (/^https?:\/\//i.test(location)) {
    const token = args.token ?? process.env.REVKV_TOKEN
    const remote = await lib.RemoteStore.open({ url: location, ...(token === undefined || token === '' ? {} : { token }) })
    return { peer: remote, label, close: async () => { await remote.close() } }
  }
  // The same store on both sides would wait for its own lock (a directory) or pull from itself.
  const here = local.engine === 'level' ? resolve(local.path) : `${local.url} ${local.schema}`
  const there = isPostgresUrl(location) ? `${location} ${DEFAULT_SCHEMA}` : resolve(location)
  if (here === there) throw new lib.InvalidInputError(`The remote ${label} is this store itself; name another store.`)
  const store = isPostgresUrl(location)
    ? await openLocation({ engine: 'postgres', url: location, schema: DEFAULT_SCHEMA }, { create: false, wait: args.wait })
    : await openStore(location, { create: false, wait: args.wait })
  return { peer: store, label, close: async () => { await store.close() } }
}

/** True when a sync moved nothing and sent nothing. */
export function nothingDone (report: SyncReport): boolean {
  return report.revisions === 0 && report.fastForwards === 0 && report.merges === 0 && report.conflicts.length === 0 && report.refused.length === 0
}

/** The report of a pull or push in a line, and a line per key left unsettled. */
export function reportLines (verb: 'Pulled from' | 'Pushed to' | 'Cloned', label: string, report: SyncReport): string[] {
  if (nothingDone(report)) return [`${verb} ${label}: up to date (${count(report.keys, 'key')} compared).`]
  const parts = [
    count(report.keys, 'key') + ' compared',
    count(report.revisions, 'new revision'),
    count(report.fastForwards, 'fast-forward'),
    count(report.merges, 'merge'),
    ...(report.conflicts.length === 0 ? [] : [`${count(report.conflicts.length, 'key')} kept unmerged`]),
    ...(report.refused.length === 0 ? [] : [`${count(report.refused.length, 'key')} refused`]),
    `${count(report.bytes, 'byte')} of history sent`
  ]
  return [
    `${verb} ${label}: ${parts.join(', ')}.`,
    ...report.conflicts.map((key) => {
      const cut = report.shallow.find((s) => s.key === key)?.cut
      return cut === undefined
        ? `  kept unmerged: ${quoteKey(key)} (see revkv conflicts ${shellQuote(key)}; settle with revkv merge)`
        : `  kept unmerged: ${quoteKey(key)}: compaction dropped ${shortId(cut)}, so where the two heads forked is unknown; settle with revkv merge ${shellQuote(key)} <rev> --value '<json>'`
    }),
    ...report.refused.map(({ key, reason }) => `  refused: ${quoteKey(key)}: ${reason}`)
  ]
}

/** Tell people what a sync did (on stderr, so stdout stays for --json and scripts). */
export function noteReport (out: Output, verb: 'Pulled from' | 'Pushed to' | 'Cloned', label: string, report: SyncReport): void {
  if (!out.json) for (const line of reportLines(verb, label, report)) out.note(line)
}

/** Fail with exit 1 (after the reports are printed) when syncs left keys unsettled, so a script notices. */
export function checkSettled (...reports: SyncReport[]): void {
  const conflicts = reports.reduce((n, r) => n + r.conflicts.length, 0)
  const refused = reports.reduce((n, r) => n + r.refused.length, 0)
  const unsettled = [
    ...(conflicts === 0 ? [] : [`${count(conflicts, 'key')} kept unmerged (revkv conflicts <key> shows them; settle each with revkv merge <key> <rev>)`]),
    ...(refused === 0 ? [] : [`${count(refused, 'key')} refused (listed above; the next sync tries them again)`])
  ]
  // Exit 1, like any conflict: the report is printed, and a script notices.
  if (unsettled.length > 0) throw new CommandError(`The sync is done, but left ${unsettled.join(' and ')}.`, 'REVKV_CONFLICT', 409, 'UnsettledSync')
}
