import { createReadStream, createWriteStream, statSync } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { Store } from '../../src/index.js'
import { freshDir, removeDir } from '../disk.js'
import { commitMany, userKey } from '../fill.js'
import { RssSampler } from '../memory.js'
import { Payloads } from '../payload.js'
import { settleLevelDB } from '../settle.js'
import type { DumpPhase, DumpResult, ScenarioContext } from '../types.js'
import { Ledger, verifyNothingLost } from '../verify.js'

/** Options of the `dump` workload. */
export interface DumpOptions {
  /** Keys in the store that is exported and imported again. */
  keys: number
  /** Revisions per key (a chain: each revision the parent of the next). */
  revisionsPerKey: number
}

/** Defaults of the `dump` workload: the size at which import was once quadratic (9 minutes). */
export const defaults: DumpOptions = { keys: 100_000, revisionsPerKey: 2 }

/**
 * `revkv export` of a store of `keys` keys to an NDJSON file, then `revkv import` of that
 * file into an empty store, each timed on its own with its peak resident memory, the way
 * the CLI does them (a file written with backpressure; lines read with readline). Both
 * must be linear: revisions/s stays flat as the store grows. The imported store is then
 * checked against every write acknowledged while building the original.
 */
export async function run (ctx: ScenarioContext, options: DumpOptions = defaults): Promise<DumpResult> {
  const dir = freshDir(ctx.dir, 'dump')
  const rss = new RssSampler()
  try {
    const ledger = new Ledger()
    const payloads = new Payloads(ctx.valueSize, ctx.seed)
    const source = join(dir, 'source')
    const builder = await Store.open({ path: source, batchSize: 1024 })
    for (let round = 0; round < options.revisionsPerKey; round++) {
      ctx.status?.(`dump: building revision ${round + 1} of ${options.revisionsPerKey} on ${options.keys.toLocaleString('en-US')} keys`)
      await commitMany(builder, ledger, options.keys, userKey, (i) => payloads.value(round, i))
    }
    await builder.close()
    await settleLevelDB(source)
    const revisions = options.keys * options.revisionsPerKey

    ctx.status?.('dump: export')
    const file = join(dir, 'dump.ndjson')
    const exported = await measure(rss, revisions, async () => {
      const store = await Store.open({ path: source })
      const out = createWriteStream(file)
      for await (const line of store.export()) {
        if (!out.write(line + '\n')) await once(out, 'drain')
      }
      out.end()
      await once(out, 'finish')
      await store.close()
    })

    ctx.status?.('dump: import')
    const target = await Store.open({ path: join(dir, 'target') })
    const imported = await measure(rss, revisions, async () => {
      const report = await target.import(createInterface({ input: createReadStream(file), crlfDelay: Infinity }))
      if (report.revisions !== revisions || report.heads !== options.keys) {
        throw new Error(`Import restored ${report.revisions} revisions of ${report.heads} keys; the dump holds ${revisions} of ${options.keys}.`)
      }
    })
    ctx.status?.('dump: verifying the imported store')
    const verified = await verifyNothingLost(target, ledger).finally(async () => { await target.close() })
    return { kind: 'dump', keys: options.keys, revisions, dumpBytes: statSync(file).size, export: exported, import: imported, verified }
  } finally {
    rss.stop()
    removeDir(dir)
  }
}

/** Time one phase and sample its peak resident memory. */
export async function measure (rss: RssSampler, revisions: number, phase: () => Promise<void>): Promise<DumpPhase> {
  rss.start()
  const start = performance.now()
  await phase()
  const ms = performance.now() - start
  return { ms, revisionsPerSec: revisions / (ms / 1000), peakRssBytes: rss.stop() }
}
