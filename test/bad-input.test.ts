/**
 * Bad input at every public method and at the CLI: each answer is the documented error
 * with a message that names the input, and the store is unchanged afterwards (compared
 * through a full export before and after).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ClosedError, InvalidInputError, NotFoundError, Store } from '../src/index.js'
import type { JsonValue } from '../src/index.js'
import { cleanUp, fails, ok, revkv, withEmptyStore } from './cli-run.js'
import { all, rejection } from './helpers.js'

async function snapshot (store: Store): Promise<string[]> {
  const lines: string[] = []
  for await (const line of store.export()) lines.push(line)
  return lines
}

const cyclic: Record<string, unknown> = {}
cyclic.self = cyclic
const unknownId = 'e'.repeat(64)
const hugeKey = 'k'.repeat(1025)

type Case = [name: string, call: (store: Store, known: string) => Promise<unknown>, error: new (...args: never[]) => Error, message: RegExp]

const CASES: Case[] = [
  ['commit with a number key', async (s) => await s.commit(42 as unknown as string, 1), InvalidInputError, /Key must be a string, got number 42/],
  ['commit with a huge key', async (s) => await s.commit(hugeKey, 1), InvalidInputError, /1025 UTF-8 bytes.*at most 1024/],
  ['commit with U+0000 in the key', async (s) => await s.commit('a\u0000b', 1), InvalidInputError, /U\+0000/],
  ['commit of NaN', async (s) => await s.commit('k', Number.NaN), InvalidInputError, /NaN/],
  ['commit of a cyclic object', async (s) => await s.commit('k', cyclic as JsonValue), InvalidInputError, /cycle/],
  ['commit of a huge value', async (s) => await s.commit('k', 'x'.repeat(2 * 1024 * 1024)), InvalidInputError, /maxValueBytes/],
  ['commit of a Map', async (s) => await s.commit('k', new Map() as unknown as JsonValue), InvalidInputError, /Map instance/],
  ['commit with a malformed parent', async (s) => await s.commit('k', 1, { parent: 'xyz' }), InvalidInputError, /Option parent must be a revision id/],
  ['commit with an unknown parent', async (s) => await s.commit('k', 1, { parent: unknownId }), NotFoundError, /not a revision of key "k"/],
  ['commit with a parent of another key', async (s, known) => await s.commit('other', 1, { parent: known }), NotFoundError, /belongs to key "k"/],
  ['commit with an unknown strategy', async (s) => await s.commit('k', 1, { strategy: 'nope' }), InvalidInputError, /Unknown strategy "nope"/],
  ['commit with options that are not an object', async (s) => await s.commit('k', 1, 'fast' as never), InvalidInputError, /options must be an object/],
  ['commit with a numeric author', async (s) => await s.commit('k', 1, { author: 7 as unknown as string }), InvalidInputError, /author must be a string/],
  ['delete of a missing key', async (s) => await s.delete('missing'), NotFoundError, /does not exist/],
  ['delete create-only', async (s) => await s.delete('k', { parent: null }), InvalidInputError, /cannot be create-only/],
  ['get at a malformed revision', async (s) => await s.get('k', { rev: 'zz' }), InvalidInputError, /option rev must be a revision id/],
  ['get at an unknown revision', async (s) => await s.get('k', { rev: unknownId }), NotFoundError, /not a revision of key/],
  ['revision with a malformed id', async (s) => await s.revision('nope'), InvalidInputError, /Revision id must be/],
  ['diff of unknown revisions', async (s, known) => await s.diff('k', known, unknownId), NotFoundError, /not a revision of key/],
  ['merge of a malformed revision', async (s) => await s.merge('k', 'abc'), InvalidInputError, /merge\(\) revision must be/],
  ['merge of an unknown revision', async (s) => await s.merge('k', unknownId), NotFoundError, /not a revision of key/],
  ['merge with manual', async (s, known) => await s.merge('k', known, { strategy: 'manual' }), InvalidInputError, /"manual" cannot settle a merge/],
  ['merge with a NaN value', async (s, known) => await s.merge('k', known, { value: Number.NaN }), InvalidInputError, /NaN/],
  ['log with a negative limit', async (s) => await all(s.log('k', { limit: -1 })), InvalidInputError, /limit must be a whole number/],
  ['keys with a numeric prefix', async (s) => await all(s.keys({ prefix: 5 as unknown as string })), InvalidInputError, /prefix must be a string/],
  ['changes since -1', async (s) => await all(s.changes({ since: -1 })), InvalidInputError, /since must be a sequence number/],
  ['resolveRevision of a short prefix', async (s) => await s.resolveRevision('ab'), InvalidInputError, /too short/],
  ['resolveRevision of HEAD without a key', async (s) => await s.resolveRevision('HEAD'), InvalidInputError, /needs a key/],
  ['resolveRevision of an unknown prefix', async (s) => await s.resolveRevision('0000ffff'), NotFoundError, /No revision/],
  ['import of garbage', async (s) => await s.import(['not json']), InvalidInputError, /not JSON|header/],
  ['registerStrategy without resolve', async (s) => { s.registerStrategy({ name: 'x' } as never) }, InvalidInputError, /resolve/]
]

test('bad input at every method: the documented error, a helpful message, the store unchanged', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  const known = (await store.commit('k', { a: 1 })).id
  await store.commit('k', { a: 2 })
  const before = await snapshot(store)
  for (const [name, call, error, message] of CASES) {
    const err = await rejection(Promise.resolve().then(async () => await call(store, known)))
    assert.instance(err, error, `${name}: ${err.name} ${err.message}`)
    assert.match(err.message, message, name)
    assert.equal(await snapshot(store), before, `${name} left the store unchanged`)
  }
  await store.close()
})

test('every method of a closed store throws ClosedError naming the operation', async () => {
  const store = await Store.open({ db: new MemoryLevel() })
  await store.close()
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['commit', async () => await store.commit('k', 1)],
    ['delete', async () => await store.delete('k')],
    ['merge', async () => await store.merge('k', unknownId)],
    ['head', async () => await store.head('k')],
    ['get', async () => await store.get('k')],
    ['revision', async () => await store.revision(unknownId)],
    ['log', async () => await all(store.log('k'))],
    ['diff', async () => await store.diff('k', unknownId, unknownId)],
    ['conflicts', async () => await store.conflicts('k')],
    ['keys', async () => await all(store.keys())],
    ['changes', async () => await all(store.changes())],
    ['verify', async () => await store.verify()],
    ['export', async () => await all(store.export())],
    ['import', async () => await store.import([])]
  ]
  for (const [name, call] of calls) {
    const err = await rejection(Promise.resolve().then(call))
    assert.instance(err, ClosedError, name)
    assert.is((err as ClosedError).code, 'REVKV_CLOSED')
    assert.match(err.message, /the store is closed/)
  }
})

test('bad input at the CLI: exit codes and messages, and nothing written', async () => {
  const dir = await withEmptyStore()
  ok(await revkv(dir, ['commit', 'k', '{"a":1}']))
  const before = ok(await revkv(dir, ['export'])).stdout
  writeFileSync(join(dir, 'latin1.json'), Buffer.from([0x22, 0x63, 0x61, 0x66, 0xe9, 0x22]))
  const cases: Array<[string[], number, RegExp]> = [
    [['commit', 'k', '--file', 'latin1.json'], 2, /file latin1\.json is not valid UTF-8 \(first bad byte at offset 4\)/],
    [['commit', hugeKey, '1'], 2, /at most 1024/],
    [['commit', 'k', '{"a":'], 2, /Invalid JSON in the value argument at line 1, column 6/],
    [['commit', 'k', '1', '--parent', 'zzzz'], 2, /not a revision/],
    [['commit', 'k', '1', '--parent', unknownId], 3, /No revision of key "k" starts with e{64}/],
    [['get', 'k', '--rev', 'ffff0000'], 3, /No revision/],
    [['get', 'k', '--rev', 'x'], 2, /not a revision/],
    [['log', 'k', '-n', '-3'], 2, /.+/],
    [['merge', 'k', unknownId], 3, /No revision of key "k" starts with e{64}/],
    [['import', 'nope.ndjson'], 2, /Cannot read nope\.ndjson/],
    [['commit', 'k', '1', '--strategy', 'nope'], 2, /nope/],
    [['changes', '--since', '-5'], 2, /since/]
  ]
  for (const [args, code, message] of cases) {
    assert.match(fails(await revkv(dir, args), code), message, args.join(' '))
  }
  assert.is(ok(await revkv(dir, ['export'])).stdout, before, 'nothing was written by any of them')
})

test.after(cleanUp)
test.run()
