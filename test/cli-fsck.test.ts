import { join } from 'node:path'
import { Level } from 'level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cleanUp, json, ok, revkv, withEmptyStore } from './cli-run.js'

test('revkv fsck: exit 0 on a sound store, 6 naming each problem of a damaged one', async () => {
  const dir = await withEmptyStore()
  const id = ok(await revkv(dir, ['commit', 'k', '{"a":1}'])).stdout.trim()
  ok(await revkv(dir, ['commit', 'k', '{"a":2}']))
  const sound = ok(await revkv(dir, ['fsck']))
  assert.match(sound.stderr, /Checked 2 revisions of 1 keys: no problems/)
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

test.after(cleanUp)
test.run()
