import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConflictError, InvalidInputError, Store } from '../src/index.js'
import type { Revision, VerifyProblem } from '../src/index.js'
import { verifyStore } from '../src/verify.js'
import { LevelEngine } from '../src/engines/level/engine.js'
import type { RevkvDatabase } from '../src/engines/level/layout.js'

/** A LevelDB store with history, merges, a tombstone and a kept conflict; closed, with its directory. */
async function sampleStore (): Promise<{ dir: string, revs: Record<string, Revision> }> {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-verify-'))
  const store = await Store.open({ path: dir, strategy: 'merge' })
  const a1 = await store.commit('a', { x: 1, y: 1 })
  const a2 = await store.commit('a', { x: 2, y: 1 }, { parent: a1.id })
  const a3 = await store.commit('a', { x: 1, y: 2 }, { parent: a1.id })
  const b1 = await store.commit('b', [1, 2])
  const b2 = await store.delete('b')
  const c1 = await store.commit('c', 'x')
  await store.commit('c', 'y', { parent: c1.id })
  const kept = await store.commit('c', 'z', { parent: c1.id, strategy: 'manual' }).then(() => undefined, (e: ConflictError) => e.kept)
  const c3 = await store.revision(kept as string) as Revision
  await store.close()
  return { dir, revs: { a1, a2, a3, b1, b2, c1, c3 } }
}

/** A fresh sample store, changed raw by `change`, and what verify() finds in it. */
async function damage (change: (db: Level<string, string>, revs: Record<string, Revision>) => Promise<void>): Promise<VerifyProblem[]> {
  const { dir, revs } = await sampleStore()
  try {
    const db = new Level<string, string>(dir)
    await change(db, revs)
    await db.close()
    const store = await Store.open(dir)
    try {
      return (await store.verify()).problems
    } finally {
      await store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('a sound store verifies clean, counting what it read', async () => {
  const { dir } = await sampleStore()
  try {
    const store = await Store.open(dir)
    let progressed = 0
    const report = await store.verify({ onProgress: (n) => { progressed = n } })
    assert.equal(report.problems, [])
    assert.is(report.keys, 3)
    assert.is(report.revisions, 9, 'a: 2 commits, a stale write and its merge; b: a commit and a tombstone; c: 2 commits and a kept one')
    assert.ok(progressed > 0)
    await store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

const id = (revs: Record<string, Revision>, name: string): string => (revs[name] as Revision).id

test('verify names a flipped byte in a stored value', async () => {
  let target = ''
  const problems = await damage(async (db, revs) => {
    target = id(revs, 'a2')
    await db.put(`r!${target}`, (await db.get(`r!${target}`) as string).replace('"x":2', '"x":3'))
  })
  assert.equal(problems.map((p) => [p.kind, p.key, p.revision]), [['hash', 'a', target]])
  assert.match(problems[0]?.message ?? '', /does not hash to its id/)
})

test('verify names a deleted parent', async () => {
  let target = ''
  const problems = await damage(async (db, revs) => {
    target = id(revs, 'b1')
    await db.del(`r!${target}`)
  })
  assert.ok(problems.some((p) => p.kind === 'parent' && p.key === 'b' && p.message.includes(target)), JSON.stringify(problems))
})

test('verify names a head pointed elsewhere: another key\'s revision, or none', async () => {
  const misdirected = await damage(async (db, revs) => { await db.put('h!a', JSON.stringify({ head: id(revs, 'c1') })) })
  assert.equal(misdirected.map((p) => [p.kind, p.key]), [['head', 'a']])
  assert.match(misdirected[0]?.message ?? '', /a revision of key "c"/)
  const missing = await damage(async (db) => { await db.put('h!a', JSON.stringify({ head: 'f'.repeat(64) })) })
  assert.equal(missing.map((p) => [p.kind, p.key, p.revision]), [['head', 'a', 'f'.repeat(64)]])
  const flag = await damage(async (db, revs) => { await db.put('h!b', JSON.stringify({ head: id(revs, 'b2') })) })
  assert.equal(flag.map((p) => [p.kind, p.key]), [['head', 'b']], 'a tombstone head recorded as live')
})

test('verify names unmerged entries and a conflict index out of step', async () => {
  const index = await damage(async (db) => { await db.del('c!c') })
  assert.equal(index.map((p) => [p.kind, p.key]), [['index', 'c']])
  let kept = ''
  const unmerged = await damage(async (db, revs) => {
    kept = id(revs, 'c3')
    await db.del(`r!${kept}`)
  })
  assert.ok(unmerged.some((p) => p.kind === 'unmerged' && p.revision === kept), JSON.stringify(unmerged))
  const counted = await damage(async (db) => { await db.put('h!c', JSON.stringify({ head: JSON.parse(await db.get('h!c') as string).head })) })
  assert.ok(counted.some((p) => p.kind === 'unmerged' && p.key === 'c' && /counts 0/.test(p.message)), JSON.stringify(counted))
})

test('verify names a wrong height, and its children', async () => {
  let root = ''
  let child = ''
  const problems = await damage(async (db, revs) => {
    root = id(revs, 'a1')
    child = id(revs, 'a2')
    const record = JSON.parse(await db.get(`r!${root}`) as string) as Record<string, unknown>
    record.height = 5
    await db.put(`r!${root}`, JSON.stringify(record))
  })
  assert.ok(problems.some((p) => p.kind === 'hash' && p.revision === root))
  assert.ok(problems.some((p) => p.kind === 'height' && p.revision === child), JSON.stringify(problems))
})

test('verify names records revkv does not write; a database that is not a store is refused at open', async () => {
  const problems = await damage(async (db) => { await db.put('zz-stray', '1') })
  assert.equal(problems.map((p) => p.kind), ['unknown'])
  const dir = mkdtempSync(join(tmpdir(), 'revkv-foreign-'))
  try {
    const db = new Level<string, string>(dir)
    await db.put('someone', 'else')
    await db.close()
    const err = await Store.open(dir).then(() => undefined, (e: unknown) => e)
    assert.instance(err, InvalidInputError)
    assert.match((err as Error).message, /not a revkv store/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('verify names damaged records: a revision, head or change record that is not JSON, a revision missing its fields', async () => {
  // Another change makes a damaged record a REVKV_CORRUPT error elsewhere; verify must still name each one precisely.
  let target = ''
  const garbled = await damage(async (db, revs) => {
    target = id(revs, 'a2')
    await db.put(`r!${target}`, '{"key":"a", broken')
  })
  assert.ok(garbled.some((p) => p.kind === 'corrupt' && p.revision === target && /not valid JSON/.test(p.message)), JSON.stringify(garbled))
  let bare = ''
  const missing = await damage(async (db, revs) => {
    bare = id(revs, 'c1')
    await db.put(`r!${bare}`, JSON.stringify({ value: 'x' }))
  })
  assert.ok(missing.some((p) => p.kind === 'corrupt' && p.revision === bare && p.key === 'c' && /its record has no key/.test(p.message)), JSON.stringify(missing))
  // A record that cannot be read is reported once, as corrupt, not again as a hash mismatch or a missing revision.
  assert.is(missing.filter((p) => p.revision === bare).length, 1, JSON.stringify(missing))
  const head = await damage(async (db) => { await db.put('h!a', 'not json') })
  assert.ok(head.some((p) => p.kind === 'corrupt' && p.key === 'a' && /head record of key "a" cannot be read: it is not valid JSON/.test(p.message)), JSON.stringify(head))
  const feed = await damage(async (db) => {
    for await (const key of db.keys({ gt: 's!', lt: 's"', limit: 1 })) await db.put(key, '[[')
  })
  assert.ok(feed.some((p) => p.kind === 'corrupt' && /change record s!.* is not valid JSON/.test(p.message)), JSON.stringify(feed))
})

test('verify names a parent that belongs to another key, and a changes feed naming a revision of another key', async () => {
  let child = ''
  let other = ''
  const problems = await damage(async (db, revs) => {
    child = id(revs, 'a2')
    other = id(revs, 'b1')
    const record = JSON.parse(await db.get(`r!${child}`) as string) as Record<string, unknown>
    record.parents = [other]
    await db.put(`r!${child}`, JSON.stringify(record))
  })
  assert.ok(problems.some((p) => p.kind === 'parent' && p.key === 'a' && p.revision === child && p.message.includes(`${other}, a revision of key "b"`)), JSON.stringify(problems))
  const feed = await damage(async (db, revs) => {
    for await (const key of db.keys({ gt: 's!', lt: 's"', limit: 1 })) await db.put(key, JSON.stringify([['a', id(revs, 'c1'), 0]]))
  })
  assert.ok(feed.some((p) => p.kind === 'index' && p.key === 'a' && /belongs to key "c"/.test(p.message)), JSON.stringify(feed))
})

test('verify names a missing or unknown layout version record', async () => {
  for (const [change, expected] of [
    [async (db: Level<string, string>) => { await db.del('m!format') }, /layout version record is missing/],
    [async (db: Level<string, string>) => { await db.put('m!format', '999') }, /Unknown layout version 999/]
  ] as const) {
    const { dir } = await sampleStore()
    try {
      const db = new Level<string, string>(dir)
      await change(db)
      // The store refuses to open such a database, so verify reads it directly.
      const report = await verifyStore(new LevelEngine(db as unknown as RevkvDatabase, dir))
      await db.close()
      assert.equal(report.problems.map((p) => p.kind), ['format'])
      assert.match(report.problems[0]?.message ?? '', expected)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
})

test.run()
