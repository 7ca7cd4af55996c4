/**
 * Named remotes (store.remotes, store.setRemote): kept in the store across reopening,
 * locations normalized (directories made absolute), bad names and locations refused with
 * the fix and nothing changed.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidInputError, remoteLocation, Store } from '../src/index.js'
import { rejection } from './helpers.js'

test('remotes are kept in the store, sorted by name; a directory is kept absolute; undefined removes one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'revkv-remotes-'))
  try {
    let store = await Store.open(join(dir, 'db'))
    assert.equal(await store.remotes(), {})
    assert.is(await store.setRemote('origin', 'http://host:7070'), 'http://host:7070')
    assert.is(await store.setRemote('backup', 'some/dir'), resolve('some/dir'))
    assert.is(await store.setRemote('pg', 'postgresql://u:pw@db:5432/app'), 'postgresql://u:pw@db:5432/app')
    await store.close()
    store = await Store.open(join(dir, 'db'))
    assert.equal(Object.entries(await store.remotes()), [['backup', resolve('some/dir')], ['origin', 'http://host:7070'], ['pg', 'postgresql://u:pw@db:5432/app']])
    await store.setRemote('origin', 'https://other:7070')
    await store.setRemote('pg', undefined)
    assert.equal(await store.remotes(), { backup: resolve('some/dir'), origin: 'https://other:7070' })
    await store.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a bad remote name or location is refused naming it and the fix, and the remotes are left as they were', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'revkv-remotes-'))
  const store = await Store.open(join(dir, 'db'))
  try {
    await store.setRemote('origin', 'http://host:7070')
    const cases: Array<[unknown, unknown, RegExp]> = [
      ['', 'http://x', /Remote name "" is not one: use 1 to 64 letters/],
      ['a b', 'http://x', /Remote name "a b"/],
      ['-x', 'http://x', /starting with a letter or digit/],
      ['x'.repeat(65), 'http://x', /1 to 64/],
      [7, 'http://x', /Remote name number 7/],
      ['ok', '', /Remote location "" is not one/],
      ['ok', 5, /Remote location number 5 is not one/],
      ['ok', 'ftp://host/x', /scheme ftp:\/\/, which revkv does not speak/],
      ['ok', 'http://[bad', /not a valid URL/]
    ]
    for (const [name, location, message] of cases) {
      const err = await rejection(store.setRemote(name as string, location as string))
      assert.instance(err, InvalidInputError, `${String(name)} ${String(location)}`)
      assert.match((err as Error).message, message)
    }
    assert.equal(await store.remotes(), { origin: 'http://host:7070' })
    assert.throws(() => remoteLocation('gopher://x'), /gopher/)
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
