/**
 * frozenCopy: the copy a write keeps as its revision's value, and the canonical JSON made
 * from it. It must agree with canonicalJson on every value, accepted or refused, and with
 * what reading the stored record back gives.
 */
import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MemoryLevel } from 'memory-level'
import { Store } from '../src/index.js'
import { canonicalJson, frozenCopy, JsonShapeError } from '../src/json.js'
import type { JsonObject, JsonValue } from '../src/json.js'
import { verifyRecord } from '../src/revision.js'

/** Every object and array inside `value` is frozen. */
function deeplyFrozen (value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true
  return Object.isFrozen(value) && Object.values(value).every(deeplyFrozen)
}

/** True if `copy` shares no object or array with `original`. */
function sharesNothing (copy: unknown, original: unknown, seen = new Set<unknown>()): boolean {
  if (original !== null && typeof original === 'object') seen.add(original)
  if (copy === null || typeof copy !== 'object') return true
  if (seen.has(copy)) return false
  return Object.values(copy).every((child, i) => sharesNothing(child, (original as Record<string, unknown>)?.[Object.keys(copy)[i] as string], seen))
}

test('the copy and its JSON are what canonicalJson and parsing it back give, for any JSON value', () => {
  fc.assert(fc.property(fc.jsonValue(), (value) => {
    const { copy, json } = frozenCopy(value)
    assert.is(json, canonicalJson(value))
    assert.equal(copy, JSON.parse(json))
    assert.ok(deeplyFrozen(copy))
    assert.ok(sharesNothing(copy, value))
  }), { numRuns: 2000 })
})

test('members out of order, undefined members, integer-like names and large objects', () => {
  const big: JsonObject = {}
  for (let i = 0; i < 300; i++) big[`m${i}`] = { n: i, list: [i, String(i)] }
  const cases: unknown[] = [
    { b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } },
    { 10: 'ten', 2: 'two', 1: 'one', b: 'b', a: 'a' },
    big,
    Object.fromEntries(Object.entries(big).sort(([a], [b]) => a < b ? -1 : 1)),
    [[], {}, [{}], '', 0, -1.5e300, true, null]
  ]
  for (const value of cases) {
    const { copy, json } = frozenCopy(value)
    assert.is(json, canonicalJson(value))
    assert.equal(copy, JSON.parse(json))
    // Member order as a read of the stored record gives it: sorted, integer-like names first.
    assert.equal(Object.keys(copy as object), Object.keys(JSON.parse(json) as object))
    assert.ok(deeplyFrozen(copy))
  }
})

test('-0 is copied as 0, as it is stored and read back', () => {
  const { copy, json } = frozenCopy({ a: -0, b: [-0] })
  assert.is(json, '{"a":0,"b":[0]}')
  assert.ok(Object.is((copy as { a: number }).a, 0))
  assert.ok(Object.is((copy as { b: number[] }).b[0], 0))
})

test('a "__proto__" member stays a member of the copy, and symbol keys are left out', () => {
  const value = JSON.parse('{"__proto__":{"x":1},"a":1}') as JsonObject
  Object.defineProperty(value, Symbol('hidden'), { value: 1, enumerable: true })
  const { copy, json } = frozenCopy(value)
  assert.is(json, '{"__proto__":{"x":1},"a":1}')
  assert.is(Object.getPrototypeOf(copy), Object.prototype)
  assert.equal(Object.keys(copy as object), ['__proto__', 'a'])
  assert.equal(Object.getOwnPropertySymbols(copy), [])
})

test('a getter is read once, so the copy and its JSON cannot disagree', () => {
  let reads = 0
  const value = { get a () { return ++reads }, b: 'x' }
  const { copy, json } = frozenCopy(value)
  assert.is(reads, 1)
  assert.equal(copy, JSON.parse(json))
})

test('what canonicalJson refuses is refused with the same error', () => {
  class Point { x = 1 }
  const cycle: Record<string, unknown> = { a: 1 }
  cycle.self = cycle
  let deep: unknown = 1
  for (let i = 0; i < 1200; i++) deep = [deep]
  const bad: unknown[] = [
    { a: Number.NaN }, { a: [1, undefined] }, [1, , 2], { a: new Point() }, cycle, { '\ud800': 1 },
    { a: 'x\udc00' }, deep, { f: () => 1 }, Symbol('s'), 10n, undefined, Infinity, new Date(0)
  ]
  for (const value of bad) {
    let expected: unknown
    try {
      canonicalJson(value)
    } catch (err) {
      expected = err
    }
    assert.instance(expected, JsonShapeError, `canonicalJson refuses ${String(expected)}`)
    assert.throws(() => frozenCopy(value), (err: unknown) => err instanceof JsonShapeError && err.message === (expected as Error).message)
  }
})

test('a commit keeps a copy: the revision does not change with the caller\'s object, and its id matches its value', async () => {
  const db = new MemoryLevel<string, string>()
  const store = await Store.open({ db })
  let reads = 0
  const value: Record<string, JsonValue> = { list: [1, 2], nested: { z: 1, a: 2 } }
  Object.defineProperty(value, 'changing', { get: () => ++reads, enumerable: true })
  const rev = await store.commit('k', value)
  ;(value.list as JsonValue[]).push(3)
  ;(value.nested as JsonObject).a = 99
  assert.equal(rev.value, { changing: 1, list: [1, 2], nested: { a: 2, z: 1 } })
  assert.ok(deeplyFrozen(rev.value))
  const record = await db.get(`r!${rev.id}`) as string
  assert.ok(verifyRecord(rev.id, record))
  assert.equal((JSON.parse(record) as { value: JsonValue }).value, rev.value)
  assert.equal((await store.head('k'))?.value, rev.value)
  await store.close()
})

test.run()
