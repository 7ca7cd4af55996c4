import type { Revision } from '../../src/index.js'
import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { besideGraph, graphStep } from '../graph.js'
import type { GraphStep, Lanes } from '../graph.js'
import { createPagedOutput } from '../output.js'
import { onelineText, revisionLines } from '../render.js'
import { withStore } from '../store-location.js'

interface LogArgs extends GlobalArgs {
  key: string
  n: number | undefined
  oneline: boolean
  'first-parent': boolean
  graph: boolean
}

/** `revkv log <key>`: the key's history, newest first, as `git log` shows it. */
export const log = defineCommand<LogArgs>({
  command: 'log <key>',
  describe: 'Show a key\'s history, newest first',
  builder: (y) => y
    .positional('key', { type: 'string', demandOption: true, describe: 'The key' })
    .option('n', { alias: 'max-count', type: 'number', requiresArg: true, describe: 'Show at most N revisions' })
    .option('oneline', { type: 'boolean', default: false, describe: 'One line per revision: short id and message' })
    .option('first-parent', { type: 'boolean', default: false, describe: 'Follow only first parents: the line of heads, without merged-in revisions' })
    .option('graph', { type: 'boolean', default: false, describe: 'Draw the history of merges as an ASCII graph beside the log' })
    .example('$0 log user:1', 'The whole history, newest first')
    .example('$0 log user:1 -n 5 --oneline', 'The last five revisions, one line each')
    .example('$0 log user:1 --graph --oneline', 'The history with its merges drawn as a graph')
    .example('$0 log user:1 --json', 'The revisions as a JSON array'),
  handler: async (args) => {
    const out = createPagedOutput(args)
    try {
      await withStore(args, async (store, lib) => {
        const head = await store.head(args.key)
        // store.log() yields nothing for a missing key; say so instead of printing an empty history.
        if (head === undefined) throw new lib.NotFoundError(`Key ${JSON.stringify(args.key)} does not exist.`)
        const history = store.log(args.key, { limit: args.n, firstParent: args.firstParent })
        if (out.json) {
          const revisions: Revision[] = []
          for await (const rev of history) revisions.push(rev)
          out.data(revisions)
          return
        }
        const c = out.color
        let lanes: Lanes = []
        let previous: GraphStep | undefined
        let first = true
        for await (const rev of history) {
          if (out.closed) break
          const text = args.oneline ? [onelineText(rev, c)] : revisionLines(rev, c, { head: rev.id === head.id })
          if (args.graph) {
            // With --first-parent the merged-in parents are not shown, so they get no lanes either.
            const step = graphStep(lanes, { id: rev.id, parents: args.firstParent ? rev.parents.slice(0, 1) : rev.parents })
            // The blank line between revisions belongs to the one above, so it carries that one's lanes.
            if (!args.oneline && previous !== undefined) out.line(previous.padding)
            for (const line of besideGraph(step, text)) out.line(line)
            lanes = step.lanes
            previous = step
          } else {
            if (!args.oneline && !first) out.line()
            for (const line of text) out.line(line)
          }
          first = false
        }
      })
    } finally {
      await out.end()
    }
  }
})
