/**
 * How the command line reads its arguments: `--` ends option parsing for every command, so a
 * key that starts with '-' works everywhere, and an unknown option is a usage error that
 * writes nothing (never help and exit 0).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Revision } from '../src/index.js'
import { cleanUp, fails, json, ok, revkv, withEmptyStore } from './cli-run.js'

test.after(cleanUp)

test('a key that starts with - works after -- in every command that takes a key', async () => {
  const dir = await withEmptyStore()
  const first = ok(await revkv(dir, ['commit', '-m', 'one', '--', '-dash', '{"n":1}'])).stdout.trim()
  // A value that starts with - goes after -- too, and - alone still reads standard input.
  ok(await revkv(dir, ['commit', '--', '-dash', '-'], { input: '{"n":2}' }))
  assert.equal(json(await revkv(dir, ['get', '--', '-dash'])), { n: 2 })
  assert.equal(json(await revkv(dir, ['get', '--rev', 'HEAD~1', '--', '-dash'])), { n: 1 })
  assert.equal(json<Revision[]>(await revkv(dir, ['log', '--json', '--', '-dash'])).map((r) => r.value), [{ n: 2 }, { n: 1 }])
  assert.match(ok(await revkv(dir, ['diff', '--', '-dash', first, 'HEAD'])).stdout, /\/n: 1 -> 2/)
  assert.equal(json(await revkv(dir, ['keys', '--json', '--prefix=-d'])), ['-dash'])
  assert.is(json<{ revision: Revision }>(await revkv(dir, ['show', '--json', '--key=-dash', 'HEAD'])).revision.key, '-dash')
  // A stale write kept unmerged, then listed and settled, all on the same key.
  const kept = fails(await revkv(dir, ['commit', '--parent', first, '--strategy', 'manual', '--', '-dash', '{"n":3}']), 1)
  // The hints put the key after --, and every option before it.
  assert.match(kept, /revkv merge --on-conflict theirs -- -dash [0-9a-f]{12}\s/)
  assert.match(kept, /revkv conflicts -- -dash\n/)
  const unmerged = json<Array<{ key: string, revisions: Revision[] }>>(await revkv(dir, ['conflicts', '--json', '--', '-dash']))
  assert.is(unmerged[0]?.key, '-dash')
  const side = unmerged[0]?.revisions[0]?.id ?? ''
  ok(await revkv(dir, ['merge', '--strategy', 'lww', '--', '-dash', side]))
  assert.equal(json(await revkv(dir, ['get', '--', '-dash'])), { n: 3 })
  ok(await revkv(dir, ['delete', '--', '-dash']))
  fails(await revkv(dir, ['get', '--', '-dash']), 3)
  const feed = ok(await revkv(dir, ['changes', '--json', '--prefix=-'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { key: string })
  assert.equal(new Set(feed.map((change) => change.key)), new Set(['-dash']))
})

test('an option-like argument is a usage error (exit 2) that writes nothing, and says to use --', async () => {
  const dir = await withEmptyStore()
  const [dash, help, get, negative] = await Promise.all([
    // -dash once read as -d -a -s -h: help, exit 0, and nothing written.
    revkv(dir, ['commit', '-dash', '"v"']),
    revkv(dir, ['commit', 'k', '"v"', '-xh']),
    revkv(dir, ['get', '-dash']),
    // Not groups: a negative number, and a short option with its number attached.
    revkv(dir, ['commit', 'n', '-1.5'])
  ])
  assert.match(fails(dash, 2), /Unknown option: -dash\n.*goes after --: revkv commit -- -dash/)
  assert.match(fails(help, 2), /Unknown option: -xh/)
  assert.match(fails(get, 2), /revkv get -- -dash/)
  ok(negative)
  assert.is(ok(await revkv(dir, ['keys', '-n1'])).stdout, 'n\n')
  assert.equal(json(await revkv(dir, ['keys', '--json'])), ['n'])
})

test('after --, nothing is an option or a command', async () => {
  const dir = await withEmptyStore()
  const [command, extra, option] = await Promise.all([
    revkv(dir, ['--', 'keys']),
    revkv(dir, ['get', '--', 'k', 'extra']),
    revkv(dir, ['commit', 'k', '--', '--help'])
  ])
  assert.match(fails(command, 2), /Unknown command: keys/)
  assert.match(fails(extra, 2), /extra/)
  // `--help` after -- is the value, which is not JSON: bad input, not help.
  assert.match(fails(option, 2), /the value argument/)
  assert.match(ok(await revkv(dir, ['commit', '--', '--help', '1'])).stdout, /^[0-9a-f]{64}\n$/)
  assert.equal(json(await revkv(dir, ['get', '--', '--help'])), 1)
})

test.run()
