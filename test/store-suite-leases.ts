import * as assert from 'uvu/assert'
import { all, fakeClock, rejection } from './helpers.js'
import { ConflictError, InvalidInputError, LockedError } from '../src/index.js'
import type { Lease, StoreCapabilities, Strategy } from '../src/index.js'
import { backendSuite } from './store-suite.js'
import type { StoreFactory } from './store-suite.js'


/** Leases with fencing tokens, for every backend the behavioural suite runs against. */
export function leaseSuite (factory: StoreFactory, supports: StoreCapabilities): void {
  const { it, open, opened } = backendSuite('leases', factory)
  const { callOrder } = supports

  it('a lease refuses every write without its token, names the holder, and never blocks reads', async () => {
    const clock = fakeClock()
    const store = await open({ clock: clock.now })
    const v1 = await store.commit('doc', { n: 1 })
    const lease = await store.lock('doc', { ttl: 30_000, owner: 'ada' })
    assert.equal(lease, { key: 'doc', token: lease.token, owner: 'ada', expires: clock.now() + 30_000 })
    assert.ok(Number.isSafeInteger(lease.token) && lease.token >= 1)
    const writes = [async () => await store.commit('doc', { n: 2 }), async () => await store.commit('doc', { n: 2 }, { parent: v1.id }), async () => await store.delete('doc'), async () => await store.merge('doc', v1.id)]
    for (const write of writes) {
      const err = await rejection(write())
      assert.instance(err, LockedError)
      const locked = err as LockedError
      assert.is(locked.code, 'REVKV_LOCKED')
      assert.is(locked.status, 423)
      assert.is(locked.key, 'doc')
      assert.is(locked.owner, 'ada')
      assert.is(locked.expires, lease.expires)
      assert.match(locked.message, /ada holds its lease/)
    }
    assert.equal(await store.get('doc'), { n: 1 }, 'reads go on, and nothing was written')
    assert.is((await store.head('doc'))?.id, v1.id)
    const v2 = await store.commit('doc', { n: 2 }, { parent: v1.id, lock: lease.token })
    assert.is(v2.token, lease.token, 'the revision records the token it was written under')
    assert.is((await store.revision(v2.id))?.token, lease.token)
    assert.is(v1.token, undefined, 'a revision written without a lease has no token')
    // Under the lease the normal parent rules still apply.
    assert.instance(await rejection(store.commit('doc', { n: 3 }, { parent: v1.id, lock: lease.token })), ConflictError)
    const gone = await store.delete('doc', { lock: lease.token })
    assert.is(gone.token, lease.token)
    assert.is(await store.unlock('doc', lease.token), true)
    assert.equal(await store.locks(), [])
    await store.commit('doc', { n: 4 })
    assert.equal(await store.get('doc'), { n: 4 }, 'after unlock anyone writes again')
  })

  it('a lease expires by itself (injectable clock): it stops blocking and cannot be renewed', async () => {
    const clock = fakeClock()
    const store = await open({ clock: clock.now })
    const lease = await store.lock('k', { ttl: 1000, owner: 'ada' })
    clock.advance(999)
    assert.instance(await rejection(store.commit('k', 1)), LockedError, 'still live 1 ms before it ends')
    const renewed = await store.renew('k', lease.token, { ttl: 1000 })
    assert.equal(renewed, { ...lease, expires: clock.now() + 1000 })
    clock.advance(1000)
    assert.equal(await store.locks(), [], 'an ended lease is not listed')
    const free = await store.commit('k', 1)
    assert.is(free.token, undefined)
    const renewErr = await rejection(store.renew('k', lease.token, { ttl: 1000 }))
    assert.instance(renewErr, LockedError)
    assert.match(renewErr.message, /expired or was released/)
    assert.instance(await rejection(store.commit('k', 2, { lock: lease.token })), LockedError, 'a write under an ended lease is refused')
    assert.is(await store.unlock('k', lease.token), false, 'releasing an ended lease is not an error, and says it released nothing')
    const next = await store.lock('k', { ttl: 1000, owner: 'bob' })
    assert.ok(next.token > lease.token)
    assert.equal(await store.get('k'), 1)
  })

  it('fencing: a write with an older token is refused after a newer lease was granted, even once it is released', async () => {
    const clock = fakeClock()
    const store = await open({ clock: clock.now })
    const base = await store.commit('acct', { balance: 10 })
    const first = await store.lock('acct', { ttl: 1000, owner: 'paused client' })
    // The first client pauses past its lease; another takes the key, writes, and lets go.
    clock.advance(5000)
    const second = await store.lock('acct', { ttl: 1000, owner: 'bob' })
    assert.ok(second.token > first.token, 'tokens strictly increase per key')
    const stale = await rejection(store.commit('acct', { balance: 0 }, { lock: first.token }))
    assert.instance(stale, LockedError)
    assert.is((stale as LockedError).owner, 'bob')
    assert.match(stale.message, /older lease/)
    const bobs = await store.commit('acct', { balance: 20 }, { parent: base.id, lock: second.token })
    assert.is(await store.unlock('acct', second.token), true)
    // Nobody holds the lease now; the paused client wakes and writes with its old token.
    const late = await rejection(store.commit('acct', { balance: 0 }, { parent: bobs.id, lock: first.token }))
    assert.instance(late, LockedError)
    assert.is((late as LockedError).owner, undefined, 'nobody holds it')
    assert.instance(await rejection(store.merge('acct', base.id, { lock: first.token })), LockedError)
    assert.equal(await store.get('acct'), { balance: 20 }, 'nothing written by the fenced client')
    assert.equal((await all(store.log('acct'))).map((r) => r.id), [bobs.id, base.id])
  })

  it('waiting for a lease is first come, first served; each waiter gets a higher token', async () => {
    const store = await open()
    const holder = await store.lock('q', { ttl: 60_000, owner: 'holder' })
    const order: number[] = []
    const tokens: number[] = [holder.token]
    const waiters: Array<Promise<void>> = []
    for (let i = 0; i < 6; i++) {
      const lease = store.lock('q', { ttl: 60_000, owner: `w${i}`, wait: 60_000 })
      waiters.push(lease.then(async (l: Lease) => {
        assert.is(l.owner, `w${i}`)
        order.push(i)
        tokens.push(l.token)
        await store.commit('q', { by: i }, { lock: l.token })
        assert.is(await store.unlock('q', l.token), true)
      }))
    }
    assert.equal(order, [], 'nobody is granted a held lease')
    assert.is(await store.unlock('q', holder.token), true)
    await Promise.all(waiters)
    if (callOrder) assert.equal(order, [0, 1, 2, 3, 4, 5], 'granted in the order asked')
    else assert.equal([...order].sort(), [0, 1, 2, 3, 4, 5], 'each waiter granted once (over HTTP the requests may arrive in any order)')
    assert.equal(tokens, [...tokens].sort((a, b) => a - b))
    assert.is(new Set(tokens).size, tokens.length)
    assert.is((await all(store.log('q'))).length, 6, 'every waiter wrote under its lease')
  })

  it('a waiter gives up after `wait` with LockedError naming the holder, and leaves the queue', async () => {
    const store = await open()
    const holder = await store.lock('w', { ttl: 60_000, owner: 'holder' })
    const err = await rejection(store.lock('w', { ttl: 1000, owner: 'late', wait: 5 }))
    assert.instance(err, LockedError)
    assert.is((err as LockedError).owner, 'holder')
    assert.is((err as LockedError).expires, holder.expires)
    const busy = await rejection(store.lock('w', { ttl: 1000 }))
    assert.instance(busy, LockedError, 'no wait: fails at once')
    assert.is(await store.unlock('w', holder.token), true)
    const next = await store.lock('w', { ttl: 1000, owner: 'next' })
    assert.is(next.owner, 'next', 'the waiter that gave up was not granted the lease')
    assert.equal((await store.locks()).map((l) => l.owner), ['next'])
  })

  if (supports.customStrategies) {
    it('a lease that ends while a write is being decided refuses the write when it is applied', async () => {
      const clock = fakeClock()
      const store = await open({ clock: clock.now })
      const v1 = await store.commit('k', 1)
      const lease = await store.lock('k', { ttl: 1000, owner: 'ada' })
      const v2 = await store.commit('k', 2, { parent: v1.id, lock: lease.token })
      // The strategy runs while the stale write is decided; meanwhile the lease ends.
      const slow: Strategy = { name: 'slow', resolve: ({ theirs }) => { clock.advance(5000); return { value: theirs ?? null } } }
      const err = await rejection(store.commit('k', 3, { parent: v1.id, lock: lease.token, strategy: slow }))
      assert.instance(err, LockedError)
      assert.equal((await all(store.log('k'))).map((r) => r.id), [v2.id, v1.id], 'nothing written')
    })
  }

  it('a queued lock whose signal aborts leaves the queue with LockedError', async () => {
    const store = await open()
    const holder = await store.lock('s', { ttl: 60_000, owner: 'holder' })
    const abort = new AbortController()
    const waiting = store.lock('s', { ttl: 60_000, owner: 'gone', wait: 60_000, signal: abort.signal })
    abort.abort()
    assert.instance(await rejection(waiting), LockedError)
    if (callOrder) {
      await store.unlock('s', holder.token)
      assert.is((await store.lock('s', { ttl: 1000, owner: 'next' })).owner, 'next', 'the aborted caller was not granted the lease')
    }
  })

  it('lock reserves a key that does not exist yet', async () => {
    const store = await open()
    const lease = await store.lock('report.json', { ttl: 10_000, owner: 'uploader' })
    assert.is(await store.head('report.json'), undefined)
    assert.instance(await rejection(store.commit('report.json', 'theirs', { parent: null })), LockedError)
    const created = await store.commit('report.json', 'mine', { parent: null, lock: lease.token })
    assert.equal(created.parents, [])
    assert.is(created.token, lease.token)
    assert.equal(await store.get('report.json'), 'mine')
  })

  it('locks() lists the live leases in key order, by prefix', async () => {
    const clock = fakeClock()
    const store = await open({ clock: clock.now, author: 'store-author' })
    const b = await store.lock('user:b', { ttl: 5000, owner: 'x' })
    const a = await store.lock('user:a', { ttl: 10_000 })
    const other = await store.lock('order:1', { ttl: 10_000, owner: 'y' })
    const released = await store.lock('user:c', { ttl: 10_000 })
    await store.unlock('user:c', released.token)
    assert.is(a.owner, 'store-author', 'the owner defaults to the store\'s author')
    assert.equal(await store.locks(), [other, a, b])
    assert.equal(await store.locks({ prefix: 'user:' }), [a, b])
    clock.advance(5000)
    assert.equal(await store.locks({ prefix: 'user:' }), [a], 'an ended lease is gone from the list')
  })

  it('bad lease input is refused with a documented error and writes nothing', async () => {
    const store = await open()
    const bad: unknown[] = [0, -1, 86_400_001, 1.5, '30s', Number.NaN, Infinity, undefined, null]
    for (const ttl of bad) {
      const err = await rejection(store.lock('k', { ttl: ttl as number }))
      assert.instance(err, InvalidInputError, `ttl ${String(ttl)}`)
      assert.match(err.message, /ttl must be a whole number of milliseconds from 1 to 86,400,000/)
    }
    for (const wait of [-1, 3_600_001, 'soon']) assert.instance(await rejection(store.lock('k', { ttl: 1000, wait: wait as number })), InvalidInputError)
    for (const owner of ['', 'x'.repeat(257), 42]) assert.instance(await rejection(store.lock('k', { ttl: 1000, owner: owner as string })), InvalidInputError)
    assert.instance(await rejection(store.lock('', { ttl: 1000 })), InvalidInputError)
    assert.equal(await store.locks(), [], 'no lease was taken')
    await store.commit('k', 1)
    for (const token of [0, -1, 1.5, '1', null]) {
      assert.instance(await rejection(store.unlock('k', token as number)), InvalidInputError, `unlock token ${String(token)}`)
      assert.instance(await rejection(store.renew('k', token as number, { ttl: 1000 })), InvalidInputError)
      assert.instance(await rejection(store.commit('k', 2, { lock: token as number })), InvalidInputError)
    }
    // Tokens never granted are unknown, not someone else's.
    const unknown = await rejection(store.unlock('k', 99))
    assert.instance(unknown, InvalidInputError)
    assert.match(unknown.message, /never granted/)
    assert.instance(await rejection(store.renew('k', 99, { ttl: 1000 })), InvalidInputError)
    const lease = await store.lock('k', { ttl: 60_000, owner: 'ada' })
    assert.instance(await rejection(store.commit('k', 2, { lock: lease.token + 1 })), InvalidInputError)
    for (const ttl of [0, -5, 86_400_001]) assert.instance(await rejection(store.renew('k', lease.token, { ttl })), InvalidInputError)
    assert.equal(await store.get('k'), 1, 'nothing written')
    assert.equal((await store.locks()).map((l) => l.token), [lease.token], 'the lease is untouched')
  })

  it('unlock with an earlier lease\'s token while a newer one is held is refused, naming the holder', async () => {
    const store = await open()
    const first = await store.lock('k', { ttl: 60_000, owner: 'ada' })
    await store.unlock('k', first.token)
    const second = await store.lock('k', { ttl: 60_000, owner: 'bob' })
    for (const call of [async () => await store.unlock('k', first.token), async () => await store.renew('k', first.token, { ttl: 1000 })]) {
      const err = await rejection(call())
      assert.instance(err, LockedError)
      assert.is((err as LockedError).owner, 'bob')
      assert.is((err as LockedError).token, second.token)
    }
    assert.equal(await store.locks(), [second])
  })

  if (factory.reopen !== undefined) {
    const reopen = factory.reopen
    it('leases and fencing tokens survive a reopen', async () => {
      const clock = fakeClock()
      let store = await factory.open({ clock: clock.now })
      const held = await store.lock('kept', { ttl: 10_000, owner: 'ada' })
      const first = await store.lock('fenced', { ttl: 10_000, owner: 'ada' })
      await store.unlock('fenced', first.token)
      store = await reopen(store, { clock: clock.now })
      opened.push(store)
      assert.equal(await store.locks(), [held])
      const err = await rejection(store.commit('kept', 1))
      assert.instance(err, LockedError)
      assert.is((err as LockedError).owner, 'ada')
      assert.is((await store.commit('kept', 1, { lock: held.token })).token, held.token)
      const next = await store.lock('fenced', { ttl: 10_000, owner: 'bob' })
      assert.ok(next.token > first.token, 'the token counter survived')
      await store.unlock('fenced', next.token)
      assert.instance(await rejection(store.commit('fenced', 1, { lock: first.token })), LockedError)
      // A lease that ends while the store is closed is gone when it opens again.
      clock.advance(10_000)
      store = await reopen(store, { clock: clock.now })
      opened.push(store)
      assert.equal(await store.locks(), [])
      await store.commit('kept', 2)
      assert.equal(await store.get('kept'), 2)
      assert.equal((await store.verify()).problems, [], 'fsck knows lease and fencing records')
    })
  }

  it.run()
}
