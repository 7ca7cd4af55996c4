import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput } from '../output.js'
import { withStore } from '../store-location.js'

interface KeysArgs extends GlobalArgs {
  prefix: string | undefined
  n: number | undefined
}

/** `revkv keys`: the live (not deleted) keys, in order. */
export const keys = defineCommand<KeysArgs>({
  command: 'keys',
  describe: 'List the keys that exist (not deleted), in order',
  builder: (y) => y
    .option('prefix', { type: 'string', requiresArg: true, describe: 'Only keys starting with this' })
    .option('n', { alias: 'limit', type: 'number', requiresArg: true, describe: 'At most N keys' })
    .example('$0 keys --prefix user:', 'Every key starting with user:')
    .example('$0 keys -n 10 --json', 'The first ten keys as a JSON array'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store) => {
      const keys = store.keys({ prefix: args.prefix, limit: args.n })
      if (out.json) {
        const all: string[] = []
        for await (const key of keys) all.push(key)
        out.data(all)
        return
      }
      for await (const key of keys) {
        if (out.closed) break
        out.line(key)
      }
    })
  }
})
