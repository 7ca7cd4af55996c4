/**
 * The PostgreSQL server stops and starts again while writers run (issue 12), on a private
 * cluster of this file's own: writers in this process and in a child process, and a
 * watcher here. Writes during the outage fail with UnavailableError instead of hanging,
 * nothing acknowledged is lost, and the same Store works again once the server is back.
 * Every wait is on an event, with a liveness bound; nothing is judged by time.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RemoteStore, Store, UnavailableError } from '../src/index.js'
import { serve } from '../src/server/index.js'
import type { Change } from '../src/index.js'
import { findPostgresBin, startCluster } from './pg/cluster.js'
import { LIVENESS_MS, Progress, startWriters } from './pg/children.js'
import type { WriterProcess } from './pg/children.js'
import { assertAckedInHistory, assertSound, reachable } from './pg/checks.js'
import type { Acked } from './pg/checks.js'
import { runWriters } from './pg/writer-loop.js'
import type { WriterEvent, WriterTotals } from './pg/writer-loop.js'
import { all, rejection } from './helpers.js'

const KEYS = Array.from({ length: 8 }, (_, i) => `k${i}`)
/**
 * The child's keys. Cross-process contention on shared keys is pg-multiprocess.test's
 * subject; here a child hammering this process's keys while this process's pool is also
 * busy with its reject writers starves this process's writes of a head that stays put
 * long enough (see the README), which would turn an outage test into a fairness test.
 */
const CHILD_KEYS = Array.from({ length: 4 }, (_, i) => `c${i}`)
const WRITERS = 16
/** Writers under reject in this process, on keys of their own (their values are not merge members). */
const REJECT_KEYS = ['r0', 'r1', 'r2']
const REJECTERS = 8
const SCHEMA = 'fault'
type Phase = 'up' | 'stopping' | 'down' | 'back'

/** Resolves with `promise`'s value, or fails naming `what` if it has not settled after LIVENESS_MS. */
async function settles<T> (promise: Promise<T>, what: string): Promise<T> {
  let guard: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((resolve, reject) => {
      guard = setTimeout(() => { reject(new Error(`${what} did not settle within ${LIVENESS_MS} ms: a hang`)) }, LIVENESS_MS)
    })])
  } finally {
    clearTimeout(guard)
  }
}

// The cluster is started by the test itself (it is stopped and started, so it is this file's
// alone); without PostgreSQL, startCluster() says why the test is skipped (or fails under .ci/run).
const available = findPostgresBin() !== undefined || await startCluster() !== undefined
const it = available ? test : test.skip

it('server stopped and started while writers run: writes fail with REVKV_UNAVAILABLE, none hangs, nothing acknowledged is lost, the same Store and watch() go on', async () => {
  const cluster = await startCluster()
  if (cluster === undefined) throw new Error('PostgreSQL disappeared')
  const server = new URL(cluster.url)
  const serverName = `${server.hostname}:${server.port}${server.pathname}`
  const store = await Store.open({ postgres: cluster.url, schema: SCHEMA, poolSize: 6 })
  const progress = new Progress()
  const controller = new AbortController()
  const acked: Acked[] = []
  const failures: Array<{ writer: string, error: unknown }> = []
  /** Per writer of this process: acknowledged writes and failures, and the phase each happened in. */
  let phase = 'up' as Phase
  const seen = new Map<string, Record<Phase, { acks: number, errors: number }>>()
  const count = (writer: string, what: 'acks' | 'errors'): void => {
    const counts = seen.get(writer) ?? { up: { acks: 0, errors: 0 }, stopping: { acks: 0, errors: 0 }, down: { acks: 0, errors: 0 }, back: { acks: 0, errors: 0 } }
    seen.set(writer, counts)
    counts[phase][what]++
    progress.changed()
  }
  const everyWriter = (p: Phase, what: 'acks' | 'errors', n: number): boolean =>
    seen.size === WRITERS + REJECTERS && [...seen.values()].every((counts) => counts[p][what] >= n)
  let stopping = false
  let child: WriterProcess | undefined
  const watched: Change[] = []
  try {
    const watching = (async () => {
      for await (const change of store.watch({ signal: controller.signal })) {
        watched.push(change)
        progress.changed()
      }
    })()
    const report = (event: WriterEvent): void => {
      if (event.type === 'ack') acked.push(event)
      else failures.push(event)
      count(event.writer, event.type === 'ack' ? 'acks' : 'errors')
    }
    const writing: Promise<WriterTotals[]> = Promise.all([
      runWriters(store, { name: 'here', strategy: 'merge', writers: WRITERS, ops: 0, keys: KEYS, stopped: () => stopping }, report),
      runWriters(store, { name: 'rej', strategy: 'reject', writers: REJECTERS, ops: 0, keys: REJECT_KEYS, stopped: () => stopping }, report)
    ])
    writing.catch(() => {})
    ;[child] = await startWriters(1, { url: cluster.url, schema: SCHEMA, strategy: 'reject', writers: WRITERS, ops: 0, keys: CHILD_KEYS, notify: true, poolSize: 4 }, progress)
    const theChild = child as WriterProcess
    await progress.until(() => everyWriter('up', 'acks', 2) && theChild.acks.length >= 32, 'every writer to write before the outage')

    phase = 'stopping'
    await cluster.stopServer()
    phase = 'down'
    const childErrorsBefore = theChild.errors.length
    await progress.until(() => everyWriter('down', 'errors', 2) && theChild.errors.length > childErrorsBefore, 'every writer to fail while the server is down')
    assert.ok([...seen.values()].every((counts) => counts.down.acks === 0), 'nothing is acknowledged while the server is down')

    await cluster.startServer()
    phase = 'back'
    const childAcksBefore = theChild.acks.length
    await progress.until(() => everyWriter('back', 'acks', 3) && theChild.acks.length >= childAcksBefore + 32, 'every writer to write again once the server is back')
    stopping = true
    theChild.stop()
    // Every pending write settles: the writers' loops end, none stuck on a lost connection.
    const [totals] = await settles(writing, 'the writers of this process')
    await theChild.finished()

    // Failures: only UnavailableError, naming the server.
    assert.ok(failures.length >= 2 * (WRITERS + REJECTERS), 'writes failed during the outage')
    for (const { error } of failures) {
      assert.instance(error, UnavailableError)
      const e = error as UnavailableError
      assert.is(e.code, 'REVKV_UNAVAILABLE')
      assert.is(e.status, 503)
      assert.is(e.server, serverName)
      assert.ok(e.message.includes(`PostgreSQL at ${serverName} is unavailable`), e.message)
    }
    for (const error of theChild.errors) {
      assert.is(error.code, 'REVKV_UNAVAILABLE', `${error.name}: ${error.message}`)
      assert.ok(error.message.includes(serverName), error.message)
    }

    // Nothing acknowledged is lost, the store is sound, each writer's last member survived.
    acked.push(...theChild.acks)
    const history = await reachable(store, [...KEYS, ...REJECT_KEYS, ...CHILD_KEYS])
    assertAckedInHistory(history, acked)
    await assertSound(store, cluster.url, SCHEMA, history)
    for (const [writer, perKey] of Object.entries((totals as WriterTotals).last)) {
      for (const [key, n] of Object.entries(perKey)) {
        const value = await store.get(key) as Record<string, number>
        assert.ok((value[writer] ?? 0) >= n, `${writer}'s last acknowledged value of ${key} (${n}) is in the final object (${String(value[writer])})`)
      }
    }

    // The watcher, started before the outage, goes on: it sees every change, in order, once.
    const stored = await all(store.changes())
    const last = stored.at(-1)?.seq ?? 0
    await progress.until(() => (watched.at(-1)?.seq ?? 0) >= last, `the watcher to reach change ${last}`)
    controller.abort()
    await settles(watching, 'the watcher')
    assert.equal(watched, stored, 'the watcher saw exactly the stored changes')
    assert.equal(stored.map((c) => c.seq), stored.map((_, i) => i + 1), 'change numbers run 1..N without gaps')
    const ids = new Set(stored.map((c) => c.rev))
    assert.ok(acked.every((a) => ids.has(a.id)), 'every acknowledged write is a change')
  } finally {
    stopping = true
    controller.abort()
    child?.kill()
    await store.close()
    await cluster.stop()
  }
})

it('a RemoteStore served from a PostgreSQL store gets UnavailableError, naming the database server, while it is down, and goes on after', async () => {
  const cluster = await startCluster()
  if (cluster === undefined) throw new Error('PostgreSQL disappeared')
  const store = await Store.open({ postgres: cluster.url, schema: 'remote_fault', poolSize: 4 })
  const served = await serve(store, { port: 0 })
  const client = await RemoteStore.open(served.url)
  try {
    const first = await client.commit('k', { n: 1 })
    await cluster.stopServer()
    // The server says what happened on stderr in one line per request, without a stack: an outage is not a bug.
    const logged: unknown[][] = []
    const consoleError = console.error
    console.error = (...args: unknown[]) => { logged.push(args) }
    let err: Error
    try {
      err = await rejection(client.commit('k', { n: 2 }, { parent: first.id }))
    } finally {
      console.error = consoleError
    }
    assert.is(logged.length, 1)
    assert.match(String(logged[0]?.[0]), /^revkv serve: REVKV_UNAVAILABLE: PostgreSQL at 127\.0\.0\.1:\d+\/revkv_test is unavailable/)
    assert.not.match(String(logged[0]?.[0]), /\n\s+at /)
    assert.instance(err, UnavailableError)
    assert.is((err as UnavailableError).code, 'REVKV_UNAVAILABLE')
    assert.is((err as UnavailableError).status, 503)
    const url = new URL(cluster.url)
    assert.is((err as UnavailableError).server, `${url.hostname}:${url.port}${url.pathname}`)
    await cluster.startServer()
    const second = await client.commit('k', { n: 3 }, { parent: first.id })
    assert.equal(second.parents, [first.id], 'the write refused while the server was down left nothing behind')
  } finally {
    await client.close()
    await served.close()
    await store.close()
    await cluster.stop()
  }
})

test.run()
