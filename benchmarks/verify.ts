import type { JsonValue } from '../src/index.js'

/**
 * What the checks read through: a revkv Store fits as it is (only its public API is used,
 * so the checks prove what users see), and a peer such as PouchDB fits through an adapter.
 */
export interface VerifiableStore {
  /** The key's current revision. */
  head: (key: string) => Promise<{ id: string } | undefined>
  /** Every revision reachable from the key's head. */
  log: (key: string) => AsyncIterable<{ id: string }>
  /** Revisions of the key kept unmerged beside its head. */
  conflicts: (key: string) => Promise<ReadonlyArray<{ id: string }>>
  /** The key's current value. */
  get: (key: string) => Promise<JsonValue | undefined>
}

/** What verification looked at. */
export interface Verification {
  keys: number
  /** Revisions found: reachable from the heads, plus those kept unmerged. */
  revisions: number
  /** Acknowledged writes checked. */
  acknowledged: number
}

/**
 * The record of every write the store acknowledged, in the order the acknowledgements
 * arrived: what the store promised and must still hold after the run.
 */
export class Ledger {
  /** Per key, acknowledged revision ids (head-moving writes) in acknowledgement order. */
  readonly #acked = new Map<string, string[]>()
  /** Per key, ids of writes the `manual` strategy kept unmerged (stored, but not the head). */
  readonly #kept = new Map<string, string[]>()
  /** Per key, per object member, the last value its writer had acknowledged. */
  readonly #members = new Map<string, Map<string, string>>()
  /** Keys whose acknowledgements may arrive out of commit order (several connections or processes write them). */
  readonly #unordered = new Set<string>()

  /** A write to `key` resolved with revision `id`, which is now the key's head. */
  acknowledge (key: string, id: string): void {
    const ids = this.#acked.get(key)
    if (ids === undefined) this.#acked.set(key, [id])
    else ids.push(id)
  }

  /** A stale write to `key` was kept unmerged as revision `id`. */
  keep (key: string, id: string): void {
    const ids = this.#kept.get(key)
    if (ids === undefined) this.#kept.set(key, [id])
    else ids.push(id)
  }

  /** A write that set member `member` of `key`'s object to `value` was acknowledged. */
  member (key: string, member: string, value: string): void {
    let members = this.#members.get(key)
    if (members === undefined) this.#members.set(key, members = new Map())
    members.set(member, value)
  }

  /**
   * Acknowledgements of `key` may arrive in another order than the commits (writers on
   * several connections or processes): its head need not be the last acknowledged write,
   * only a revision whose history holds every acknowledged one.
   */
  unordered (key: string): void {
    this.#unordered.add(key)
  }

  /** Whether `key` was marked unordered. */
  isUnordered (key: string): boolean {
    return this.#unordered.has(key)
  }

  /** Everything recorded, as plain data (to send from a worker process). */
  toData (): LedgerData {
    return {
      acked: [...this.#acked],
      kept: [...this.#kept],
      members: [...this.#members].map(([key, members]) => [key, [...members]]),
      unordered: [...this.#unordered]
    }
  }

  /** Add what another ledger recorded (a worker's); a key both recorded is unordered: their acknowledgements interleave unknown. */
  absorb (data: LedgerData): void {
    for (const [key, ids] of data.acked) {
      if (this.#acked.has(key)) this.unordered(key)
      for (const id of ids) this.acknowledge(key, id)
    }
    for (const [key, ids] of data.kept) for (const id of ids) this.keep(key, id)
    for (const [key, members] of data.members) for (const [member, value] of members) this.member(key, member, value)
    for (const key of data.unordered) this.unordered(key)
  }

  /** Keys with acknowledged writes, head-moving or kept. */
  keys (): string[] {
    return [...new Set([...this.#acked.keys(), ...this.#kept.keys()])]
  }

  /** The key's acknowledged head-moving revisions, oldest acknowledgement first. */
  acknowledged (key: string): readonly string[] {
    return this.#acked.get(key) ?? []
  }

  /** The key's revisions kept unmerged. */
  kept (key: string): readonly string[] {
    return this.#kept.get(key) ?? []
  }

  /** The last acknowledged value of each member of the key's object, if members were tracked. */
  members (key: string): ReadonlyMap<string, string> | undefined {
    return this.#members.get(key)
  }
}

/** A Ledger as plain data (structured-clone and JSON safe). */
export interface LedgerData {
  acked: Array<[string, string[]]>
  kept: Array<[string, string[]]>
  members: Array<[string, Array<[string, string]>]>
  unordered: string[]
}

/** Shows at most a few ids of a long list. */
function some (ids: readonly string[]): string {
  const shown = ids.slice(0, 3).join(', ')
  return ids.length > 3 ? `${shown} and ${ids.length - 3} more` : shown
}

/**
 * Prove nothing acknowledged was lost: every acknowledged revision is found by walking
 * its key's history (or among the revisions kept unmerged), every head is the last
 * acknowledged write of its key (unless the key is unordered), and every member's last acknowledged value is in its
 * key's final object. Throws an Error naming what was lost.
 */
export async function verifyNothingLost (store: VerifiableStore, ledger: Ledger): Promise<Verification> {
  const keys = ledger.keys()
  const total: Verification = { keys: keys.length, revisions: 0, acknowledged: 0 }
  await forEachConcurrently(keys.length, async (i) => {
    const { revisions, acknowledged } = await verifyKey(store, ledger, keys[i] as string)
    total.revisions += revisions
    total.acknowledged += acknowledged
  })
  return total
}

/** Keys checked at the same time. */
const CONCURRENT_KEYS = 16

/**
 * Run `check(i)` for i = 0..count-1, a few at a time, so LevelDB's reads for several keys
 * overlap on its threads (one key's history is still walked in order). Rejects with the
 * first failure.
 */
export async function forEachConcurrently (count: number, check: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const checker = async (): Promise<void> => {
    while (next < count) await check(next++)
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_KEYS, count) }, checker))
}

async function verifyKey (store: VerifiableStore, ledger: Ledger, key: string): Promise<{ revisions: number, acknowledged: number }> {
  const acked = ledger.acknowledged(key)
  const last = acked[acked.length - 1]
  const head = await store.head(key)
  if (last !== undefined && !ledger.isUnordered(key) && head?.id !== last) {
    throw new Error(`Lost write on key ${JSON.stringify(key)}: its head is ${head?.id ?? 'missing'}, but the last acknowledged write was revision ${last}.`)
  }
  const found = new Set<string>()
  for await (const rev of store.log(key)) found.add(rev.id)
  const kept = ledger.kept(key)
  if (kept.length > 0) for (const rev of await store.conflicts(key)) found.add(rev.id)
  const missing = [...acked, ...kept].filter((id) => !found.has(id))
  if (missing.length > 0) {
    throw new Error(`Lost ${missing.length} acknowledged revision(s) of key ${JSON.stringify(key)}: ${some(missing)} not found by walking its history.`)
  }
  const members = ledger.members(key)
  if (members !== undefined) {
    const value = await store.get(key)
    const object = (value !== null && typeof value === 'object' && !Array.isArray(value)) ? value : {}
    const lost = [...members].filter(([member, expected]) => object[member] !== expected).map(([member]) => member)
    if (lost.length > 0) {
      throw new Error(`Lost member value(s) in key ${JSON.stringify(key)}: the final object does not hold the last acknowledged value of ${some(lost)}.`)
    }
  }
  return { revisions: found.size, acknowledged: acked.length + kept.length }
}
