/**
 * The changes feed: order and completeness at every size where a key encoding could go
 * wrong (more than 16, 256 and 4,096 records in hex), across a reopen, and the rule that a
 * change is visible only once every batch sealed before it is durable. Paused batches are
 * held by the test (instrumentedDb), never timed.
 */
import { connect } from 'node:net'
import type { ServerResponse } from 'node:http'
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import { serve } from '../src/server/index.js'
import type { Change, Revision } from '../src/index.js'
import { all, instrumentedDb, nextTurn } from './helpers.js'

const it = suite('changes feed')

/** A watcher that collects what it sees, and can be awaited until it has seen `n` changes. */
function collect (store: Store, since = 0): { seen: Change[], until: (n: number) => Promise<void>, stop: () => Promise<void> } {
  const seen: Change[] = []
  const abort = new AbortController()
  const waiters: Array<{ n: number, resolve: () => void }> = []
  const running = (async () => {
    for await (const change of store.watch({ since, signal: abort.signal })) {
      seen.push(change)
      for (const w of waiters.filter((w) => seen.length >= w.n)) w.resolve()
    }
  })()
  return {
    seen,
    until: async (n) => { if (seen.length < n) await new Promise<void>((resolve) => waiters.push({ n, resolve })) },
    stop: async () => { abort.abort(); await running }
  }
}

/** The feed must be exactly these revisions, numbered 1, 2, 3... */
function assertFeed (feed: Change[], revs: Revision[], what: string): void {
  assert.equal(feed.map((c) => c.seq), revs.map((_, i) => i + 1), `${what}: sequence numbers 1..${revs.length} in order`)
  assert.equal(feed.map((c) => c.rev), revs.map((r) => r.id), `${what}: the revisions in commit order`)
}

it('changes() and watch() keep order past 10, 100 and 1,000 writes, one batch each and in bursts', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const watcher = collect(store)
  const revs: Revision[] = []
  // One write per batch: each change record holds one change, so there are as many records as writes.
  for (const size of [11, 20, 101, 257, 1001]) {
    while (revs.length < size) revs.push(await store.commit(`k${revs.length % 7}`, revs.length))
    assertFeed(await all(store.changes()), revs, `changes() after ${size} writes`)
    await watcher.until(size)
    assertFeed(watcher.seen, revs, `watch() after ${size} writes`)
  }
  // Bursts: many changes per record, and records whose first number is past 0x1000.
  for (let burst = 0; burst < 40; burst++) {
    revs.push(...await Promise.all(Array.from({ length: 97 }, async (_, i) => await store.commit(`b${i}`, burst))))
  }
  assertFeed(await all(store.changes()), revs, 'changes() after bursts')
  await watcher.until(revs.length)
  assertFeed(watcher.seen, revs, 'watch() after bursts')
  // Resuming from any point gives exactly the rest, wherever it falls inside a record.
  for (const since of [0, 9, 10, 15, 16, 17, 255, 256, 1000, 1001, 1050, 4095, 4096, revs.length - 1, revs.length]) {
    const rest = await all(store.changes({ since }))
    assert.equal(rest.map((c) => c.seq), revs.slice(since).map((_, i) => since + i + 1), `changes({ since: ${since} })`)
  }
  const late = collect(store, 4000)
  await late.until(revs.length - 4000)
  assert.equal(late.seen.map((c) => c.seq), revs.slice(4000).map((_, i) => 4001 + i), 'watch({ since: 4000 })')
  await late.stop()
  await watcher.stop()
  await store.close()
})

it('across a reopen the feed goes on: no sequence number reused, no change record overwritten', async () => {
  const db = new MemoryLevel<string, string>()
  const revs: Revision[] = []
  for (const writes of [20, 300, 4200]) {
    const store = await Store.open({ db })
    assertFeed(await all(store.changes()), revs, `after reopening with ${revs.length} changes`)
    const watcher = collect(store)
    // A burst (one record of many changes) then single writes (a record each).
    revs.push(...await Promise.all(Array.from({ length: 10 }, async (_, i) => await store.commit(`burst${i}`, writes))))
    while (revs.length < writes) revs.push(await store.commit(`k${revs.length % 5}`, revs.length))
    await watcher.until(revs.length)
    assertFeed(watcher.seen, revs, `watch() with ${writes} changes`)
    await watcher.stop()
    await store.close()
  }
  const store = await Store.open({ db })
  assertFeed(await all(store.changes()), revs, 'after the last reopen')
  await store.close()
})

it('a change is visible only once every earlier batch is durable, even if a later batch finishes first', async () => {
  const { db, holdNext } = instrumentedDb()
  const store = await Store.open({ db, batchesInFlight: 4 })
  const first = await store.commit('w', 0)
  const watcher = collect(store)
  await watcher.until(1)
  // Batch A (key a) is held in its write; batch B (key b) is written and acknowledged meanwhile.
  const held = holdNext()
  const a = store.commit('a', 1)
  await held.reached
  const b = await store.commit('b', 1)
  assert.equal(b.value, 1, 'the later batch is durable and acknowledged')
  // Let the watcher run as long as it wants: it must not see b while a is not durable.
  for (let i = 0; i < 10; i++) await nextTurn()
  assert.equal(watcher.seen.map((c) => c.rev), [first.id], 'the watcher sees nothing past the held batch')
  assert.equal((await all(store.changes())).map((c) => c.rev), [first.id], 'changes() shows nothing past the held batch')
  const c = store.commit('c', 1)
  held.release()
  const [ra, rc] = await Promise.all([a, c])
  await watcher.until(4)
  assert.equal(watcher.seen.map((ch) => [ch.seq, ch.rev]), [[1, first.id], [2, ra.id], [3, b.id], [4, rc.id]], 'then everything, in sequence order')
  assert.equal((await all(store.changes())).map((ch) => ch.rev), [first.id, ra.id, b.id, rc.id])
  await watcher.stop()
  await store.close()
})

it('a failed batch\'s numbers are passed over: later changes still appear, nothing of the failed one does', async () => {
  const { db, holdNext, failNext } = instrumentedDb()
  const store = await Store.open({ db })
  const watcher = collect(store)
  const held = holdNext()
  failNext()
  const doomed = store.commit('a', 'lost').then(() => undefined, (err: Error) => err)
  await held.reached
  const b = await store.commit('b', 1)
  held.release()
  assert.match(String(await doomed), /simulated disk failure/)
  const c = await store.commit('c', 1)
  await watcher.until(2)
  assert.equal(watcher.seen.map((ch) => ch.rev), [b.id, c.id])
  assert.equal((await all(store.changes())).map((ch) => [ch.seq, ch.rev]), [[2, b.id], [3, c.id]])
  await watcher.stop()
  await store.close()
})

it('the event stream pauses its replay for a client that does not read, then completes in order', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  // Long keys make each event about 1 KiB, so a few MiB of replay overflow any loopback socket buffers.
  const revs: Revision[] = []
  for (let burst = 0; burst < 8; burst++) {
    revs.push(...await Promise.all(Array.from({ length: 1000 }, async (_, i) => await store.commit(`${'k'.repeat(900)}${burst}-${i}`, i))))
  }
  const server = await serve(store, { port: 0 })
  // Watch the server's side of the stream: every write, and whether it asked the handler to wait.
  let written = 0
  let drains = 0
  let waiting = false
  server.app.server.on('request', (req, res: ServerResponse) => {
    if (req.url?.startsWith('/v1/changes/stream') !== true) return
    res.on('drain', () => { drains++; waiting = false })
    const write = res.write.bind(res) as (chunk: string) => boolean
    res.write = ((chunk: string) => {
      waiting = !write(chunk)
      if (chunk.startsWith('id: ')) written++
      return !waiting
    }) as typeof res.write
  })
  // A client that sends the request and then reads nothing.
  const { port } = new URL(server.url)
  const socket = connect(Number(port), '127.0.0.1')
  try {
    socket.pause()
    socket.write('GET /v1/changes/stream?since=0 HTTP/1.1\r\nHost: x\r\n\r\n')
    // Until the buffers are full, each write that asks to wait is drained within a turn or
    // two. Paused means: the last write asked to wait, and many turns pass with no drain
    // and no write (the turns are counted, not timed).
    let quiet = 0
    for (let turns = 0; quiet < 50; turns++) {
      assert.ok(turns < 100_000, `the stream never paused (${written} of ${revs.length} events written)`)
      const before = written + drains
      await nextTurn()
      quiet = waiting && written + drains === before ? quiet + 1 : 0
    }
    const paused = written
    assert.ok(paused > 0 && paused < revs.length, `the replay paused after ${paused} of ${revs.length} events`)
    // The client reads now: the replay resumes and everything arrives once, in order.
    let text = ''
    const seqs: number[] = []
    const revIds: string[] = []
    await new Promise<void>((resolve, reject) => {
      socket.on('end', () => { reject(new Error(`the stream ended after ${seqs.length} events`)) })
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk
        for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(text.slice(0, end))?.[1]
          text = text.slice(end + 2)
          if (data === undefined) continue
          const change = JSON.parse(data) as Change
          seqs.push(change.seq)
          revIds.push(change.rev)
          if (seqs.length === revs.length) resolve()
        }
      })
      socket.resume()
    })
    assert.is(written, revs.length, 'the replay resumed and finished')
    assert.equal(seqs, revs.map((_, i) => i + 1))
    assert.equal(revIds, revs.map((r) => r.id))
  } finally {
    socket.destroy()
    await server.close()
  }
})

it.run()
