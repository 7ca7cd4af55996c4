/**
 * The behavioural suite's tests for duplicate creation (onExists), timestamp validation
 * (ifUnmodifiedSince) and per-place merge resolutions, run against every backend.
 */
import * as assert from 'uvu/assert'
import { all, rejection } from './helpers.js'
import { ConflictError, InvalidInputError, MergeConflictError } from '../src/index.js'
import type { Revision, RevkvStore, StoreCapabilities } from '../src/index.js'
import { backendSuite } from './store-suite.js'
import type { StoreFactory } from './store-suite.js'

/** Every live key with its value. */
async function contents (store: RevkvStore): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const key of await all(store.keys())) out[key] = await store.get(key)
  return out
}

/** The create, timestamp and resolution tests of the behavioural suite. */
export function createSuite (factory: StoreFactory, supports: StoreCapabilities): void {
  // A store that cannot take custom strategies cannot take a rename function either.
  const functions = supports.customStrategies
  const { it, open } = backendSuite('store: create, timestamps, resolutions', factory)

  it('onExists rename: 32 concurrent creators of one name get 32 distinct keys, nothing overwritten', async () => {
    const store = await open()
    const original = await store.commit('report.json', { n: 'original' })
    const revs = await Promise.all(Array.from({ length: 32 }, async (_, n) => await store.commit('report.json', { n }, { parent: null, onExists: 'rename' })))
    const keys = revs.map((r) => r.key)
    assert.is(new Set(keys).size, 32, 'every creator got its own key')
    assert.equal([...keys].sort(), Array.from({ length: 32 }, (_, i) => `report (${i + 1}).json`).sort())
    for (const [n, rev] of revs.entries()) {
      assert.equal(rev.parents, [], 'each is a new key, not a revision on top of another')
      assert.equal(await store.get(rev.key), { n }, `${rev.key} holds its creator's value`)
      assert.is((await all(store.log(rev.key))).length, 1)
    }
    assert.is((await store.head('report.json'))?.id, original.id, 'the original is untouched')
    assert.is((await all(store.keys())).length, 33)
  })

  it('onExists rename: default names, a free name is used as is, a deleted name counts as free', async () => {
    const store = await open()
    assert.is((await store.commit('a', 0, { parent: null, onExists: 'rename' })).key, 'a', 'a free key is created under its own name')
    assert.is((await store.commit('a', 1, { parent: null, onExists: 'rename' })).key, 'a (1)')
    assert.is((await store.commit('a', 2, { parent: null, onExists: 'rename' })).key, 'a (2)')
    assert.is((await store.commit('a (1)', 3, { parent: null, onExists: 'rename' })).key, 'a (3)', 'a numbered name counts on')
    await store.commit('dir.v2/.env', 1)
    assert.is((await store.commit('dir.v2/.env', 2, { parent: null, onExists: 'rename' })).key, 'dir.v2/.env (1)')
    await store.commit('x.tar.gz', 1)
    assert.is((await store.commit('x.tar.gz', 2, { parent: null, onExists: 'rename' })).key, 'x.tar (1).gz')
    await store.delete('a (2)')
    const reused = await store.commit('a', 4, { parent: null, onExists: 'rename' })
    assert.is(reused.key, 'a (2)', 'a deleted name is free again, its history kept under the new value')
    assert.is(reused.height, 3)
  })

  it('onExists replace writes on top of the live head, keeping history', async () => {
    const store = await open()
    const first = await store.commit('k', { v: 1 })
    const replaced = await store.commit('k', { v: 2 }, { parent: null, onExists: 'replace' })
    assert.is(replaced.key, 'k')
    assert.equal(replaced.parents, [first.id])
    assert.equal(await store.get('k'), { v: 2 })
    assert.is((await store.commit('new', 1, { parent: null, onExists: 'replace' })).height, 1, 'a free key is simply created')
    const reject = await rejection(store.commit('k', { v: 3 }, { parent: null, onExists: 'reject' }))
    assert.instance(reject, ConflictError, "'reject' is today's create-only")
  })

  it('onExists: bad input is refused and nothing is written', async () => {
    const store = await open()
    await store.commit('k', 1)
    const before = await contents(store)
    const refused = async (options: Record<string, unknown>, pattern: RegExp): Promise<void> => {
      const err = await rejection(store.commit('k', 2, options as never))
      assert.instance(err, InvalidInputError, JSON.stringify(options))
      assert.match(err.message, pattern)
    }
    await refused({ onExists: 'rename' }, /goes with parent: null/)
    await refused({ parent: null, onExists: 'copy' }, /must be 'reject', 'replace' or 'rename'/)
    await refused({ parent: null, onExists: 'replace', rename: () => 'x' }, /rename goes with onExists: 'rename'/)
    if (functions) {
      await refused({ parent: null, onExists: 'rename', rename: () => 5 }, /returned number 5 .* must return a key/)
      await refused({ parent: null, onExists: 'rename', rename: () => 'k' }, /already found taken/)
      await refused({ parent: null, onExists: 'rename', rename: () => '' }, /not a valid key/)
      await store.commit('k-1', 1)
      // A function returning an existing key is asked for the next candidate.
      const rev = await store.commit('k', 2, { parent: null, onExists: 'rename', rename: (key, n) => `${key}-${n}` })
      assert.is(rev.key, 'k-2')
      await store.delete('k-2')
    } else {
      await refused({ parent: null, onExists: 'rename', rename: (key: string, n: number) => `${key}-${n}` }, /cannot send one/)
      await store.commit('k-1', 1)
    }
    assert.equal(await contents(store), { ...before, 'k-1': 1 }, 'nothing else was written')
  })

  it('ifUnmodifiedSince: the write goes ahead while the head is the revision read, and is refused after a change', async () => {
    const store = await open()
    const read = await store.commit('k', { v: 1 })
    const next = await store.commit('k', { v: 2 }, { ifUnmodifiedSince: new Date(read.time) })
    assert.equal(next.parents, [read.id])
    const err = await rejection(store.commit('k', { v: 3 }, { ifUnmodifiedSince: new Date(next.time - 1) })) as ConflictError
    assert.instance(err, ConflictError)
    assert.is(err.actual, next.id)
    assert.match(err.message, new RegExp(`may have changed since ${new Date(next.time - 1).toISOString()}.*written at ${new Date(next.time).toISOString()}`))
    assert.equal(await store.get('k'), { v: 2 }, 'nothing was written')
    await store.delete('k')
    const tombstone = await store.head('k') as Revision
    const deleted = await rejection(store.commit('k', { v: 4 }, { ifUnmodifiedSince: new Date(tombstone.time - 1) }))
    assert.match(deleted.message, /was deleted at/)
    assert.is((await store.commit('never', 1, { ifUnmodifiedSince: new Date(0) })).height, 1, 'a key that never existed has no modification date to fail')
    assert.instance(await rejection(store.commit('k', 1, { ifUnmodifiedSince: new Date(Number.NaN) })), InvalidInputError)
    assert.instance(await rejection(store.commit('k', 1, { ifUnmodifiedSince: 5 as never })), InvalidInputError)
  })

  /** A key whose head and a kept revision both changed /a, /b, /c and a list's middle. */
  async function diverged (store: RevkvStore): Promise<{ kept: string, head: Revision }> {
    const base = await store.commit('k', { a: 1, b: 1, c: 1, same: 0, list: [1, 2, 3] })
    const head = await store.commit('k', { a: 2, b: 2, c: 2, same: 0, list: [1, 3], added: { x: 1 } }, { parent: base.id })
    const err = await rejection(store.commit('k', { a: 3, b: 3, c: 3, same: 0, list: [1, 22, 3], added: { y: 1 } }, { parent: base.id, strategy: 'manual' })) as ConflictError
    return { kept: err.kept as string, head }
  }

  it('merge() resolutions settle conflicts place by place; places not named still conflict', async () => {
    const store = await open()
    const { kept, head } = await diverged(store)
    const first = await rejection(store.merge('k', kept)) as MergeConflictError
    assert.equal(first.conflicts, [
      { kind: 'value', path: '/a', base: 1, ours: 2, theirs: 3 },
      { kind: 'value', path: '/added', ours: { x: 1 }, theirs: { y: 1 } },
      { kind: 'value', path: '/b', base: 1, ours: 2, theirs: 3 },
      { kind: 'value', path: '/c', base: 1, ours: 2, theirs: 3 },
      { kind: 'range', path: '/list/1', base: [2], ours: [], theirs: [22] }
    ], 'a member added on both sides is a conflict, and the array stretch is a range')
    const partial = await rejection(store.merge('k', kept, { resolutions: { '/a': 'theirs', '/list/1': 'theirs' } })) as MergeConflictError
    assert.instance(partial, MergeConflictError)
    assert.equal(partial.conflicts.map((c) => c.path), ['/added', '/b', '/c'])
    const typo = await rejection(store.merge('k', kept, { resolutions: { '/a': 'theirs', '/nope': 'ours' } }))
    assert.instance(typo, InvalidInputError)
    assert.match(typo.message, /\/nope, which is not a conflicting place/)
    assert.instance(await rejection(store.merge('k', kept, { resolutions: { '/a': 'mine' as never } })), InvalidInputError)
    assert.instance(await rejection(store.merge('k', kept, { strategy: 'lww', resolutions: { '/a': 'ours' } })), InvalidInputError)
    assert.instance(await rejection(store.merge('k', kept, { value: 1, resolutions: { '/a': 'ours' } })), InvalidInputError)
    assert.is((await store.head('k'))?.id, head.id, 'no failed merge wrote anything')
    assert.equal((await store.conflicts('k')).map((r) => r.id), [kept])
    const merged = await store.merge('k', kept, {
      resolutions: { '/a': 'theirs', '/b': 'base', '/c': { value: 'both' }, '/list/1': { value: [22, 23] }, '/added': { value: { x: 1, y: 1 } } }
    })
    assert.equal(merged.value, { a: 3, b: 1, c: 'both', same: 0, list: [1, 22, 23, 3], added: { x: 1, y: 1 } })
    assert.equal(merged.parents, [head.id, kept])
    assert.equal(await store.conflicts('k'), [])
  })

  it('stale writes under the merge strategy report members added on both sides as conflicts', async () => {
    const store = await open({ strategy: 'merge' })
    const base = await store.commit('u', { name: 'Ada' })
    await store.commit('u', { name: 'Ada', roles: { admin: true, dev: true } }, { parent: base.id })
    const err = await rejection(store.commit('u', { name: 'Ada', roles: { dev: true } }, { parent: base.id })) as MergeConflictError
    assert.instance(err, MergeConflictError)
    assert.equal(err.conflicts, [{ kind: 'value', path: '/roles', ours: { admin: true, dev: true }, theirs: { dev: true } }])
    // The create-only race at the root still combines the two new values' members.
    const raced = await store.commit('fresh', { a: 1 })
    assert.equal((await store.commit('fresh', { b: 2 }, { parent: null })).value, { a: 1, b: 2 })
    assert.ok(raced.id !== (await store.head('fresh'))?.id)
  })

  it.run()
}
