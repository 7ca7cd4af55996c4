/**
 * The changes feed on an engine shared by other processes (PostgreSQL): a ChangeLog over a
 * real PostgresEngine, with batches written and settled in the order each test chooses, a
 * second engine on the same schema standing for another process, and the feed's poll timer
 * fired by the test instead of the clock. Written to kill the mutants of src/changes.ts on
 * its shared-engine paths (reading the database for watchers, the poll, LISTEN, the
 * published mark), which the LevelDB-based changes-mutants.test.ts cannot reach.
 */
import { randomBytes } from 'node:crypto'
import { getEventListeners } from 'node:events'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeLog, POLL_MS, type Change } from '../src/changes.js'
import type { Engine, Entry } from '../src/engines/engine.js'
import { openPostgres, type PostgresEngine } from '../src/engines/postgres/index.js'
import { Batch } from '../src/group-commit.js'
import { all } from './helpers.js'
import { loaded, sealed, seqs, settle } from './changes-batches.js'
import { sharedCluster, skipReason } from './pg/cluster.js'

const cluster = await sharedCluster()

/** The feed's poll timer (the setInterval of POLL_MS), run by the test: fire() is one poll. Other timers are untouched. */
interface Poll {
  /** How many poll timers are set and not cleared. */
  readonly live: number
  fire: () => void
  restore: () => void
}

function controlledPoll (): Poll {
  const realSet = globalThis.setInterval as (callback: () => void, ms?: number, ...args: unknown[]) => NodeJS.Timeout
  const realClear = globalThis.clearInterval
  const timers = new Map<unknown, () => void>()
  globalThis.setInterval = ((callback: () => void, ms?: number, ...args: unknown[]) => {
    if (ms !== POLL_MS) return realSet(callback, ms, ...args)
    const timer = { unref: () => timer, ref: () => timer, hasRef: () => false, refresh: () => timer }
    timers.set(timer, callback)
    return timer
  }) as unknown as typeof setInterval
  globalThis.clearInterval = ((timer: NodeJS.Timeout | undefined) => {
    if (!timers.delete(timer)) realClear(timer)
  }) as typeof clearInterval
  return {
    get live () { return timers.size },
    fire: () => { for (const callback of [...timers.values()]) callback() },
    restore: () => {
      globalThis.setInterval = realSet
      globalThis.clearInterval = realClear
    }
  }
}

/** A read of the change table held after it fetched its rows, until released. */
interface HeldRead {
  reached: Promise<void>
  release: () => void
}

/**
 * The real engine, seen through a wrapper that counts its reads of changes (started,
 * running, most at once) and its LISTENs (started, stopped), can hold a read's end, and can
 * refuse the next LISTEN as a server that is down would.
 */
interface Observed {
  engine: Engine
  reads: number
  active: number
  mostActive: number
  listens: number
  stops: number
  holdNextRead: () => HeldRead
  failNextListen: () => void
}

function observe (real: PostgresEngine): Observed {
  const holds: Array<{ reached: () => void, released: Promise<void> }> = []
  let failListen = false
  const o: Observed = {
    engine: undefined as unknown as Engine,
    reads: 0,
    active: 0,
    mostActive: 0,
    listens: 0,
    stops: 0,
    holdNextRead: () => {
      let reached = (): void => {}
      let release = (): void => {}
      const hold = { reached: new Promise<void>((resolve) => { reached = resolve }), released: new Promise<void>((resolve) => { release = resolve }) }
      holds.push({ reached, released: hold.released })
      return { reached: hold.reached, release }
    },
    failNextListen: () => { failListen = true }
  }
  async function * changes (since: number): AsyncGenerator<[number, Entry]> {
    o.reads++
    o.mostActive = Math.max(o.mostActive, ++o.active)
    try {
      const rows = await all(real.changes(since))
      const hold = holds.shift()
      if (hold !== undefined) {
        hold.reached()
        await hold.released
      }
      yield * rows
    } finally {
      o.active--
    }
  }
  const listen = async (listener: () => void): Promise<() => Promise<void>> => {
    o.listens++
    if (failListen) {
      failListen = false
      throw new Error('simulated: the server is down')
    }
    const stop = await real.listen(listener)
    return async () => {
      o.stops++
      await stop()
    }
  }
  o.engine = new Proxy(real, {
    get (target, name) {
      if (name === 'changes') return changes
      if (name === 'listen') return listen
      const value: unknown = Reflect.get(target, name, target)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    }
  }) as Engine
  return o
}

const turn = async (): Promise<void> => await new Promise((resolve) => setImmediate(resolve))

/**
 * Wait until the feed reads nothing: a tail's next read starts in the promise jobs right
 * after the previous one ended, so a turn of the event loop with no read running means the
 * tail is over. A further turn lets watchers take what it published.
 */
async function idle (o: Observed): Promise<void> {
  for (;;) {
    await turn()
    if (o.active === 0) break
  }
  await turn()
}

/** Wait for something only a network event can bring (a NOTIFY), failing instead of hanging if it never comes. */
async function until (done: () => boolean, what: string): Promise<void> {
  // A liveness guard, not a measurement: the condition normally holds within milliseconds.
  const give = Date.now() + 30_000
  while (!done()) {
    if (Date.now() > give) assert.unreachable(`gave up waiting: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Two engines on one new schema: `a` for this process, `b` for another process writing the same store. */
async function pair (url: string, notify: boolean): Promise<{ a: PostgresEngine, b: PostgresEngine, close: () => Promise<void> }> {
  // Random, not numbered: mutation runs start many processes on one server (see test/mutation/run.ts).
  const schema = `cmut_${randomBytes(6).toString('hex')}`
  const a = await openPostgres({ postgres: url, schema, notify, poolSize: 3 })
  const b = await openPostgres({ postgres: url, schema, notify: true, poolSize: 2 })
  return { a, b, close: async () => { await a.close(); await b.close() } }
}

/** Another process writes changes (its own engine, no change log of ours involved). */
async function elsewhere (engine: PostgresEngine, keys: string[]): Promise<void> {
  const batch = engine.batch()
  for (const key of keys) batch.addChange([key, `${key}-rev`, 0])
  await batch.write({ sync: false, now: 0 })
}


/** A watch consumed in the background: what it yielded, and how it ended. */
function watching (log: ChangeLog, signal?: AbortSignal): { seen: Change[], done: Promise<void> } {
  const seen: Change[] = []
  const done = (async () => { for await (const change of log.watch(signal === undefined ? {} : { signal })) seen.push(change) })()
  return { seen, done }
}

if (cluster === undefined) {
  test.skip(`the changes feed on PostgreSQL (${skipReason ?? 'no server'})`, () => {})
} else {
  const url = cluster.url

  test('no watcher: a settled batch moves the published mark to its last number, counting only its fresh keys; reads reach every process\'s changes', async () => {
    const { a, b, close } = await pair(url, true)
    try {
      const log = await loaded(a)
      await elsewhere(b, ['o1', 'o2'])
      assert.equal(await all(log.read()), [{ seq: 1, key: 'o1', rev: 'o1-rev' }, { seq: 2, key: 'o2', rev: 'o2-rev' }], 'a read goes to the database, past the mark')
      const mixed = sealed(a, log, [['x', 'x1'], ['s', 's1'], ['y', 'y1']], ['s'])
      await settle(mixed)
      assert.is(mixed.outcome?.firstSeq, 3)
      // Noted at once: with nobody watching there is nothing to read.
      assert.is(log.published, 4, 'the batch\'s two fresh keys took 3 and 4; the stale one took none')
      assert.equal(await all(log.read({ since: 2 })), [{ seq: 3, key: 'x', rev: 'x1' }, { seq: 4, key: 'y', rev: 'y1' }])
      const allStale = sealed(a, log, [['s', 's2']], ['s'])
      await settle(allStale)
      assert.is(allStale.outcome?.firstSeq, undefined)
      assert.is(log.published, 4, 'a batch whose every key was stale numbered nothing')
      // PostgreSQL text cannot hold NUL: the statement fails and the batch has no outcome.
      const failed = sealed(a, log, [['bad\u0000key', 'z']])
      await settle(failed, false)
      assert.is(log.published, 4, 'a failed batch numbered nothing')
      await elsewhere(b, ['o3'])
      await settle(sealed(a, log, [['z', 'z1']]))
      assert.is(log.published, 6, 'the mark takes the batch\'s own number, past other processes\' changes')
      await log.close()
    } finally {
      await close()
    }
  })

  test('a watcher is fed from the database: other processes\' changes before its own, in order, each once; a poll finds what nobody announced', async () => {
    const poll = controlledPoll()
    const { a, b, close } = await pair(url, false)
    try {
      const o = observe(a)
      const log = await loaded(o.engine)
      await elsewhere(b, ['o1'])
      const controller = new AbortController()
      const watch = watching(log, controller.signal)
      await idle(o)
      assert.equal(seqs(watch.seen), [1], 'the replay')
      assert.is(poll.live, 1, 'the feed polls while someone watches')
      // Another process writes (this engine does not listen), then a local batch settles:
      // the feed reads the database from its mark, so the other change comes first.
      await elsewhere(b, ['o2'])
      await settle(sealed(o.engine, log, [['m', 'm1']]))
      await idle(o)
      assert.equal(watch.seen, [{ seq: 1, key: 'o1', rev: 'o1-rev' }, { seq: 2, key: 'o2', rev: 'o2-rev' }, { seq: 3, key: 'm', rev: 'm1' }], 'each change once, the replayed one not again')
      assert.is(log.published, 3)
      // Nothing local happens and nobody notifies: only the poll can find this one.
      await elsewhere(b, ['o3'])
      await idle(o)
      assert.equal(seqs(watch.seen), [1, 2, 3])
      poll.fire()
      await idle(o)
      assert.equal(seqs(watch.seen), [1, 2, 3, 4])

      // A batch settles while the feed is reading for an earlier one: one read at a time,
      // and another read after it, since the first may have missed the later batch.
      const first = sealed(o.engine, log, [['p', 'p1']])
      const held = o.holdNextRead()
      await settle(first)
      await held.reached
      await settle(sealed(o.engine, log, [['q', 'q1']]))
      held.release()
      await idle(o)
      assert.is(o.mostActive, 1, 'never two reads at once')
      assert.equal(watch.seen.slice(4), [{ seq: 5, key: 'p', rev: 'p1' }, { seq: 6, key: 'q', rev: 'q1' }])
      // After a tail is over, the next one reads again.
      await settle(sealed(o.engine, log, [['r', 'r1']]))
      await idle(o)
      assert.equal(seqs(watch.seen).slice(6), [7])

      controller.abort()
      await watch.done
      assert.is(poll.live, 0, 'the poll stops with the last watcher')
      assert.is(getEventListeners(controller.signal, 'abort').length, 0, 'the watch leaves no listener on the caller\'s signal')
      await log.close()
    } finally {
      poll.restore()
      await close()
    }
  })

  test('watchers share one poll and one LISTEN, both stopped with the last watcher; a notification wakes every watcher', async () => {
    const poll = controlledPoll()
    const { a, b, close } = await pair(url, true)
    try {
      const o = observe(a)
      const log = await loaded(o.engine)
      const one = new AbortController()
      const two = new AbortController()
      const first = watching(log, one.signal)
      await idle(o)
      assert.is(poll.live, 1)
      assert.is(o.listens, 1)
      const second = watching(log, two.signal)
      await idle(o)
      assert.is(poll.live, 1, 'a second watcher adds no poll')
      assert.is(o.listens, 1, 'nor a second LISTEN')
      await elsewhere(b, ['o1'])
      // No poll fires: only the NOTIFY can bring it.
      await until(() => first.seen.length === 1 && second.seen.length === 1, 'the NOTIFY of another process\'s change')
      assert.equal(first.seen, [{ seq: 1, key: 'o1', rev: 'o1-rev' }])
      assert.equal(second.seen, first.seen)
      one.abort()
      await first.done
      assert.is(poll.live, 1, 'a watcher is left: the poll goes on')
      assert.is(o.stops, 0, 'and so does the LISTEN')
      await elsewhere(b, ['o2'])
      await until(() => second.seen.length === 2, 'the second NOTIFY')
      assert.equal(seqs(first.seen), [1], 'an ended watch gets nothing more')
      two.abort()
      await second.done
      assert.is(poll.live, 0)
      await until(() => o.stops === 1, 'the LISTEN to stop')
      await log.close()
    } finally {
      poll.restore()
      await close()
    }
  })

  test('a LISTEN that fails leaves the feed polling, and ending the watch then is clean', async () => {
    const poll = controlledPoll()
    const { a, b, close } = await pair(url, true)
    try {
      const o = observe(a)
      o.failNextListen()
      const log = await loaded(o.engine)
      const controller = new AbortController()
      const watch = watching(log, controller.signal)
      await idle(o)
      assert.is(o.listens, 1)
      await elsewhere(b, ['o1'])
      poll.fire()
      await idle(o)
      assert.equal(seqs(watch.seen), [1])
      controller.abort()
      await watch.done
      assert.is(poll.live, 0)
      await log.close()
    } finally {
      poll.restore()
      await close()
    }
  })
}

test.run()
