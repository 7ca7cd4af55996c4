import type { Store } from '../../src/index.js'
import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput } from '../output.js'
import { loadLibrary } from '../library.js'
import { describeLocation, openLocation, redactUrl, remoteUrl, storeLocation } from '../store-location.js'

interface InitArgs extends GlobalArgs {
  dir: string | undefined
}

/** `revkv init [dir]`: create a store; an existing one is left as it is. */
export const init = defineCommand<InitArgs>({
  command: 'init [dir]',
  describe: 'Create a store (in dir, else --db, $REVKV_DB or ./.revkv; a postgres:// URL creates the schema)',
  builder: (y) => y
    .positional('dir', { type: 'string', describe: 'Directory for the store, created if missing; or a postgres:// URL' })
    .example('$0 init', 'Create ./.revkv')
    .example('$0 init /var/lib/app/kv', 'Create a store there; then pass --db /var/lib/app/kv or set REVKV_DB')
    .example('$0 --db postgres://app@db:5432/app --schema kv init', 'Create the schema kv and its tables in PostgreSQL (safe while other processes do the same)'),
  handler: async (args) => {
    const out = createOutput(args)
    if (remoteUrl(args) !== undefined) {
      const { InvalidInputError } = await loadLibrary()
      throw new InvalidInputError('revkv init creates a local store; it does not work with --remote / REVKV_REMOTE (the server already has its store).')
    }
    const location = await storeLocation(args, args.dir)
    let created = false
    let store: Store
    try {
      // Opening without creating first tells "already there" from "made now".
      store = await openLocation(location, { create: false, wait: args.wait })
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'REVKV_NOT_FOUND') throw err
      store = await openLocation(location, { create: true, wait: args.wait })
      created = true
    }
    await store.close()
    const path = describeLocation(location)
    if (out.json) out.data(location.engine === 'level' ? { path, created } : { postgres: redactUrl(location.url), schema: location.schema, created })
    else out.line(created ? `Initialized empty revkv store in ${path}` : `A revkv store already exists in ${path}; left it as it is.`)
  }
})
