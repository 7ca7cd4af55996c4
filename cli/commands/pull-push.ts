import type { Argv } from 'yargs'
import { defineCommand } from '../command.js'
import type { Command, GlobalArgs } from '../command.js'
import { createOutput } from '../output.js'
import { storeLocation } from '../store-location.js'
import { checkSettled, noteReport, openPeer, peerLocation, withLocalStore } from '../sync-peer.js'
import { WRITE_STRATEGIES } from '../write-options.js'

/** What pull, push and sync take beside the global options. */
export interface SyncArgs extends GlobalArgs {
  store: string | undefined
  prefix: string | undefined
  strategy: typeof WRITE_STRATEGIES[number] | undefined
  full: boolean
}

/** The remote positional and the options of a sync (pull, push, sync). */
export function withSyncOptions (y: Argv<GlobalArgs>, settles: string): Argv<SyncArgs> {
  return y
    // Not named remote: the global --remote (this command's store served) is another thing.
    .positional('store', { type: 'string', describe: 'A remote name (default origin, set by clone), or a server URL, postgres:// URL or store directory' })
    .option('prefix', { type: 'string', requiresArg: true, describe: 'Only keys starting with this' })
    .option('strategy', { type: 'string', choices: WRITE_STRATEGIES, requiresArg: true, describe: `How keys changed on both sides are settled ${settles} (default: the strategy of each key there)` })
    .option('full', { type: 'boolean', default: false, describe: 'Compare every key, not only those changed since the last sync' })
}

/** The library's options of a sync, from the command line's. */
export function syncOptions (args: SyncArgs): { prefix?: string, strategy?: string, full: boolean } {
  return { ...(args.prefix === undefined ? {} : { prefix: args.prefix }), ...(args.strategy === undefined ? {} : { strategy: args.strategy }), full: args.full }
}

/** `revkv pull` or `revkv push`: one sync in one direction with a remote. */
function transferCommand (direction: 'pull' | 'push'): Command {
  const pulling = direction === 'pull'
  return defineCommand<SyncArgs>({
    command: `${direction} [store]`,
    describe: pulling
      ? 'Bring in what another store has that this one lacks (only what changed since the last pull); diverged keys are settled by their strategy here'
      : 'Send another store what this one has that it lacks; diverged keys are settled by their strategy there',
    builder: (y) => withSyncOptions(y, pulling ? 'here' : 'on the other side')
      .example(`$0 --db ./copy ${direction}`, pulling ? 'Pull from origin (the store it was cloned from)' : 'Push to origin')
      .example(`$0 --db ./copy ${direction} http://host:7070 --prefix user:`, pulling ? 'Pull keys under user: from a server (token: --token or REVKV_TOKEN)' : 'Push keys under user: to a server')
      .example(`$0 --db ./copy ${direction} ./other --strategy lww`, pulling ? 'Pull from a store directory; keys changed on both sides: the later write wins, the other kept in history' : 'Push to a store directory, settled there by last write wins'),
    handler: async (args) => {
      const out = createOutput(args)
      await withLocalStore(args, direction, async (store, lib) => {
        const target = await peerLocation(store, args.store, lib)
        const other = await openPeer(target, await storeLocation(args), args, lib)
        try {
          const report = pulling ? await store.pull(other.peer, syncOptions(args)) : await store.push(other.peer, syncOptions(args))
          if (out.json) out.data(report)
          noteReport(out, pulling ? 'Pulled from' : 'Pushed to', other.label, report)
          checkSettled(report)
        } finally {
          await other.close()
        }
      })
    }
  })
}

/** `revkv pull [remote]`. */
export const pull = transferCommand('pull')
/** `revkv push [remote]`. */
export const push = transferCommand('push')
