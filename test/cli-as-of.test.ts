/** `revkv get --as-of` and `revkv keys --as-of`, on a store directory and against a served store. */
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import type { Revision } from '../src/index.js'
import { fakeClock } from './helpers.js'
import { cleanUp, fails, json, ok, revkv, startServer, stop, tempDir } from './cli-run.js'

test.after(cleanUp)

/**
 * A directory whose ./.revkv holds `doc` written at 10:00 UTC on 1 December 2026 (v1, change 1),
 * 11:00 (v2, change 2), deleted at 12:00 (change 3), and `other` at 13:00 (change 4). Made
 * through the library with a clock the test sets: the CLI's own writes take the real time.
 */
async function fixture (): Promise<{ dir: string, revs: string[] }> {
  const dir = tempDir()
  const clock = fakeClock(Date.UTC(2026, 11, 1, 10))
  const store = await Store.open({ path: join(dir, '.revkv'), clock: clock.now })
  const revs: string[] = []
  for (const write of [async () => await store.commit('doc', { v: 1 }), async () => await store.commit('doc', { v: 2 }), async () => await store.delete('doc'), async () => await store.commit('other', 1)]) {
    revs.push((await write()).id)
    clock.advance(3_600_000)
  }
  await store.close()
  return { dir, revs }
}

test('get --as-of a time or @seq prints the value the key had then; deleted or missing then is exit 3', async () => {
  const { dir, revs } = await fixture()
  assert.equal(JSON.parse(ok(await revkv(dir, ['get', 'doc', '--as-of', '2026-12-01T10:30Z'])).stdout), { v: 1 })
  assert.is(json<Revision>(await revkv(dir, ['get', 'doc', '--as-of', '@2', '--json'])).id, revs[1])
  assert.is(json<Revision>(await revkv(dir, ['get', 'doc', '--as-of', String(Date.UTC(2026, 11, 1, 10)), '--json'])).id, revs[0])
  assert.match(fails(await revkv(dir, ['get', 'doc', '--as-of', '@3']), 3), 'is deleted as of @3')
  assert.match(fails(await revkv(dir, ['get', 'doc', '--as-of', '2026-12-01T09:00Z']), 3), 'does not exist as of 2026-12-01T09:00Z')
  assert.equal(JSON.parse(ok(await revkv(dir, ['get', 'other', '--as-of', '2030-01-01T00:00Z'])).stdout), 1, 'a future time reads as now')
})

test('keys --as-of lists the keys live then', async () => {
  const { dir } = await fixture()
  assert.is(ok(await revkv(dir, ['keys', '--as-of', '2026-12-01T11:00Z'])).stdout, 'doc\n')
  assert.equal(json(await revkv(dir, ['keys', '--as-of', '@3', '--json'])), [])
  assert.equal(json(await revkv(dir, ['keys', '--as-of', '@4', '--json'])), ['other'])
})

test('a bad --as-of is exit 2 naming the option and the fix, before the store is touched', async () => {
  const { dir } = await fixture()
  assert.match(fails(await revkv(dir, ['get', 'doc', '--as-of', '2026-12-01T10:00']), 2), /--as-of .*no time zone: add Z/)
  assert.match(fails(await revkv(dir, ['keys', '--as-of', 'yesterday']), 2), /--as-of "yesterday" is not a point in time; give an ISO 8601 time/)
  assert.match(fails(await revkv(dir, ['get', 'doc', '--as-of', '@9']), 2), 'last sequence number is 4')
  assert.match(fails(await revkv(dir, ['get', 'doc', '--as-of', '@1', '--rev', 'HEAD']), 2), /rev|as-of/)
  // Parsed before the store is opened: a bad value fails even where there is no store.
  assert.match(fails(await revkv(tempDir(), ['get', 'doc', '--as-of', 'soon']), 2), /--as-of/)
})

test('--remote: get and keys --as-of go over HTTP (?asOf=)', async () => {
  const { dir, revs } = await fixture()
  const { url, child } = await startServer(dir, ['--quiet'])
  try {
    assert.is(json<Revision>(await revkv(tempDir(), ['--remote', url, 'get', 'doc', '--as-of', '2026-12-01T11:30Z', '--json'])).id, revs[1])
    assert.match(fails(await revkv(tempDir(), ['--remote', url, 'get', 'doc', '--as-of', '@3']), 3), 'is deleted')
    assert.equal(json(await revkv(tempDir(), ['--remote', url, 'keys', '--as-of', '@1', '--json'])), ['doc'])
  } finally {
    await stop(child)
  }
})

test.run()
