import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { RemoteStore, Store } from '../../src/index.js'
import type { SyncPeer, SyncReport } from '../../src/index.js'
import { serve } from '../../src/server/index.js'
import type { RunningServer } from '../../src/server/index.js'
import { freshDir, removeDir } from '../disk.js'
import { fillStore, userKey } from '../fill.js'
import { RssSampler } from '../memory.js'
import { Payloads } from '../payload.js'
import { settleLevelDB } from '../settle.js'
import type { ScenarioContext, SyncCopy, SyncPull, SyncResult } from '../types.js'
import { forEachConcurrently } from '../verify.js'
import { measure } from './dump.js'

/** Options of the `sync` workload. */
export interface SyncBenchOptions {
  /** Keys in the source store. */
  keys: number
  /** Revisions per key (a chain: each revision the parent of the next). */
  revisionsPerKey: number
  /** Keys changed on the source (one commit each) before the incremental pulls. */
  changedKeys: number
}

/** Defaults of the `sync` workload: the size, 100,000 keys of 10 revisions each. */
export const defaults: SyncBenchOptions = { keys: 100_000, revisionsPerKey: 10, changedKeys: 100 }

/** Creates per batch while building the source: large batches, as a bulk load would write. */
const BUILD_BATCH = 1000

/**
 * Issue 14's sync benchmark. A source store of `keys` keys with `revisionsPerKey`
 * revisions each is built with batches (not timed), then copied whole three ways, each
 * timed with its peak resident memory: a clone over HTTP (the source behind the project's
 * own server, pulled by a RemoteStore), a clone store to store in this process, and
 * export | import (the source's export() fed straight into an empty store's import(), the
 * reference). The clone over HTTP runs first, so it is the copy that meets the source's
 * cold caches. Then `changedKeys` keys get one commit each on the source and each clone
 * pulls again: the pull must cost what changed, not what the store holds. Every copy's
 * heads are then compared with the source's, key by key; every revision was re-hashed and
 * checked on arrival by the copy itself.
 */
export async function run (ctx: ScenarioContext, options: SyncBenchOptions = defaults): Promise<SyncResult> {
  const dir = freshDir(ctx.dir, 'sync')
  const rss = new RssSampler()
  const payloads = new Payloads(ctx.valueSize, ctx.seed)
  const revisions = options.keys * options.revisionsPerKey
  const sourcePath = join(dir, 'source')
  const opened: Array<Store | RemoteStore> = []
  let server: RunningServer | undefined
  try {
    const buildStart = performance.now()
    const builder = await Store.open({ path: sourcePath })
    for (let round = 0; round < options.revisionsPerKey; round++) {
      ctx.status?.(`sync: building revision ${round + 1} of ${options.revisionsPerKey} on ${options.keys.toLocaleString('en-US')} keys`)
      await fillStore(builder, options.keys, BUILD_BATCH, userKey, (i) => payloads.value(round, i), round > 0)
    }
    await builder.close()
    await settleLevelDB(sourcePath)
    const buildMs = performance.now() - buildStart

    const source = await Store.open({ path: sourcePath })
    // serve() closes the source with the server.
    server = await serve(source, { port: 0 })
    const remote = await RemoteStore.open(server.url)
    opened.push(remote)

    const clone = async (how: string, from: SyncPeer, name: string): Promise<{ copy: Store, phase: SyncCopy }> => {
      ctx.status?.(`sync: ${how}`)
      // Store.clone() is this (an emptiness check, then a first pull), but returns no report.
      const copy = await Store.open({ path: join(dir, name) })
      opened.push(copy)
      let report: SyncReport | undefined
      const phase = await measure(rss, revisions, async () => { report = await copy.pull(from) })
      const bytes = checkedReport(how, report as SyncReport, options.keys, revisions).bytes
      return { copy, phase: { ...phase, bytes, bytesPerRevision: bytes / revisions } }
    }
    const http = await clone('clone over HTTP', remote, 'http')
    const local = await clone('clone store to store', source, 'local')

    ctx.status?.('sync: export | import')
    const imported = await Store.open({ path: join(dir, 'imported') })
    opened.push(imported)
    let exportBytes = 0
    const exportImport = await measure(rss, revisions, async () => {
      const lines = async function * (): AsyncGenerator<string> {
        for await (const line of source.export()) {
          exportBytes += Buffer.byteLength(line, 'utf8') + 1
          yield line
        }
      }
      const report = await imported.import(lines())
      if (report.revisions !== revisions || report.heads !== options.keys) {
        throw new Error(`export | import restored ${report.revisions} revisions of ${report.heads} keys; the source holds ${revisions} of ${options.keys}.`)
      }
    })
    await sameHeads('export | import', source, imported)

    ctx.status?.(`sync: changing ${options.changedKeys} keys, then pulling`)
    const changed = Math.min(options.changedKeys, options.keys)
    for (let n = 0; n < changed; n++) {
      // Spread over the whole key range, so the pull cannot profit from the changes being together.
      const i = Math.floor(n * options.keys / changed)
      await source.commit(userKey(i), payloads.value(options.revisionsPerKey, i))
    }
    const pull = async (how: string, copy: Store, from: SyncPeer, cloneMs: number): Promise<SyncPull> => {
      const start = performance.now()
      const report = checkedReport(how, await copy.pull(from), changed, changed)
      const ms = performance.now() - start
      await sameHeads(how, source, copy)
      return { ms, keys: report.keys, revisions: report.revisions, bytes: report.bytes, vsClone: cloneMs / ms }
    }
    const pulls = {
      http: await pull('pull over HTTP', http.copy, remote, http.phase.ms),
      store: await pull('pull store to store', local.copy, source, local.phase.ms)
    }
    const total = revisions + changed
    return {
      kind: 'sync',
      keys: options.keys,
      revisionsPerKey: options.revisionsPerKey,
      revisions,
      changedKeys: changed,
      buildMs,
      clone: { store: local.phase, http: http.phase },
      exportImport: { ...exportImport, bytes: exportBytes, bytesPerRevision: exportBytes / revisions },
      pull: pulls,
      verified: { keys: options.keys, revisions: total, acknowledged: total }
    }
  } finally {
    rss.stop()
    for (const store of opened) await store.close()
    await server?.close()
    removeDir(dir)
  }
}

/** The report of a pull that had to copy `revisions` revisions of `keys` keys, all fast-forwards; throws naming what differs. */
export function checkedReport (how: string, report: SyncReport, keys: number, revisions: number): SyncReport {
  const { fastForwards, merges, conflicts, refused } = report
  if (report.keys !== keys || report.revisions !== revisions || fastForwards !== keys || merges !== 0 || conflicts.length > 0 || refused.length > 0) {
    throw new Error(`${how} compared ${report.keys} keys and copied ${report.revisions} revisions (${fastForwards} fast-forwards, ${merges} merges, ` +
      `${conflicts.length} conflicts, ${refused.length} refused); it should have copied ${revisions} revisions of ${keys} keys, each a fast-forward.`)
  }
  return report
}

/** Every key of `source` has the same head and unmerged revisions in `copy`, and `copy` has no other key; throws naming the first that differs. */
export async function sameHeads (how: string, source: Store, copy: Store): Promise<void> {
  const keys: string[] = []
  for await (const key of source.keys()) keys.push(key)
  let copied = 0
  for await (const _ of copy.keys()) copied++
  if (copied !== keys.length) throw new Error(`After ${how} the copy holds ${copied} keys; the source holds ${keys.length}.`)
  await forEachConcurrently(keys.length, async (i) => {
    const key = keys[i] as string
    const [a, b] = await Promise.all([source.head(key), copy.head(key)])
    if (a?.id !== b?.id) throw new Error(`After ${how} key ${JSON.stringify(key)} has head ${String(b?.id)} in the copy, ${String(a?.id)} in the source.`)
  })
  // Unmerged revisions are read only for the keys that have any (listed from an index), not for every key.
  const conflicted = async (store: Store): Promise<string[]> => {
    const found: string[] = []
    for await (const key of store.conflictedKeys()) found.push(`${key} ${(await store.conflicts(key)).map((r) => r.id).sort().join(',')}`)
    return found.sort()
  }
  const [ours, theirs] = await Promise.all([conflicted(source), conflicted(copy)])
  const differs = ours.find((line, i) => line !== theirs[i]) ?? theirs[ours.length]
  if (differs !== undefined) throw new Error(`After ${how} the copy keeps other unmerged revisions than the source: ${differs.split(' ')[0] as string} differs.`)
}
