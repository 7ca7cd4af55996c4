/**
 * The `revkv` binary on a PostgreSQL store (--db postgres://...), on a real throwaway server
 * (test/pg/cluster.ts), one schema per test: every command, two servers sharing one store,
 * a live feed across processes, passwords kept out of every message, and `revkv bench`'s
 * PostgreSQL suite at a tiny size. Skipped, and said so, without PostgreSQL.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { PostgresBenchReport } from '../benchmarks/pg-suite.js'
import { sharedCluster, skipReason } from './pg/cluster.js'
import { cleanUp, stdoutLines, fails, json, MAIN, ok, revkv, startServer, stop, tempDir } from './cli-run.js'

const cluster = await sharedCluster()
if (cluster === undefined) {
  test.skip(`revkv --db postgres://... (${skipReason ?? 'no server'})`, () => {})
} else {
  const url = cluster.url
  let schemas = 0
  /** The global options naming a fresh schema of the test server. */
  const fresh = (): string[] => ['--db', url, '--schema', `cli_${process.pid}_${++schemas}`]
  test.after(cleanUp)

  test('init creates the schema; commit, get, log, keys, merge-free history, fsck, compact and locks work on it', async () => {
    const dir = tempDir()
    const db = fresh()
    // No store yet: a command says so and names init (exit 3); it creates nothing.
    assert.match(fails(await revkv(dir, [...db, 'get', 'user:1']), 3), new RegExp(`No revkv store in schema ${db[3] as string} of postgres://postgres@127\\.0\\.0\\.1:\\d+/revkv_test\\. Create one with: revkv --db postgres://\\S+ --schema ${db[3] as string} init`))
    fails(await revkv(dir, [...db, 'get', 'user:1']), 3)
    assert.match(ok(await revkv(dir, [...db, 'init'])).stdout, new RegExp(`Initialized empty revkv store in schema ${db[3] as string} of postgres://postgres@127\\.0\\.0\\.1`))
    assert.equal(json(await revkv(dir, [...db, '--json', 'init'])), { postgres: url, schema: db[3], created: false }, 'a second init leaves the store as it is')
    const first = ok(await revkv(dir, [...db, 'commit', 'user:1', '{"name":"Ada"}', '-m', 'add Ada'])).stdout.trim()
    ok(await revkv(dir, [...db, 'commit', 'user:1', '{"name":"Ada Lovelace"}', '--parent', first]))
    assert.equal(JSON.parse(ok(await revkv(dir, [...db, 'get', 'user:1'])).stdout), { name: 'Ada Lovelace' })
    const log = json<Array<{ id: string }>>(await revkv(dir, [...db, '--json', 'log', 'user:1']))
    assert.is(log.length, 2)
    assert.is(log[1]?.id, first)
    // A stale write is refused with the conflict exit code, and nothing changes.
    fails(await revkv(dir, [...db, 'commit', 'user:1', '{"name":"Bob"}', '--parent', first]), 1)
    assert.match(ok(await revkv(dir, [...db, 'keys'])).stdout, /^user:1$/m)
    assert.match(ok(await revkv(dir, [...db, 'fsck'])).stderr, /Checked 2 revisions of 1 key: no problems/)
    const lease = ok(await revkv(dir, [...db, 'lock', 'user:1', '--ttl', '5m', '--owner', 'tester'])).stdout.trim()
    assert.match(ok(await revkv(dir, [...db, 'locks'])).stdout, new RegExp(`^user:1\\t${lease}\\ttester\\t`, 'm'))
    ok(await revkv(dir, [...db, 'unlock', 'user:1', lease]))
    assert.equal(json(await revkv(dir, [...db, '--json', 'compact', '--keep', '1'])), { keys: 1, dropped: 1 })
    assert.is(json<unknown[]>(await revkv(dir, [...db, '--json', 'log', 'user:1'])).length, 1)
  })

  test('schemas are separate stores: export from one, import into another', async () => {
    const dir = tempDir()
    const from = fresh()
    const to = fresh()
    ok(await revkv(dir, [...from, 'init']))
    ok(await revkv(dir, [...from, 'commit', 'a', '1']))
    ok(await revkv(dir, [...from, 'commit', 'b', '{"x":2}']))
    const dump = ok(await revkv(dir, [...from, 'export'])).stdout
    writeFileSync(join(dir, 'dump.ndjson'), dump)
    ok(await revkv(dir, [...to, 'init']))
    fails(await revkv(dir, [...to, 'get', 'a']), 3)
    ok(await revkv(dir, [...to, 'import', 'dump.ndjson']))
    assert.equal(JSON.parse(ok(await revkv(dir, [...to, 'get', 'b'])).stdout), { x: 2 })
    assert.is(ok(await revkv(dir, [...to, 'export'])).stdout, dump, 'the import holds exactly what was exported')
  })

  test('REVKV_DB takes a postgres:// URL too', async () => {
    const dir = tempDir()
    const [, , , schema] = fresh()
    const env = { REVKV_DB: url }
    ok(await revkv(dir, ['--schema', schema as string, 'init'], { env }))
    ok(await revkv(dir, ['--schema', schema as string, 'commit', 'k', '"v"'], { env }))
    assert.is(ok(await revkv(dir, ['--schema', schema as string, 'get', 'k'], { env })).stdout.trim(), '"v"')
  })

  test('two servers on one PostgreSQL store serve each other\'s writes; changes --follow on the store sees both', async () => {
    const dir = tempDir()
    const db = fresh()
    ok(await revkv(dir, [...db, 'init']))
    const one = await startServer(dir, [...db, '--quiet'])
    const two = await startServer(dir, [...db, '--quiet'])
    const follower = spawn(process.execPath, [MAIN, ...db, 'changes', '--follow', '--json'], { env: { ...process.env, NO_COLOR: '1', REVKV_DB: '' } })
    try {
      const { lines, got } = stdoutLines(follower, 2)
      const rev = ok(await revkv(dir, ['--remote', one.url, 'commit', 'k', '1'])).stdout.trim()
      ok(await revkv(dir, ['--remote', two.url, 'commit', 'k', '2', '--parent', rev]))
      assert.is(ok(await revkv(dir, ['--remote', one.url, 'get', 'k'])).stdout.trim(), '2', 'server one serves what server two wrote')
      await got
      assert.equal(lines.map((l) => (JSON.parse(l) as { key: string }).key), ['k', 'k'])
    } finally {
      const exited = once(follower, 'exit')
      follower.kill('SIGINT')
      await exited
      await stop(one.child)
      await stop(two.child)
    }
  })

  test('a password in the URL is never printed: not by init, serve or a failed connection', async () => {
    const dir = tempDir()
    const secret = 'pw-9f3a1c'
    // The test server trusts loopback connections, so the password is sent and ignored.
    const withPassword = url.replace('postgres@', `postgres:${secret}@`)
    const schema = `cli_${process.pid}_${++schemas}`
    const init = ok(await revkv(dir, ['--db', withPassword, '--schema', schema, 'init']))
    assert.match(init.stdout, /postgres:\*\*\*@/)
    const served = await startServer(dir, ['--db', withPassword, '--schema', schema])
    ok(await revkv(dir, ['--remote', served.url, 'commit', 'k', '1']))
    assert.is(await stop(served.child), 0)
    assert.not.match(init.stdout + init.stderr + served.log(), secret)
    assert.match(served.log(), /serving schema .* of postgres:\/\/postgres:\*\*\*@/)
    const unreachable = fails(await revkv(dir, ['--db', withPassword.replace(/:\d+\//, ':1/'), 'get', 'k']), 5)
    assert.match(unreachable, /PostgreSQL at 127\.0\.0\.1:1\/revkv_test is unavailable/)
    assert.not.match(unreachable, secret)
  })

  test('--schema with a store directory, or with --remote, is a usage error naming the fix', async () => {
    const dir = tempDir()
    assert.match(fails(await revkv(dir, ['--schema', 'kv', 'init']), 2), /--schema kv names a schema of a PostgreSQL store, but the store is the directory/)
    assert.match(fails(await revkv(dir, ['--remote', 'http://127.0.0.1:1', '--schema', 'kv', 'get', 'k']), 2), /--schema .* with --remote the server has its store/)
    assert.match(fails(await revkv(dir, ['--db', url, '--schema', 'no such schema!', 'get', 'k']), 2), /schema/i)
  })

  test('revkv bench --db postgres://... runs the PostgreSQL suite: revkv and the baseline, 1 and 4 processes, nothing lost', async () => {
    const dir = tempDir()
    ok(await revkv(dir, ['bench', '--db', url, '--writers', '8', '--duration', '0.5', '--json', 'pg.json']))
    const report = JSON.parse(readFileSync(join(dir, 'pg.json'), 'utf8')) as PostgresBenchReport
    assert.equal(report.results.map((r) => r.scenario), [
      'naive distinct', 'pg distinct', 'naive hot', 'pg hot',
      'naive distinct ×4 proc', 'pg distinct ×4 proc', 'naive hot ×4 proc', 'pg hot ×4 proc'
    ])
    for (const r of report.results) {
      assert.ok(r.commits > 0, `${r.scenario} committed`)
      assert.ok(r.verified !== undefined && r.verified.acknowledged >= r.commits, `${r.scenario}: every acknowledged write checked`)
    }
    for (const r of report.results.filter((r) => r.scenario.startsWith('pg hot'))) assert.is(r.conflicts, 0, `${r.scenario}: merge meets no conflict`)
    assert.is(report.targets.length, 4, 'a ratio for each workload and process count')
    assert.match(fails(await revkv(dir, ['bench', '--db', url, '--workload', 'hot']), 2), /--workload do(es)? not apply/)
  })
}

test.run()
