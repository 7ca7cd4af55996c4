import type { MergeOptions, PlaceResolution } from '../../src/index.js'
import type { Library } from '../library.js'
import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { readJsonInput } from '../input.js'
import { aligned, commandLine, createOutput, explain, shortId } from '../output.js'
import { withStore } from '../store-location.js'
import { authorOf, lockedHint, SIDES, withAuthorship, withLock } from '../write-options.js'

interface MergeArgs extends GlobalArgs {
  key: string
  rev: string
  strategy: 'lww' | 'merge' | undefined
  'on-conflict': 'ours' | 'theirs' | undefined
  take: string[] | undefined
  value: string | undefined
  file: string | undefined
  message: string | undefined
  author: string | undefined
  lock: number | undefined
}

/** `revkv merge <key> <rev>`: join a revision (a kept conflict or any side revision) into the head. */
export const merge = defineCommand<MergeArgs>({
  command: 'merge <key> <rev>',
  describe: 'Settle a kept conflict or merge a side revision into the head; prints the new head id',
  builder: (y) => withLock(withAuthorship(y
    .positional('key', { type: 'string', demandOption: true, describe: 'The key' })
    .positional('rev', { type: 'string', demandOption: true, describe: 'The revision to merge: an id prefix (4+ hex), HEAD~N' })
    .option('strategy', { choices: ['lww', 'merge'] as const, describe: 'How to join: merge (three-way JSON merge, the default) or lww (the later revision wins)' })
    .option('on-conflict', { choices: SIDES, describe: 'With the merge strategy: settle places changed on both sides with this side' })
    .option('take', {
      type: 'string',
      array: true,
      requiresArg: true,
      describe: 'Settle one conflicting place: <path>=ours, theirs or base, or <path>=<json> for a value of your own (repeat for more places; the rest still conflict)'
    })
    .option('value', { type: 'string', requiresArg: true, describe: 'The merged value as JSON, written as is (- = standard input)' })
    .option('file', { alias: 'f', type: 'string', requiresArg: true, describe: 'Read the merged value from this file (- = standard input)' })))
    .conflicts('value', ['file', 'strategy', 'on-conflict', 'take'])
    .conflicts('file', ['strategy', 'on-conflict', 'take'])
    .example('$0 merge user:1 7c41d2', 'Three-way merge revision 7c41d2... into the head')
    .example('$0 merge user:1 7c41d2 --on-conflict theirs', 'Merge; where both sides changed, take 7c41d2\'s side')
    .example('$0 merge user:1 7c41d2 --take /name=ours --take /tags/1=theirs', 'Settle two places; the merge fails if others conflict')
    .example('$0 merge user:1 7c41d2 --take \'/age=42\'', 'Settle a place with a value of your own (JSON)')
    .example('$0 merge user:1 7c41d2 --strategy lww', 'The later of the two revisions wins')
    .example('$0 merge user:1 7c41d2 --value \'{"name":"Ada"}\'', 'Settle it with a value you write'),
  handler: async (args) => {
    const out = createOutput(args)
    const given = args.value !== undefined || args.file !== undefined
    const value = given ? await readJsonInput({ text: args.value, textName: '--value', file: args.file }) : undefined
    await withStore(args, async (store, lib) => {
      const side = await store.resolveRevision(args.rev, { key: args.key })
      const before = await store.head(args.key)
      const options: MergeOptions = { author: authorOf(args.author), message: args.message }
      if (value !== undefined) options.value = value
      if (args.strategy !== undefined) options.strategy = args.strategy
      if (args.onConflict !== undefined) options.onConflict = args.onConflict
      if (args.take !== undefined) options.resolutions = resolutionsOf(lib, args.take)
      if (args.lock !== undefined) options.lock = args.lock
      const rev = await store.merge(args.key, side, options).catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== 'REVKV_MERGE_CONFLICT') throw explain(err, { hint: lockedHint(args.key, err) })
        const merge = (options: string): string => commandLine('merge', [args.key, shortId(side)], options)
        throw explain(err, {
          expected: 'merging',
          actual: 'into head',
          hint: [
            'Nothing was written. Settle it with one of:',
            ...aligned([
              [merge('--take <path>=theirs'), 'settle one place (ours, theirs, base or <json>); repeat for each'],
              [merge('--on-conflict theirs'), `take ${shortId(side)}'s side where both changed (or ours)`],
              [merge('--value \'<json>\''), 'write the merged value yourself (or --file <path>)']
            ])
          ]
        })
      })
      if (rev.id === before?.id) {
        // Nothing was written, so the value given would be silently dropped: say so instead.
        if (value !== undefined) {
          throw new lib.InvalidInputError(`Revision ${shortId(side)} is already part of the head's history, so there is nothing to merge and the value was not written. To write it as the new head, run: ${commandLine('commit', [args.key], `--parent ${shortId(rev.id)} --file <path>`)} (or give the value as an argument).`)
        }
        out.note(`Already merged: ${shortId(side)} is part of the head's history; nothing to do.`)
      }
      if (out.json) out.data(rev)
      else out.line(rev.id)
    })
  }
})

/**
 * --take arguments as resolutions. The pointer ends at the first '=', except before a side
 * name at the end (`/a=b=ours`), so a pointer may hold '=' when a side is taken.
 */
function resolutionsOf (lib: Library, takes: string[]): Record<string, PlaceResolution> {
  const resolutions: Record<string, PlaceResolution> = {}
  for (const take of takes) {
    const side = /^(.*)=(ours|theirs|base)$/s.exec(take)
    const at = take.indexOf('=')
    if (side === null && at === -1) throw new lib.InvalidInputError(`--take ${JSON.stringify(take)} needs <path>=ours, theirs, base or a JSON value, like --take /a/b=theirs.`)
    const path = side === null ? take.slice(0, at) : side[1] as string
    if (Object.hasOwn(resolutions, path)) throw new lib.InvalidInputError(`--take names ${path === '' ? 'the whole value' : path} twice; give each place once.`)
    resolutions[path] = side === null ? { value: lib.parseJsonText(take.slice(at + 1), `the value of --take ${path}`) } : side[2] as 'ours' | 'theirs' | 'base'
  }
  return resolutions
}
