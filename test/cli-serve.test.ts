import { spawn } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MAIN, cleanUp, fails, json, ok, revkv, startServer, stop, tempDir, withEmptyStore, stdoutLines } from './cli-run.js'

test('revkv serve prints its URL; every command works through --remote; SIGTERM closes the store', async () => {
  const dir = await withEmptyStore()
  const { url, child, log } = await startServer(dir)
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
  try {
    const remote = ['--remote', url]
    const first = ok(await revkv(tempDir(), [...remote, 'commit', 'doc', '{"a":1,"b":1}', '-m', 'first'])).stdout.trim()
    assert.match(first, /^[0-9a-f]{64}$/)
    ok(await revkv(tempDir(), [...remote, 'commit', 'doc', '{"a":2,"b":1}', '--parent', first.slice(0, 8)]))
    // A stale parent through the server is the same exit 1 with the same explanation.
    const stale = fails(await revkv(tempDir(), [...remote, 'commit', 'doc', '{"a":3,"b":1}', '--parent', first]), 1)
    assert.match(stale, /stale|based on/i)
    ok(await revkv(tempDir(), [...remote, 'commit', 'doc', '{"a":1,"b":2}', '--parent', first, '--strategy', 'merge']))
    assert.equal(json<{ value: unknown }>(await revkv(tempDir(), [...remote, 'get', 'doc', '--json'])).value, { a: 2, b: 2 })
    assert.is(json<unknown[]>(await revkv(tempDir(), [...remote, 'log', 'doc', '--json'])).length, 4)
    assert.equal(json(await revkv(tempDir(), [...remote, 'keys', '--json'])), ['doc'])
    assert.equal(json(await revkv(tempDir(), ['get', 'doc'], { env: { REVKV_REMOTE: url } })), { a: 2, b: 2 }, 'REVKV_REMOTE works too')
    fails(await revkv(tempDir(), [...remote, 'get', 'missing']), 3)
    assert.match(log(), /"PUT \/v1\/keys\/doc[^"]* HTTP\/1\.1" 201 /, 'one access-log line per request')
    // While the server holds the store, a local command waits and then exits 4, pointing at --remote.
    assert.match(fails(await revkv(dir, ['get', 'doc', '--wait', '0']), 4), /--remote/)
  } finally {
    assert.is(await stop(child), 0)
  }
  assert.equal(json(await revkv(dir, ['get', 'doc'])), { a: 2, b: 2 }, 'after SIGTERM the store is closed and complete')
})

test('--remote failures: no server or a wrong token exit 5; init and serve refuse --remote', async () => {
  const dir = await withEmptyStore()
  const { url, child } = await startServer(dir, ['--token', 's3cret', '--quiet'])
  try {
    assert.match(fails(await revkv(tempDir(), ['--remote', url, 'keys']), 5), /401|token|Bearer/i)
    ok(await revkv(tempDir(), ['--remote', url, '--token', 's3cret', 'commit', 'k', '1']))
    ok(await revkv(tempDir(), ['--remote', url, 'commit', 'k', '2'], { env: { REVKV_TOKEN: 's3cret' } }))
    fails(await revkv(tempDir(), ['--remote', url, 'init']), 2)
    fails(await revkv(tempDir(), ['--remote', url, 'serve']), 2)
  } finally {
    await stop(child)
  }
  assert.match(fails(await revkv(tempDir(), ['--remote', url, 'get', 'k']), 5), /Cannot reach/)
})

test('revkv changes lists the feed; --follow through --remote prints new changes as they happen', async () => {
  const dir = await withEmptyStore()
  const first = ok(await revkv(dir, ['commit', 'a', '1'])).stdout.trim()
  ok(await revkv(dir, ['commit', 'b', '2']))
  const listed = ok(await revkv(dir, ['changes', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number, key: string, rev: string })
  assert.equal(listed.map((c) => c.key), ['a', 'b'])
  assert.is(listed[0]?.rev, first)
  assert.equal(ok(await revkv(dir, ['changes', '--json', '--since', String(listed[0]?.seq)])).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key), ['b'])
  assert.match(fails(await revkv(dir, ['changes', '--follow']), 2), /--remote/)
  const { url, child } = await startServer(dir, ['--quiet'])
  try {
    const follower = spawn(process.execPath, [MAIN, '--remote', url, 'changes', '--follow', '--json', '--since', String(listed[1]?.seq)], { env: { ...process.env, NO_COLOR: '1' } })
    const { lines, got } = stdoutLines(follower, 2)
    ok(await revkv(tempDir(), ['--remote', url, 'commit', 'c', '3']))
    ok(await revkv(tempDir(), ['--remote', url, 'delete', 'a']))
    await got
    follower.kill('SIGTERM')
    assert.equal(lines.map((l) => { const c = JSON.parse(l) as { key: string, deleted?: boolean }; return [c.key, c.deleted === true] }), [['c', false], ['a', true]])
  } finally {
    await stop(child)
  }
})

test('serve without a store exits 3 naming revkv init; bad --port is exit 2', async () => {
  assert.match(fails(await revkv(tempDir(), ['serve', '--port', '0']), 3), /revkv init/)
  fails(await revkv(await withEmptyStore(), ['serve', '--port', '70000']), 2)
})

test.after(cleanUp)
test.run()
