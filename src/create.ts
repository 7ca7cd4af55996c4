/**
 * Creating a key that may already exist: the `onExists` option of a create-only commit,
 * and the names `rename` tries. Checked here once for Store and RemoteStore alike.
 */
import { InvalidInputError } from './errors.js'
import { describe } from './revision.js'

/** What a create-only write (parent null) does when the key is live: refuse, write on top, or take a free name. */
export type OnExists = 'reject' | 'replace' | 'rename'

/** Names the n-th candidate (n = 1, 2, ...) for a create that found `key` taken. */
export type RenameFunction = (key: string, n: number) => string

/** How many candidate names a rename tries before giving up: a bound on a runaway rename function. */
export const MAX_RENAMES = 1000

const ON_EXISTS: readonly OnExists[] = ['reject', 'replace', 'rename']

/** Check onExists and rename against parent; returns onExists, undefined meaning reject. */
export function checkOnExists (options: { parent?: string | null | undefined, onExists?: unknown, rename?: unknown }): Exclude<OnExists, 'reject'> | undefined {
  const { onExists, rename } = options
  if (onExists !== undefined && !ON_EXISTS.includes(onExists as OnExists)) {
    throw new InvalidInputError(`Option onExists must be 'reject', 'replace' or 'rename', got ${describe(onExists)}.`)
  }
  if (onExists !== undefined && onExists !== 'reject' && options.parent !== null) {
    throw new InvalidInputError(`Option onExists goes with parent: null (a create); got parent ${describe(options.parent)}. Give parent: null to create.`)
  }
  if (rename !== undefined) {
    if (onExists !== 'rename') throw new InvalidInputError('Option rename goes with onExists: \'rename\'.')
    if (typeof rename !== 'function') throw new InvalidInputError(`Option rename must be a function (key, n) => name, got ${describe(rename)}.`)
  }
  return onExists === 'reject' ? undefined : onExists as Exclude<OnExists, 'reject'> | undefined
}

/**
 * The default candidate names, as file managers and browsers number copies: the number goes
 * before a file extension (`report.json` -> `report (1).json`), and a name that is already
 * numbered counts on (`a (1)` -> `a (2)`, not `a (1) (1)`). A leading dot is not an
 * extension (`.env` -> `.env (1)`); neither is a dot in an earlier `/` segment.
 */
export function numberedName (key: string, n: number): string {
  const segment = key.lastIndexOf('/') + 1
  const dot = key.lastIndexOf('.')
  const hasExtension = dot > segment && /^\.[^\s.()]{1,16}$/.test(key.slice(dot))
  const stem = hasExtension ? key.slice(0, dot) : key
  const extension = hasExtension ? key.slice(dot) : ''
  const numbered = / \((\d{1,9})\)$/.exec(stem)
  const bare = numbered === null ? stem : stem.slice(0, numbered.index)
  return `${bare} (${Number(numbered?.[1] ?? 0) + n})${extension}`
}
