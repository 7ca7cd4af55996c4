import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput, shellQuote } from '../output.js'
import { redactUrl } from '../store-location.js'
import { noSuchRemote, withLocalStore } from '../sync-peer.js'

interface RemoteArgs extends GlobalArgs {
  action: 'list' | 'add' | 'remove'
  name: string | undefined
  location: string | undefined
}

/** `revkv remote [list | add <name> <location> | remove <name>]`: the named stores this one syncs with. */
export const remote = defineCommand<RemoteArgs>({
  command: 'remote [action] [name] [location]',
  describe: 'List, add or remove named remotes: other stores pull, push and sync reach by name (clone sets origin)',
  builder: (y) => y
    .positional('action', { type: 'string', choices: ['list', 'add', 'remove'] as const, default: 'list' as const, describe: 'What to do' })
    .positional('name', { type: 'string', describe: 'The remote\'s name (add, remove)' })
    .positional('location', { type: 'string', describe: 'A server URL, a postgres:// URL or a store directory (add)' })
    .example('$0 remote add backup /mnt/backup/store', 'Name a store directory')
    .example('$0 remote add hq https://hq.example:7070', 'Name a server; its token is given when syncing (--token or REVKV_TOKEN), never kept')
    .example('$0 remote remove backup', 'Forget a name (nothing of either store changes)'),
  handler: async (args) => {
    const out = createOutput(args)
    await withLocalStore(args, 'remote', async (store, lib) => {
      const remotes = await store.remotes()
      const { action, name, location } = args
      if (action === 'list') {
        if (name !== undefined) throw new lib.InvalidInputError(`remote list takes nothing more, got ${JSON.stringify(name)}.`)
        // Passwords in postgres:// URLs are kept (a sync needs them) but never printed.
        const shown = Object.entries(remotes).map(([n, l]) => [n, redactUrl(l)])
        if (out.json) out.data(Object.fromEntries(shown))
        else for (const [n, l] of shown) out.line(`${n as string}\t${l as string}`)
        return
      }
      if (name === undefined) throw new lib.InvalidInputError(`remote ${action} needs the remote's name: revkv remote ${action} <name>${action === 'add' ? ' <location>' : ''}.`)
      if (action === 'add') {
        if (location === undefined) throw new lib.InvalidInputError(`remote add needs where the store is: revkv remote add ${shellQuote(name)} <server url, postgres:// URL or directory>.`)
        const known = remotes[name]
        if (known !== undefined) throw new lib.InvalidInputError(`This store has a remote named ${name} already (${redactUrl(known)}). Remove it first: revkv remote remove ${shellQuote(name)}`)
        const kept = await store.setRemote(name, location) as string
        if (out.json) out.data({ name, location: redactUrl(kept) })
        else out.note(`Added remote ${name}: ${redactUrl(kept)}`)
        return
      }
      if (location !== undefined) throw new lib.InvalidInputError(`remote remove takes only the name, got ${JSON.stringify(location)} too.`)
      if (remotes[name] === undefined) throw new lib.NotFoundError(noSuchRemote(name, remotes))
      await store.setRemote(name, undefined)
      if (out.json) out.data({ name, removed: true })
      else out.note(`Removed remote ${name}. Nothing of either store changed.`)
    })
  }
})
