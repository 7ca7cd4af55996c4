import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput } from '../output.js'
import { patchLines, revisionValue } from '../render.js'
import { withStore } from '../store-location.js'

interface DiffArgs extends GlobalArgs {
  key: string
  from: string | undefined
  to: string | undefined
}

/** `revkv diff <key> [from] [to]`: what changed between two revisions, by JSON Pointer. */
export const diff = defineCommand<DiffArgs>({
  command: 'diff <key> [from] [to]',
  describe: 'Show what changed between two revisions of a key (default: the head against its first parent)',
  builder: (y) => y
    .positional('key', { type: 'string', demandOption: true, describe: 'The key' })
    .positional('from', { type: 'string', describe: 'The older revision (default: the first parent of `to`)' })
    .positional('to', { type: 'string', describe: 'The newer revision (default: HEAD)' })
    .example('$0 diff user:1', 'What the last revision changed')
    .example('$0 diff user:1 HEAD~3', 'Everything changed since three revisions ago')
    .example('$0 diff user:1 3f2a9c 9b1e07 --json', 'The change between two revisions as an RFC 6902 JSON Patch'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store, lib) => {
      const toId = await store.resolveRevision(args.to ?? 'HEAD', { key: args.key })
      const to = await store.revision(toId)
      const fromId = args.from === undefined ? to?.parents[0] : await store.resolveRevision(args.from, { key: args.key })
      const from = fromId === undefined ? undefined : await store.revision(fromId)
      // Without a `from` (a key's first revision) the comparison is with nothing: all of it was added.
      const patch = fromId === undefined ? lib.diffValues(undefined, revisionValue(to)) : await store.diff(args.key, fromId, toId)
      if (out.json) {
        out.data(patch)
        return
      }
      if (patch.length === 0) out.note('No differences.')
      for (const line of patchLines(patch, revisionValue(from), out.color)) out.line(line)
    })
  }
})
