import type { BatchOp, JsonValue } from '../../src/index.js'
import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { loadLibrary } from '../library.js'
import { readTextInput } from '../input.js'
import { createOutput } from '../output.js'
import { withStore } from '../store-location.js'

interface BatchArgs extends GlobalArgs {
  file: string | undefined
  message: string | undefined
  author: string | undefined
}

/** `revkv batch [file]`: apply NDJSON ops (one `{ type, key, value?, parent?, strategy? }` per line) as one all-or-nothing batch. */
export const batch = defineCommand<BatchArgs>({
  command: 'batch [file]',
  describe: 'Apply several writes to distinct keys, all or nothing: NDJSON ops, one per line, from a file or stdin; prints each key\'s new head',
  builder: (y) => y
    .positional('file', { type: 'string', describe: 'The ops, one JSON object per line ({"type":"commit","key":"k","value":1,"parent":"<rev>","strategy":"merge"}); standard input when missing or -' })
    .option('message', { alias: 'm', type: 'string', requiresArg: true, describe: 'The message of every revision the batch writes' })
    .option('author', { type: 'string', requiresArg: true, describe: 'The author of every revision the batch writes' })
    .example('$0 batch transfer.ndjson -m "a pays b 30"', 'Write every op in the file, or none')
    .example('printf \'%s\\n\' \'{"type":"commit","key":"a","value":70,"parent":"HEAD"}\' \'{"type":"delete","key":"b"}\' | $0 batch', 'Ops from standard input; parents may be HEAD, HEAD~N or a unique prefix'),
  handler: async (args) => {
    const out = createOutput(args)
    // Read the ops before opening the store: a slow or broken input never holds the lock.
    const ops = await readOps(args.file)
    await withStore(args, async (store) => {
      for (const op of ops) {
        // Parents as people type them (HEAD, HEAD~1, a prefix), resolved on the op's key.
        if (typeof op.parent === 'string' && !/^[0-9a-f]{64}$/.test(op.parent) && typeof op.key === 'string') {
          op.parent = await store.resolveRevision(op.parent, { key: op.key })
        }
      }
      const revisions = await store.batch(ops, {
        ...(args.message === undefined ? {} : { message: args.message }),
        ...(args.author === undefined ? {} : { author: args.author })
      })
      if (out.json) out.data(revisions)
      else for (const rev of revisions) out.line(`${rev.id} ${rev.key}`)
    })
  }
})

/** The ops of an NDJSON file or standard input; a line that is not JSON is refused with its number (exit 2). */
async function readOps (file: string | undefined): Promise<BatchOp[]> {
  const { InvalidInputError, parseJsonText } = await loadLibrary()
  const { text, name } = await readTextInput({ textName: 'the ops', file, fileName: file ?? '' }, 'batch ops, one JSON object per line,')
  const ops: JsonValue[] = []
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    ops.push(parseJsonText(line, `line ${i + 1} of ${name}`))
  }
  if (ops.length === 0) throw new InvalidInputError(`${name} holds no ops; write one JSON object per line, like {"type":"commit","key":"k","value":1}.`)
  // Their shape is checked by store.batch(), which names the op at fault.
  return ops as unknown as BatchOp[]
}
