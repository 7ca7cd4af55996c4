import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput, shortId } from '../output.js'
import { patchLines, revisionLines, revisionValue } from '../render.js'
import { withStore } from '../store-location.js'

interface ShowArgs extends GlobalArgs {
  rev: string
  key: string | undefined
}

/** `revkv show <rev>`: one revision, its parents, and the diff against its first parent. */
export const show = defineCommand<ShowArgs>({
  command: 'show <rev>',
  describe: 'Show a revision with its parents and its diff against the first parent',
  builder: (y) => y
    .positional('rev', { type: 'string', demandOption: true, describe: 'A revision: an id prefix (4+ hex); HEAD or HEAD~N with --key' })
    .option('key', { type: 'string', requiresArg: true, describe: 'The key the revision belongs to (needed for HEAD and HEAD~N)' })
    .example('$0 show 3f2a9c', 'Show the revision whose id starts with 3f2a9c')
    .example('$0 show HEAD~1 --key user:1', 'Show the revision before the head of user:1')
    .example('$0 show 3f2a9c --json', 'Print { revision, diff } with the diff as an RFC 6902 patch'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store, lib) => {
      if (args.key === undefined && /^HEAD(~\d+)?$/.test(args.rev)) {
        throw new lib.InvalidInputError(`${args.rev} needs a key: say which key's head you mean with --key <key>, e.g. revkv show ${args.rev} --key user:1.`)
      }
      const id = await store.resolveRevision(args.rev, args.key === undefined ? {} : { key: args.key })
      const rev = await store.revision(id)
      if (rev === undefined) throw new lib.NotFoundError(`No revision ${id}.`)
      const parentId = rev.parents[0]
      const parent = parentId === undefined ? undefined : await store.revision(parentId)
      // A first revision is compared with nothing, so its whole value shows as added.
      const diff = parentId === undefined ? lib.diffValues(undefined, revisionValue(rev)) : await store.diff(rev.key, parentId, rev.id)
      if (out.json) {
        out.data({ revision: rev, diff })
        return
      }
      const c = out.color
      for (const line of revisionLines(rev, c, { full: true })) out.line(line)
      out.line()
      out.line(c.bold(parentId === undefined ? 'Changes (first revision of the key):' : `Changes since ${shortId(parentId)}:`))
      const lines = patchLines(diff, revisionValue(parent), c)
      for (const line of lines.length === 0 ? ['(none: same value as the first parent)'] : lines) out.line(line)
    })
  }
})
