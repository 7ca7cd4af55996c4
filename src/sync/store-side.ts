import type { Change } from '../changes.js'
import { dumpKey } from '../dump.js'
import type { HeadRecord } from '../engines/engine.js'
import type { StrategyRef, Strategy } from '../strategies/types.js'
import { importStamp, syncId } from './marks.js'
import { receiveLines } from './receive.js'
import type { ReceiveContext } from './receive.js'
import type { HeadLine, ReceiveOptions, SyncEndpoint, SyncInfo, SyncReport, Want } from './types.js'

/** What a Store gives its sync endpoint. */
export interface StoreSyncContext extends ReceiveContext {
  /** The last change sequence number readers can see (nothing at or below it is still in flight). */
  visibleSeq: () => Promise<number>
  /** The visible changes after `since` of keys starting with `prefix`. */
  changes: (since: number, prefix: string) => AsyncIterable<Change>
  /** The ids of a key's unmerged revisions, as stored. */
  unmergedOf: (key: string) => Promise<string[]>
  /** A strategy given by name or object (checked as the store checks one). */
  strategy: (ref: StrategyRef) => Strategy
}

/** Keys whose head records are read at once. */
const HEADS_CHUNK = 512

/** A Store's side of sync: what it answers another store, and what its own pull and push use. */
export class StoreSync implements SyncEndpoint {
  readonly #ctx: StoreSyncContext
  /** Read (or made) once per open store, so concurrent first uses agree on one id. */
  #id: Promise<string> | undefined

  constructor (ctx: StoreSyncContext) {
    this.#ctx = ctx
  }

  get context (): StoreSyncContext {
    return this.#ctx
  }

  async info (): Promise<SyncInfo> {
    // The stamp and sequence number first: heads read after them are at least as new.
    const imports = await importStamp(this.#ctx.engine)
    const seq = await this.#ctx.visibleSeq()
    this.#id ??= syncId(this.#ctx.engine)
    // A failed read is not remembered: the next sync reads again.
    this.#id.catch(() => { this.#id = undefined })
    return { id: await this.#id, seq, imports }
  }

  async * heads (prefix: string, since: number | undefined): AsyncGenerator<HeadLine> {
    if (since === undefined) {
      for await (const [key, record] of this.#ctx.engine.heads({ prefix })) yield await this.#line(key, record)
      return
    }
    // Only keys changed after `since`: the cost follows the change, not the store.
    const keys = new Set<string>()
    for await (const change of this.#ctx.changes(since, prefix)) keys.add(change.key)
    const all = [...keys]
    for (let i = 0; i < all.length; i += HEADS_CHUNK) {
      for (const line of await this.headsOf(all.slice(i, i + HEADS_CHUNK))) if (line !== undefined) yield line
    }
  }

  async headsOf (keys: string[]): Promise<Array<HeadLine | undefined>> {
    const records = await this.#ctx.engine.headRecords(keys)
    return await Promise.all(records.map(async (record, i) => record === undefined ? undefined : await this.#line(keys[i] as string, record)))
  }

  async * send (wants: Want[]): AsyncGenerator<string> {
    let keys = 0
    for (let i = 0; i < wants.length; i += HEADS_CHUNK) {
      const chunk = wants.slice(i, i + HEADS_CHUNK)
      // One read of many head records: a read per key waited on LevelDB's threads each
      // time, which left a clone's sender idle a third of the time. A head read a little
      // before its walk is still a head the key had, and its history never changes.
      const records = await this.#ctx.engine.headRecords(chunk.map((want) => want.key))
      for (const [j, { key, haves }] of chunk.entries()) {
        const record = records[j]
        if (record === undefined) continue
        const dump = await dumpKey(key, record, this.#ctx.linked, this.#ctx.unmergedOf, new Set(haves))
        keys++
        yield * dump.lines
      }
    }
    yield JSON.stringify({ end: { keys } })
  }

  async receive (lines: AsyncIterable<string>, options: ReceiveOptions): Promise<SyncReport> {
    const strategy = options.strategy === undefined ? undefined : this.#ctx.strategy(options.strategy)
    return await receiveLines(this.#ctx, lines, strategy)
  }

  /** True when every one of `ids` is stored here. */
  async has (ids: string[]): Promise<boolean> {
    for (const id of ids) if (await this.#ctx.revision(id) === undefined) return false
    return true
  }

  async #line (key: string, record: HeadRecord): Promise<HeadLine> {
    const unmerged = (record.unmerged ?? 0) > 0 ? await this.#ctx.unmergedOf(key) : []
    return { key, head: record.head, ...(record.deleted === true ? { deleted: true as const } : {}), ...(unmerged.length > 0 ? { unmerged } : {}) }
  }
}
