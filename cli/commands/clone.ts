import { existsSync, readdirSync } from 'node:fs'
import { defineCommand } from '../command.js'
import { loadLibrary } from '../library.js'
import type { GlobalArgs } from '../command.js'
import { createOutput, explain, shellQuote } from '../output.js'
import { describeLocation, openLocation, redactUrl, storeLimits, storeLocation } from '../store-location.js'
import { checkSettled, DEFAULT_REMOTE, noteReport, openPeer } from '../sync-peer.js'

interface CloneArgs extends GlobalArgs {
  source: string
  dir: string | undefined
  prefix: string | undefined
}

/**
 * `revkv clone <source> [dir]`: what `git clone` is, init + remote add origin + pull, done
 * in that order so that a clone cut short (a lost connection) resumes with `revkv pull`
 * instead of starting over.
 */
export const clone = defineCommand<CloneArgs>({
  command: 'clone <source> [dir]',
  describe: 'Make a new store holding everything another store has (a server URL, postgres:// URL or store directory), remembered as its remote origin',
  builder: (y) => y
    .positional('source', { type: 'string', demandOption: true, describe: 'The store to copy: a server URL (token: --token or REVKV_TOKEN), a postgres:// URL or a store directory' })
    .positional('dir', { type: 'string', describe: 'The new store: a directory that does not exist or is empty, or a postgres:// URL (default: --db, $REVKV_DB, else ./.revkv)' })
    .option('prefix', { type: 'string', requiresArg: true, describe: 'Only keys starting with this (later pulls and pushes name the same prefix)' })
    .example('$0 clone http://host:7070 ./copy', 'Copy a served store into ./copy; then revkv --db ./copy pull / push')
    .example('$0 clone ./data ./backup', 'Copy a store directory (not open in another process)'),
  handler: async (args) => {
    const out = createOutput(args)
    const lib = await loadLibrary()
    if (args.dir !== undefined && args.db !== undefined) throw new lib.InvalidInputError(`Give the new store once: as the [dir] of clone (${args.dir}) or as --db (${args.db}), not both.`)
    // Checked before anything is made, so a mistyped source leaves no store behind.
    lib.remoteLocation(args.source)
    const location = await storeLocation(args, args.dir)
    const where = describeLocation(location)
    const resume = `revkv --db ${shellQuote(location.engine === 'level' ? location.path : redactUrl(location.url))} pull`
    // A directory holding other files is refused (a store is not made among them); an empty
    // store, such as one a clone that failed to connect left, is cloned into.
    const occupied = location.engine === 'level' && existsSync(location.path) && readdirSync(location.path).length > 0
    const store = await openLocation(location, { create: !occupied, wait: args.wait, store: storeLimits(args) }).catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== 'REVKV_NOT_FOUND') throw err
      throw new lib.InvalidInputError(`Cannot clone into ${where}: the directory is not empty. Give a new or empty directory.`)
    })
    try {
      for await (const _ of store.keys()) throw new lib.InvalidInputError(`Cannot clone into ${where}: that store holds keys already. Bring changes into it instead: ${resume} ${shellQuote(args.source)}`)
      const origin = { name: DEFAULT_REMOTE, location: await store.setRemote(DEFAULT_REMOTE, args.source) as string }
      const source = await openPeer(origin, location, args, lib)
      try {
        const report = await store.pull(source.peer, args.prefix === undefined ? {} : { prefix: args.prefix }).catch((err: unknown) => {
          throw explain(err, { hint: [`What was copied stays, and the store remembers ${DEFAULT_REMOTE}: finish the clone with ${resume}`] })
        })
        if (out.json) out.data({ ...report, store: where, origin: redactUrl(origin.location) })
        noteReport(out, 'Cloned', `${source.label} into ${where}`, report)
        checkSettled(report)
      } finally {
        await source.close()
      }
    } finally {
      await store.close()
    }
  }
})
