import { createHash } from 'node:crypto'
import { suite } from 'uvu'
import type { Test } from 'uvu'
import * as assert from 'uvu/assert'
import { all } from './helpers.js'
import { DELETED, KEPT } from '../src/engines/engine.js'
import type { Engine, EngineCapabilities, Entry, HeadMove, HeadRecord, ScannedRecord } from '../src/engines/engine.js'

/** What the conformance suite needs to know about an engine before opening one. */
export interface EngineSuiteOptions {
  /** The capabilities the engine declares; tests of a capability it lacks show as skipped. */
  supports: EngineCapabilities
  /** Skip every test (e.g. the database server is not installed). */
  skip?: boolean
}

/** The clock batches are written at: leases that end by then no longer hold. */
export const NOW = 1_000_000

/** A revision id (64 hex) and a record text for `content`, as the write path would make them. */
export function fakeRevision (content: string): { id: string, record: string } {
  return { id: createHash('sha256').update(content).digest('hex'), record: JSON.stringify({ content }) }
}

/** A head move of `key` from `expected` to `head`. */
export function move (key: string, expected: string | null, head: string, extra: Partial<HeadMove> & { deleted?: true, unmerged?: number } = {}): HeadMove {
  const record: HeadRecord = { head, ...(extra.deleted === true ? { deleted: true } : {}), ...(extra.unmerged !== undefined ? { unmerged: extra.unmerged } : {}) }
  return { key, expected, head: record, token: extra.token, added: extra.added ?? [], removed: extra.removed ?? [] }
}

/** Writes one revision of `key` on top of `expected` with its change; returns the new id and the outcome. */
export async function commitOne (engine: Engine, key: string, expected: string | null, content: string, options: { allOrNothing?: boolean, token?: number } = {}): Promise<{ id: string, stale: boolean, firstSeq: number | undefined }> {
  const { id, record } = fakeRevision(content)
  const batch = engine.batch()
  batch.putRevision(id, key, record)
  batch.setHead(move(key, expected, id, { token: options.token }))
  batch.addChange([key, id, 0])
  const outcome = await batch.write({ sync: false, now: NOW, ...(options.allOrNothing === true ? { allOrNothing: true } : {}) })
  return { id, stale: outcome.stale.has(key), firstSeq: outcome.firstSeq }
}

/**
 * The conformance suite every storage engine passes (abstract-level's suite(options)
 * shape): only what src/engines/engine.ts promises. `open` gives a new, empty engine;
 * each is closed after its test.
 */
export function engineSuite (name: string, open: () => Promise<Engine>, options: EngineSuiteOptions): void {
  const it = suite(`engine (${name})`)
  const opened: Engine[] = []
  const fresh = async (): Promise<Engine> => {
    const engine = await open()
    opened.push(engine)
    return engine
  }
  it.after.each(async () => {
    for (const engine of opened.splice(0)) await engine.close()
  })
  const itIf = (capable: boolean): Test => capable && options.skip !== true ? it : it.skip as unknown as Test
  const { supports } = options

  itIf(true)('declares the capabilities it was opened with', async () => {
    const engine = await fresh()
    assert.equal({ ...engine.supports }, { ...supports })
    assert.type(engine.name, 'string')
    assert.type(engine.location, 'string')
  })

  itIf(true)('an empty store has nothing', async () => {
    const engine = await fresh()
    assert.is(await engine.head('a'), undefined)
    assert.is(await engine.revision(fakeRevision('x').id), undefined)
    assert.is(await engine.lastSeq(), 0)
    assert.equal(await all(engine.changes(0)), [])
    assert.equal(await all(engine.heads({})), [])
  })

  itIf(true)('a batch writes revisions, heads, unmerged ids and numbered changes together', async () => {
    const engine = await fresh()
    const a = fakeRevision('a1')
    const kept = fakeRevision('a-kept')
    const b = fakeRevision('b1')
    const batch = engine.batch()
    batch.putRevision(a.id, 'a', a.record)
    batch.putRevision(kept.id, 'a', kept.record)
    batch.putRevision(b.id, 'b', b.record)
    batch.setHead(move('a', null, a.id, { unmerged: 1, added: [kept.id] }))
    batch.setHead(move('b', null, b.id, { deleted: true }))
    batch.addChange(['a', a.id, 0])
    batch.addChange(['a', kept.id, 2])
    batch.addChange(['b', b.id, 1])
    assert.is(batch.size > 0, true)
    const outcome = await batch.write({ sync: true, now: NOW })
    assert.equal([...outcome.stale], [])
    assert.is(outcome.firstSeq, 1)
    assert.is(await engine.revision(a.id), a.record)
    assert.equal(await engine.head('a'), { head: a.id, unmerged: 1 })
    assert.equal(await engine.head('b'), { head: b.id, deleted: true })
    assert.equal(await engine.unmerged('a'), [kept.id])
    assert.equal(await engine.headRecords(['b', 'c', 'a']), [{ head: b.id, deleted: true }, undefined, { head: a.id, unmerged: 1 }])
    assert.equal(await all(engine.conflictedKeys()), ['a'])
    assert.is(await engine.lastSeq(), 3)
    assert.equal(await all(engine.changes(0)), [[1, ['a', a.id, 0]], [2, ['a', kept.id, 2]], [3, ['b', b.id, 1]]])
    assert.equal(await all(engine.changes(2)), [[3, ['b', b.id, 1]]])
  })

  itIf(true)('sequence numbers go on from batch to batch; a batch without changes takes none', async () => {
    const engine = await fresh()
    const first = await commitOne(engine, 'k', null, 'v1')
    const second = await commitOne(engine, 'k', first.id, 'v2')
    assert.equal([first.firstSeq, second.firstSeq], [1, 2])
    const r = fakeRevision('loose')
    const batch = engine.batch()
    batch.putRevision(r.id, 'k', r.record)
    assert.is((await batch.write({ sync: false, now: NOW })).firstSeq, undefined)
    assert.is(await engine.lastSeq(), 2)
    assert.is((await commitOne(engine, 'k', second.id, 'v3')).firstSeq, 3)
  })

  itIf(true)('unmerged ids: removed applies after added, and the conflict list follows the count', async () => {
    const engine = await fresh()
    const h1 = fakeRevision('h1')
    const u1 = fakeRevision('u1')
    const u2 = fakeRevision('u2')
    let batch = engine.batch()
    for (const r of [h1, u1, u2]) batch.putRevision(r.id, 'k', r.record)
    batch.setHead(move('k', null, h1.id, { unmerged: 1, added: [u1.id] }))
    await batch.write({ sync: false, now: NOW })
    assert.equal(await all(engine.conflictedKeys()), ['k'])
    const h2 = fakeRevision('h2')
    batch = engine.batch()
    batch.putRevision(h2.id, 'k', h2.record)
    // u2 is both added and removed: it ends up absent.
    batch.setHead(move('k', h1.id, h2.id, { unmerged: 0, added: [u2.id], removed: [u1.id, u2.id] }))
    assert.equal([...(await batch.write({ sync: false, now: NOW })).stale], [])
    assert.equal(await engine.unmerged('k'), [])
    assert.equal(await engine.head('k'), { head: h2.id })
    assert.equal(await all(engine.conflictedKeys()), [])
  })

  itIf(true)('heads() lists in code point order, by prefix and after a key', async () => {
    const engine = await fresh()
    const keys = ['b', 'a', 'ab', 'a/2', 'a/10', 'é', '😀', '\uffff', 'Z']
    const batch = engine.batch()
    for (const key of keys) {
      const r = fakeRevision(key)
      batch.putRevision(r.id, key, r.record)
      batch.setHead(move(key, null, r.id))
    }
    await batch.write({ sync: false, now: NOW })
    const codePointOrder = [...keys].sort((x, y) => {
      const [a, b] = [[...x].map(c => c.codePointAt(0) ?? 0), [...y].map(c => c.codePointAt(0) ?? 0)]
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0)
      return a.length - b.length
    })
    assert.equal((await all(engine.heads({}))).map(([key]) => key), codePointOrder)
    assert.equal((await all(engine.heads({ prefix: 'a' }))).map(([key]) => key), ['a', 'a/10', 'a/2', 'ab'])
    assert.equal((await all(engine.heads({ prefix: 'a', after: 'a/10' }))).map(([key]) => key), ['a/2', 'ab'])
    const [, record] = (await all(engine.heads({ prefix: 'Z' })))[0] ?? []
    assert.equal(record, { head: fakeRevision('Z').id })
  })

  itIf(true)('revisionsByPrefix lists by id prefix in id order, up to a limit', async () => {
    const engine = await fresh()
    const revisions = Array.from({ length: 40 }, (_, i) => fakeRevision(`r${i}`))
    const batch = engine.batch()
    for (const r of revisions) batch.putRevision(r.id, 'k', r.record)
    await batch.write({ sync: false, now: NOW })
    const prefix = revisions[0]?.id.slice(0, 1) ?? ''
    const expected = revisions.filter(r => r.id.startsWith(prefix)).map(r => r.id).sort()
    assert.equal((await all(engine.revisionsByPrefix(prefix))).map(([id]) => id), expected)
    assert.equal((await all(engine.revisionsByPrefix(prefix, 1))).map(([id]) => id), expected.slice(0, 1))
    assert.equal(await all(engine.revisionsByPrefix('')), revisions.map(r => [r.id, r.record]).sort())
  })

  itIf(true)('drop() removes revisions and leaves dropped markers', async () => {
    const engine = await fresh()
    const old = await commitOne(engine, 'k', null, 'old')
    const now = await commitOne(engine, 'k', old.id, 'now')
    await engine.drop('k', [old.id])
    await engine.reclaim()
    assert.is(await engine.revision(old.id), undefined)
    assert.is(await engine.dropped(old.id), 'k')
    assert.is(await engine.revision(now.id), fakeRevision('now').record)
    assert.is(await engine.dropped(now.id), undefined)
  })

  itIf(true)('putDropped writes a marker (import)', async () => {
    const engine = await fresh()
    const gone = fakeRevision('gone')
    const batch = engine.batch()
    batch.putDropped(gone.id, 'k')
    await batch.write({ sync: false, now: NOW })
    assert.is(await engine.dropped(gone.id), 'k')
  })

  itIf(true)('leases: grant, held, renew, release, expiry; fencing tokens only grow', async () => {
    const engine = await fresh()
    const first = await engine.grantLease('k', 'ada', NOW + 100, NOW, { sync: true })
    assert.equal(first, { granted: { token: 1, owner: 'ada', expires: NOW + 100 } })
    assert.equal(await engine.grantLease('k', 'bob', NOW + 200, NOW + 50, { sync: false }), { held: { token: 1, owner: 'ada', expires: NOW + 100 } })
    assert.equal(await engine.renewLease('k', 1, NOW + 300, NOW + 50, { sync: false }), { token: 1, owner: 'ada', expires: NOW + 300 })
    assert.is(await engine.renewLease('k', 2, NOW + 400, NOW + 50, { sync: false }), undefined, 'another token renews nothing')
    assert.is(await engine.renewLease('k', 1, NOW + 900, NOW + 300, { sync: false }), undefined, 'an ended lease is not renewed')
    assert.equal(await all(engine.leases()), [['k', { token: 1, owner: 'ada', expires: NOW + 300 }]], 'an ended lease stays until released')
    // Ended: another owner gets the next token.
    assert.equal(await engine.grantLease('k', 'bob', NOW + 500, NOW + 300, { sync: false }), { granted: { token: 2, owner: 'bob', expires: NOW + 500 } })
    assert.is(await engine.releaseLease('k', 1, { sync: false }), false)
    assert.is(await engine.releaseLease('k', 2, { sync: false }), true)
    assert.is(await engine.lease('k'), undefined)
    assert.is(await engine.fence('k'), 2)
    assert.equal((await engine.grantLease('k', 'cy', NOW + 1, NOW, { sync: false })), { granted: { token: 3, owner: 'cy', expires: NOW + 1 } })
    assert.is(await engine.fence('other'), undefined)
    assert.is(await engine.head('k'), undefined, 'a lease does not make a key exist')
    assert.equal(await engine.headRecords(['k']), [undefined])
    assert.equal(await all(engine.heads({})), [])
  })

  itIf(true)('scan() sees every kind of record', async () => {
    const engine = await fresh()
    const h = fakeRevision('h')
    const u = fakeRevision('u')
    const batch = engine.batch()
    batch.putRevision(h.id, 'k', h.record)
    batch.putRevision(u.id, 'k', u.record)
    batch.setHead(move('k', null, h.id, { unmerged: 1, added: [u.id] }))
    batch.addChange(['k', h.id, 0])
    batch.putDropped(fakeRevision('d').id, 'k')
    await batch.write({ sync: false, now: NOW })
    await engine.grantLease('k', 'o', NOW + 9, NOW, { sync: false })
    const records = await all(engine.scan())
    const kinds = new Set(records.map(r => r.kind))
    assert.equal([...kinds].sort(), ['changes', 'conflict', 'dropped', 'fence', 'format', 'head', 'lease', 'revision', 'unmerged'])
    const find = <K extends ScannedRecord['kind']>(kind: K): Extract<ScannedRecord, { kind: K }>[] => records.filter((r): r is Extract<ScannedRecord, { kind: K }> => r.kind === kind)
    assert.equal(find('head'), [{ kind: 'head', key: 'k', record: { head: h.id, unmerged: 1 } }])
    assert.equal(find('unmerged'), [{ kind: 'unmerged', key: 'k', id: u.id }])
    assert.equal(find('changes').flatMap((r): Entry[] => {
      if (!Array.isArray(r.entries)) throw r.entries
      return r.entries
    }), [['k', h.id, 0]])
    assert.equal(find('revision').map(r => r.id).sort(), [h.id, u.id].sort())
  })

  itIf(true)('headChange: a key\'s last head move at or before a number, or its first after; kept changes and other keys skipped', async () => {
    const engine = await fresh()
    const a1 = await commitOne(engine, 'a', null, 'a1')
    // One batch of three changes (one record on LevelDB): b, a kept (no head move), a deleted.
    const b1 = fakeRevision('b1')
    const kept = fakeRevision('a-kept')
    const gone = fakeRevision('a-gone')
    const batch = engine.batch()
    for (const rev of [b1, kept, gone]) batch.putRevision(rev.id, rev.id === b1.id ? 'b' : 'a', rev.record)
    batch.setHead(move('b', null, b1.id))
    batch.setHead(move('a', a1.id, gone.id, { deleted: true }))
    batch.addChange(['b', b1.id, 0])
    batch.addChange(['a', kept.id, KEPT])
    batch.addChange(['a', gone.id, DELETED])
    await batch.write({ sync: false, now: NOW })
    const a4 = await commitOne(engine, 'a', gone.id, 'a4')
    assert.equal([a1.firstSeq, a4.firstSeq], [1, 5])
    assert.is(await engine.headChange('a', 0, 'at'), undefined)
    assert.equal(await engine.headChange('a', 1, 'at'), { seq: 1, rev: a1.id })
    assert.equal(await engine.headChange('a', 3, 'at'), { seq: 1, rev: a1.id }, 'the kept change (3) moved no head')
    assert.equal(await engine.headChange('a', 4, 'at'), { seq: 4, rev: gone.id })
    assert.equal(await engine.headChange('a', 99, 'at'), { seq: 5, rev: a4.id })
    assert.equal(await engine.headChange('a', 0, 'after'), { seq: 1, rev: a1.id })
    assert.equal(await engine.headChange('a', 1, 'after'), { seq: 4, rev: gone.id })
    assert.is(await engine.headChange('a', 5, 'after'), undefined)
    assert.equal(await engine.headChange('b', 5, 'at'), { seq: 2, rev: b1.id })
    assert.is(await engine.headChange('b', 2, 'after'), undefined)
    assert.is(await engine.headChange('nobody', 5, 'at'), undefined)
    assert.equal(await engine.change(3), ['a', kept.id, KEPT], 'one change, from the middle of a batch\'s record')
    assert.equal(await engine.change(5), ['a', a4.id, 0])
    assert.is(await engine.change(6), undefined)
    if (supports.snapshots) {
      const snapshot = await engine.snapshot()
      await commitOne(engine, 'a', a4.id, 'a6')
      try {
        assert.equal(await engine.headChange('a', 99, 'at', { snapshot }), { seq: 5, rev: a4.id }, 'read at a snapshot, a later change is not there')
        assert.is(await engine.headChange('a', 5, 'after', { snapshot }), undefined)
      } finally {
        await snapshot.close()
      }
    }
  })

  itIf(supports.snapshots)('a snapshot does not see later writes', async () => {
    const engine = await fresh()
    const v1 = await commitOne(engine, 'k', null, 'v1')
    const snapshot = await engine.snapshot()
    try {
      const v2 = await commitOne(engine, 'k', v1.id, 'v2')
      await commitOne(engine, 'other', null, 'o')
      assert.equal(await engine.head('k', { snapshot }), { head: v1.id })
      assert.is(await engine.revision(v2.id, { snapshot }), undefined)
      assert.equal((await all(engine.heads({ snapshot }))).map(([key]) => key), ['k'])
      assert.equal(await engine.head('k'), { head: v2.id })
    } finally {
      await snapshot.close()
    }
  })

  itIf(supports.sharedWriters)('a head whose expectation fails is stale, and nothing of its key is written', async () => {
    const engine = await fresh()
    const v1 = await commitOne(engine, 'k', null, 'v1')
    await commitOne(engine, 'k', v1.id, 'v2')
    const lost = fakeRevision('lost')
    const other = fakeRevision('other')
    const batch = engine.batch()
    batch.putRevision(lost.id, 'k', lost.record)
    batch.setHead(move('k', v1.id, lost.id, { unmerged: 1, added: [v1.id] }))
    batch.addChange(['k', lost.id, 0])
    batch.putRevision(other.id, 'o', other.record)
    batch.setHead(move('o', null, other.id))
    batch.addChange(['o', other.id, 0])
    const outcome = await batch.write({ sync: false, now: NOW })
    assert.equal([...outcome.stale], ['k'])
    // The other key of the batch is written, numbered right after the earlier changes.
    assert.is(outcome.firstSeq, 3)
    assert.is(await engine.revision(lost.id), undefined)
    assert.equal(await engine.unmerged('k'), [])
    assert.equal(await engine.head('k'), { head: fakeRevision('v2').id })
    assert.equal(await all(engine.changes(2)), [[3, ['o', other.id, 0]]])
    // Creating a key that exists is stale too.
    assert.is((await commitOne(engine, 'o', null, 'again')).stale, true)
  })

  itIf(supports.sharedWriters)('a head move under another\'s live lease is stale; with the lease\'s token, or once it ended, it moves', async () => {
    const engine = await fresh()
    const v1 = await commitOne(engine, 'k', null, 'v1')
    const { granted } = await engine.grantLease('k', 'ada', NOW + 10, NOW, { sync: false }) as { granted: { token: number } }
    assert.is((await commitOne(engine, 'k', v1.id, 'no token')).stale, true)
    assert.is((await commitOne(engine, 'k', v1.id, 'old token', { token: granted.token + 1 })).stale, true)
    const v2 = await commitOne(engine, 'k', v1.id, 'holder', { token: granted.token })
    assert.is(v2.stale, false)
    assert.equal(await engine.head('k'), { head: v2.id })
    // A key leased before it exists: creating it needs the token too.
    await engine.grantLease('new', 'ada', NOW + 10, NOW, { sync: false })
    assert.is((await commitOne(engine, 'new', null, 'n1')).stale, true)
    assert.is(await engine.head('new'), undefined)
    const lease = await engine.lease('new')
    assert.is((await commitOne(engine, 'new', null, 'n2', { token: lease?.token })).stale, false)
    assert.equal(await engine.head('new'), { head: fakeRevision('n2').id })
    // A lease that ended at the batch's clock stops nothing.
    await engine.grantLease('late', 'ada', NOW, NOW - 10, { sync: false })
    assert.is((await commitOne(engine, 'late', null, 'l1')).stale, false)
  })

  itIf(supports.sharedWriters)('a head move is stale when the unmerged count it started from changed', async () => {
    const engine = await fresh()
    const h = fakeRevision('h')
    const kept = fakeRevision('kept')
    let batch = engine.batch()
    batch.putRevision(h.id, 'k', h.record)
    batch.setHead(move('k', null, h.id))
    await batch.write({ sync: false, now: NOW })
    // Another writer keeps a revision unmerged: the head stays, the count moves to 1.
    batch = engine.batch()
    batch.putRevision(kept.id, 'k', kept.record)
    batch.setHead(move('k', h.id, h.id, { unmerged: 1, added: [kept.id] }))
    assert.equal([...(await batch.write({ sync: false, now: NOW })).stale], [])
    // A move decided on the count of 0 is stale.
    const late = fakeRevision('late')
    batch = engine.batch()
    batch.putRevision(late.id, 'k', late.record)
    batch.setHead(move('k', h.id, late.id))
    assert.equal([...(await batch.write({ sync: false, now: NOW })).stale], ['k'])
    assert.equal(await engine.head('k'), { head: h.id, unmerged: 1 })
  })

  itIf(supports.sharedWriters)('allOrNothing: one stale head and nothing at all is written', async () => {
    const engine = await fresh()
    const v1 = await commitOne(engine, 'k', null, 'v1')
    await commitOne(engine, 'k', v1.id, 'v2')
    const fine = fakeRevision('fine')
    const lost = fakeRevision('lost')
    const batch = engine.batch()
    batch.putRevision(fine.id, 'new', fine.record)
    batch.setHead(move('new', null, fine.id))
    batch.addChange(['new', fine.id, 0])
    batch.putRevision(lost.id, 'k', lost.record)
    batch.setHead(move('k', v1.id, lost.id))
    batch.addChange(['k', lost.id, 0])
    const outcome = await batch.write({ sync: true, now: NOW, allOrNothing: true })
    assert.equal([...outcome.stale], ['k'])
    assert.is(outcome.firstSeq, undefined)
    assert.is(await engine.head('new'), undefined)
    assert.is(await engine.revision(fine.id), undefined)
    assert.is(await engine.lastSeq(), 2)
    // The next batch's numbers follow on with no gap.
    assert.is((await commitOne(engine, 'new', null, 'fine', { allOrNothing: true })).firstSeq, 3)
  })

  it.run()
}
