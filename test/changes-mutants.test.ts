/**
 * The changes feed driven batch by batch: a ChangeLog over memory-level, with real batches
 * sealed, written and settled in the order each test chooses (no timing involved). Written
 * to kill the mutants of src/changes.ts that the store suite let live (see test/mutation/).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeLog, MAX_TX_CHANGES, type Change } from '../src/changes.js'
import { LevelEngine } from '../src/engines/level/engine.js'
import type { RevkvDatabase } from '../src/engines/level/layout.js'
import { Batch } from '../src/group-commit.js'
import { all, instrumentedDb, rejection } from './helpers.js'
import { loaded, sealed, seqs, settle, written, type Write } from './changes-batches.js'

/** The LevelDB engine over a real memory-level database whose batch writes can be made to fail. */
function memoryEngine (): { db: RevkvDatabase, engine: LevelEngine, failNext: () => void } {
  const { db, failNext } = instrumentedDb()
  return { db: db as unknown as RevkvDatabase, engine: new LevelEngine(db as unknown as RevkvDatabase, 'memory'), failNext }
}


test('sequence numbers stay in order past 16, 256 and 4,096 records, and a reopened log continues after the last', async () => {
  const { db, engine, failNext } = memoryEngine()
  // Records of other kinds sort before and after the feed's: the log must read only its own.
  for (const key of ['h!k', `r!${'f'.repeat(64)}`, 'm!format', 't!']) await db.put(key, '{}')
  let log = await loaded(engine)
  assert.is(log.published, 0)
  for (let i = 1; i <= 300; i++) await settle(sealed(engine, log, [[`k${i}`, `r${i}`]]))
  // One batch of many changes crosses the next hex digit, 4096.
  await settle(sealed(engine, log, Array.from({ length: 3800 }, (_, i): Write => [`m${i}`, `rm${i}`])))
  assert.is(log.published, 4100)
  const feed = await all(log.read())
  assert.equal(seqs(feed), Array.from({ length: 4100 }, (_, i) => i + 1))
  assert.equal(feed[16], { seq: 17, key: 'k17', rev: 'r17' })

  log = await loaded(engine)
  assert.is(log.published, 4100, 'the last sequence number is found again, counting every change of the last record')
  await settle(sealed(engine, log, [['after', 'x']]))
  assert.equal(await all(log.read({ since: 4099 })), [{ seq: 4100, key: 'm3799', rev: 'rm3799' }, { seq: 4101, key: 'after', rev: 'x' }])
})

test('a change is published only once every batch sealed before it has settled', async () => {
  const { db, engine, failNext } = memoryEngine()
  const log = await loaded(engine)
  const first = sealed(engine, log, [['a', 'a1'], ['b', 'b1']])
  const second = sealed(engine, log, [['c', 'c1']])
  const seen: Change[] = []
  const watch = log.watch()
  const pump = (async () => { for await (const change of watch) { seen.push(change); if (seen.length === 3) break } })()
  await settle(second)
  assert.is(log.published, 0, 'the later batch waits for the earlier one')
  assert.equal(await all(log.read()), [])
  assert.equal(seen, [])
  await settle(first)
  assert.is(log.published, 3)
  await pump
  assert.equal(seqs(seen), [1, 2, 3])
  assert.equal(seen[2], { seq: 3, key: 'c', rev: 'c1' })
})

test('a failed batch\'s numbers are skipped, never reused, and the feed goes on after them', async () => {
  const { db, engine, failNext } = memoryEngine()
  const log = await loaded(engine)
  await settle(sealed(engine, log, [['a', 'a1']]))
  failNext()
  const failed = sealed(engine, log, [['b', 'b1'], ['c', 'c1']])
  const next = sealed(engine, log, [['d', 'd1']])
  await settle(failed, false)
  assert.is(log.published, 1, 'a failed batch publishes nothing')
  await settle(next)
  assert.is(log.published, 4)
  assert.equal(await all(log.read()), [{ seq: 1, key: 'a', rev: 'a1' }, { seq: 4, key: 'd', rev: 'd1' }])
  // A batch with no change records is no member of the log and settles without effect.
  const empty = new Batch(engine.batch())
  log.seal(empty)
  log.settle(true, empty)
  assert.is(log.published, 4)
  await settle(sealed(engine, log, [['e', 'e1']]))
  assert.is(log.published, 5, 'and holds up no later batch')
})

test('flags: deleted and kept survive the record and come back only where set', async () => {
  const { db, engine, failNext } = memoryEngine()
  const log = await loaded(engine)
  await settle(sealed(engine, log, [['a', 'r1'], ['a', 'r2', true], ['a', 'r3', false, true], ['a', 'r4', true, true]]))
  assert.equal(await all(log.read()), [
    { seq: 1, key: 'a', rev: 'r1' },
    { seq: 2, key: 'a', rev: 'r2', deleted: true },
    { seq: 3, key: 'a', rev: 'r3', kept: true },
    { seq: 4, key: 'a', rev: 'r4', deleted: true, kept: true }
  ])
})

test('multi-key batches: each change carries the batch\'s first number and size, read from any point; flags stay apart', async () => {
  const { engine } = memoryEngine()
  const log = await loaded(engine)
  await settle(sealed(engine, log, [['solo', 's1'], ['a', 'a1', false, false, { offset: 0, size: 3 }], ['b', 'b1', true, false, { offset: 1, size: 3 }], ['c', 'c1', false, true, { offset: 2, size: 3 }]]))
  const txOf = { tx: 2, txSize: 3 }
  assert.equal(await all(log.read()), [
    { seq: 1, key: 'solo', rev: 's1' },
    { seq: 2, key: 'a', rev: 'a1', ...txOf },
    { seq: 3, key: 'b', rev: 'b1', deleted: true, ...txOf },
    { seq: 4, key: 'c', rev: 'c1', kept: true, ...txOf }
  ])
  assert.equal(await all(log.read({ since: 3 })), [{ seq: 4, key: 'c', rev: 'c1', kept: true, ...txOf }], 'the batch\'s id from its last change alone')
  // The widest fields: a position and a size of MAX_TX_CHANGES - 1 and MAX_TX_CHANGES, beside both flags.
  await settle(sealed(engine, log, [['w', 'w1', true, true, { offset: MAX_TX_CHANGES - 1, size: MAX_TX_CHANGES }]]))
  assert.equal(await all(log.read({ since: 4 })), [{ seq: 5, key: 'w', rev: 'w1', deleted: true, kept: true, tx: 5 - (MAX_TX_CHANGES - 1), txSize: MAX_TX_CHANGES }])
  assert.is(MAX_TX_CHANGES, 0x3fff)
})

test('a load of the last sequence number that failed is tried again by the next use', async () => {
  const { engine } = memoryEngine()
  await settle(sealed(engine, await loaded(engine), [['a', 'a1'], ['b', 'b1']]))
  let failures = 1
  // The real engine, but its first lastSeq() fails as an unreachable database would.
  const flaky = new Proxy(engine, {
    get (target, name) {
      if (name === 'lastSeq' && failures > 0) {
        failures--
        return async () => { throw new Error('simulated: the database is unreachable') }
      }
      const value: unknown = Reflect.get(target, name, target)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    }
  })
  const log = new ChangeLog(flaky)
  assert.match((await rejection(log.ready() as Promise<void>)).message, /unreachable/)
  await log.ready()
  assert.is(log.published, 2)
  assert.is(log.ready(), undefined, 'loaded once and for all')
})

test('read: since inside a record, prefix, and limit counted over the changes it yields', async () => {
  const { db, engine, failNext } = memoryEngine()
  const log = await loaded(engine)
  await settle(sealed(engine, log, [['x/1', 'a'], ['y/1', 'b'], ['x/2', 'c']]))
  await settle(sealed(engine, log, [['y/2', 'd'], ['x/3', 'e']]))
  assert.equal(seqs(await all(log.read({ since: 1 }))), [2, 3, 4, 5])
  assert.equal(seqs(await all(log.read({ since: 2 }))), [3, 4, 5])
  assert.equal(seqs(await all(log.read({ since: 3 }))), [4, 5])
  assert.equal(seqs(await all(log.read({ since: 5 }))), [])
  assert.equal(seqs(await all(log.read({ since: 99 }))), [])
  assert.equal(seqs(await all(log.read({ prefix: 'x/' }))), [1, 3, 5])
  assert.equal(seqs(await all(log.read({ prefix: 'x/', limit: 2 }))), [1, 3])
  assert.equal(seqs(await all(log.read({ prefix: 'x/', since: 1, limit: 1 }))), [3])
  assert.equal(seqs(await all(log.read({ limit: 1 }))), [1])
  assert.equal(seqs(await all(log.read({ limit: 0 }))), [])
  assert.equal(seqs(await all(log.read({ limit: 5 }))), [1, 2, 3, 4, 5])
  // Records not yet published stay out of a read, even when already on disk.
  const later = sealed(engine, log, [['x/4', 'f']])
  await written.get(later)
  assert.equal(seqs(await all(log.read({ since: 4 }))), [5])
  for (const member of later.members) member.settle(true, later)
  assert.equal(seqs(await all(log.read({ since: 4 }))), [5, 6])
})

test('watch: the replay, then live changes after it, each once, filtered by prefix; close and abort end it', async () => {
  const { db, engine, failNext } = memoryEngine()
  const log = await loaded(engine)
  await settle(sealed(engine, log, [['x/1', 'a'], ['y/1', 'b']]))
  const seen: Change[] = []
  const done = (async () => { for await (const change of log.watch({ since: 0, prefix: 'x/' })) seen.push(change) })()
  await settle(sealed(engine, log, [['y/2', 'c'], ['x/2', 'd']]))
  await settle(sealed(engine, log, [['x/3', 'e']]))
  await log.close()
  await done
  assert.equal(seen, [{ seq: 1, key: 'x/1', rev: 'a' }, { seq: 4, key: 'x/2', rev: 'd' }, { seq: 5, key: 'x/3', rev: 'e' }])

  const controller = new AbortController()
  const other = new ChangeLog(engine)
  const got: Change[] = []
  const watching = (async () => { for await (const change of other.watch({ since: 4, signal: controller.signal })) got.push(change) })()
  await new Promise((resolve) => setImmediate(resolve))
  controller.abort()
  await watching
  assert.equal(seqs(got), [5])
})

test('watch: close wakes a watcher waiting for changes; an abort during the replay ends it after the replay; a signal not aborted stops nothing', async () => {
  const { engine } = memoryEngine()
  const log = await loaded(engine)
  await settle(sealed(engine, log, [['a', 'a1'], ['b', 'b1'], ['c', 'c1']]))
  const idle: Change[] = []
  let ended = false
  const waiting = (async () => { for await (const change of log.watch({ since: 3 })) idle.push(change) })().then(() => { ended = true })
  // Let the watcher reach its wait for new changes before the log closes.
  await new Promise((resolve) => setImmediate(resolve))
  const controller = new AbortController()
  const live = log.watch({ signal: new AbortController().signal })
  assert.is((await live.next()).value?.seq, 1)
  const replay = log.watch({ signal: controller.signal })
  assert.is((await replay.next()).value?.seq, 1)
  // Aborted while the watch is still replaying, not waiting: the replay finishes, then it ends.
  controller.abort()
  const rest: number[] = []
  for await (const change of replay) rest.push(change.seq)
  assert.equal(rest, [2, 3])
  assert.is((await live.next()).value?.seq, 2)
  assert.is((await live.next()).value?.seq, 3)
  const next = live.next()
  await settle(sealed(engine, log, [['d', 'd1']]))
  assert.equal((await next).value, { seq: 4, key: 'd', rev: 'd1' }, 'a watch with a signal that was not aborted gets live changes')
  await live.return(undefined)
  await log.close()
  // Ending takes only promise jobs once woken, all run before the next turn.
  await new Promise((resolve) => setImmediate(resolve))
  assert.ok(ended, 'close ended the waiting watch')
  await waiting
  assert.equal(seqs(idle), [4])
})

test('watch: once aborted, a watch yields nothing more, even a change published in the same turn', async () => {
  const { engine } = memoryEngine()
  const log = await loaded(engine)
  const controller = new AbortController()
  const seen: Change[] = []
  const watching = (async () => { for await (const change of log.watch({ signal: controller.signal })) seen.push(change) })()
  await new Promise((resolve) => setImmediate(resolve))
  const batch = sealed(engine, log, [['a', 'a1']])
  await written.get(batch)
  for (const member of batch.members) member.settle(true, batch)
  controller.abort()
  await watching
  assert.equal(seen, [])
  assert.is(log.published, 1)
})

test.run()
