/** The CLI's creates (--create --on-exists), per-place merges (--take) and diff3 conflict output. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Revision } from '../src/index.js'
import { cleanUp, fails, json, ok, revkv, withEmptyStore } from './cli-run.js'

test.after(cleanUp)

test('commit --create --on-exists rename creates "name (1).ext" and says so; replace writes on top; reject exits 1', async () => {
  const dir = await withEmptyStore()
  const first = ok(await revkv(dir, ['commit', 'report.json', '{"n":1}'])).stdout.trim()
  const renamed = ok(await revkv(dir, ['commit', 'report.json', '{"n":2}', '--create', '--on-exists', 'rename']))
  assert.match(renamed.stderr, /Key "report.json" exists; created "report \(1\).json" instead\./)
  const asJson = json<Revision>(await revkv(dir, ['commit', 'report.json', '{"n":3}', '--create', '--on-exists', 'rename', '--json']))
  assert.is(asJson.key, 'report (2).json')
  assert.equal(json(await revkv(dir, ['get', 'report (1).json'])), { n: 2 })
  const replaced = json<Revision>(await revkv(dir, ['commit', 'report.json', '{"n":4}', '--create', '--on-exists', 'replace', '--json']))
  assert.equal(replaced.parents, [first])
  assert.equal(json(await revkv(dir, ['get', 'report.json'])), { n: 4 })
  const refused = fails(await revkv(dir, ['commit', 'report.json', '{"n":5}', '--create']), 1)
  assert.match(refused, /--on-exists rename/)
  assert.match(fails(await revkv(dir, ['commit', 'report.json', '{"n":5}', '--on-exists', 'rename']), 2), /on-exists -> create/)
  assert.match(fails(await revkv(dir, ['commit', 'report.json', '{"n":5}', '--create', '--on-exists', 'copy']), 2), /Invalid values/)
  assert.equal(json<string[]>(await revkv(dir, ['keys', '--json'])).sort(), ['report (1).json', 'report (2).json', 'report.json'])
})

/** A store whose key `d` has a kept revision conflicting at /t (values), /l/1 (a range) and /n (added on both sides). */
async function diverged (): Promise<{ dir: string, kept: string }> {
  const dir = await withEmptyStore()
  const base = ok(await revkv(dir, ['commit', 'd', '{"t":"a","l":[1,2,3]}'])).stdout.trim()
  ok(await revkv(dir, ['commit', 'd', '{"t":"b","l":[1,3],"n":{"x":1}}']))
  const stderr = fails(await revkv(dir, ['commit', 'd', '{"t":"c","l":[1,22,3],"n":{"y":1}}', '--parent', base, '--strategy', 'manual']), 1)
  return { dir, kept: /kept unmerged: ([0-9a-f]{64})/.exec(stderr)?.[1] ?? '' }
}

test('conflicts <key> prints each conflicting place like diff3; a range shows its elements one per line', async () => {
  const { dir, kept } = await diverged()
  const out = ok(await revkv(dir, ['conflicts', 'd'])).stdout
  const short = kept.slice(0, 12)
  assert.match(out, new RegExp([
    ' {4}/l/1 \\(array elements from index 1\\)',
    ' {4}<<<<<<< ours \\(head [0-9a-f]{12}\\)',
    ' {4}\\(no elements\\)',
    ' {4}\\|{7} base',
    ' {4}2',
    ' {4}=======',
    ' {4}22',
    ` {4}>>>>>>> theirs \\(${short}\\)`,
    ' {4}/n',
    ' {4}<<<<<<< ours \\(head [0-9a-f]{12}\\)',
    ' {4}\\{"x":1\\}',
    ' {4}\\|{7} base',
    ' {4}\\(absent\\)',
    ' {4}=======',
    ' {4}\\{"y":1\\}',
    ` {4}>>>>>>> theirs \\(${short}\\)`
  ].join('\n')))
  assert.match(out, / {4}"b"\n {4}\|{7} base\n {4}"a"\n {4}=======\n {4}"c"\n/)
  const listed = json<Array<{ places: Record<string, Array<{ kind: string, path: string }>> }>>(await revkv(dir, ['conflicts', 'd', '--json']))
  assert.equal(listed[0]?.places[kept]?.map((p) => `${p.kind} ${p.path}`), ['range /l/1', 'value /n', 'value /t'])
})

test('merge --take settles places one by one; places not named still conflict; an unknown place is refused', async () => {
  const { dir, kept } = await diverged()
  const partial = fails(await revkv(dir, ['merge', 'd', kept.slice(0, 8), '--take', '/t=theirs']), 1)
  assert.match(partial, /both sides changed \/l\/1, \/n differently/)
  assert.match(partial, /<<<<<<< ours/)
  assert.match(partial, /--take <path>=theirs/)
  const typo = fails(await revkv(dir, ['merge', 'd', kept.slice(0, 8), '--take', '/t=theirs', '--take', '/l/1=ours', '--take', '/n=ours', '--take', '/zz=ours']), 2)
  assert.match(typo, /\/zz, which is not a conflicting place.*\/l\/1, \/n, \/t/)
  assert.match(fails(await revkv(dir, ['merge', 'd', kept.slice(0, 8), '--take', '/t']), 2), /needs <path>=ours, theirs, base or a JSON value/)
  assert.match(fails(await revkv(dir, ['merge', 'd', kept.slice(0, 8), '--take', '/t=ours', '--take', '/t=theirs']), 2), /twice/)
  assert.match(fails(await revkv(dir, ['merge', 'd', kept.slice(0, 8), '--take', '/t={bad']), 2), /--take \/t/)
  assert.equal(json(await revkv(dir, ['get', 'd'])), { t: 'b', l: [1, 3], n: { x: 1 } }, 'nothing was written')
  ok(await revkv(dir, ['merge', 'd', kept.slice(0, 8), '--take', '/t=theirs', '--take', '/l/1=[22,23]', '--take', '/n=base']))
  assert.equal(json(await revkv(dir, ['get', 'd'])), { t: 'c', l: [1, 22, 23, 3] })
  assert.equal(json(await revkv(dir, ['conflicts', '--json'])), [])
})

test.run()
