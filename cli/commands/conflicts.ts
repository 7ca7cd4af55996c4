import type { Revision } from '../../src/index.js'
import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { commandLine, count, createOutput, quoteKey, shortId } from '../output.js'
import type { Output } from '../output.js'
import { withStore } from '../store-location.js'
import type { StoreHandle } from '../store-location.js'

interface ConflictsArgs extends GlobalArgs {
  key: string | undefined
}

/** A key with revisions kept unmerged beside its head. */
interface Unmerged {
  key: string
  head: string | undefined
  revisions: Revision[]
}

/** `revkv conflicts [key]`: the revisions kept unmerged, for one key or the whole store. */
export const conflicts = defineCommand<ConflictsArgs>({
  command: 'conflicts [key]',
  describe: 'List revisions kept unmerged (by the manual strategy), for a key or the whole store',
  builder: (y) => y
    .positional('key', { type: 'string', describe: 'Only this key' })
    .example('$0 conflicts', 'Every key with unmerged revisions')
    .example('$0 conflicts user:1 --json', 'The unmerged revisions of user:1 as JSON'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store, lib) => {
      const found: Unmerged[] = []
      if (args.key !== undefined) {
        const head = await store.head(args.key)
        if (head === undefined) throw new lib.NotFoundError(`Key ${JSON.stringify(args.key)} does not exist.`)
        const revisions = await store.conflicts(args.key)
        if (revisions.length > 0) found.push({ key: args.key, head: head.id, revisions })
      } else {
        for await (const key of store.conflictedKeys()) found.push(await unmergedOf(store, key))
      }
      if (out.json) out.data(found)
      else if (found.length === 0) out.note(args.key === undefined ? 'No unmerged revisions in the store.' : `No unmerged revisions for key ${JSON.stringify(args.key)}.`)
      else print(out, found)
    })
  }
})

async function unmergedOf (store: StoreHandle, key: string): Promise<Unmerged> {
  return { key, head: (await store.head(key))?.id, revisions: await store.conflicts(key) }
}

function print (out: Output, found: Unmerged[]): void {
  const c = out.color
  for (const { key, head, revisions } of found) {
    out.line(`${c.bold(quoteKey(key))}: head ${head === undefined ? '(none)' : c.yellow(shortId(head))}, ${count(revisions.length, 'unmerged revision')}`)
    for (const rev of revisions) {
      const who = rev.author === undefined ? '' : ` ${rev.author}`
      out.line(`  ${c.yellow(shortId(rev.id))} ${new Date(rev.time).toISOString()}${who} ${rev.message ?? '(no message)'}${rev.deleted === true ? ' (deleted)' : ''}`)
    }
    const first = revisions[0]
    if (first !== undefined) out.line(`  settle with: ${commandLine('merge', [key, shortId(first.id)], '[--on-conflict ours|theirs | --strategy lww | --value <json>]')}`)
  }
}
