import type { ConflictPlace, Revision } from '../../src/index.js'
import type { Library } from '../library.js'
import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { commandLine, count, createOutput, diff3Lines, quoteKey, shortId } from '../output.js'
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
  /** For one key: each unmerged revision's conflicting places against the head, by revision id (empty: it merges cleanly). */
  places?: Record<string, ConflictPlace[]>
}

/** `revkv conflicts [key]`: the revisions kept unmerged, for one key or the whole store. */
export const conflicts = defineCommand<ConflictsArgs>({
  command: 'conflicts [key]',
  describe: 'List revisions kept unmerged (by the manual strategy), for a key (with each conflicting place, diff3-style) or the whole store',
  builder: (y) => y
    .positional('key', { type: 'string', describe: 'Only this key' })
    .example('$0 conflicts', 'Every key with unmerged revisions')
    .example('$0 conflicts user:1', 'The unmerged revisions of user:1, each conflicting place with ours, base and theirs')
    .example('$0 conflicts user:1 --json', 'The same as JSON: revisions, and places by revision id'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store, lib) => {
      const found: Unmerged[] = []
      if (args.key !== undefined) {
        const head = await store.head(args.key)
        if (head === undefined) throw new lib.NotFoundError(`Key ${JSON.stringify(args.key)} does not exist.`)
        const revisions = await store.conflicts(args.key)
        const places: Record<string, ConflictPlace[]> = {}
        for (const rev of revisions) places[rev.id] = await placesOf(store, lib, head, rev)
        if (revisions.length > 0) found.push({ key: args.key, head: head.id, revisions, places })
      } else {
        for await (const key of store.conflictedKeys()) found.push(await unmergedOf(store, key))
      }
      if (out.json) out.data(found)
      else if (found.length === 0) out.note(args.key === undefined ? 'No unmerged revisions in the store.' : `No unmerged revisions for key ${JSON.stringify(args.key)}.`)
      else print(out, found)
    })
  }
})

/** The places where merging `rev` into the head conflicts: what `revkv merge` would report. */
async function placesOf (store: StoreHandle, lib: Library, head: Revision, rev: Revision): Promise<ConflictPlace[]> {
  const base = await lib.mergeBase(head, rev, async (id) => await store.revision(id))
  const valueOf = (r: Revision | undefined): Revision['value'] | undefined => r === undefined || r.deleted === true ? undefined : r.value
  return lib.mergeJson(valueOf(base), valueOf(head), valueOf(rev)).conflicts
}

async function unmergedOf (store: StoreHandle, key: string): Promise<Unmerged> {
  return { key, head: (await store.head(key))?.id, revisions: await store.conflicts(key) }
}

function print (out: Output, found: Unmerged[]): void {
  const c = out.color
  for (const { key, head, revisions, places } of found) {
    out.line(`${c.bold(quoteKey(key))}: head ${head === undefined ? '(none)' : c.yellow(shortId(head))}, ${count(revisions.length, 'unmerged revision')}`)
    for (const rev of revisions) {
      const who = rev.author === undefined ? '' : ` ${rev.author}`
      out.line(`  ${c.yellow(shortId(rev.id))} ${new Date(rev.time).toISOString()}${who} ${rev.message ?? '(no message)'}${rev.deleted === true ? ' (deleted)' : ''}`)
      const conflicting = places?.[rev.id]
      if (conflicting === undefined) continue
      if (conflicting.length === 0) out.line('    merges cleanly with the head')
      const sides = { ours: head === undefined ? 'head' : `head ${shortId(head)}`, theirs: shortId(rev.id) }
      for (const place of conflicting) for (const line of diff3Lines(place, sides, c)) out.line(`    ${line}`)
    }
    const first = revisions[0]
    if (first !== undefined) out.line(`  settle with: ${commandLine('merge', [key, shortId(first.id)], '[--take <path>=ours|theirs|base|<json> ... | --on-conflict ours|theirs | --strategy lww | --value <json>]')}`)
  }
}
