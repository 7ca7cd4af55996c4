import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { readJsonInput } from '../input.js'
import { createOutput, explain, shortId } from '../output.js'
import { withStore } from '../store-location.js'
import { withWriteOptions, writeConflictHint, writeOptions } from '../write-options.js'

interface CommitArgs extends GlobalArgs {
  key: string
  value: string | undefined
  file: string | undefined
  create: boolean | undefined
  'on-exists': 'reject' | 'replace' | 'rename' | undefined
  parent: string | undefined
  strategy: 'reject' | 'lww' | 'merge' | 'manual' | undefined
  'on-conflict': 'ours' | 'theirs' | undefined
  message: string | undefined
  author: string | undefined
}

/** `revkv commit <key> [value]`: write a new revision of a key; prints its id. */
export const commit = defineCommand<CommitArgs>({
  command: 'commit <key> [value]',
  describe: 'Write a JSON value as the key\'s new revision; prints the revision id',
  builder: (y) => withWriteOptions(y
    .positional('key', { type: 'string', demandOption: true, describe: 'The key' })
    .positional('value', { type: 'string', describe: 'The value as JSON; without it (or with -) the value is read from --file or standard input' })
    // yargs re-parses positionals as `--value <arg>`, where a lone '-' would read as a flag and
    // become ''; taking exactly one argument keeps '-' (standard input) intact.
    .nargs('value', 1)
    .option('file', { alias: 'f', type: 'string', requiresArg: true, describe: 'Read the JSON value from this file (- = standard input)' })
    .option('create', { type: 'boolean', describe: 'Only create: fail (exit 1) if the key already exists, unless --on-exists says otherwise' })
    .option('on-exists', {
      choices: ['reject', 'replace', 'rename'] as const,
      describe: 'With --create, when the key exists: reject (exit 1, the default), replace (write on top of it) or rename (create "name (1).ext", the first free name; printed on stderr)'
    }))
    .conflicts('value', 'file')
    .conflicts('create', 'parent')
    .implies('on-exists', 'create')
    .example('$0 commit user:1 \'{"name":"Ada"}\' -m "add Ada"', 'Write a value given as an argument')
    .example('$0 commit user:1 --file user.json', 'Write the JSON in a file')
    .example('curl -s https://example.org/u/1 | $0 commit user:1', 'Write the JSON piped to standard input')
    .example('$0 commit user:1 \'{"name":"Ada L."}\' --parent 3f2a9c', 'Write only if 3f2a9c... is still the head')
    .example('$0 commit user:1 \'{"n":2}\' --parent HEAD~1 --strategy merge --on-conflict theirs', 'Three-way merge a stale write; take this write\'s side on conflicts')
    .example('$0 commit counter 0 --create', 'Create the key; exit 1 if it already exists')
    .example('$0 commit report.json -f r.json --create --on-exists rename', 'Create it, or "report (1).json" if taken')
    .example('$0 commit report.json -f r.json --create --on-exists replace', 'Create it, or write on top of it'),
  handler: async (args) => {
    const out = createOutput(args)
    // Read the value before opening the store: a slow or broken input never holds the lock.
    const value = await readJsonInput({ text: args.value, textName: 'the value argument', file: args.file })
    await withStore(args, async (store, lib) => {
      const options = await writeOptions(store, lib, args.key, args)
      const rev = await store.commit(args.key, value, options).catch((err: unknown) => {
        throw explain(err, { hint: writeConflictHint('commit', args.key, err) })
      })
      if (rev.key !== args.key) out.note(`Key ${JSON.stringify(args.key)} exists; created ${JSON.stringify(rev.key)} instead.`)
      if (rev.parents.length > 1) {
        out.note(`The parent was stale; strategy ${rev.strategy ?? '?'} merged this write (${shortId(rev.parents[1] ?? '')}) into the head.`)
      }
      if (out.json) out.data(rev)
      else out.line(rev.id)
    })
  }
})
