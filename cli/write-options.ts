/**
 * The options that `commit`, `delete` and `merge` share (--parent, --strategy,
 * --on-conflict, --message, --author, --lock), turned into the library's write options, and
 * the command lines that settle the conflicts (and leases) those writes can end in.
 */
import { userInfo } from 'node:os'
import type { Argv } from 'yargs'
import type { Lease, StrategyRef, WriteOptions } from '../src/index.js'
import type { StoreHandle } from './store-location.js'
import type { Library } from './library.js'
import { aligned, commandLine, shellQuote, shortId } from './output.js'

/** The strategies a stale commit or delete can name. */
export const WRITE_STRATEGIES = ['reject', 'lww', 'merge', 'manual'] as const
/** The sides --on-conflict can settle a conflicting place with. */
export const SIDES = ['ours', 'theirs'] as const

/** --message and --author, which every writing command takes. */
export function withAuthorship<T> (y: Argv<T>): Argv<T & { message: string | undefined, author: string | undefined }> {
  return y
    .option('message', { alias: 'm', type: 'string', requiresArg: true, describe: 'Why the change was made (stored on the revision)' })
    .option('author', { type: 'string', requiresArg: true, describe: 'Who made it (default: $REVKV_AUTHOR, else your user name)' })
}

/** --lock, which every writing command takes: the fencing token of the lease held on the key. */
export function withLock<T> (y: Argv<T>): Argv<T & { lock: number | undefined }> {
  return y.option('lock', { type: 'number', requiresArg: true, describe: 'The fencing token of the lease you hold on the key (`revkv lock` prints it); needed to write a leased key' })
}

/** A lease in one line, for people. */
export function describeLease (lease: Lease): string {
  return `Lease on ${lease.key} held by ${lease.owner} until ${new Date(lease.expires).toISOString()} (token ${lease.token})`
}

/** The fields of a LockedError that say who holds a lease. */
interface LockedInfo {
  code?: unknown
  key?: string
  owner?: string
}

/** What to do about a write refused because the key is leased. */
export function lockedHint (key: string, err: unknown): string[] {
  const { code, key: leased, owner } = err as LockedInfo
  if (code !== 'REVKV_LOCKED' || leased === undefined) return []
  return [
    'Nothing was written. ' + (owner === undefined
      ? 'The lease your token names has ended: read the key again, then take a new lease.'
      : 'Wait for the lease to end, or queue for it, and write under your own lease:'),
    ...aligned([
      [`T=$(${commandLine('lock', [key], '--wait 30s')})`, 'take the lease (queueing up to 30 s); prints its token'],
      [`${commandLine('commit', [key], '--lock $T')} < value.json`, 'write under it'],
      [`${commandLine('unlock', [key])} $T`, 'release it']
    ]),
    `See who holds what with: revkv locks --prefix=${shellQuote(key)}`
  ]
}

/** --parent, --strategy and --on-conflict, for commit and delete. */
export function withWriteOptions<T> (y: Argv<T>): Argv<T & {
  parent: string | undefined
  strategy: typeof WRITE_STRATEGIES[number] | undefined
  'on-conflict': typeof SIDES[number] | undefined
  message: string | undefined
  author: string | undefined
  lock: number | undefined
}> {
  return withLock(withAuthorship(y))
    .option('parent', {
      type: 'string',
      requiresArg: true,
      describe: 'Write only if this revision is still the head: a unique id prefix, HEAD or HEAD~N (a stale parent is a conflict, exit 1)'
    })
    .option('strategy', {
      choices: WRITE_STRATEGIES,
      describe: 'What to do if --parent is stale: reject it (exit 1), lww (this write wins), merge (three-way JSON merge), manual (keep it unmerged for `revkv merge`)'
    })
    .option('on-conflict', {
      choices: SIDES,
      describe: 'With --strategy merge (implied): settle places changed on both sides with this side instead of failing'
    })
}

/** The author recorded on a write: --author, else $REVKV_AUTHOR, else the OS user name. */
export function authorOf (given: string | undefined): string | undefined {
  if (given !== undefined) return given
  const fromEnv = process.env.REVKV_AUTHOR
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  try {
    return userInfo().username
  } catch {
    // No passwd entry (some containers): the revision simply records no author.
    return undefined
  }
}

/** The strategy named by --strategy / --on-conflict; --on-conflict alone means the merge strategy. */
export function strategyOf (lib: Library, strategy: string | undefined, onConflict: 'ours' | 'theirs' | undefined): StrategyRef | undefined {
  if (onConflict === undefined) return strategy
  if (strategy !== undefined && strategy !== 'merge') {
    throw new lib.InvalidInputError(`--on-conflict goes with --strategy merge, not --strategy ${strategy}.`)
  }
  return lib.mergeStrategy({ onConflict })
}

/** Library write options from the command line; --parent is resolved like any revision. */
export async function writeOptions (
  store: StoreHandle,
  lib: Library,
  key: string,
  args: { parent?: string | undefined, create?: boolean | undefined, onExists?: WriteOptions['onExists'], strategy?: string | undefined, onConflict?: 'ours' | 'theirs' | undefined, message?: string | undefined, author?: string | undefined, lock?: number | undefined }
): Promise<WriteOptions> {
  const options: WriteOptions = { author: authorOf(args.author), message: args.message }
  if (args.onExists !== undefined) options.onExists = args.onExists
  if (args.lock !== undefined) options.lock = args.lock
  if (args.create === true) options.parent = null
  else if (args.parent !== undefined) options.parent = await store.resolveRevision(args.parent, { key })
  const strategy = strategyOf(lib, args.strategy, args.onConflict)
  if (strategy !== undefined) options.strategy = strategy
  return options
}

/** The fields of a conflict error that say how to settle it. */
interface ConflictInfo {
  code?: unknown
  expected?: string | null
  actual?: string | null
  kept?: string | undefined
}

/** The command lines that settle a conflict a commit or delete ended in. */
export function writeConflictHint (command: 'commit' | 'delete', key: string, err: unknown): string[] {
  const { code, expected, actual, kept } = err as ConflictInfo
  if (code === 'REVKV_LOCKED') return lockedHint(key, err)
  if (kept !== undefined) {
    const merge = (options?: string): string => commandLine('merge', [key, shortId(kept)], options)
    return [
      'The write was stored unmerged beside the head; nothing was lost. Settle it with one of:',
      ...aligned([
        [merge(), 'three-way merge; fails where both sides changed'],
        [merge('--on-conflict theirs'), 'the same, taking this write\'s side there (or ours)'],
        [merge('--value \'<json>\''), 'write the merged value yourself']
      ]),
      `List what is unmerged with: ${commandLine('conflicts', [key])}`
    ]
  }
  if (code === 'REVKV_MERGE_CONFLICT') {
    return [
      'Nothing was written. Rerun with --on-conflict ours or --on-conflict theirs to pick a side where both',
      'changed, or with --strategy manual to keep the write unmerged and settle it later with `revkv merge`.'
    ]
  }
  if (code !== 'REVKV_CONFLICT' || typeof actual !== 'string') return []
  if (expected === null) {
    return [`Nothing was written. The key exists; to replace its value, drop --create and pass --parent ${shortId(actual)} (or add --on-exists replace), or add --on-exists rename to create it under a free name.`]
  }
  return [
    `Nothing was written. See what changed with: ${commandLine('diff', [key, ...(expected === undefined ? [] : [shortId(expected)]), shortId(actual)])}`,
    `then redo the ${command} with --parent ${shortId(actual)}, or let a strategy settle it: --strategy lww, merge or manual.`
  ]
}

