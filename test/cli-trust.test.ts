import { join } from 'node:path'
import { Level } from 'level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cleanUp, json, ok, revkv, tempDir, withEmptyStore } from './cli-run.js'

test('revkv fsck: exit 0 on a sound store, 6 naming each problem of a damaged one', async () => {
  const dir = await withEmptyStore()
  const id = ok(await revkv(dir, ['commit', 'k', '{"a":1}'])).stdout.trim()
  ok(await revkv(dir, ['commit', 'k', '{"a":2}']))
  const sound = ok(await revkv(dir, ['fsck']))
  assert.match(sound.stderr, /Checked 2 revisions of 1 key: no problems/)
  assert.equal(json(await revkv(dir, ['fsck', '--json'])), { revisions: 2, keys: 1, problems: [] })
  const db = new Level<string, string>(join(dir, '.revkv'))
  await db.put(`r!${id}`, (await db.get(`r!${id}`) as string).replace('"a":1', '"a":7'))
  await db.close()
  const damaged = await revkv(dir, ['fsck'])
  assert.is(damaged.code, 6)
  assert.match(damaged.stdout, new RegExp(`^hash +Revision ${id} of key "k" does not hash to its id`))
  assert.match(damaged.stderr, /1 problem/)
  const report = JSON.parse((await revkv(dir, ['fsck', '--json'])).stdout) as { problems: Array<{ kind: string, revision: string }> }
  assert.equal(report.problems.map((p) => [p.kind, p.revision]), [['hash', id]])
})

test('revkv export and import: the copy fscks clean and answers the same; a damaged dump imports nothing', async () => {
  const dir = await withEmptyStore()
  const first = ok(await revkv(dir, ['commit', 'doc', '{"a":1,"b":1}'])).stdout.trim()
  ok(await revkv(dir, ['commit', 'doc', '{"a":2,"b":1}']))
  ok(await revkv(dir, ['commit', 'doc', '{"a":1,"b":2}', '--parent', first, '--strategy', 'merge']))
  ok(await revkv(dir, ['commit', 'other', '[1,2]']))
  const dump = ok(await revkv(dir, ['export'])).stdout
  assert.is(dump.trim().split('\n').length, 1 + 5 + 2 + 1, 'header, 5 revisions, 2 heads, end')
  const copy = tempDir()
  ok(await revkv(copy, ['init']))
  const imported = await revkv(copy, ['import'], { input: dump })
  assert.match(ok(imported).stderr, /Imported 5 revisions of 2 keys/)
  ok(await revkv(copy, ['fsck']))
  for (const args of [['log', 'doc', '--json'], ['get', 'doc'], ['keys', '--json']]) {
    assert.is(ok(await revkv(copy, args)).stdout, ok(await revkv(dir, args)).stdout, args.join(' '))
  }
  const empty = tempDir()
  ok(await revkv(empty, ['init']))
  const tampered = await revkv(empty, ['import', '-'], { input: dump.replace('"a":2', '"a":5') })
  assert.is(tampered.code, 2)
  assert.match(tampered.stderr, /does not hash to its id[\s\S]*Nothing was imported/)
  const truncated = await revkv(empty, ['import'], { input: dump.split('\n').slice(0, 3).join('\n') })
  assert.is(truncated.code, 2)
  assert.match(truncated.stderr, /truncated/)
  assert.equal(json(await revkv(empty, ['keys', '--json'])), [])
  assert.is((await revkv(empty, ['import', 'no-such-file.ndjson'])).code, 2)
})

test('revkv compact --keep N cuts old history; log ends there and fsck passes', async () => {
  const dir = await withEmptyStore()
  const ids: string[] = []
  for (let i = 0; i < 6; i++) ids.push(ok(await revkv(dir, ['commit', 'k', String(i)])).stdout.trim())
  assert.equal(json(await revkv(dir, ['compact', '--keep', '2', '--json'])), { keys: 1, dropped: 4 })
  assert.is(json<unknown[]>(await revkv(dir, ['log', 'k', '--json'])).length, 2)
  assert.match((await revkv(dir, ['get', 'k', '--rev', ids[0] as string])).stderr, /dropped by compaction/)
  ok(await revkv(dir, ['fsck']))
  assert.is((await revkv(dir, ['compact', '--keep', '0'])).code, 2)
})

test.after(cleanUp)
test.run()
