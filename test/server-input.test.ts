/**
 * The HTTP server's edges: bodies it must refuse before any code recurses into them or
 * changes them, requests that fail before fastify sees them (malformed, too large, too
 * slow), and messages that must not leak placeholders.
 */
import { once } from 'node:events'
import { connect } from 'node:net'
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidInputError, Store } from '../src/index.js'
import { serve } from '../src/server/index.js'
import type { ListenOptions, RunningServer } from '../src/server/index.js'
import { rejection } from './helpers.js'

interface Answer {
  status: number
  headers: Headers
  problem: { status: number, code: string, detail: string, title: string, type: string }
  text: string
}

const it = suite('HTTP server input and framework errors')
let current: RunningServer | undefined
it.after.each(async () => {
  await current?.close()
  current = undefined
})

async function open (options: ListenOptions = {}): Promise<{ server: RunningServer, store: Store, call: (method: string, path: string, init?: { body?: string, headers?: Record<string, string> }) => Promise<Answer> }> {
  const store = await Store.open({ db: new MemoryLevel<string, string>() })
  const server = await serve(store, { port: 0, ...options })
  current = server
  const call = async (method: string, path: string, init: { body?: string, headers?: Record<string, string> } = {}): Promise<Answer> => {
    const headers = { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers }
    const response = await fetch(server.url + path, { method, headers, ...(init.body === undefined ? {} : { body: init.body }) })
    const text = await response.text()
    let problem = {} as Answer['problem']
    try { problem = JSON.parse(text) as Answer['problem'] } catch {}
    return { status: response.status, headers: response.headers, problem, text }
  }
  return { server, store, call }
}

/** A raw HTTP exchange: write `data` (never ending our side), read until the server closes the connection. */
async function raw (url: string, data: string): Promise<{ status: number, headers: Record<string, string>, body: string }> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname, () => { socket.write(data) })
  const text = await settles(new Promise<string>((resolve, reject) => {
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { received += chunk })
    socket.on('error', reject)
    socket.on('close', () => { resolve(received) })
  }), 'the server closing the connection').finally(() => socket.destroy())
  const [head = '', body = ''] = text.split('\r\n\r\n', 2)
  const [statusLine = '', ...headerLines] = head.split('\r\n')
  const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]))
  return { status: Number(statusLine.split(' ')[1]), headers, body }
}

function assertProblem (answer: { status: number, headers: Record<string, string>, body: string }, status: number, code: string): Answer['problem'] {
  assert.is(answer.status, status, answer.body)
  assert.match(answer.headers['content-type'] ?? '', /^application\/problem\+json/)
  assert.is(answer.headers.connection, 'close')
  const problem = JSON.parse(answer.body) as Answer['problem']
  assert.is(problem.status, status)
  assert.is(problem.code, code)
  assert.type(problem.detail, 'string')
  return problem
}

/** `promise`, or a failure if it never settles: an upper bound so a missing event fails the test instead of hanging it, not a timing assertion. */
async function settles<T> (promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what} never happened`)) }, 20_000) })
  try {
    return await Promise.race([promise, bound])
  } finally {
    clearTimeout(timer)
  }
}

const nested = (levels: number, leaf = '1'): string => '['.repeat(levels) + leaf + ']'.repeat(levels)

it('a body nested deeper than 1000 levels is a short 400 on every route, before any code recurses into it', async () => {
  const { call, store } = await open({ bodyLimit: 4_000_000 })
  await call('PUT', '/v1/keys/k', { body: '{"a":1}' })
  const deep = nested(100_000)
  const requests: Array<[string, string, string, string]> = [
    ['PUT', '/v1/keys/k', 'application/json', deep],
    ['PATCH', '/v1/keys/k', 'application/merge-patch+json', `{"a":${'{"b":'.repeat(100_000)}1${'}'.repeat(100_001)}`],
    ['PATCH', '/v1/keys/k', 'application/json-patch+json', `[{"op":"add","path":"/b","value":${deep}}]`],
    ['POST', '/v1/keys/k/merge', 'application/json', `{"rev":"HEAD","value":${deep}}`]
  ]
  for (const [method, path, type, body] of requests) {
    const answer = await call(method, path, { body, headers: { 'content-type': type } })
    assert.is(answer.status, 400, `${method} ${type}: ${answer.text.slice(0, 300)}`)
    assert.is(answer.problem.code, 'REVKV_INVALID')
    assert.match(answer.problem.detail, /nested more than 1000 levels deep/)
    assert.ok(answer.problem.detail.length < 200, `a short detail, not ${answer.problem.detail.length} characters`)
  }
  // 1000 levels are a value like any other.
  assert.is((await call('PUT', '/v1/keys/d', { body: nested(1000) })).status, 201)
  assert.equal(await store.get('k'), { a: 1 }, 'nothing was written')
})

it('the library refuses values nested deeper than 1000 levels with a short message', async () => {
  const store = await Store.open({ db: new MemoryLevel<string, string>() })
  const deep = JSON.parse(nested(1001)) as never
  const err = await rejection(store.commit('k', deep))
  assert.instance(err, InvalidInputError)
  assert.match(err.message, /nested more than 1000 levels deep/)
  assert.ok(err.message.length < 200, `a short message, not ${err.message.length} characters: ${err.message.slice(0, 300)}`)
  const v = await store.commit('k', JSON.parse(nested(1000)) as never)
  assert.instance(await rejection(store.merge('k', v.id, { value: JSON.parse(nested(50_000)) as never })), InvalidInputError)
  assert.is((await store.head('k'))?.id, v.id)
  await store.close()
})

it('numbers a double cannot hold and duplicate member names are refused with line and column; lossyNumbers accepts the nearest double', async () => {
  const { call, store } = await open()
  const big = await call('PUT', '/v1/keys/n', { body: '{"id":\n  12345678901234567890123}' })
  assert.is(big.status, 400)
  assert.is(big.problem.code, 'REVKV_INVALID')
  assert.match(big.problem.detail, /^JSON in the request body at line 2, column 3: the number 12345678901234567890123 cannot be stored exactly/)
  const twice = await call('PATCH', '/v1/keys/n', { body: '{"a":1,"a":2}', headers: { 'content-type': 'application/merge-patch+json' } })
  assert.is(twice.status, 400)
  assert.match(twice.problem.detail, /line 1, column 8: duplicate member name "a" \(first at line 1, column 2\)/)
  assert.is(await store.head('n'), undefined, 'nothing was written')
  assert.is((await call('PUT', '/v1/keys/n', { body: '[1.0, 1e2, 0.1, -0, 9007199254740992]' })).status, 201)
  assert.equal(await store.get('n'), [1, 100, 0.1, 0, 9007199254740992])
  await current?.close()

  const lossy = await open({ lossyNumbers: true })
  assert.is((await lossy.call('PUT', '/v1/keys/n', { body: '12345678901234567890123' })).status, 201)
  assert.is(await lossy.store.get('n'), 1.2345678901234568e+22)
  assert.is((await lossy.call('PUT', '/v1/keys/d', { body: '{"a":1,"a":2}' })).status, 400, 'duplicates are refused even so')
})

it('a stalled request gets a 408 problem and its connection is closed (headers or body)', async () => {
  const lines: string[] = []
  const { server, store } = await open({ requestTimeout: 200, log: (line) => lines.push(line) })
  const headers = await raw(server.url, 'PUT /v1/keys/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n')
  assert.match(assertProblem(headers, 408, 'REVKV_TIMEOUT').detail, /within 200 ms/)
  const body = await raw(server.url, 'PUT /v1/keys/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"a":')
  assertProblem(body, 408, 'REVKV_TIMEOUT')
  assert.is(await store.head('k'), undefined, 'nothing was written')
  assert.ok(lines.some((line) => /^127\.0\.0\.1 - - \[[^\]]+\] "-" 408 \d+ -$/.test(line)), lines.join('\n'))
})

it('requests Node refuses before routing are problem+json too: 431, 400, 414, 417', async () => {
  const { server, call } = await open()
  assertProblem(await raw(server.url, `GET /v1/keys/${'x'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`), 431, 'REVKV_TOO_LARGE')
  assertProblem(await raw(server.url, 'NOT HTTP AT ALL\r\n\r\n'), 400, 'REVKV_INVALID')
  assertProblem(await raw(server.url, 'GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n'), 400, 'REVKV_INVALID')
  const long = await call('GET', `/v1/keys/${'y'.repeat(5000)}`)
  assert.is(long.status, 414)
  assert.is(long.problem.code, 'REVKV_TOO_LARGE')
  assert.ok(long.problem.detail.length < 300, long.problem.detail)
  const badEncoding = await call('GET', '/v1/keys/%E0%A4%A')
  assert.is(badEncoding.status, 400)
  assert.match(badEncoding.problem.detail, /percent-encod/)
  const expect = await raw(server.url, 'PUT /v1/keys/k HTTP/1.1\r\nHost: x\r\nExpect: the-unexpected\r\nContent-Length: 1\r\n\r\n')
  assertProblem(expect, 417, 'REVKV_INVALID')
})

it('requests arriving while the server closes get a 503 problem', async () => {
  const { server } = await open()
  // Two pipelined requests on one connection: the first holds the connection open (its body
  // is not all sent), so close() cannot drop it as idle; the second arrives after close().
  const { hostname, port } = new URL(server.url)
  const socket = connect(Number(port), hostname)
  let received = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => { received += chunk })
  const closed = new Promise<void>((resolve) => socket.on('close', () => { resolve() }))
  await new Promise<void>((resolve) => socket.on('connect', () => { resolve() }))
  const started = once(server.app.server, 'request')
  socket.write('PUT /v1/keys/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n')
  await started
  const closing = server.close()
  current = undefined
  while (server.app.server.listening) await new Promise((resolve) => setImmediate(resolve))
  socket.write('1GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n')
  await settles(closed, 'the server closing the connection')
  await closing
  assert.match(received, /^HTTP\/1\.1 201 /, 'the request under way is finished')
  const second = received.slice(received.indexOf('HTTP/1.1', 1))
  assert.match(second, /^HTTP\/1\.1 503 /)
  assert.match(second, /content-type: application\/problem\+json/i)
  assert.match(second, /"code":"REVKV_CLOSED"/)
})

it('an invalid Last-Event-ID or since is a 400, not a replay from 0', async () => {
  const { call } = await open()
  await call('PUT', '/v1/keys/k', { body: '1' })
  for (const id of ['abc', '-5', '1.5', '1e3', '99999999999999999999']) {
    // A stream that replays instead of refusing never ends: bounded, it fails the test instead of hanging it.
    const answer = await settles(call('GET', '/v1/changes/stream', { headers: { 'last-event-id': id } }), `a 400 for Last-Event-ID: ${id}`)
    assert.is(answer.status, 400, `Last-Event-ID: ${id}`)
    assert.match(answer.headers.get('content-type') ?? '', /application\/problem\+json/)
    assert.match(answer.problem.detail, /Last-Event-ID/)
  }
  for (const since of ['abc', '-5', '1.5']) {
    assert.is((await settles(call('GET', `/v1/changes/stream?since=${since}`), `a 400 for since=${since}`)).status, 400, `since=${since}`)
    assert.is((await call('GET', `/v1/changes?since=${since}`)).status, 400, `since=${since}`)
  }
})

it('messages name the real key, and a change stream logs its client address', async () => {
  const lines: string[] = []
  let logged: () => void = () => {}
  const streamLogged = new Promise<void>((resolve) => { logged = resolve })
  const { server, call } = await open({ log: (line) => { lines.push(line); if (line.includes('/v1/changes/stream')) logged() } })
  await call('PUT', '/v1/keys/a%2Fb', { body: '1' })
  await call('DELETE', '/v1/keys/a%2Fb')
  const gone = await call('GET', '/v1/keys/a%2Fb')
  assert.is(gone.status, 404)
  assert.match(gone.problem.detail, /its history is at \/v1\/keys\/a%2Fb\/log/)
  assert.not.match(gone.text, /\{key\}|undefined/)
  const abort = new AbortController()
  const stream = await fetch(`${server.url}/v1/changes/stream`, { signal: abort.signal })
  const reader = stream.body?.getReader()
  await reader?.read()
  abort.abort()
  await settles(streamLogged, 'the access-log line of the stream')
  const line = lines.find((l) => l.includes('/v1/changes/stream')) ?? ''
  assert.match(line, /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/v1\/changes\/stream HTTP\/1\.1" 200 /)
  assert.not.match(lines.join('\n'), /undefined/)
})

it.run()
