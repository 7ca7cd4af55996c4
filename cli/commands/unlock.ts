import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput } from '../output.js'
import { withStore } from '../store-location.js'

interface UnlockArgs extends GlobalArgs {
  key: string
  'lease-token': number
}

/** `revkv unlock <key> <token>`: release a lease. */
export const unlock = defineCommand<UnlockArgs>({
  command: 'unlock <key> <lease-token>',
  describe: 'Release the lease with this token (exit 0 also when it had already ended)',
  builder: (y) => y
    .positional('key', { type: 'string', demandOption: true, describe: 'The key' })
    .positional('lease-token', { type: 'number', demandOption: true, describe: 'The lease\'s fencing token, as `revkv lock` printed it (not the server\'s --token)' })
    .example('$0 unlock doc 7', 'Release the lease with token 7 on doc'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store) => {
      const released = await store.unlock(args.key, args['lease-token'])
      out.note(released ? `Released the lease on ${args.key}.` : `The lease with token ${args['lease-token']} on ${args.key} had already ended; nothing to release.`)
      if (out.json) out.data({ released })
    })
  }
})
