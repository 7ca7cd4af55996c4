import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { parseDuration } from '../duration.js'
import { createOutput } from '../output.js'
import { withStore } from '../store-location.js'
import { describeLease } from '../write-options.js'

interface RenewArgs extends GlobalArgs {
  key: string
  'lease-token': number
  ttl: number
}

/** `revkv renew <key> <token>`: extend a live lease. */
export const renew = defineCommand<RenewArgs>({
  command: 'renew <key> <lease-token>',
  describe: 'Extend a live lease to --ttl from now (an ended lease cannot be renewed: exit 4)',
  builder: (y) => y
    .positional('key', { type: 'string', demandOption: true, describe: 'The key' })
    .positional('lease-token', { type: 'number', demandOption: true, describe: 'The lease\'s fencing token, as `revkv lock` printed it (not the server\'s --token)' })
    .option('ttl', { type: 'string', default: '30s', requiresArg: true, describe: 'The lease\'s new duration from now (500ms, 30s, 5m, 1h; at most 24h)', coerce: (text: string) => parseDuration(text, '--ttl') })
    .example('$0 renew doc 7 --ttl 5m', 'Hold the lease with token 7 for five more minutes'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store) => {
      const lease = await store.renew(args.key, args['lease-token'], { ttl: args.ttl })
      if (out.json) out.data(lease)
      else out.line(`${describeLease(lease)}`)
    })
  }
})
