import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput } from '../output.js'
import { withStore } from '../store-location.js'

interface LocksArgs extends GlobalArgs {
  prefix: string | undefined
}

/** `revkv locks`: the live leases. */
export const locks = defineCommand<LocksArgs>({
  command: 'locks',
  describe: 'List the live leases: key, token, owner and when each ends',
  builder: (y) => y
    .option('prefix', { type: 'string', requiresArg: true, describe: 'Only keys starting with this' })
    .example('$0 locks', 'Every live lease')
    .example('$0 locks --prefix report --json', 'Leases on keys starting with report, as JSON'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store) => {
      const leases = await store.locks(args.prefix === undefined ? {} : { prefix: args.prefix })
      if (out.json) {
        out.data(leases)
        return
      }
      for (const lease of leases) out.line(`${lease.key}\t${lease.token}\t${lease.owner}\t${new Date(lease.expires).toISOString()}`)
    })
  }
})
