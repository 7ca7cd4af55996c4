import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput } from '../output.js'
import { progress } from '../progress.js'
import { withStore } from '../store-location.js'

interface ImportArgs extends GlobalArgs {
  file: string | undefined
}

/** `revkv import [file]`: restore a dump from a file or standard input, all or nothing. */
export const importCommand = defineCommand<ImportArgs>({
  command: 'import [file]',
  describe: 'Restore a dump made by revkv export (from a file, or stdin); a tampered or truncated dump imports nothing',
  builder: (y) => y
    .positional('file', { type: 'string', describe: 'The dump; standard input when missing or -' })
    .example('$0 --db ./copy import dump.ndjson', 'Restore into another store')
    .example('$0 --remote http://127.0.0.1:7070 import < dump.ndjson', 'Restore into a served store while it serves'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store, lib) => {
      // yargs turns a lone '-' positional into '': both mean standard input.
      const fromStdin = args.file === undefined || args.file === '-' || args.file === ''
      const input = fromStdin ? process.stdin : createReadStream(args.file as string)
      input.on('error', () => {})
      const bar = await progress('import {value} lines read', args.json)
      let lines = 0
      async function * read (): AsyncGenerator<string> {
        try {
          for await (const line of createInterface({ input, crlfDelay: Infinity })) {
            bar.update(++lines)
            yield line
          }
        } catch (err) {
          throw new lib.InvalidInputError(`Cannot read ${fromStdin ? 'standard input' : args.file as string}: ${(err as Error).message}.`, { cause: err })
        }
      }
      const report = await store.import(read())
      bar.stop()
      if (out.json) out.data(report)
      else out.note(`Imported ${report.revisions.toLocaleString('en-US')} revisions of ${report.heads.toLocaleString('en-US')} keys.`)
    })
  }
})
