import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput, explain } from '../output.js'
import { withStore } from '../store-location.js'
import { withWriteOptions, writeConflictHint, writeOptions } from '../write-options.js'

interface DeleteArgs extends GlobalArgs {
  key: string
  parent: string | undefined
  strategy: 'reject' | 'lww' | 'merge' | 'manual' | undefined
  'on-conflict': 'ours' | 'theirs' | undefined
  message: string | undefined
  author: string | undefined
}

/** `revkv delete <key>`: write a tombstone revision; the history stays. */
export const del = defineCommand<DeleteArgs>({
  command: 'delete <key>',
  describe: 'Delete a key (writes a tombstone revision; its history stays); prints the revision id',
  builder: (y) => withWriteOptions(y
    .positional('key', { type: 'string', demandOption: true, describe: 'The key' }))
    .example('$0 delete session:42 -m "expired"', 'Delete a key')
    .example('$0 delete session:42 --parent 9b1e07', 'Delete only if 9b1e07... is still the head'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store, lib) => {
      const options = await writeOptions(store, lib, args.key, args)
      const rev = await store.delete(args.key, options).catch((err: unknown) => {
        throw explain(err, { hint: writeConflictHint('delete', args.key, err) })
      })
      if (out.json) out.data(rev)
      else out.line(rev.id)
    })
  }
})
