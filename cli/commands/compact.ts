import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput } from '../output.js'
import { withStore } from '../store-location.js'

interface CompactArgs extends GlobalArgs {
  keep: number
  prefix: string | undefined
}

/** `revkv compact --keep N`: cut old history, keep the newest N revisions of each key. */
export const compact = defineCommand<CompactArgs>({
  command: 'compact',
  describe: 'Drop old history: keep the newest N revisions of each key (and what kept conflicts need), give the space back',
  builder: (y) => y
    .option('keep', { type: 'number', demandOption: true, requiresArg: true, describe: 'Revisions to keep per key on the first-parent line' })
    .option('prefix', { type: 'string', requiresArg: true, describe: 'Only keys starting with this' })
    .example('$0 compact --keep 100', 'Keep the last 100 revisions of every key')
    .example('$0 --remote http://127.0.0.1:7070 compact --keep 10 --prefix logs:', 'Compact a served store while it serves'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store) => {
      const report = await store.compact({ keep: args.keep, ...(args.prefix === undefined ? {} : { prefix: args.prefix }) })
      if (out.json) out.data(report)
      else out.note(`Dropped ${report.dropped.toLocaleString('en-US')} revisions of ${report.keys.toLocaleString('en-US')} keys.`)
    })
  }
})
