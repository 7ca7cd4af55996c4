import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput } from '../output.js'
import { progress } from '../progress.js'
import { withStore } from '../store-location.js'

interface ExportArgs extends GlobalArgs {
  prefix: string | undefined
}

/** `revkv export`: every revision and head as NDJSON on stdout, parents before children. */
export const exportCommand = defineCommand<ExportArgs>({
  command: 'export',
  describe: 'Write every revision (parents first) and every head as NDJSON on stdout',
  builder: (y) => y
    .option('prefix', { type: 'string', requiresArg: true, describe: 'Only keys starting with this' })
    .example('$0 export > dump.ndjson', 'The whole store')
    .example('$0 export --prefix user: | gzip > users.ndjson.gz', 'Some keys, compressed')
    .example('$0 --remote http://127.0.0.1:7070 export > backup.ndjson', 'Back up a served store while it serves: one consistent moment'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store) => {
      const bar = await progress('export {value} lines', false)
      let lines = 0
      for await (const line of store.export({ ...(args.prefix === undefined ? {} : { prefix: args.prefix }) })) {
        if (out.closed) break
        out.line(line)
        bar.update(++lines)
      }
      bar.stop()
    })
  }
})
