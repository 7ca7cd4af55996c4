import type { JsonValue, Store } from '../../src/index.js'
import { Payloads } from '../payload.js'
import { runStoreScenario } from '../store-run.js'
import type { Workload } from '../store-run.js'
import type { ScenarioContext, ThroughputResult, TransactionStats } from '../types.js'
import { forEachConcurrently } from '../verify.js'
import type { Verification } from '../verify.js'
import { isRevkvConflict } from '../writers.js'
import { mulberry32, streamSeed, zipf } from '../zipf.js'

/**
 * Defaults of the `transfer` workload: 1,000 accounts drawn zipf-skewed (skew 0.99, as in
 * `zipf`: the busiest account is in about one transfer in seven), each opened with 1,000
 * units; a transfer moves 1 to 100 units, or what the source holds if that is less.
 */
export const defaults = { writers: 64, strategy: 'reject', accounts: 1000, skew: 0.99, opening: 1000, maxAmount: 100 } as const

/** The stored key of account number `index`. */
function accountKey (index: number): string {
  return `acct/${index}`
}

/** An account's stored value: its balance, padded to the run's value size. */
interface Account {
  [member: string]: number | string
  balance: number
  pad: string
}

/** What the acknowledged transfers leave: per account, the balance and the revisions its history must hold. */
export class Books {
  readonly balances: number[]
  /** Revisions per account: its opening one, plus one per acknowledged transfer in or out. */
  readonly revisions: number[]
  readonly opening: number

  constructor (accounts: number, opening: number) {
    this.opening = opening
    this.balances = new Array<number>(accounts).fill(opening)
    this.revisions = new Array<number>(accounts).fill(1)
  }

  /** A transaction that moved `amount` from account `from` to account `to` was acknowledged. */
  transferred (from: number, to: number, amount: number): void {
    this.balances[from] = (this.balances[from] as number) - amount
    this.balances[to] = (this.balances[to] as number) + amount
    this.revisions[from] = (this.revisions[from] as number) + 1
    this.revisions[to] = (this.revisions[to] as number) + 1
  }
}

/** The balance in an account's stored value; throws if the value is not an account. */
function balanceOf (value: JsonValue | undefined, key: string): number {
  const balance = value !== null && typeof value === 'object' && !Array.isArray(value) ? value.balance : undefined
  if (typeof balance !== 'number') throw new Error(`Account ${JSON.stringify(key)} lost its value: found ${JSON.stringify(value)}.`)
  return balance
}

/**
 * The nothing-lost proof of `transfer`: the total over all accounts is what they were
 * opened with (no transfer created or destroyed money), every balance is what the
 * acknowledged transfers leave (no update lost, none applied that was not acknowledged),
 * and every account's history holds exactly its opening revision plus one per
 * acknowledged transfer in or out. Throws an Error naming what is wrong.
 */
export async function verifyBooks (store: Store, books: Books): Promise<Verification> {
  const accounts = books.balances.length
  const balances = new Array<number>(accounts)
  const revisions = new Array<number>(accounts)
  await forEachConcurrently(accounts, async (i) => {
    const key = accountKey(i)
    balances[i] = balanceOf(await store.get(key), key)
    let found = 0
    for await (const _ of store.log(key)) found++
    revisions[i] = found
  })
  const total = balances.reduce((a, b) => a + b, 0)
  if (total !== accounts * books.opening) {
    throw new Error(`The accounts hold ${total} in all, not the ${accounts * books.opening} they were opened with: transfers lost or made money.`)
  }
  for (let i = 0; i < accounts; i++) {
    if (balances[i] !== books.balances[i]) {
      throw new Error(`Lost update on account ${JSON.stringify(accountKey(i))}: its balance is ${balances[i]}, but the acknowledged transfers leave ${books.balances[i]}.`)
    }
    if (revisions[i] !== books.revisions[i]) {
      throw new Error(`Account ${JSON.stringify(accountKey(i))} has ${revisions[i]} revisions in its history, but its opening and acknowledged transfers made ${books.revisions[i]}.`)
    }
  }
  const acknowledged = books.revisions.reduce((a, b) => a + b, 0)
  return { keys: accounts, revisions: acknowledged, acknowledged }
}

/** One intended transfer, kept across the writer's retries after a give-up. */
interface Transfer {
  from: number
  to: number
  amount: number
  /** Runs of its transaction function so far. */
  runs: number
}

/**
 * Each operation is one store.transaction(): read two accounts, move an amount from one to
 * the other. Both accounts are drawn zipf-skewed, so a few busy accounts are in many
 * concurrent transactions, which then retry. When store.transaction() gives up, the writer
 * tries the same transfer again (counted as a give-up), as an application would.
 */
export function transferWorkload (ctx: ScenarioContext, store: Store, books: Books): Workload {
  const payloads = new Payloads(ctx.valueSize, ctx.seed)
  const randoms = Array.from({ length: ctx.writers }, (_, w) => mulberry32(streamSeed(ctx.seed, w)))
  const draws = randoms.map((random) => zipf(books.balances.length, defaults.skew, random))
  const current = new Array<Transfer | undefined>(ctx.writers)
  const next = new Array<number>(ctx.writers).fill(0)
  const stats: TransactionStats = { attempts: 0, retries: 0, maxAttempts: 0, gaveUp: 0 }
  const draw = (writer: number): Transfer => {
    const pick = draws[writer] as () => number
    const from = pick()
    let to = pick()
    while (to === from) to = pick()
    return { from, to, amount: 1 + Math.floor((randoms[writer] as () => number)() * defaults.maxAmount), runs: 0 }
  }
  return {
    prepare: async () => {
      const opening = Array.from({ length: books.balances.length }, (_, i) => ({
        type: 'commit' as const,
        key: accountKey(i),
        value: { balance: books.opening, pad: payloads.value(-1, i).pad }
      }))
      await store.batch(opening)
    },
    attempt: async (writer, retrying) => {
      let transfer = current[writer]
      if (transfer === undefined || !retrying) current[writer] = transfer = draw(writer)
      const t = transfer
      const n = next[writer] as number
      const fromKey = accountKey(t.from)
      const toKey = accountKey(t.to)
      let moved: number
      try {
        moved = await store.transaction(async (tx) => {
          stats.attempts++
          if (++t.runs > 1) stats.retries++
          stats.maxAttempts = Math.max(stats.maxAttempts, t.runs)
          const [from, to] = await Promise.all([tx.get(fromKey), tx.get(toKey)])
          const amount = Math.min(t.amount, balanceOf(from, fromKey))
          const pad = payloads.value(writer, n).pad
          tx.commit(fromKey, { balance: balanceOf(from, fromKey) - amount, pad } satisfies Account)
          tx.commit(toKey, { balance: balanceOf(to, toKey) + amount, pad } satisfies Account)
          return amount
        })
      } catch (err) {
        // store.transaction() retried already and gave up; the writers' loop tries the transfer again.
        if (isRevkvConflict(err)) stats.gaveUp++
        throw err
      }
      books.transferred(t.from, t.to, moved)
      next[writer] = n + 1
      return 1
    },
    verify: async (reopened) => await verifyBooks(reopened, books),
    transactions: () => ({ ...stats })
  }
}

/** The `transfer` workload in a fresh LevelDB store. */
export async function run (ctx: ScenarioContext): Promise<ThroughputResult> {
  return await runStoreScenario(ctx, 'transfer', (store) => transferWorkload(ctx, store, new Books(defaults.accounts, defaults.opening)))
}
