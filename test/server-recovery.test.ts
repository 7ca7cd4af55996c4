/**
 * The paths taken when something goes wrong mid-request: an internal failure (500), an
 * If-Match: * write that loses a race and retries, and a RemoteStore watch whose stream
 * is cut or whose server is briefly gone. Races are set up with held batches and server
 * events, never with delays.
 */
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import type { IncomingMessage } from 'node:http'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RemoteStore, Store } from '../src/index.js'
import type { Change, Revision } from '../src/index.js'
import { buildServer } from '../src/server/index.js'
import { instrumentedDb, nextTurn } from './helpers.js'

test('an internal failure is a 500 problem that tells nothing of the cause, and the server goes on', async () => {
  const boom = { name: 'boom', resolve: () => { throw new Error('secret internal detail') } }
  const store = await Store.open({ db: new MemoryLevel(), strategies: { 'boom/': boom } })
  const app = buildServer(store)
  const logged: unknown[] = []
  const error = console.error
  console.error = (...args: unknown[]) => { logged.push(args[0]) }
  try {
    const base = await store.commit('boom/k', 1)
    await store.commit('boom/k', 2, { parent: base.id })
    const answer = await app.inject({ method: 'PUT', url: `/v1/keys/boom%2Fk?parent=${base.id}`, payload: '3', headers: { 'content-type': 'application/json' } })
    assert.is(answer.statusCode, 500)
    assert.match(answer.headers['content-type'] as string, /application\/problem\+json/)
    const problem = JSON.parse(answer.body) as Record<string, unknown>
    assert.equal({ status: problem.status, code: problem.code, title: problem.title, type: problem.type }, { status: 500, code: 'REVKV_INTERNAL', title: 'Internal Server Error', type: 'urn:revkv:problem:internal' })
    assert.not.match(answer.body, /secret internal detail/, 'the cause stays in the server log')
    assert.is((logged[0] as Error).message, 'secret internal detail', 'and is logged there')
    assert.is(await store.get('boom/k'), 2, 'nothing was written')
    assert.is((await app.inject({ method: 'GET', url: '/v1/keys/boom%2Fk' })).statusCode, 200, 'the server goes on')
  } finally {
    console.error = error
    await app.close()
    await store.close()
  }
})

test('If-Match: * retries when a concurrent write lands between reading the head and writing', async () => {
  const { db, holdNext } = instrumentedDb()
  const store = await Store.open({ db })
  const app = buildServer(store)
  try {
    const v1 = await store.commit('k', 1)
    // Count the server's head reads of k, and learn when the first one has answered.
    const head = store.head.bind(store)
    let reads = 0
    let firstRead: () => void = () => {}
    const readOnce = new Promise<void>((resolve) => { firstRead = resolve })
    store.head = async (key: string): Promise<Revision | undefined> => {
      const rev = await head(key)
      if (key === 'k' && ++reads === 1) firstRead()
      return rev
    }
    // v2 is decided but held in its batch, so the durable head is still v1 when the request reads it.
    const held = holdNext()
    const v2 = store.commit('k', 2)
    await held.reached
    const answer = app.inject({ method: 'PUT', url: '/v1/keys/k', payload: '3', headers: { 'content-type': 'application/json', 'if-match': '*' } })
    await readOnce
    for (let i = 0; i < 5; i++) await nextTurn()
    held.release()
    const [written, put] = await Promise.all([v2, answer])
    assert.is(put.statusCode, 200, put.body)
    assert.ok(reads >= 3, `the head was read again for the retry (${reads} reads)`)
    const log: Revision[] = []
    for await (const rev of store.log('k')) log.push(rev)
    assert.equal(log.map((r) => r.value), [3, 2, 1], 'the retried write went on top of the concurrent one')
    assert.equal(log[0]?.parents, [written.id])
    assert.equal(log[1]?.parents, [v1.id])
  } finally {
    await app.close()
    await store.close()
  }
})

test('a RemoteStore watch resumes from the last seq after its stream is cut and while its server is gone: nothing lost, nothing twice', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  let app = buildServer(store)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  /** The server side of each change stream, and the seq each asked to resume after. */
  const streams: Array<{ req: IncomingMessage, from: string | undefined }> = []
  const track = (): void => {
    app.server.on('request', (req: IncomingMessage) => {
      if (req.url?.startsWith('/v1/changes/stream') === true) streams.push({ req, from: req.headers['last-event-id'] as string | undefined })
    })
  }
  track()
  const remote = await RemoteStore.open(`http://127.0.0.1:${port}`)
  const seen: Change[] = []
  const waiters: Array<{ n: number, resolve: () => void }> = []
  const until = async (n: number): Promise<void> => { if (seen.length < n) await new Promise<void>((resolve) => waiters.push({ n, resolve })) }
  const abort = new AbortController()
  const watching = (async () => {
    for await (const change of remote.watch({ signal: abort.signal })) {
      seen.push(change)
      for (const w of waiters.filter((w) => seen.length >= w.n)) w.resolve()
    }
  })()
  let refuser: Server | undefined
  try {
    const revs: Revision[] = []
    for (let i = 0; i < 5; i++) revs.push(await store.commit(`k${i}`, i))
    await until(5)
    // Cut the stream from the server's side: the client reconnects at once from seq 5.
    streams[0]?.req.socket.destroy()
    for (let i = 5; i < 10; i++) revs.push(await store.commit(`k${i}`, i))
    await until(10)
    assert.is(streams.length, 2, 'one reconnection')
    assert.is(streams[1]?.from, '5', 'it resumed after the last seq it had')
    // Now the server goes away: connections are accepted and dropped, so the client backs off
    // and retries; after two failed attempts the server is back on the same port.
    const attempts: Socket[] = []
    let failedTwice: () => void = () => {}
    const twice = new Promise<void>((resolve) => { failedTwice = resolve })
    const down = app
    const stopping = down.close()
    for (const s of streams) s.req.socket.destroy()
    await stopping
    revs.push(await store.commit('while-down', 0))
    refuser = createServer((socket) => {
      attempts.push(socket)
      socket.destroy()
      if (attempts.length === 2) failedTwice()
    })
    await new Promise<void>((resolve) => refuser?.listen(port, '127.0.0.1', resolve))
    await twice
    await new Promise<void>((resolve) => refuser?.close(() => { resolve() }))
    refuser = undefined
    app = buildServer(store)
    track()
    await app.listen({ port, host: '127.0.0.1' })
    for (let i = 10; i < 13; i++) revs.push(await store.commit(`k${i}`, i))
    await until(revs.length)
    assert.equal(seen.map((c) => c.seq), revs.map((_, i) => i + 1), 'every change once, in order')
    assert.equal(seen.map((c) => c.rev), revs.map((r) => r.id))
    assert.is(streams[streams.length - 1]?.from, '10', 'after the outage it resumed after seq 10')
  } finally {
    abort.abort()
    await watching.catch(() => {})
    refuser?.close()
    await app.close()
    await store.close()
  }
})

test.run()
