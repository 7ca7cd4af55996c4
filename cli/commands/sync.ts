import { setTimeout as sleep } from 'node:timers/promises'
import type { SyncReport } from '../../src/index.js'
import { defineCommand } from '../command.js'
import { parseDuration } from '../duration.js'
import { createOutput } from '../output.js'
import { storeLocation } from '../store-location.js'
import { checkSettled, nothingDone, noteReport, openPeer, peerLocation, withLocalStore } from '../sync-peer.js'
import { syncOptions, withSyncOptions } from './pull-push.js'
import type { SyncArgs } from './pull-push.js'

interface SyncCommandArgs extends SyncArgs {
  follow: boolean
  interval: number
}

/** One round of a sync: a pull, then a push of what this store has that the other lacks (its merges included). */
interface Round {
  label: string
  pull: SyncReport
  push: SyncReport
}

/**
 * `revkv sync [store]`: pull then push, so both stores end with the same heads; with
 * --follow, again every --interval until SIGINT or SIGTERM. Each round opens both stores
 * and closes them after, so between rounds other revkv commands can use a store directory
 * (LevelDB lets one process at a time hold it) and a restarted server is simply reached
 * again. A failed round (the server down) is reported and tried again at the next one;
 * only the first round's failure ends the command, since that one is a wrong name, URL or
 * token far more often than an outage.
 */
export const sync = defineCommand<SyncCommandArgs>({
  command: 'sync [store]',
  describe: 'Pull, then push, so both stores have the same heads; --follow keeps them in step until stopped',
  builder: (y) => withSyncOptions(y, 'on the side whose head moves')
    .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'Sync again every --interval until SIGINT or SIGTERM (finishing the round under way)' })
    .option('interval', { type: 'string', default: '2s', requiresArg: true, describe: 'With --follow: the pause between rounds (500ms, 2s, 1m)', coerce: (text: string) => parseDuration(text, '--interval') })
    .example('$0 --db ./copy sync', 'Pull from origin, then push to it')
    .example('$0 --db ./copy sync --follow --interval 5s --json', 'Keep ./copy and origin in step; one JSON line per round that changed something'),
  handler: async (args) => {
    const out = createOutput(args)
    const round = async (): Promise<Round> => await withLocalStore(args, 'sync', async (store, lib) => {
      const other = await openPeer(await peerLocation(store, args.store, lib), await storeLocation(args), args, lib)
      try {
        const pull = await store.pull(other.peer, syncOptions(args))
        return { label: other.label, pull, push: await store.push(other.peer, syncOptions(args)) }
      } finally {
        await other.close()
      }
    })
    const show = (r: Round): void => {
      noteReport(out, 'Pulled from', r.label, r.pull)
      noteReport(out, 'Pushed to', r.label, r.push)
    }
    if (!args.follow) {
      const r = await round()
      if (out.json) out.data({ pull: r.pull, push: r.push })
      show(r)
      checkSettled(r.pull, r.push)
      return
    }
    const stop = new AbortController()
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { stop.abort() })
    for (let n = 1; !stop.signal.aborted; n++) {
      try {
        const r = await round()
        if (n === 1 || !nothingDone(r.pull) || !nothingDone(r.push)) {
          // One JSON object a line, as changes --follow prints, so a reader can act on each.
          if (out.json) out.line(JSON.stringify({ round: n, time: new Date().toISOString(), pull: r.pull, push: r.push }))
          show(r)
        }
      } catch (err) {
        if (n === 1) throw err
        out.note(`revkv sync: round ${n} failed, trying again in ${args.interval} ms: ${err instanceof Error ? err.message : String(err)}`)
      }
      await sleep(args.interval, undefined, { signal: stop.signal }).catch(() => {})
    }
  }
})
