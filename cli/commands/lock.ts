import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { parseDuration } from '../duration.js'
import { createOutput, shellQuote } from '../output.js'
import { withStore } from '../store-location.js'
import { authorOf, describeLease } from '../write-options.js'

interface LockArgs extends GlobalArgs {
  key: string
  ttl: number
  owner: string | undefined
}

/** The store-open wait of the global options, when `--wait` means the lease wait here. */
const OPEN_WAIT_MS = 3000

/** `revkv lock <key>`: take the lease on a key; prints its fencing token. */
export const lock = defineCommand<LockArgs>({
  command: 'lock <key>',
  describe: 'Take the lease on a key (it need not exist): other writes are refused (exit 4) until it ends; prints the fencing token',
  builder: (y) => y
    .positional('key', { type: 'string', demandOption: true, describe: 'The key' })
    .option('ttl', { type: 'string', default: '30s', requiresArg: true, describe: 'How long the lease lasts (500ms, 30s, 5m, 1h; at most 24h)', coerce: (text: string) => parseDuration(text, '--ttl') })
    .option('owner', { type: 'string', requiresArg: true, describe: 'Who holds it, shown to refused writers (default: $REVKV_AUTHOR, else your user name)' })
    // Here --wait is how long to queue for a held lease (it also bounds waiting for the store).
    .option('wait', { type: 'string', default: '0', requiresArg: true, describe: 'Queue this long for a held lease, first come first served (e.g. 5s; default: fail at once)', coerce: (text: string) => parseDuration(text, '--wait') })
    .example('$0 lock report.json --ttl 5m --owner nightly-job', 'Take a five-minute lease; prints the token')
    .example('T=$($0 lock doc --wait 10s) && $0 commit doc \'{"v":2}\' --lock $T && $0 unlock doc $T', 'Lock, write under the lease, release')
    .example('$0 lock doc --json', 'The lease as JSON: { key, token, owner, expires }'),
  handler: async (args) => {
    const out = createOutput(args)
    const wait = args.wait
    await withStore({ ...args, wait: Math.max(wait, OPEN_WAIT_MS) }, async (store) => {
      const owner = args.owner ?? authorOf(undefined)
      const lease = await store.lock(args.key, { ttl: args.ttl, wait, ...(owner === undefined ? {} : { owner }) })
      out.note(`${describeLease(lease)}. Write with --lock ${lease.token}; release with: revkv unlock ${shellQuote(args.key)} ${lease.token}`)
      if (out.json) out.data(lease)
      else out.line(String(lease.token))
    })
  }
})
