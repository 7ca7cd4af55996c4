import * as assert from 'uvu/assert'
import { all, fakeClock, rejection } from './helpers.js'
import { ClosedError, ConflictError, InvalidInputError, NotFoundError, Store } from '../src/index.js'
import type { Change, RevkvStore } from '../src/index.js'
import { backendSuite } from './store-suite.js'
import type { StoreFactory } from './store-suite.js'

/** The feed's changes of `key`, in order. */
async function changesOf (store: RevkvStore, key: string): Promise<Change[]> {
  return (await all(store.changes())).filter((c) => c.key === key)
}

/** Reads at a point in time (asOf) and snapshots, for every backend the behavioural suite runs against. */
export async function asOfSuite (factory: StoreFactory): Promise<void> {
  const { it, open } = backendSuite('reads at a point in time', factory)
  const probe = await factory.open()
  // Snapshots are the embedded Store's (a RemoteStore has none: see the README).
  const snapshots = probe instanceof Store
  await probe.close()
  const itIf = (capable: boolean): typeof it => capable ? it : it.skip as unknown as typeof it

  it('asOf a time: the head then along the first-parent line; before the key existed, undefined; a tombstone head reads as deleted', async () => {
    const clock = fakeClock(Date.UTC(2026, 11, 1, 10))
    const t0 = clock.now()
    const store = await open({ clock: clock.now })
    const r1 = await store.commit('doc', { v: 1 })
    clock.advance(1000)
    const r2 = await store.commit('doc', { v: 2 })
    clock.advance(1000)
    const gone = await store.delete('doc')
    clock.advance(1000)
    const r4 = await store.commit('doc', { v: 4 })
    clock.advance(1000)
    await store.commit('other', 1)
    assert.is(await store.get('doc', { asOf: t0 - 1 }), undefined)
    assert.is(await store.head('doc', { asOf: t0 - 1 }), undefined)
    assert.is((await store.head('doc', { asOf: t0 }))?.id, r1.id, 'a revision written at the very time counts')
    assert.equal(await store.get('doc', { asOf: t0 + 999 }), { v: 1 })
    assert.equal(await store.get('doc', { asOf: new Date(t0 + 1000) }), { v: 2 }, 'a Date works like epoch ms')
    assert.is((await store.head('doc', { asOf: t0 + 1500 }))?.id, r2.id)
    assert.is(await store.get('doc', { asOf: t0 + 2500 }), undefined, 'deleted then')
    assert.is((await store.head('doc', { asOf: t0 + 2500 }))?.id, gone.id, 'head gives the tombstone')
    assert.is((await store.head('doc', { asOf: t0 + 2500 }))?.deleted, true)
    assert.equal(await store.get('doc', { asOf: t0 + 3000 }), { v: 4 })
    // A time in the future reads as now.
    assert.is((await store.head('doc', { asOf: t0 + 10 * 365 * 86_400_000 }))?.id, r4.id)
    assert.is(await store.get('never', { asOf: t0 + 5000 }), undefined)
    assert.equal(await all(store.keys({ asOf: t0 - 1 })), [])
    assert.equal(await all(store.keys({ asOf: t0 + 1000 })), ['doc'])
    assert.equal(await all(store.keys({ asOf: t0 + 2500 })), [], 'a key deleted then is not listed')
    assert.equal(await all(store.keys({ asOf: t0 + 3000 })), ['doc'])
    assert.equal(await all(store.keys({ asOf: new Date(t0 + 4000) })), ['doc', 'other'])
    assert.equal(await all(store.keys({ asOf: t0 + 4000, prefix: 'o' })), ['other'])
    assert.equal(await all(store.keys({ asOf: t0 + 4000, limit: 1 })), ['doc'])
    assert.equal(await all(store.keys({ asOf: t0 + 4000, after: 'doc' })), ['other'])
  })

  it('asOf a time follows the line of heads: a merged-in side revision never reads as the head', async () => {
    const clock = fakeClock()
    const store = await open({ clock: clock.now, strategy: 'merge' })
    const base = await store.commit('doc', { a: 1, b: 1 })
    clock.advance(10)
    const ours = await store.commit('doc', { a: 2, b: 1 }, { parent: base.id })
    clock.advance(10)
    // Stale: written on base after ours, so merged; the side revision has this time too.
    const merged = await store.commit('doc', { a: 1, b: 2 }, { parent: base.id })
    assert.equal(merged.parents[0], ours.id)
    const side = merged.parents[1] as string
    assert.is((await store.revision(side))?.time, clock.now())
    assert.is((await store.head('doc', { asOf: clock.now() }))?.id, merged.id)
    assert.is((await store.head('doc', { asOf: clock.now() - 1 }))?.id, ours.id)
  })

  it('asOf { seq }: the head after that change of the feed; kept (unmerged) writes move no head', async () => {
    const store = await open({ strategy: 'manual' })
    const r1 = await store.commit('doc', 1)
    const r2 = await store.commit('doc', 2, { parent: r1.id })
    await store.commit('other', 1)
    const kept = (await rejection(store.commit('doc', 3, { parent: r1.id })) as ConflictError).kept as string
    assert.type(kept, 'string')
    const gone = await store.delete('doc')
    const feed = await all(store.changes())
    const seqOf = (rev: string): number => (feed.find((c) => c.rev === rev) as Change).seq
    assert.is(await store.head('doc', { asOf: { seq: 0 } }), undefined)
    assert.is(await store.head('doc', { asOf: { seq: seqOf(r1.id) - 1 } }), undefined)
    assert.is((await store.head('doc', { asOf: { seq: seqOf(r1.id) } }))?.id, r1.id)
    assert.equal(await store.get('doc', { asOf: { seq: seqOf(r2.id) } }), 2)
    assert.is((await store.head('doc', { asOf: { seq: seqOf(kept) } }))?.id, r2.id, 'the kept change did not move the head')
    assert.is((await store.head('doc', { asOf: { seq: seqOf(gone.id) } }))?.id, gone.id)
    assert.is(await store.get('doc', { asOf: { seq: seqOf(gone.id) } }), undefined)
    assert.equal(await all(store.keys({ asOf: { seq: seqOf(r2.id) } })), ['doc'])
    assert.equal(await all(store.keys({ asOf: { seq: seqOf(kept) } })), ['doc', 'other'])
    assert.equal(await all(store.keys({ asOf: { seq: seqOf(gone.id) } })), ['other'])
    const last = (feed[feed.length - 1] as Change).seq
    const past = await rejection(store.get('doc', { asOf: { seq: last + 1 } }))
    assert.instance(past, InvalidInputError)
    assert.match(past.message, `last sequence number is ${last}`)
    assert.instance(await rejection(all(store.keys({ asOf: { seq: last + 1 } }))), InvalidInputError)
  })

  it('asOf { seq } inside a multi-key batch reads the whole batch: never part of it', async () => {
    const store = await open()
    const a1 = await store.commit('acct:a', 100)
    const b1 = await store.commit('acct:b', 0)
    const [a2, b2] = await store.batch([
      { type: 'commit', key: 'acct:a', value: 70, parent: a1.id },
      { type: 'commit', key: 'acct:b', value: 30, parent: b1.id }
    ])
    const batch = (await all(store.changes())).filter((c) => c.tx !== undefined)
    assert.is(batch.length, 2)
    for (const { seq } of batch) {
      assert.equal([(await store.head('acct:a', { asOf: { seq } }))?.id, (await store.head('acct:b', { asOf: { seq } }))?.id], [a2?.id, b2?.id], `as of change ${seq}`)
      assert.equal(await all(store.keys({ asOf: { seq } })), ['acct:a', 'acct:b'])
    }
    const before = (batch[0] as Change).seq - 1
    assert.equal([await store.get('acct:a', { asOf: { seq: before } }), await store.get('acct:b', { asOf: { seq: before } })], [100, 0])
  })

  it('asOf refuses bad input with an error naming it, and rev with asOf', async () => {
    const store = await open()
    const r1 = await store.commit('doc', 1)
    for (const asOf of ['2026-12-01', -1, 1.5, Number.NaN, new Date('nope'), { seq: -1 }, { seq: 1.5 }, { sequence: 1 }, { seq: 1, time: 2 }, null, [1], true, 9e15]) {
      for (const read of [store.get('doc', { asOf } as never), store.head('doc', { asOf } as never), all(store.keys({ asOf } as never))]) {
        const err = await rejection(read)
        assert.instance(err, InvalidInputError, `asOf ${String(asOf)}`)
        assert.match(err.message, /asOf/)
      }
    }
    const both = await rejection(store.get('doc', { rev: r1.id, asOf: 0 }))
    assert.instance(both, InvalidInputError)
    assert.match(both.message, /rev or option asOf, not both/)
    assert.instance(await rejection(store.head('doc', 'now' as never)), InvalidInputError)
    assert.equal(await store.get('doc'), 1, 'nothing was changed by the refused reads')
  })

  it('asOf a moment in history cut by compaction is a NotFoundError naming the cut; later moments still read', async () => {
    const clock = fakeClock()
    const t0 = clock.now()
    const store = await open({ clock: clock.now })
    const revs = []
    for (let i = 0; i < 4; i++) {
      revs.push(await store.commit('doc', i))
      clock.advance(1000)
    }
    const feed = await changesOf(store, 'doc')
    await store.compact({ keep: 2 })
    const err = await rejection(store.get('doc', { asOf: t0 + 500 }))
    assert.instance(err, NotFoundError)
    assert.match(err.message, /compaction/)
    assert.match(err.message, (revs[2] as { id: string }).id, 'it names the oldest revision kept')
    assert.is((err as NotFoundError).dropped, (revs[1] as { id: string }).id, 'and carries the dropped revision where the read needed it')
    assert.equal(await store.get('doc', { asOf: t0 + 2000 }), 2)
    // Whether the key existed before its first revision is not known either: that history is gone.
    assert.instance(await rejection(store.get('doc', { asOf: t0 - 1 })), NotFoundError)
    const bySeq = await rejection(store.get('doc', { asOf: { seq: (feed[0] as Change).seq } }))
    assert.instance(bySeq, NotFoundError)
    assert.match(bySeq.message, /compaction/)
    assert.is((bySeq as NotFoundError).dropped, (revs[0] as { id: string }).id)
    assert.equal(await store.get('doc', { asOf: { seq: (feed[3] as Change).seq } }), 3)
    assert.instance(await rejection(all(store.keys({ asOf: t0 + 500 }))), NotFoundError)
  })

  it('asOf { seq } on an imported key: its imported head counts as there before its first change here', async () => {
    const clock = fakeClock()
    const source = await open({ clock: clock.now })
    const a1 = await source.commit('doc', 1)
    clock.advance(1000)
    const a2 = await source.commit('doc', 2)
    const lines = await all(source.export())
    const store = await open({ clock: clock.now })
    await store.commit('first', 1)
    await store.import(lines)
    assert.is((await store.head('doc', { asOf: { seq: 0 } }))?.id, a2.id, 'no change in the feed: the imported head')
    clock.advance(1000)
    const b3 = await store.commit('doc', 3)
    const [change] = await changesOf(store, 'doc')
    assert.is((await store.head('doc', { asOf: { seq: (change as Change).seq - 1 } }))?.id, a2.id)
    assert.is((await store.head('doc', { asOf: { seq: (change as Change).seq } }))?.id, b3.id)
    // Imported revisions keep their times, so time reads go through the imported history.
    assert.is((await store.head('doc', { asOf: a1.time }))?.id, a1.id)
  })

  itIf(snapshots)('snapshot(): get, head, keys and log of one moment, unaffected by later writes, deletes and compaction', async () => {
    const store = await open() as Store
    const r1 = await store.commit('a', 1)
    const r2 = await store.commit('a', 2)
    await store.commit('b', 1)
    const snapshot = await store.snapshot()
    const r3 = await store.commit('a', 3)
    await store.delete('b')
    await store.commit('c', 1)
    await store.compact({ keep: 1 })
    assert.equal(await snapshot.get('a'), 2)
    assert.is((await snapshot.head('a'))?.id, r2.id)
    assert.equal(await snapshot.get('b'), 1)
    assert.is(await snapshot.head('c'), undefined)
    assert.equal(await all(snapshot.keys()), ['a', 'b'])
    assert.equal(await all(snapshot.keys({ prefix: 'b' })), ['b'])
    assert.equal((await all(snapshot.log('a'))).map((r) => r.id), [r2.id, r1.id], 'revisions compacted away since are still in the snapshot')
    assert.equal(await snapshot.get('a', { rev: r1.id }), 1)
    const later = await rejection(snapshot.get('a', { rev: r3.id }))
    assert.instance(later, NotFoundError, 'a revision written after the snapshot is not in it')
    assert.instance(await rejection(snapshot.get('a', { asOf: 0 } as never)), InvalidInputError)
    // The store itself reads the latest.
    assert.equal(await store.get('a'), 3)
    assert.equal(await all(store.keys()), ['a', 'c'])
    await snapshot.close()
    await snapshot.close()
    const closed = await rejection(snapshot.get('a'))
    assert.instance(closed, ClosedError)
    assert.match(closed.message, /snapshot is closed/)
    assert.instance(await rejection(all(snapshot.keys())), ClosedError)
  })

  itIf(snapshots)('closing the store closes its open snapshots; a closed store takes no snapshot', async () => {
    const store = await factory.open() as Store
    await store.commit('a', 1)
    const snapshot = await store.snapshot()
    await store.close()
    assert.instance(await rejection(snapshot.head('a')), ClosedError)
    assert.instance(await rejection(store.snapshot()), ClosedError)
  })

  it.run()
}
