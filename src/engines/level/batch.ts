import type { AbstractBatchOptions, AbstractChainedBatch } from 'abstract-level'
import type { EngineBatch, Entry, HeadMove, WriteBatchOptions, WriteOutcome } from '../engine.js'
import { changesKey, conflictKey, droppedKey, encodeHead, headKey, revisionKey, unmergedKey } from './layout.js'
import type { RevkvDatabase } from './layout.js'

type Chain = AbstractChainedBatch<RevkvDatabase, string, string>

const NONE: ReadonlySet<string> = new Set()

/**
 * One LevelDB batch. Entries go straight into a chained batch as writes are decided: for
 * classic-level that copies each entry to the native batch at once, which costs the main
 * thread about half of an array batch. One process owns a LevelDB directory, so the head
 * a decision was made against is the stored one: expectations are not checked again.
 */
export class LevelBatch implements EngineBatch {
  size = 0
  readonly #chain: Chain
  readonly #entries: Entry[] = []
  readonly #options: AbstractBatchOptions<string, string>
  readonly #takeSeq: (count: number) => number | Promise<number>

  /** `takeSeq(n)` hands out n sequence numbers and returns the first (once known). */
  constructor (chain: Chain, options: AbstractBatchOptions<string, string>, takeSeq: (count: number) => number | Promise<number>) {
    this.#chain = chain
    this.#options = options
    this.#takeSeq = takeSeq
  }

  putRevision (id: string, _key: string, record: string): void {
    this.#chain.put(revisionKey(id), record)
    this.size++
  }

  putDropped (id: string, key: string): void {
    this.#chain.put(droppedKey(id), key)
    this.size++
  }

  setHead ({ key, head, added, removed }: HeadMove): void {
    const count = head.unmerged ?? 0
    this.#chain.put(headKey(key), encodeHead(head))
    // In order: an id kept and merged within one batch is put, then deleted.
    for (const id of added) this.#chain.put(unmergedKey(key, id), '')
    for (const id of removed) this.#chain.del(unmergedKey(key, id))
    const before = count - added.length + removed.length
    if (count > 0 && before === 0) this.#chain.put(conflictKey(key), '')
    else if (count === 0 && before > 0) this.#chain.del(conflictKey(key))
    this.size += 1 + added.length + removed.length
  }

  addChange (entry: Entry): void {
    this.#entries.push(entry)
  }

  /** One process owns the directory, so no head is ever stale: nothing to bind. */
  atomic (): void {}

  /** Numbers are taken when write() is called, so batches are numbered in the order they are written. */
  async write ({ sync }: WriteBatchOptions): Promise<WriteOutcome> {
    let firstSeq: number | undefined
    if (this.#entries.length > 0) {
      const taken = this.#takeSeq(this.#entries.length)
      firstSeq = typeof taken === 'number' ? taken : await taken
      this.#chain.put(changesKey(firstSeq), JSON.stringify(this.#entries))
    }
    await this.#chain.write({ ...this.#options, sync } as AbstractBatchOptions<string, string>)
    return { stale: NONE, firstSeq }
  }
}
