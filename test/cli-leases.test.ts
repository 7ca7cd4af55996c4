import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseDuration } from '../cli/duration.js'
import type { Lease, Revision } from '../src/index.js'
import { cleanUp, fails, json, ok, revkv, withEmptyStore } from './cli-run.js'

test.after(cleanUp)

test('durations: 500ms, 30s, 1.5m, 1h, 1d and bare milliseconds; anything else names the option', () => {
  assert.equal(['500ms', '30s', '1.5m', '1h', '1d', '250', ' 2s '].map((text) => parseDuration(text, '--ttl')), [500, 30_000, 90_000, 3_600_000, 86_400_000, 250, 2000])
  for (const bad of ['', 's', '30x', '-1s', '1e3', '30 seconds']) assert.throws(() => parseDuration(bad, '--ttl'), /--ttl must be a duration like 500ms, 30s/)
})

test('revkv lock prints the token; writes without --lock exit 4 naming the holder; --lock writes; unlock frees the key', async () => {
  const dir = await withEmptyStore()
  ok(await revkv(dir, ['commit', 'doc', '{"v":1}']))
  const locked = ok(await revkv(dir, ['lock', 'doc', '--ttl', '5m', '--owner', 'nightly']))
  const token = locked.stdout.trim()
  assert.match(token, /^\d+$/)
  assert.match(locked.stderr, /held by nightly until \d{4}-\d\d-\d\dT/)
  for (const args of [['commit', 'doc', '{"v":2}'], ['delete', 'doc']]) {
    const err = fails(await revkv(dir, args), 4)
    assert.match(err, /Key "doc" is locked: nightly holds its lease \(token \d+\) until \d{4}-/)
    assert.match(err, /revkv lock doc --wait/)
  }
  const busy = fails(await revkv(dir, ['lock', 'doc', '--wait', '10ms']), 4)
  assert.match(busy, /nightly holds its lease/)
  const listed = json<Lease[]>(await revkv(dir, ['locks', '--json']))
  assert.equal(listed.map((l) => [l.key, l.token, l.owner]), [['doc', Number(token), 'nightly']])
  assert.match(ok(await revkv(dir, ['locks'])).stdout, new RegExp(`^doc\\t${token}\\tnightly\\t\\d{4}-`))
  const rev = json<Revision>(await revkv(dir, ['commit', 'doc', '{"v":2}', '--lock', token, '--json']))
  assert.is(rev.token, Number(token), 'the revision records the lease\'s token')
  const renewed = ok(await revkv(dir, ['renew', 'doc', token, '--ttl', '1h']))
  assert.match(renewed.stdout, /held by nightly until/)
  assert.equal(json(await revkv(dir, ['unlock', 'doc', token, '--json'])), { released: true })
  assert.match(ok(await revkv(dir, ['unlock', 'doc', token])).stderr, /had already ended/)
  // Fencing: the released lease's token writes nothing any more.
  const fenced = fails(await revkv(dir, ['commit', 'doc', '{"v":3}', '--lock', token]), 4)
  assert.match(fenced, /does not hold the lease/)
  assert.equal(json(await revkv(dir, ['get', 'doc'])), { v: 2 })
  const next = json<Lease>(await revkv(dir, ['lock', 'doc', '--json']))
  assert.ok(next.token > Number(token))
  assert.match(ok(await revkv(dir, ['merge', 'doc', 'HEAD~1', '--strategy', 'lww', '--lock', String(next.token)])).stdout.trim(), /^[0-9a-f]{64}$/)
  fails(await revkv(dir, ['merge', 'doc', 'HEAD~1', '--strategy', 'lww']), 4)
})

test('bad lease input exits 2 and changes nothing', async () => {
  const dir = await withEmptyStore()
  for (const args of [['lock', 'k', '--ttl', '0'], ['lock', 'k', '--ttl', '30x'], ['lock', 'k', '--ttl', '2d'], ['lock', 'k', '--wait', 'soon'], ['unlock', 'k', '5'], ['unlock', 'k', 'abc'], ['renew', 'k', '0'], ['commit', 'k', '1', '--lock', 'abc']]) {
    const err = fails(await revkv(dir, args), 2)
    assert.match(err, /ttl|wait|token|lock/i, args.join(' '))
  }
  assert.equal(json(await revkv(dir, ['locks', '--json'])), [])
  fails(await revkv(dir, ['get', 'k']), 3)
})

test('lock, unlock, renew and locks have --help with examples; every writing command takes --lock', async () => {
  const dir = await withEmptyStore()
  const own: Record<string, string[]> = { lock: ['--ttl', '--owner', '--wait'], renew: ['--ttl'], unlock: [], locks: ['--prefix'], commit: ['--lock'], delete: ['--lock'], merge: ['--lock'] }
  for (const [command, options] of Object.entries(own)) {
    const help = ok(await revkv(dir, [command, '--help'])).stdout
    assert.match(help, /Examples:\n {2}# .+\n {2}revkv /, `${command} has examples`)
    for (const option of options) assert.ok(help.includes(option), `${command} --help lists ${option}`)
  }
  const top = ok(await revkv(dir, ['--help'])).stdout
  for (const command of ['lock', 'unlock', 'renew', 'locks']) assert.match(top, new RegExp(`revkv ${command}\\b`))
  assert.match(top, /4 +locked: .*\n.*leased/)
})

test.run()
