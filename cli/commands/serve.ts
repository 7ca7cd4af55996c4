import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { loadLibrary } from '../library.js'
import { createOutput } from '../output.js'
import { describeLocation, openLocation, redactUrl, remoteUrl, storeLimits, storeLocation } from '../store-location.js'
import { packageVersion } from '../version.js'

interface ServeArgs extends GlobalArgs {
  port: number
  host: string
  'require-parent': boolean
  'read-only': boolean
  'body-limit': number | undefined
  quiet: boolean
  strategy: string | undefined
  sync: boolean
}

/** `revkv serve`: share one store with many processes over HTTP, until SIGINT or SIGTERM. */
export const serveCommand = defineCommand<ServeArgs>({
  command: 'serve',
  describe: 'Serve the store over HTTP (ETag / If-Match, 409 Conflict, problem+json) so many processes can share it',
  builder: (y) => y
    .option('port', { type: 'number', default: 7070, requiresArg: true, describe: 'Port to listen on; 0 picks a free one (the URL is printed)' })
    .option('host', { type: 'string', default: '127.0.0.1', requiresArg: true, describe: 'Interface to bind; loopback unless you say otherwise' })
    .option('require-parent', { type: 'boolean', default: false, describe: 'Answer 428 to writes naming no parent and no If-Match / If-None-Match' })
    .option('read-only', { type: 'boolean', default: false, describe: 'Answer 403 to anything that would change the store (writes, merges, leases, import, compact, pushes); reads and pulls go on' })
    .option('body-limit', { type: 'number', requiresArg: true, describe: 'Largest request body in bytes (default: --max-value-bytes + 64 KiB, so any storable value fits)' })
    .option('quiet', { type: 'boolean', default: false, describe: 'Do not log one line per request' })
    .option('strategy', { type: 'string', requiresArg: true, describe: 'The store\'s default strategy for stale writes (default reject)' })
    .option('sync', { type: 'boolean', default: false, describe: 'fsync every write batch before answering' })
    .example('$0 serve --db ./data', 'Serve ./data on http://127.0.0.1:7070')
    .example('$0 serve --db postgres://app@db:5432/app --host 0.0.0.0', 'One of several servers, on several machines, sharing one PostgreSQL store')
    .example('$0 serve --port 0 --token s3cret --require-parent', 'A free port, a bearer token, no blind overwrites')
    .example('$0 --max-value-bytes 20000000 serve', 'Take values up to 20 MB (the body limit follows)')
    .example('$0 --remote http://127.0.0.1:7070 get user:1', 'Then any command works through the server'),
  handler: async (args) => {
    const out = createOutput(args)
    const lib = await loadLibrary()
    if (remoteUrl(args) !== undefined) throw new lib.InvalidInputError('revkv serve serves a store it opens itself (--db, a directory or a postgres:// URL); it cannot serve a --remote one.')
    for (const [name, value] of [['port', args.port], ['body-limit', args['body-limit']]] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < 0 || (name === 'port' && value > 65535))) {
        throw new lib.InvalidInputError(`--${name} must be a whole number${name === 'port' ? ' from 0 to 65535' : ' of bytes'}, got ${String(value)}.`)
      }
    }
    const token = args.token ?? (process.env.REVKV_TOKEN === '' ? undefined : process.env.REVKV_TOKEN)
    const location = await storeLocation(args)
    const store = await openLocation(location, { create: false, wait: args.wait, store: { ...storeLimits(args), sync: args.sync, ...(args.strategy === undefined ? {} : { strategy: args.strategy }) } })
    const bodyLimit = args['body-limit']
    if (bodyLimit !== undefined && bodyLimit < store.maxValueBytes) out.note(`Note: --body-limit ${bodyLimit} is below the value limit (--max-value-bytes ${store.maxValueBytes}): values between the two get 413.`)
    const { serve } = await import('../../src/server/index.js')
    const server = await serve(store, {
      port: args.port,
      host: args.host,
      token,
      requireParent: args['require-parent'],
      readOnly: args['read-only'],
      bodyLimit: args['body-limit'],
      version: packageVersion(),
      log: args.quiet ? undefined : (line) => { process.stderr.write(`${line}\n`) }
    })
    if (out.json) out.data({ url: server.url, db: location.engine === 'level' ? location.path : redactUrl(location.url), ...(location.engine === 'postgres' ? { schema: location.schema } : {}) })
    else out.line(server.url)
    out.note(`revkv serving ${describeLocation(location)} at ${server.url}${token === undefined ? '' : ' (bearer token required)'}; Ctrl-C stops it.`)
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        out.note(`${signal}: finishing requests under way, then closing the store...`)
        server.close().then(resolve, (err: unknown) => { process.stderr.write(`${String(err)}\n`); resolve() })
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
  }
})
