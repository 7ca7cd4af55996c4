import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { commandLine, createOutput, shortId } from '../output.js'
import { withStore } from '../store-location.js'
import { asOfArg } from '../as-of.js'

interface GetArgs extends GlobalArgs {
  key: string
  rev: string | undefined
  'as-of': string | undefined
}

/** `revkv get <key>`: print the value (or with --json the whole revision) at the head or --rev. */
export const get = defineCommand<GetArgs>({
  command: 'get <key>',
  describe: 'Print a key\'s value as JSON (--json: the whole revision)',
  builder: (y) => y
    .positional('key', { type: 'string', demandOption: true, describe: 'The key' })
    .option('rev', { type: 'string', requiresArg: true, describe: 'Read this revision instead of the head: an id prefix (4+ hex), HEAD or HEAD~N' })
    .option('as-of', { type: 'string', requiresArg: true, conflicts: 'rev', describe: 'Read the key as it was then: an ISO 8601 time with a zone (2026-12-01T10:00Z), epoch ms, or @N (changes-feed sequence number N)' })
    .example('$0 get user:1', 'Print the current value')
    .example('$0 get user:1 --rev HEAD~2', 'Print the value two revisions ago')
    .example('$0 get user:1 --json', 'Print the head revision: id, parents, author, time, value')
    .example('$0 get user:1 --as-of 2026-12-01T10:00Z', 'Print the value it had at 10:00 UTC on 1 December 2026')
    .example('$0 get user:1 --as-of @42', 'Print the value it had after change 42 of the changes feed'),
  handler: async (args) => {
    const out = createOutput(args)
    const asOf = await asOfArg(args['as-of'])
    await withStore(args, async (store, lib) => {
      const rev = args.rev === undefined
        ? await store.head(args.key, asOf)
        : await store.revision(await store.resolveRevision(args.rev, { key: args.key }))
      const key = JSON.stringify(args.key)
      const then = args['as-of'] === undefined ? '' : ` as of ${args['as-of']}`
      if (rev === undefined) throw new lib.NotFoundError(`Key ${key} does not exist${then}.`)
      if (rev.deleted === true) {
        throw new lib.NotFoundError(args.rev === undefined
          ? `Key ${key} is deleted${then} (tombstone ${shortId(rev.id)}); its history remains: ${commandLine('log', [args.key])}.`
          : `Revision ${shortId(rev.id)} of key ${key} is a tombstone: the key was deleted there.`)
      }
      if (out.json) out.data(rev)
      else out.line(JSON.stringify(rev.value, null, 2))
    })
  }
})
