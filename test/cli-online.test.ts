/**
 * The command line against a running server: fsck, compact, export and import with
 * --remote and --token, and the value limit (--max-value-bytes) locally and on serve.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Level } from 'level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import { cleanUp, fails, json, ok, revkv, startServer, stop, tempDir, withEmptyStore } from './cli-run.js'

/** A store with two keys, each with two revisions, in `dir`/.revkv (a fixture, made through the library). */
async function withHistory (): Promise<string> {
  const dir = tempDir()
  const store = await Store.open(join(dir, '.revkv'))
  for (const key of ['a', 'b']) {
    await store.commit(key, { n: 1 })
    await store.commit(key, { n: 2 })
  }
  await store.close()
  return dir
}

test('fsck, compact, export and import work on a served store with --remote and --token', async () => {
  const source = await startServer(await withHistory(), ['--token', 's3cret', '--quiet'])
  const target = await startServer(await withEmptyStore(), ['--token', 's3cret', '--quiet'])
  const at = (url: string): string[] => ['--remote', url, '--token', 's3cret']
  try {
    assert.equal(json(await revkv(tempDir(), [...at(source.url), 'fsck', '--json'])), { revisions: 4, keys: 2, problems: [] })
    assert.match(ok(await revkv(tempDir(), [...at(source.url), 'fsck'])).stderr, /Checked 4 revisions of 2 keys: no problems/)
    const dump = ok(await revkv(tempDir(), [...at(source.url), 'export'])).stdout
    const lines = dump.trimEnd().split('\n')
    assert.equal(JSON.parse(lines[0] as string), { revkv: 'dump', format: 1 })
    assert.equal(JSON.parse(lines[lines.length - 1] as string), { end: { revisions: 4, heads: 2 } })
    assert.is(ok(await revkv(tempDir(), [...at(source.url), 'export', '--prefix', 'a'])).stdout.trimEnd().split('\n').length, 5, 'header, 2 revisions, head, end')
    // Import from standard input, then again from a file: the second is refused, nothing changes.
    assert.equal(json(await revkv(tempDir(), [...at(target.url), 'import', '--json'], { input: dump })), { revisions: 4, heads: 2, keys: ['a', 'b'] })
    const file = join(tempDir(), 'dump.ndjson')
    writeFileSync(file, dump)
    assert.match(fails(await revkv(tempDir(), [...at(target.url), 'import', file]), 2), /already exists.*Nothing was imported/)
    assert.equal(json(await revkv(tempDir(), [...at(target.url), 'get', 'b'])), { n: 2 })
    assert.equal(ok(await revkv(tempDir(), [...at(target.url), 'export'])).stdout, dump, 'the imported store exports the same dump')
    assert.equal(json(await revkv(tempDir(), [...at(source.url), 'compact', '--keep', '1', '--json'])), { keys: 2, dropped: 2 })
    assert.is(json<unknown[]>(await revkv(tempDir(), [...at(source.url), 'log', 'a', '--json'])).length, 1)
    assert.match(fails(await revkv(tempDir(), [...at(source.url), 'compact', '--keep', '0']), 2), /keep/)
    // Without the token every one of them is refused (exit 5), and nothing changed.
    for (const command of [['fsck'], ['compact', '--keep', '1'], ['export'], ['import']]) {
      assert.match(fails(await revkv(tempDir(), ['--remote', target.url, ...command], { input: dump }), 5), /token|401/i, command[0])
    }
    assert.equal(json(await revkv(tempDir(), [...at(target.url), 'fsck', '--json'])), { revisions: 4, keys: 2, problems: [] })
  } finally {
    await stop(source.child)
    await stop(target.child)
  }
})

test('fsck --remote on a damaged store lists each problem and exits 6', async () => {
  const dir = await withHistory()
  // Damage underneath revkv: one revision's content changed in LevelDB.
  const db = new Level<string, string>(join(dir, '.revkv'))
  for await (const [stored, text] of db.iterator({ gte: 'r!', lt: 'r"' })) {
    if (!text.includes('"n":1')) continue
    await db.put(stored, text.replace('"n":1', '"n":9'))
    break
  }
  await db.close()
  const server = await startServer(dir, ['--quiet'])
  try {
    const run = await revkv(tempDir(), ['--remote', server.url, 'fsck'])
    assert.is(run.code, 6)
    assert.match(run.stdout, /^hash +Revision [0-9a-f]{64} of key "[ab]" does not hash to its id/)
    assert.match(run.stderr, /1 problem/)
  } finally {
    await stop(server.child)
  }
})

test('--max-value-bytes raises the value limit locally and on serve; each refusal names the option to change', async () => {
  const dir = await withEmptyStore()
  const big = JSON.stringify('x'.repeat(2_000_000))
  const local = fails(await revkv(dir, ['commit', 'k'], { input: big }), 2)
  assert.match(local, /over the limit of 1048576 bytes.*--max-value-bytes/)
  assert.not.match(local, /maxValueBytes|open the store/)
  ok(await revkv(dir, ['--max-value-bytes', '3000000', 'commit', 'k'], { input: big }))
  assert.match(fails(await revkv(dir, ['--max-value-bytes', '0', 'keys']), 2), /--max-value-bytes/)
  // A large body limit alone does not raise the value limit, and the 400 says which flag does.
  const strict = await startServer(dir, ['--quiet', '--body-limit', '20000000'])
  try {
    const refused = fails(await revkv(tempDir(), ['--remote', strict.url, 'commit', 'k2'], { input: big }), 2)
    assert.match(refused, /revkv serve --max-value-bytes/)
    assert.match(fails(await revkv(tempDir(), ['--remote', strict.url, '--max-value-bytes', '3000000', 'commit', 'k2'], { input: big }), 2), /server's limit applies.*revkv serve --max-value-bytes/)
  } finally {
    await stop(strict.child)
  }
  // On serve, the body limit follows the value limit.
  const roomy = await startServer(dir, ['--quiet', '--max-value-bytes', '3000000'])
  try {
    ok(await revkv(tempDir(), ['--remote', roomy.url, 'commit', 'k2'], { input: big }))
    assert.is(ok(await revkv(tempDir(), ['--remote', roomy.url, 'get', 'k2'])).stdout.length, big.length + 1)
  } finally {
    await stop(roomy.child)
  }
})

test.after(cleanUp)
test.run()
