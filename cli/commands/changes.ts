import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput, quoteKey, shortId } from '../output.js'
import { withStore } from '../store-location.js'

interface ChangesArgs extends GlobalArgs {
  since: number
  prefix: string | undefined
  n: number | undefined
  follow: boolean
}

/** `revkv changes`: the changes feed, one change a line; --follow keeps printing new ones. */
export const changes = defineCommand<ChangesArgs>({
  command: 'changes',
  describe: 'List changes after a sequence number; --follow waits for new ones (through --remote, or on a PostgreSQL --db)',
  builder: (y) => y
    .option('since', { type: 'number', default: 0, requiresArg: true, describe: 'Only changes after this sequence number' })
    .option('prefix', { type: 'string', requiresArg: true, describe: 'Only keys starting with this' })
    .option('n', { alias: 'limit', type: 'number', requiresArg: true, describe: 'At most N changes (not with --follow)' })
    .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'Keep printing changes as they happen (needs --remote or a postgres:// --db: a store directory opened here sees only this process)' })
    .example('$0 changes --since 120', 'What changed after change 120')
    .example('$0 --remote http://127.0.0.1:7070 changes --follow --json', 'A live feed, one JSON object per line; restart with --since <last seq>')
    .example('$0 --db postgres://app@db:5432/app changes --follow', 'The live feed of a PostgreSQL store: every process\'s writes, in order'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store, lib) => {
      if (!Number.isSafeInteger(args.since) || args.since < 0) throw new lib.InvalidInputError(`--since must be a sequence number (a whole number ≥ 0), got ${String(args.since)}.`)
      // Only a store other processes write to has changes worth waiting for: one opened here sees only this process.
      if (args.follow && !store.supports.sharedWriters) {
        throw new lib.InvalidInputError('--follow needs a store other processes write: a store directory opened here sees only the writes of this process. Run `revkv serve` and use --remote <url>, or keep the store in PostgreSQL (--db postgres://...).')
      }
      if (args.follow && args.n !== undefined) throw new lib.InvalidInputError('--follow and -n do not go together.')
      const options = { since: args.since, ...(args.prefix === undefined ? {} : { prefix: args.prefix }), ...(args.n === undefined ? {} : { limit: args.n }) }
      const abort = new AbortController()
      process.once('SIGINT', () => { abort.abort() })
      const feed = args.follow ? store.watch({ ...options, signal: abort.signal }) : store.changes(options)
      for await (const change of feed) {
        if (out.closed) break
        // One object per line even with --json, so a follower can process the feed as it comes.
        if (out.json) out.line(JSON.stringify(change))
        else out.line(`${String(change.seq).padStart(8)} ${shortId(change.rev)} ${quoteKey(change.key)}${change.deleted === true ? ' (deleted)' : ''}${change.kept === true ? ' (kept unmerged)' : ''}`)
      }
    })
  }
})
