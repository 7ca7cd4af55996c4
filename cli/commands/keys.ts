import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput, quoteKey } from '../output.js'
import { withStore } from '../store-location.js'
import { asOfArg } from '../as-of.js'

interface KeysArgs extends GlobalArgs {
  prefix: string | undefined
  n: number | undefined
  z: boolean
  'as-of': string | undefined
}

/** `revkv keys`: the live (not deleted) keys, in order; unusual ones quoted as git quotes paths. */
export const keys = defineCommand<KeysArgs>({
  command: 'keys',
  describe: 'List the keys that exist (not deleted), in order',
  builder: (y) => y
    .option('prefix', { type: 'string', requiresArg: true, describe: 'Only keys starting with this' })
    .option('n', { alias: 'limit', type: 'number', requiresArg: true, describe: 'At most N keys' })
    .option('z', { type: 'boolean', default: false, describe: 'End each key with a NUL byte instead of a newline, and print it raw (for xargs -0)' })
    .option('as-of', { type: 'string', requiresArg: true, describe: 'The keys that existed (not deleted) then: an ISO 8601 time with a zone, epoch ms, or @N (changes-feed sequence number N)' })
    .example('$0 keys --prefix user:', 'Every key starting with user:')
    .example('$0 keys -n 10 --json', 'The first ten keys as a JSON array')
    .example('$0 keys -z | xargs -0 -n 1 revkv get --', 'Every value, whatever characters the keys hold')
    .example('$0 keys --as-of 2026-12-01T10:00Z', 'The keys that existed at 10:00 UTC on 1 December 2026'),
  handler: async (args) => {
    const out = createOutput(args)
    const asOf = await asOfArg(args['as-of'])
    await withStore(args, async (store, lib) => {
      if (args.z && args.json) throw new lib.InvalidInputError('-z and --json do not go together: each prints every key unambiguously, -z NUL-terminated, --json as a JSON array.')
      const keys = store.keys({ prefix: args.prefix, limit: args.n, ...asOf })
      if (out.json) {
        const all: string[] = []
        for await (const key of keys) all.push(key)
        out.data(all)
        return
      }
      for await (const key of keys) {
        if (out.closed) break
        // A key with a newline must not read as two: quote it, or end it with NUL under -z.
        if (args.z) out.text(`${key}\0`)
        else out.line(quoteKey(key))
      }
    })
  }
})
