/**
 * Exit codes for failures outside a store's own errors: a server's answers by HTTP status
 * (the table in cli/output.ts, against the README's exit codes), and a server that cannot
 * listen (exit 7, never "it may be a bug").
 */
import { createServer } from 'node:net'
import type { AddressInfo, Server } from 'node:net'
import { once } from 'node:events'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { EXIT_BY_STATUS, exitCodeOf } from '../cli/output.js'
import { ConflictError, InvalidInputError, LockedError, NotFoundError, RemoteError } from '../src/index.js'
import { cleanUp, fails, ok, revkv, startServer, stop, tempDir, withEmptyStore } from './cli-run.js'

test.after(cleanUp)

test('every HTTP status a server can answer maps to the documented exit code', () => {
  // The README's table, written out here on its own so that a change to either shows.
  const expected: Record<number, number> = {
    400: 2, 413: 2, 414: 2, 415: 2, 417: 2, 422: 2, 428: 2, 431: 2,
    409: 1, 412: 1,
    423: 4,
    401: 5, 403: 5, 404: 5, 405: 5, 408: 5, 429: 5, 502: 5, 503: 5, 504: 5,
    500: 70
  }
  assert.equal(Object.keys(EXIT_BY_STATUS).map(Number).sort(), Object.keys(expected).map(Number).sort(), 'the table covers exactly these statuses')
  for (const [status, exit] of Object.entries(expected)) {
    assert.is(exitCodeOf(new RemoteError(`HTTP ${status}`, Number(status))), exit, `HTTP ${status}`)
  }
  // Any other status is a server that cannot answer as revkv does: exit 5.
  for (const status of [418, 451, 501, 599]) assert.is(exitCodeOf(new RemoteError('odd', status)), 5, `HTTP ${status}`)
  // The store's own errors keep their codes whatever status they carry.
  assert.is(exitCodeOf(new ConflictError('stale', { key: 'k', expected: null, actual: null })), 1)
  assert.is(exitCodeOf(new InvalidInputError('bad')), 2)
  assert.is(exitCodeOf(new NotFoundError('none')), 3)
  assert.is(exitCodeOf(LockedError.directory('/x')), 4)
  assert.is(exitCodeOf(new Error('anything else')), 70)
})

test('through a real server: 428 is usage (exit 2, in the CLI\'s words), a refused token and a wrong URL are 5', async () => {
  const dir = await withEmptyStore()
  const { url, child } = await startServer(dir, ['--require-parent', '--token', 's3cret', '--quiet'])
  try {
    const remote = ['--remote', url, '--token', 's3cret']
    const noParent = fails(await revkv(tempDir(), [...remote, 'commit', 'k', '1']), 2)
    assert.match(noParent, /pass --parent <rev>/)
    assert.not.match(noParent, /If-Match/, 'no HTTP words in the CLI')
    const created = ok(await revkv(tempDir(), [...remote, 'commit', 'k', '1', '--create'])).stdout.trim()
    ok(await revkv(tempDir(), [...remote, 'commit', 'k', '2', '--parent', created]))
    assert.match(fails(await revkv(tempDir(), ['--remote', url, '--token', 'wrong', 'get', 'k']), 5), /--token/)
    assert.match(fails(await revkv(tempDir(), ['--remote', `${url}/not/revkv`, '--token', 's3cret', 'get', 'k']), 5), /does not lead to a revkv server/)
  } finally {
    assert.is(await stop(child), 0)
  }
})

/** A port held open by this process, so that another listen on it fails. */
async function holdPort (): Promise<{ port: number, server: Server }> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { port: (server.address() as AddressInfo).port, server }
}

test('serve on a port in use or an impossible host exits 7 with the fix, not 70', async () => {
  const dir = await withEmptyStore()
  const { port, server } = await holdPort()
  try {
    const busy = fails(await revkv(dir, ['serve', '--port', String(port)]), 7)
    assert.match(busy, new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use.*--port 0`))
    assert.not.match(busy, /bug/)
    const json = JSON.parse(fails(await revkv(dir, ['serve', '--port', String(port), '--json']), 7)) as Record<string, unknown>
    assert.is(json.code, 'EADDRINUSE')
    assert.match(String(json.message), /the port is in use/)
  } finally {
    server.close()
  }
  const host = fails(await revkv(dir, ['serve', '--port', '0', '--host', '999.1.1.1']), 7)
  assert.match(host, /Cannot listen on --host 999\.1\.1\.1: .*Pass --host 127\.0\.0\.1/)
  // The store was left as it was: it opens again at once.
  ok(await revkv(dir, ['keys', '--wait', '0']))
})

test.run()
