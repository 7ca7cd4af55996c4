import type { Engine, ReadAt } from './engines/engine.js'
import { NotFoundError } from './errors.js'
import { walkHistory } from './history.js'
import type { LoadRevision } from './history.js'
import { checkLimit, checkOptions, checkText } from './options.js'
import { validateKey, validateRevisionId } from './revision.js'
import type { Revision } from './revision.js'
import type { KeysOptions, LogOptions } from './store.js'

/**
 * Reads shared by the store and its snapshots (src/snapshot.ts): the same checks and the
 * same walks, reading either the latest data or one moment (`at`).
 */

/** keys() options, checked: which keys, from where, how many. */
export interface KeyRange {
  prefix: string
  after: string | undefined
  limit: number
}

/** Check keys() options (prefix, after, limit). */
export function checkKeysOptions (options: KeysOptions): KeyRange {
  checkOptions(options, 'keys')
  const prefix = checkText(options.prefix, 'keys() option prefix') ?? ''
  if (options.after !== undefined) validateKey(options.after)
  const limit = checkLimit(options.limit, 'keys() option limit')
  // A start before the prefix would list keys outside it: the prefix decides where to begin.
  return { prefix, after: options.after !== undefined && options.after >= prefix ? options.after : undefined, limit }
}

/** Live (not deleted) keys of the range, in order, as stored (at `at`, if given). */
export async function * liveKeys (engine: Engine, range: KeyRange, at?: ReadAt): AsyncGenerator<string> {
  if (range.limit === 0) return
  let count = 0
  for await (const [key, record] of engine.heads({ prefix: range.prefix, after: range.after, ...at })) {
    if (record.deleted === true) continue
    yield key
    if (++count >= range.limit) break
  }
}

/** Check log() options. */
export function checkLogOptions (options: LogOptions): { limit: number, firstParent: boolean } {
  checkOptions(options, 'log')
  return { limit: checkLimit(options.limit, 'log() option limit'), firstParent: options.firstParent === true }
}

/** Revisions reachable from `head`, newest first, at most `limit`. */
export async function * logFrom (head: Revision | undefined, load: LoadRevision, { limit, firstParent }: { limit: number, firstParent: boolean }): AsyncGenerator<Revision> {
  if (head === undefined || limit === 0) return
  let count = 0
  for await (const rev of walkHistory(head, load, firstParent)) {
    yield rev
    if (++count >= limit) return
  }
}

/**
 * Revision `id` of `key` (for option `what`), or a NotFoundError saying it is another key's,
 * no revision at all, or one dropped by compaction.
 */
export async function revisionOfKey (key: string, id: string, what: string, read: (id: string) => Revision | undefined | Promise<Revision | undefined>, dropped: (id: string) => Promise<string | undefined>): Promise<Revision> {
  validateRevisionId(id, what)
  const rev = await read(id)
  if (rev === undefined && await dropped(id) === key) {
    throw new NotFoundError(`Revision ${id} (${what}) of key ${JSON.stringify(key)} was dropped by compaction: history was cut before it.`, { dropped: id })
  }
  if (rev === undefined || rev.key !== key) throw new NotFoundError(`Revision ${id} (${what}) is not a revision of key ${JSON.stringify(key)}.`)
  return rev
}
