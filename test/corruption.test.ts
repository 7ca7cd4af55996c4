/**
 * Damaged records in a real LevelDB directory (garbage written to the raw key through a
 * level handle): every reader fails with CorruptionError naming the key and revision, and
 * fsck names the damage precisely and counts what it read.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CorruptionError, RemoteStore, Store } from '../src/index.js'
import type { Revision } from '../src/index.js'
import { serve } from '../src/server/index.js'
import { fails, revkv } from './cli-run.js'
import { all, rejection } from './helpers.js'

interface Damaged {
  dir: string
  a1: Revision
  a2: Revision
  b1: Revision
}

/** A store with key a (two revisions) and b (one), closed, then changed raw by `damage`. */
async function damagedStore (damage: (db: Level<string, string>, revs: Omit<Damaged, 'dir'>) => Promise<void>): Promise<Damaged> {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-corrupt-'))
  const store = await Store.open(dir)
  const a1 = await store.commit('a', { n: 1 })
  const a2 = await store.commit('a', { n: 2 })
  const b1 = await store.commit('b', 1)
  await store.close()
  const db = new Level<string, string>(dir)
  await damage(db, { a1, a2, b1 })
  await db.close()
  return { dir, a1, a2, b1 }
}

/** Runs `body` on the damaged store opened again, then removes it. */
async function withStore (damaged: Damaged, body: (store: Store) => Promise<void>): Promise<void> {
  const store = await Store.open(damaged.dir)
  try {
    await body(store)
  } finally {
    await store.close()
    rmSync(damaged.dir, { recursive: true, force: true })
  }
}

/** A CorruptionError for revision `revision` of `key`, telling the user to run fsck. */
function corruption (err: Error, key: string | undefined, revision: string | undefined): void {
  assert.instance(err, CorruptionError, err.stack)
  const c = err as CorruptionError
  assert.is(c.code, 'REVKV_CORRUPT')
  assert.is(c.status, 500)
  assert.is(c.key, key)
  assert.is(c.revision, revision)
  if (key !== undefined) assert.ok(err.message.includes(JSON.stringify(key)), err.message)
  if (revision !== undefined) assert.ok(err.message.includes(revision), err.message)
  assert.match(err.message, /revkv fsck/)
}

test('a damaged head revision: get, head, log, commit, delete and export fail with CorruptionError naming key and revision', async () => {
  const damaged = await damagedStore(async (db, { a2 }) => { await db.put(`r!${a2.id}`, '{"height":2,"key":"a","parents":[') })
  await withStore(damaged, async (store) => {
    const { a2, b1 } = damaged
    corruption(await rejection(store.get('a')), 'a', a2.id)
    corruption(await rejection(store.head('a')), 'a', a2.id)
    corruption(await rejection(all(store.log('a'))), 'a', a2.id)
    corruption(await rejection(store.commit('a', { n: 3 })), 'a', a2.id)
    corruption(await rejection(store.delete('a')), 'a', a2.id)
    corruption(await rejection(all(store.export())), 'a', a2.id)
    // Reading the revision by id alone cannot know its key, but still names it.
    corruption(await rejection(store.revision(a2.id)), undefined, a2.id)
    // Other keys are untouched, and nothing was written by the failed commit.
    assert.is(await store.get('b'), 1)
    assert.equal((await store.head('b'))?.id, b1.id)
    await store.commit('b', 2)
  })
})

test('a damaged older revision: the head reads, a log stops at it with CorruptionError naming the key', async () => {
  const damaged = await damagedStore(async (db, { a1 }) => { await db.put(`r!${a1.id}`, 'garbage') })
  await withStore(damaged, async (store) => {
    assert.equal(await store.get('a'), { n: 2 })
    const seen: string[] = []
    const err = await rejection((async () => { for await (const rev of store.log('a')) seen.push(rev.id) })())
    assert.equal(seen, [damaged.a2.id])
    corruption(err, 'a', damaged.a1.id)
    corruption(await rejection(store.get('a', { rev: damaged.a1.id })), 'a', damaged.a1.id)
  })
})

test('a record that is JSON but not a revision, or a damaged head record, is a CorruptionError too', async () => {
  for (const garbage of ['{}', '[]', 'null', '{"height":1,"key":"a","parents":["nope"],"time":1,"value":1}']) {
    const damaged = await damagedStore(async (db, { a2 }) => { await db.put(`r!${a2.id}`, garbage) })
    await withStore(damaged, async (store) => { corruption(await rejection(store.get('a')), 'a', damaged.a2.id) })
  }
  const head = await damagedStore(async (db) => { await db.put('h!a', '{"head":') })
  await withStore(head, async (store) => {
    corruption(await rejection(store.get('a')), 'a', undefined)
    corruption(await rejection(all(store.keys())), 'a', undefined)
    const report = await store.verify()
    assert.equal(report.problems.map((p) => [p.kind, p.key]), [['corrupt', 'a']])
  })
})

test('a damaged change record: writes and the feed fail with CorruptionError instead of a JSON.parse error', async () => {
  let record = ''
  const damaged = await damagedStore(async (db) => {
    for await (const key of db.keys({ gt: 's!', lt: 's"', reverse: true, limit: 1 })) record = key
    await db.put(record, '[["a",')
  })
  await withStore(damaged, async (store) => {
    const write = await rejection(store.commit('c', 1))
    corruption(write, undefined, undefined)
    assert.ok(write.message.includes(record), write.message)
    corruption(await rejection(all(store.changes())), undefined, undefined)
    const report = await store.verify()
    assert.equal(report.problems.map((p) => p.kind), ['corrupt'])
    assert.ok(report.problems[0]?.message.includes(record))
  })
})

test('fsck names a damaged head revision precisely (not as missing) and counts every revision record', async () => {
  const damaged = await damagedStore(async (db, { a2 }) => { await db.put(`r!${a2.id}`, 'not json') })
  await withStore(damaged, async (store) => {
    const report = await store.verify()
    assert.is(report.revisions, 3, 'a1, a2 (damaged) and b1')
    assert.is(report.keys, 2)
    assert.equal(report.problems.map((p) => [p.kind, p.key, p.revision]), [['corrupt', 'a', damaged.a2.id]])
    assert.match(report.problems[0]?.message ?? '', /cannot be read: its record is not valid JSON; it is the head of the key/)
  })
  // A damaged parent is reported once, as damaged: not as a missing parent, nor a wrong height.
  const parent = await damagedStore(async (db, { a1 }) => { await db.put(`r!${a1.id}`, '{"oops":true}') })
  await withStore(parent, async (store) => {
    const report = await store.verify()
    assert.is(report.revisions, 3)
    assert.equal(report.problems.map((p) => [p.kind, p.key, p.revision]), [['corrupt', 'a', parent.a1.id]])
    assert.match(report.problems[0]?.message ?? '', /has no key/)
  })
})

test('the CLI exits 6 on a damaged record (not 70, "a bug"), and fsck says what it checked', async () => {
  const damaged = await damagedStore(async (db, { a2 }) => { await db.put(`r!${a2.id}`, 'not json') })
  try {
    for (const args of [['get', 'a'], ['log', 'a'], ['commit', 'a', '3']]) {
      const stderr = fails(await revkv(damaged.dir, ['--db', damaged.dir, ...args]), 6)
      assert.ok(stderr.includes(damaged.a2.id) && /revkv fsck/.test(stderr), `${args.join(' ')}: ${stderr}`)
    }
    // An export streams: its header is out before the damaged record is reached.
    const dump = await revkv(damaged.dir, ['--db', damaged.dir, 'export'])
    assert.is(dump.code, 6)
    assert.ok(dump.stderr.includes(damaged.a2.id), dump.stderr)
    const fsck = await revkv(damaged.dir, ['--db', damaged.dir, 'fsck'])
    assert.is(fsck.code, 6)
    assert.match(fsck.stdout, /^corrupt {2}Revision [0-9a-f]{64} of key "a" cannot be read/)
    assert.match(fsck.stderr, /Checked 3 revisions of 2 keys: 1 problem\./)
  } finally {
    rmSync(damaged.dir, { recursive: true, force: true })
  }
})

test('over RemoteStore the server\'s CorruptionError arrives as CorruptionError with its key and revision', async () => {
  const damaged = await damagedStore(async (db, { a2 }) => { await db.put(`r!${a2.id}`, 'not json') })
  const store = await Store.open(damaged.dir)
  // The server logs every 500 with its stack; that is expected here, so keep the test output quiet.
  const log = console.error
  console.error = () => {}
  const server = await serve(store, { port: 0 })
  try {
    const remote = await RemoteStore.open(server.url)
    corruption(await rejection(remote.get('a')), 'a', damaged.a2.id)
    corruption(await rejection(remote.commit('a', 3)), 'a', damaged.a2.id)
    assert.is(await remote.get('b'), 1)
    await remote.close()
  } finally {
    console.error = log
    await server.close()
    rmSync(damaged.dir, { recursive: true, force: true })
  }
})

test.run()
