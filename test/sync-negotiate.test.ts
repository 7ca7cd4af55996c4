/**
 * What a pull asks for (issue 14: negotiation costs a few calls per batch of keys, and the
 * revisions sent are the ones the receiver lacks). A key that diverged recently must cost
 * only the revisions made since the fork, store to store and over HTTP, not its history.
 */
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { RemoteStore, Store } from '../src/index.js'
import type { Revision, SyncReport } from '../src/index.js'
import { serve } from '../src/server/index.js'
import { kSync } from '../src/sync/types.js'
import type { SyncEndpoint, SyncPeer, Want } from '../src/sync/types.js'
import { all } from './helpers.js'

const it = suite('sync negotiation')

/** A clock the test moves on every read, so revisions (and their ids) are the same in every run. */
function fakeClock (start: number): () => number {
  let now = start
  return () => ++now
}

/** What went over a counting peer: the wants asked, the lines sent. */
interface Traffic {
  wants: Want[][]
  lines: string[]
}

/** `store` as a sync peer whose send() is recorded (every other call goes straight through). */
function counting (store: Store, traffic: Traffic): SyncPeer {
  const inner = store[kSync]()
  const endpoint: SyncEndpoint = {
    info: async () => await inner.info(),
    heads: (prefix, since) => inner.heads(prefix, since),
    headsOf: async (keys) => await inner.headsOf(keys),
    send: async function * (wants) {
      traffic.wants.push(wants)
      for await (const line of inner.send(wants)) {
        traffic.lines.push(line)
        yield line
      }
    },
    receive: async (lines, options) => await inner.receive(lines, options)
  }
  return { [kSync]: () => endpoint }
}

/**
 * A source with `history` revisions of key k, a copy of it, then `theirs` more revisions on
 * the source and `ours` more on the copy: the key has diverged that far from the fork.
 */
async function diverged (history: number, theirs: number, ours: number): Promise<{ src: Store, dst: Store, sent: Revision[] }> {
  const src = await Store.open({ db: new MemoryLevel(), clock: fakeClock(1_000_000), strategy: 'lww' })
  for (let i = 0; i < history; i++) await src.commit('k', { n: i, pad: 'x'.repeat(100) })
  await src.commit('other', 1)
  const dst = await Store.clone(src, { db: new MemoryLevel(), clock: fakeClock(2_000_000), strategy: 'lww' })
  const sent: Revision[] = []
  for (let i = 0; i < theirs; i++) sent.push(await src.commit('k', { theirs: i }))
  for (let i = 0; i < ours; i++) await dst.commit('k', { ours: i })
  return { src, dst, sent }
}

/** The bytes of these lines as NDJSON on the wire. */
function bytesOf (lines: string[]): number {
  return lines.reduce((sum, line) => sum + Buffer.byteLength(line, 'utf8') + 1, 0)
}

/** Revisions present in `from` and missing in `to`, and heads that differ (empty: converged). */
/** Run `work` on `store` served over HTTP through a RemoteStore; closes the client, the server and `stores` afterwards. */
async function served (store: Store, stores: Store[], work: (remote: RemoteStore) => Promise<void>): Promise<void> {
  const server = await serve(store, { port: 0 })
  const remote = await RemoteStore.open({ url: server.url })
  try {
    await work(remote)
  } finally {
    await remote.close()
    await server.close()
    for (const s of stores) await s.close()
  }
}

async function differences (a: Store, b: Store): Promise<string[]> {
  const [da, db] = [await all(a.export()), await all(b.export())]
  return da.filter((line) => !db.includes(line)).concat(db.filter((line) => !da.includes(line)))
}

it('a key diverged two revisions ago sends only those two revisions, not its 200-revision history', async () => {
  const { src, dst, sent } = await diverged(200, 2, 2)
  const traffic: Traffic = { wants: [], lines: [] }
  const report = await dst.pull(counting(src, traffic))
  const revisionLines = traffic.lines.filter((line) => line.startsWith('{"revision"'))
  assert.equal(revisionLines.map((line) => (JSON.parse(line) as { revision: { id: string } }).revision.id), sent.map((rev) => rev.id), 'the source sends exactly its two new revisions')
  assert.equal([report.keys, report.revisions, report.merges], [1, 2, 1])
  // Exactly what went over: the two revisions, the head line and the end line.
  assert.is(report.bytes, bytesOf(traffic.lines))
  assert.is(traffic.lines.length, 4)
  assert.is(traffic.wants.length, 1, 'one send for the batch')
  await src.pull(dst)
  assert.equal(await differences(src, dst), [], 'the merge fast-forwards back: the stores agree')
  const again = await dst.pull(src)
  assert.equal([again.revisions, again.fastForwards, again.merges, again.bytes], [0, 0, 0, 0], 'a further pull brings nothing')
  await src.close()
  await dst.close()
})

it('over HTTP the same pull sends the same bytes: the haves fit POST /v1/sync/send', async () => {
  const here = await diverged(200, 2, 2)
  const traffic: Traffic = { wants: [], lines: [] }
  const expected = await here.dst.pull(counting(here.src, traffic))
  assert.is(traffic.lines.length, 4, 'two revisions, the head line, the end line')
  await here.src.close()
  await here.dst.close()
  const { src, dst } = await diverged(200, 2, 2)
  await served(src, [src, dst], async (remote) => {
    const report: SyncReport = await dst.pull(remote)
    assert.equal(report, expected, 'the same report, bytes and all')
    assert.is(report.revisions, 2)
  })
})

it('a fork further back than the ancestors named still brings everything, and the stores converge', async () => {
  // 40 local revisions since the fork: the newest 32 of the copy's history are all its own,
  // so the source walks on past the fork; what it sends again, the copy already has.
  const { src, dst, sent } = await diverged(60, 3, 40)
  const report = await dst.pull(src)
  assert.equal([report.revisions, report.merges], [sent.length, 1])
  await src.pull(dst)
  assert.equal(await differences(src, dst), [])
  assert.equal((await dst.verify()).problems, [])
  await src.close()
  await dst.close()
})

it('a batch whose wants would make a body past what a server takes is asked in parts', async () => {
  // 1,000 keys (one batch of negotiation) of 1,000 bytes, each wanted with 4 haves: about
  // 1.3 MB of wants, more than the 1 MiB a server with tiny values takes for the route.
  const src = await Store.open({ db: new MemoryLevel(), clock: fakeClock(1_000_000), maxValueBytes: 64 })
  const keys = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')}${'k'.repeat(996)}`)
  for (let round = 0; round < 4; round++) await src.batch(keys.map((key) => ({ type: 'commit' as const, key, value: round })))
  const dst = await Store.clone(src, { db: new MemoryLevel(), clock: fakeClock(2_000_000) })
  await src.batch(keys.map((key) => ({ type: 'commit' as const, key, value: 'new' })))
  await served(src, [src, dst], async (remote) => {
    const report = await dst.pull(remote)
    assert.equal([report.keys, report.revisions, report.fastForwards], [1000, 1000, 1000])
    assert.equal(await differences(src, dst), [])
  })
})

it('a push asks a server for the heads of a thousand long keys full of escapes in parts, within its body limit', async () => {
  // 1,000 keys of 1,000 control characters: each is 6,002 bytes of JSON, 6 MB for one batch
  // of heads, far more than the 1 MiB a server with tiny values takes for the route.
  const target = await Store.open({ db: new MemoryLevel(), clock: fakeClock(1_000_000), maxValueBytes: 64 })
  const local = await Store.open({ db: new MemoryLevel(), clock: fakeClock(2_000_000) })
  const keys = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')}${'\u0001'.repeat(996)}`)
  await local.batch(keys.map((key) => ({ type: 'commit' as const, key, value: 1 })))
  await served(target, [local, target], async (remote) => {
    const report = await local.push(remote)
    assert.equal([report.keys, report.revisions, report.fastForwards], [1000, 1000, 1000])
    assert.equal(await differences(local, target), [])
  })
})

it.run()
