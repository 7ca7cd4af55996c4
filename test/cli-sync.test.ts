/**
 * The sync commands as a user runs them: clone, pull, push, sync (once and --follow) and
 * remote, between store directories and with a server (token, read-only), with the exit
 * codes and messages of what goes wrong.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { SyncReport } from '../src/index.js'
import { cleanUp, fails, json, MAIN, ok, revkv, startServer, stdoutLines, stop, tempDir } from './cli-run.js'

type Report = SyncReport

/** A directory with a store `a` holding two keys. */
async function withSource (): Promise<string> {
  const dir = tempDir()
  ok(await revkv(dir, ['init', 'a']))
  ok(await revkv(dir, ['--db', 'a', 'commit', 'k1', '{"n":1}']))
  ok(await revkv(dir, ['--db', 'a', 'commit', 'k2', '{"n":1}']))
  return dir
}

test('clone, then pull, push and sync with origin: both stores end with the same heads; a diverged key is kept unmerged (exit 1) until merged', async () => {
  const dir = await withSource()
  const cloned = json<Report & { origin: string }>(await revkv(dir, ['clone', 'a', 'b', '--json']))
  assert.is(cloned.fastForwards, 2)
  assert.is(cloned.revisions, 2)
  assert.is(cloned.origin, join(dir, 'a'), 'origin is kept as an absolute directory')
  assert.is(ok(await revkv(dir, ['--db', 'b', 'remote'])).stdout, `origin\t${join(dir, 'a')}\n`)
  assert.equal(json(await revkv(dir, ['--db', 'b', 'get', 'k2'])), { n: 1 })

  // A change on each side, on different keys: sync brings each to the other.
  ok(await revkv(dir, ['--db', 'a', 'commit', 'k1', '{"n":2}', '--parent', 'HEAD']))
  ok(await revkv(dir, ['--db', 'b', 'commit', 'k2', '{"n":2}', '--parent', 'HEAD']))
  const round = json<{ pull: Report, push: Report }>(await revkv(dir, ['--db', 'b', 'sync', '--json']))
  assert.is(round.pull.fastForwards, 1)
  assert.is(round.push.fastForwards, 1)
  for (const key of ['k1', 'k2']) {
    assert.is(ok(await revkv(dir, ['--db', 'a', 'get', key])).stdout, ok(await revkv(dir, ['--db', 'b', 'get', key])).stdout, key)
  }
  const again = await revkv(dir, ['--db', 'b', 'pull'])
  assert.match(ok(again).stderr, /Pulled from origin \(.*\): up to date/)

  // The same key changed on both sides, under reject: the pull keeps the incoming head unmerged.
  ok(await revkv(dir, ['--db', 'a', 'commit', 'k1', '{"n":3,"side":"a"}', '--parent', 'HEAD']))
  ok(await revkv(dir, ['--db', 'b', 'commit', 'k1', '{"n":3,"side":"b"}', '--parent', 'HEAD']))
  const kept = await revkv(dir, ['--db', 'b', 'pull'])
  assert.is(kept.code, 1, kept.stderr)
  assert.match(kept.stderr, /1 key kept unmerged/)
  assert.match(kept.stderr, /kept unmerged: k1 \(see revkv conflicts k1; settle with revkv merge\)/)
  const conflicts = json<Array<{ revisions: Array<{ id: string, value: unknown }> }>>(await revkv(dir, ['--db', 'b', 'conflicts', 'k1', '--json']))
  assert.equal(conflicts[0]?.revisions.map((r) => r.value), [{ n: 3, side: 'a' }], 'the incoming head is kept')
  ok(await revkv(dir, ['--db', 'b', 'merge', 'k1', conflicts[0]?.revisions[0]?.id as string, '--take', '/side=ours']))
  const pushed = json<Report>(await revkv(dir, ['--db', 'b', 'push', '--json']))
  assert.is(pushed.fastForwards, 1, 'the merge fast-forwards origin')
  assert.equal(json(await revkv(dir, ['--db', 'a', 'get', 'k1'])), { n: 3, side: 'b' })
  ok(await revkv(dir, ['--db', 'a', 'fsck']))
  ok(await revkv(dir, ['--db', 'b', 'fsck']))
  cleanUp()
})

test('pull --strategy lww settles diverged keys with a merge revision; --prefix limits what is compared', async () => {
  const dir = await withSource()
  ok(await revkv(dir, ['clone', 'a', 'b']))
  for (const store of ['a', 'b']) {
    for (const key of ['k1', 'k2']) ok(await revkv(dir, ['--db', store, 'commit', key, JSON.stringify({ from: store }), '--parent', 'HEAD']))
  }
  const report = json<Report>(await revkv(dir, ['--db', 'b', 'pull', '--prefix', 'k1', '--strategy', 'lww', '--json']))
  assert.is(report.keys, 1, 'only k1 was compared')
  assert.is(report.merges, 1)
  assert.equal(report.conflicts, [])
  const log = json<Array<{ parents: string[] }>>(await revkv(dir, ['--db', 'b', 'log', 'k1', '--json']))
  assert.is(log[0]?.parents.length, 2, 'the head is a merge of both sides')
  assert.equal(json(await revkv(dir, ['--db', 'b', 'get', 'k2'])), { from: 'b' }, 'k2 was not pulled')
  cleanUp()
})

test('clone, pull and push over HTTP with a token; a read-only server refuses a push with exit 5 and says why', async () => {
  const dir = await withSource()
  const server = await startServer(dir, ['--db', 'a', '--token', 's3cret', '--quiet'])
  try {
    const refused = fails(await revkv(dir, ['clone', server.url, 'b']), 5)
    assert.match(refused, /token/)
    // The store a refused clone made holds nothing, so cloning again into it just works.
    const cloned = await revkv(dir, ['clone', server.url, 'b', '--token', 's3cret'])
    assert.match(ok(cloned).stderr, /Cloned origin \(http:\/\/127\.0\.0\.1:\d+\/?\) into .*: 2 keys compared, 2 new revisions, 2 fast-forwards/)
    ok(await revkv(dir, ['--db', 'b', 'commit', 'k3', '"new"']))
    const pushed = json<Report>(await revkv(dir, ['--db', 'b', 'push', '--json'], { env: { REVKV_TOKEN: 's3cret' } }))
    assert.is(pushed.fastForwards, 1)
    assert.is(ok(await revkv(dir, ['--remote', server.url, '--token', 's3cret', 'get', 'k3'])).stdout.trim(), '"new"')
  } finally {
    await stop(server.child)
  }
  const readOnly = await startServer(dir, ['--db', 'a', '--read-only', '--quiet'])
  try {
    ok(await revkv(dir, ['--db', 'b', 'commit', 'k4', '1']))
    const message = fails(await revkv(dir, ['--db', 'b', 'push', readOnly.url]), 5)
    assert.match(message, /read-only/)
    assert.not.match(message, /token/, 'a read-only refusal is not blamed on the token')
    const pulled = json<Report>(await revkv(dir, ['--db', 'b', 'pull', readOnly.url, '--json']))
    assert.is(pulled.refused.length, 0, 'a read-only server serves pulls')
  } finally {
    await stop(readOnly.child)
  }
  cleanUp()
})

test('remote add, list and remove; bad names, schemes and unknown remotes are refused with the fix', async () => {
  const dir = await withSource()
  ok(await revkv(dir, ['init', 'b']))
  ok(await revkv(dir, ['--db', 'b', 'remote', 'add', 'src', 'a']))
  ok(await revkv(dir, ['--db', 'b', 'remote', 'add', 'hq', 'postgres://app:pw@db.example:5432/app']))
  assert.equal(json(await revkv(dir, ['--db', 'b', 'remote', 'list', '--json'])), { hq: 'postgres://app:***@db.example:5432/app', src: join(dir, 'a') }, 'passwords are never printed')
  assert.match(fails(await revkv(dir, ['--db', 'b', 'remote', 'add', 'src', 'x']), 2), /has a remote named src already .*revkv remote remove src/)
  assert.match(fails(await revkv(dir, ['--db', 'b', 'remote', 'add', '--', '-bad', 'x']), 2), /Remote name "-bad" is not one/)
  assert.match(fails(await revkv(dir, ['--db', 'b', 'remote', 'add', 'x y', 'a']), 2), /Remote name "x y" is not one/)
  assert.match(fails(await revkv(dir, ['--db', 'b', 'remote', 'add', 'f', 'ftp://host/x']), 2), /scheme ftp:\/\//)
  assert.match(fails(await revkv(dir, ['--db', 'b', 'remote', 'add', 'f']), 2), /needs where the store is/)
  assert.match(fails(await revkv(dir, ['--db', 'b', 'remote', 'remove', 'nope']), 3), /No remote named nope \(this store has: hq, src\)/)
  assert.match(fails(await revkv(dir, ['--db', 'b', 'pull']), 3), /no remote named origin .*revkv remote add origin/)
  assert.match(fails(await revkv(dir, ['--db', 'b', 'push', 'nope']), 3), /No remote named nope/)
  const pulled = json<Report>(await revkv(dir, ['--db', 'b', 'pull', 'src', '--json']))
  assert.is(pulled.fastForwards, 2)
  ok(await revkv(dir, ['--db', 'b', 'remote', 'remove', 'hq']))
  assert.equal(json(await revkv(dir, ['--db', 'b', 'remote', '--json'])), { src: join(dir, 'a') })
  assert.match(fails(await revkv(dir, ['--db', 'b', 'pull', 'b']), 2), /is this store itself/)
  assert.match(fails(await revkv(dir, ['--remote', 'http://127.0.0.1:1', 'pull']), 2), /works on a store it opens itself/)
  cleanUp()
})

test('clone refuses a directory holding files or a store with keys, and a bad source, leaving them as they were', async () => {
  const dir = await withSource()
  mkdirSync(join(dir, 'full'))
  writeFileSync(join(dir, 'full', 'notes.txt'), 'mine')
  assert.match(fails(await revkv(dir, ['clone', 'a', 'full']), 2), /not empty/)
  assert.match(fails(await revkv(dir, ['clone', 'a', 'a2', '--db', 'b']), 2), /not both/)
  ok(await revkv(dir, ['clone', 'a', 'b']))
  assert.match(fails(await revkv(dir, ['clone', 'a', 'b']), 2), /holds keys already.*pull/)
  assert.match(fails(await revkv(dir, ['clone', 'gopher://x', 'c']), 2), /scheme gopher/)
  assert.is((await revkv(dir, ['--db', 'c', 'keys'])).code, 3, 'a refused source made no store')
  cleanUp()
})

test('sync --follow keeps two stores in step, one JSON line per round that moved something, until SIGTERM (exit 0)', async () => {
  const dir = await withSource()
  ok(await revkv(dir, ['clone', 'a', 'b']))
  const server = await startServer(dir, ['--db', 'a', '--quiet'])
  try {
    ok(await revkv(dir, ['--db', 'b', 'remote', 'remove', 'origin']))
    ok(await revkv(dir, ['--db', 'b', 'remote', 'add', 'origin', server.url]))
    const child = spawn(process.execPath, [MAIN, '--db', 'b', 'sync', '--follow', '--interval', '50ms', '--json'], { cwd: dir, env: { ...process.env, REVKV_DB: '', REVKV_REMOTE: '', REVKV_TOKEN: '', NO_COLOR: '1' } })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    const first = stdoutLines(child, 1)
    const out = stdoutLines(child, 2)
    await first.got
    // Written after the first round: a later one pulls it (LevelDB: b is free between rounds).
    ok(await revkv(dir, ['--remote', server.url, 'commit', 'live', '"from the server"']))
    await out.got
    const rounds = out.lines.map((line) => JSON.parse(line) as { round: number, pull: Report, push: Report })
    assert.is(rounds[0]?.round, 1, 'the first round is always printed')
    assert.is(rounds[1]?.pull.fastForwards, 1, `the next round that moved something pulled the new key: ${out.lines.join('\n')}`)
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const [code] = await exited as [number | null]
    assert.is(code, 0, stderr)
    assert.is(ok(await revkv(dir, ['--db', 'b', 'get', 'live'])).stdout.trim(), '"from the server"')
  } finally {
    await stop(server.child)
  }
  cleanUp()
})

test.run()
