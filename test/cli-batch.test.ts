import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Change, Revision } from '../src/index.js'
import { cleanUp, fails, json, ok, revkv, withEmptyStore } from './cli-run.js'

test.after(cleanUp)

const lines = (...ops: unknown[]): string => ops.map((op) => JSON.stringify(op)).join('\n') + '\n'

test('revkv batch applies NDJSON ops as one commit; parents may be HEAD or a prefix; prints each new head', async () => {
  const dir = await withEmptyStore()
  const a1 = ok(await revkv(dir, ['commit', 'acct:a', '100'])).stdout.trim()
  writeFileSync(join(dir, 'ops.ndjson'), lines(
    { type: 'commit', key: 'acct:a', value: 70, parent: a1.slice(0, 8) },
    { type: 'commit', key: 'acct:b', value: 30, parent: null }
  ) + '\n')
  const run = ok(await revkv(dir, ['batch', 'ops.ndjson', '-m', 'a pays b 30', '--author', 'teller']))
  const printed = run.stdout.trim().split('\n').map((line) => line.split(' '))
  assert.equal(printed.map(([, key]) => key), ['acct:a', 'acct:b'])
  const head = json<{ revision: Revision }>(await revkv(dir, ['show', 'HEAD', '--key', 'acct:a', '--json'])).revision
  assert.is(head.id, printed[0]?.[0])
  assert.equal([head.value, head.parents, head.message, head.author], [70, [a1], 'a pays b 30', 'teller'])
  const changes = ok(await revkv(dir, ['changes', '--json'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as Change)
  assert.equal(changes.slice(1).map((c) => [c.key, c.tx, c.txSize]), [['acct:a', 2, 2], ['acct:b', 2, 2]])
  // From standard input, with HEAD as the parent, and --json.
  const piped = json<Revision[]>(await revkv(dir, ['batch', '--json'], { input: lines({ type: 'commit', key: 'acct:a', value: 60, parent: 'HEAD' }, { type: 'delete', key: 'acct:b' }) }))
  assert.equal(piped.map((r) => [r.key, r.deleted === true]), [['acct:a', false], ['acct:b', true]])
})

test('revkv batch exits 1 naming every refused op and writes nothing; bad input exits 2 naming the line', async () => {
  const dir = await withEmptyStore()
  const a1 = ok(await revkv(dir, ['commit', 'a', '{"n":1}'])).stdout.trim()
  const a2 = ok(await revkv(dir, ['commit', 'a', '{"n":2}'])).stdout.trim()
  const input = lines({ type: 'commit', key: 'a', value: { n: 3 }, parent: a1 }, { type: 'commit', key: 'b', value: 1 }, { type: 'delete', key: 'ghost' })
  const err = fails(await revkv(dir, ['batch'], { input }), 1)
  assert.match(err, /Batch refused: 2 of its 3 ops/)
  assert.match(err, new RegExp(`op 0, key "a": Conflict[^\\n]*\\n\\s+expected head: ${a1}\\n\\s+actual head:\\s+${a2}`))
  assert.match(err, /op 2, key "ghost": Cannot delete key "ghost"/)
  assert.is.not(err.includes('op 1,'), true, 'the op that would have succeeded is not listed')
  fails(await revkv(dir, ['get', 'b']), 3)
  const bad = fails(await revkv(dir, ['batch'], { input: `${JSON.stringify({ type: 'commit', key: 'c', value: 1 })}\n{"type":"commit"\n` }), 2)
  assert.match(bad, /line 2 of standard input/)
  assert.match(fails(await revkv(dir, ['batch'], { input: lines({ type: 'commit', key: 'c', value: 1 }, { type: 'commit', key: 'c', value: 2 }) }), 2), /op 1 writes key "c" again/)
  assert.match(fails(await revkv(dir, ['batch'], { input: '\n' }), 2), /holds no ops/)
  assert.match(fails(await revkv(dir, ['batch', 'missing.ndjson']), 2), /Cannot read missing\.ndjson: it does not exist/)
  fails(await revkv(dir, ['get', 'c']), 3)
})

test.run()
