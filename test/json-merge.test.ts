import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { canonicalJson, deepFreeze, jsonEqual } from '../src/json.js'
import type { JsonObject, JsonValue } from '../src/json.js'
import { InvalidInputError } from '../src/errors.js'
import { mergeJson } from '../src/json-merge.js'
import type { MergeOptions, MergeResult } from '../src/json-merge.js'

/** Merge with the inputs frozen, so any mutation of an input throws (ESM code is strict mode). */
function merge (base: JsonValue | undefined, ours: JsonValue | undefined, theirs: JsonValue | undefined, onConflict?: 'ours' | 'theirs'): MergeResult {
  return mergeJson(deepFreeze(base), deepFreeze(ours), deepFreeze(theirs), { onConflict })
}

function clean (result: MergeResult, expected: JsonValue | undefined): void {
  assert.equal(result.conflicts, [])
  assert.equal(result.value, expected)
}

// Rule 1: equal sides, one side unchanged.

test('identical changes on both sides are not a conflict', () => {
  clean(merge({ a: 1 }, { a: 2 }, { a: 2 }), { a: 2 })
})

test('one side unchanged takes the other side', () => {
  clean(merge({ a: 1 }, { a: 1 }, { a: 2, b: [1] }), { a: 2, b: [1] })
  clean(merge({ a: 1 }, { a: 2, b: [1] }, { a: 1 }), { a: 2, b: [1] })
})

// Rule 2: objects member by member.

test('objects: different members edited on each side both survive', () => {
  clean(merge({ a: 1, b: 1, c: 1 }, { a: 2, b: 1, c: 1 }, { a: 1, b: 2, c: 1 }), { a: 2, b: 2, c: 1 })
})

test('nested objects merge recursively', () => {
  const base = { user: { name: 'ann', address: { city: 'Oslo', zip: '0150' } }, n: 1 }
  const ours = { user: { name: 'Ann', address: { city: 'Oslo', zip: '0150' } }, n: 1 }
  const theirs = { user: { name: 'ann', address: { city: 'Oslo', zip: '0151' } }, n: 2 }
  clean(merge(base, ours, theirs), { user: { name: 'Ann', address: { city: 'Oslo', zip: '0151' } }, n: 2 })
})

test('member added on both sides with different values conflicts', () => {
  const result = merge({ a: 1 }, { a: 1, b: 'x' }, { a: 1, b: 'y' })
  assert.equal(result.conflicts, [{ kind: 'value', path: '/b', ours: 'x', theirs: 'y' }])
  assert.ok(!('base' in (result.conflicts[0] ?? {})), 'absent base member is left out')
  assert.equal(result.value, { a: 1, b: 'x' })
})

test('member added on both sides with the same value is fine', () => {
  clean(merge({ a: 1 }, { a: 1, b: { c: [1] } }, { a: 1, b: { c: [1] } }), { a: 1, b: { c: [1] } })
})

test('member added on one side and a different member on the other both survive', () => {
  clean(merge({}, { a: 1 }, { b: 2 }), { a: 1, b: 2 })
})

test('member removed on one side, unchanged on the other: removed', () => {
  const result = merge({ a: 1, b: 2 }, { a: 1 }, { a: 1, b: 2 })
  clean(result, { a: 1 })
  clean(merge({ a: 1, b: { c: 1 }, d: 0 }, { a: 1, b: { c: 1 }, d: 1 }, { a: 1, d: 0 }), { a: 1, d: 1 })
})

test('member removed on one side, edited on the other: conflict', () => {
  const result = merge({ a: 1, b: 2 }, { a: 1 }, { a: 1, b: 3 })
  assert.equal(result.conflicts, [{ kind: 'value', path: '/b', base: 2, theirs: 3 }])
  // Ours (the delete) stands in the value when no side is chosen.
  assert.equal(result.value, { a: 1 })
  const flipped = merge({ a: 1, b: 2 }, { a: 1, b: 3 }, { a: 1 })
  assert.equal(flipped.conflicts, [{ kind: 'value', path: '/b', base: 2, ours: 3 }])
  assert.equal(flipped.value, { a: 1, b: 3 })
})

test('member removed on both sides: removed', () => {
  clean(merge({ a: 1, b: 2 }, { a: 1 }, { a: 1 }), { a: 1 })
  clean(merge({ a: 1, b: 2 }, { b: 2 }, { a: 1 }), {})
})

test('member names are escaped in pointers', () => {
  const result = merge({ 'a/b': { '~c': 1 } }, { 'a/b': { '~c': 2 } }, { 'a/b': { '~c': 3 } })
  assert.equal(result.conflicts.map(c => c.path), ['/a~1b/~0c'])
})

test('a "__proto__" member is merged as data, not as a prototype', () => {
  const base = JSON.parse('{"a":1}') as JsonValue
  const ours = JSON.parse('{"a":1,"__proto__":{"x":1}}') as JsonValue
  const theirs = JSON.parse('{"a":2}') as JsonValue
  const result = merge(base, ours, theirs)
  assert.equal(result.conflicts, [])
  assert.is(canonicalJson(result.value), '{"__proto__":{"x":1},"a":2}')
  assert.is(Object.getPrototypeOf(result.value), Object.prototype)
  // Absent in base means absent, not Object.prototype: two different adds conflict.
  const added = merge({}, JSON.parse('{"__proto__":1}') as JsonValue, JSON.parse('{"__proto__":2}') as JsonValue)
  assert.equal(added.conflicts.map(c => [c.path, 'base' in c]), [['/__proto__', false]])
})

// Rule 3: arrays, diff3-style.

test('arrays: both sides append, both appends kept, ours first', () => {
  clean(merge([1, 2], [1, 2, 3], [1, 2, 4]), [1, 2, 3, 4])
  clean(merge([], ['a'], ['b', 'c']), ['a', 'b', 'c'])
})

test('arrays: both sides append the same thing, kept once', () => {
  clean(merge([1], [1, 2], [1, 2]), [1, 2])
})

test('arrays: edits in different regions both survive', () => {
  clean(merge([1, 2, 3, 4, 5], [9, 2, 3, 4, 5], [1, 2, 3, 4, 8]), [9, 2, 3, 4, 8])
  clean(merge(['a', 'b', 'c', 'd'], ['a', 'c', 'd'], ['a', 'b', 'c', 'x', 'd']), ['a', 'c', 'x', 'd'])
})

test('arrays: insert in the middle on one side, append on the other', () => {
  clean(merge([1, 2, 3], [1, 9, 2, 3], [1, 2, 3, 4]), [1, 9, 2, 3, 4])
  clean(merge([1, 2, 3], [1, 2, 3, 4], [1, 9, 2, 3]), [1, 9, 2, 3, 4])
})

test('arrays: both insert at the same place in the middle, ours first', () => {
  clean(merge([1, 2], [1, 'o', 2], [1, 't', 2]), [1, 'o', 't', 2])
})

test('arrays: same-index edits with different values conflict at the element', () => {
  const result = merge({ list: [1, 2, 3] }, { list: [1, 20, 3] }, { list: [1, 30, 3] })
  assert.equal(result.conflicts, [{ kind: 'value', path: '/list/1', base: 2, ours: 20, theirs: 30 }])
  assert.equal(result.value, { list: [1, 20, 3] })
})

test('arrays: overlapping edits of different lengths conflict with the three chunks', () => {
  const result = merge([1, 2, 3, 4], [1, 9, 4], [1, 7, 8, 3, 4])
  // Ours replaced [2, 3] by [9]; theirs replaced [2] by [7, 8] and kept 3: one chunk from base index 1.
  assert.equal(result.conflicts, [{ kind: 'range', path: '/1', base: [2, 3], ours: [9], theirs: [7, 8, 3] }])
  assert.equal(result.value, [1, 9, 4])
  assert.equal(merge([1, 2, 3, 4], [1, 9, 4], [1, 7, 8, 3, 4], 'theirs').value, [1, 7, 8, 3, 4])
})

test('arrays: delete of an element on one side and edit on the other conflict', () => {
  const result = merge(['a', 'b', 'c'], ['a', 'c'], ['a', 'B', 'c'])
  assert.equal(result.conflicts, [{ kind: 'range', path: '/1', base: ['b'], ours: [], theirs: ['B'] }])
  assert.equal(result.value, ['a', 'c'])
  assert.equal(merge(['a', 'b', 'c'], ['a', 'c'], ['a', 'B', 'c'], 'theirs').value, ['a', 'B', 'c'])
})

test('arrays: delete on one side, unchanged on the other: deleted', () => {
  clean(merge([1, 2, 3], [1, 3], [1, 2, 3, 4]), [1, 3, 4])
})

test('arrays of objects: different members of the same element edited on each side both survive', () => {
  const base = { items: [{ id: 1, qty: 1, note: '' }, { id: 2, qty: 5, note: '' }] }
  const ours = { items: [{ id: 1, qty: 1, note: '' }, { id: 2, qty: 6, note: '' }] }
  const theirs = { items: [{ id: 1, qty: 1, note: '' }, { id: 2, qty: 5, note: 'gift' }] }
  clean(merge(base, ours, theirs), { items: [{ id: 1, qty: 1, note: '' }, { id: 2, qty: 6, note: 'gift' }] })
})

test('arrays of objects: conflicting member of an element is pointed at by base index', () => {
  const base = [{ v: 0 }, { v: 1 }, { v: 2 }]
  // Ours inserts at the front, so the edited element moves; the pointer still uses the base index.
  const ours = [{ v: 'new' }, { v: 0 }, { v: 1 }, { v: 'o' }]
  const theirs = [{ v: 0 }, { v: 1 }, { v: 't' }]
  const result = merge(base, ours, theirs)
  assert.equal(result.conflicts, [{ kind: 'value', path: '/2/v', base: 2, ours: 'o', theirs: 't' }])
  assert.equal(result.value, [{ v: 'new' }, { v: 0 }, { v: 1 }, { v: 'o' }])
})

test('arrays: a long array with far-apart edits stays cheap and merges cleanly', () => {
  const base = Array.from({ length: 50_000 }, (_, i) => i)
  const ours = base.slice()
  ours[10] = -10
  const theirs = base.slice()
  theirs[40_000] = -40_000
  const expected = base.slice()
  expected[10] = -10
  expected[40_000] = -40_000
  clean(merge(base, ours, theirs), expected)
})

test('arrays: a middle past the LCS bound is one chunk (clean if one side, conflict if both)', () => {
  // 3000 x 3000 differing middles exceed the 4e6-cell bound, so nothing inside is matched.
  const base = Array.from({ length: 3000 }, (_, i) => `b${i}`)
  const ours = Array.from({ length: 3000 }, (_, i) => i % 2 === 0 ? `b${i}` : `o${i}`)
  const theirs = Array.from({ length: 3000 }, (_, i) => i % 3 === 0 ? `t${i}` : `b${i}`)
  const result = merge(['start', ...base, 'end'], ['start', ...ours, 'end'], ['start', 'x', ...theirs, 'end'])
  assert.is(result.conflicts.length, 1)
  assert.is(result.conflicts[0]?.path, '/1')
  // Only ours touched the unmatched middle; theirs appended past it: both changes survive.
  clean(merge(['start', ...base, 'end'], ['start', ...ours, 'end'], ['start', ...base, 'end', 'more']), ['start', ...ours, 'end', 'more'])
})

// Rule 4: everything else changed on both sides.

test('root scalars changed differently conflict at the root pointer', () => {
  const result = merge(1, 2, 3)
  assert.equal(result.conflicts, [{ kind: 'value', path: '', base: 1, ours: 2, theirs: 3 }])
  assert.is(result.value, 2)
  clean(merge('a', 'a', 'b'), 'b')
  clean(merge(null, true, true), true)
})

test('type changes on both sides conflict', () => {
  const result = merge({ a: { x: 1 } }, { a: [1] }, { a: { x: 2 } })
  assert.equal(result.conflicts, [{ kind: 'value', path: '/a', base: { x: 1 }, ours: [1], theirs: { x: 2 } }])
  const scalar = merge({ a: [1] }, { a: 'one' }, { a: [1, 2] })
  assert.equal(scalar.conflicts, [{ kind: 'value', path: '/a', base: [1], ours: 'one', theirs: [1, 2] }])
})

test('type change on one side only is taken', () => {
  clean(merge({ a: { x: 1 } }, { a: [1] }, { a: { x: 1 }, b: 1 }), { a: [1], b: 1 })
})

test('whole value deleted on one side, edited on the other: conflict at the root', () => {
  const result = merge({ a: 1 }, undefined, { a: 2 })
  assert.equal(result.conflicts, [{ kind: 'value', path: '', base: { a: 1 }, theirs: { a: 2 } }])
  assert.is(result.value, undefined)
  assert.equal(merge({ a: 1 }, undefined, { a: 2 }, 'theirs').value, { a: 2 })
  assert.equal(merge({ a: 1 }, { a: 2 }, undefined, 'theirs').value, undefined)
})

test('whole value deleted on one side, unchanged on the other: deleted', () => {
  clean(merge({ a: 1 }, undefined, { a: 1 }), undefined)
  clean(merge({ a: 1 }, { a: 1 }, undefined), undefined)
})

test('whole value deleted on both sides: deleted', () => {
  clean(merge({ a: 1 }, undefined, undefined), undefined)
  clean(merge(undefined, undefined, undefined), undefined)
})

test('no common base at the root (a create-only race): members combine, members added differently conflict', () => {
  clean(merge(undefined, { a: 1, same: true }, { b: 2, same: true }), { a: 1, same: true, b: 2 })
  const result = merge(undefined, { a: 1, n: { x: 1 } }, { a: 2, n: { y: 2 } })
  // Only the root combines: n was added on both sides with different members, a conflict, not { x: 1, y: 2 }.
  assert.equal(result.conflicts, [
    { kind: 'value', path: '/a', ours: 1, theirs: 2 },
    { kind: 'value', path: '/n', ours: { x: 1 }, theirs: { y: 2 } }
  ])
  assert.equal(result.value, { a: 1, n: { x: 1 } })
})

test('a member added on both sides inside a merge conflicts unless the additions are equal', () => {
  // Theirs deliberately left out `admin`; combining would grant it anyway.
  const result = merge({}, { m: { x: 1, admin: true } }, { m: { x: 1 } })
  assert.equal(result.conflicts, [{ kind: 'value', path: '/m', ours: { x: 1, admin: true }, theirs: { x: 1 } }])
  assert.equal(result.value, { m: { x: 1, admin: true } })
  const deep = merge({ a: { b: {} } }, { a: { b: { c: { p: 1 } } } }, { a: { b: { c: { q: 2 } } } })
  assert.equal(deep.conflicts, [{ kind: 'value', path: '/a/b/c', ours: { p: 1 }, theirs: { q: 2 } }])
  clean(merge({}, { m: { x: 1 } }, { m: { x: 1 } }), { m: { x: 1 } })
  clean(merge({ keep: 1 }, { keep: 1, m: { x: 1 } }, { keep: 1, o: { y: 1 } }), { keep: 1, m: { x: 1 }, o: { y: 1 } })
  // Inside array elements too: both sides add member `t` to element 0 differently.
  const inArray = merge([{ id: 1 }], [{ id: 1, t: { a: 1 } }], [{ id: 1, t: { b: 1 } }])
  assert.equal(inArray.conflicts, [{ kind: 'value', path: '/0/t', ours: { a: 1 }, theirs: { b: 1 } }])
})

test('array stretches are reported as range places, elements that are arrays as value places', () => {
  const range = merge([1, 2, 3], [1, 3], [1, 22, 3])
  assert.equal(range.conflicts, [{ kind: 'range', path: '/1', base: [2], ours: [], theirs: [22] }])
  // The same-looking sides, but for one element whose value is an array.
  const element = merge([1, [2], 3], [1, [], 3], [1, [22], 3])
  assert.equal(element.conflicts, [{ kind: 'range', path: '/1/0', base: [2], ours: [], theirs: [22] }])
  const whole = merge({ a: [2] }, { a: 'x' }, { a: [22] })
  assert.equal(whole.conflicts, [{ kind: 'value', path: '/a', base: [2], ours: 'x', theirs: [22] }])
})

test('resolutions settle conflicting places one by one; places not named still conflict', () => {
  const base = { a: 1, b: 1, c: 1, d: { x: 1 }, list: [1, 2, 3] }
  const ours = { a: 2, b: 2, c: 2, d: { x: 2 }, list: [1, 3] }
  const theirs = { a: 3, b: 3, c: 3, d: { x: 3 }, list: [1, 22, 3] }
  const partial = mergeJson(base, ours, theirs, { resolutions: { '/a': 'theirs', '/b': 'base' } })
  assert.equal(partial.conflicts.map((c) => c.path), ['/c', '/d/x', '/list/1'])
  const settled = mergeJson(base, ours, theirs, {
    resolutions: { '/a': 'theirs', '/b': 'base', '/c': { value: 'mine' }, '/d/x': 'ours', '/list/1': { value: [7, 8] } }
  })
  assert.equal(settled.conflicts, [])
  assert.equal(settled.value, { a: 3, b: 1, c: 'mine', d: { x: 2 }, list: [1, 7, 8, 3] })
  assert.equal(mergeJson(base, ours, theirs, { resolutions: { '/a': 'ours', '/b': 'ours', '/c': 'ours', '/d/x': 'ours', '/list/1': 'theirs' } }).value,
    { a: 2, b: 2, c: 2, d: { x: 2 }, list: [1, 22, 3] })
  // 'base' where the base had nothing leaves the place absent; a whole-value place is ''.
  clean(mergeJson({}, { n: { x: 1 } }, { n: { y: 1 } }, { resolutions: { '/n': 'base' } }), {})
  clean(mergeJson(1, 2, 3, { resolutions: { '': { value: 5 } } }), 5)
  // With onConflict, named places take their resolution, the rest the side.
  const sided = mergeJson(base, ours, theirs, { onConflict: 'theirs', resolutions: { '/a': 'ours' } })
  assert.equal(sided.value, { a: 2, b: 3, c: 3, d: { x: 3 }, list: [1, 22, 3] })
  assert.equal(sided.conflicts.map((c) => c.path), ['/b', '/c', '/d/x', '/list/1'], 'places settled by onConflict are still listed')
})

test('resolutions naming no conflicting place, or malformed, are refused', () => {
  const refused = (options: MergeOptions, pattern: RegExp): void => {
    assert.throws(() => mergeJson({ a: 1 }, { a: 2 }, { a: 3 }, options), (err: Error) => err instanceof InvalidInputError && pattern.test(err.message), JSON.stringify(options))
  }
  refused({ resolutions: { '/b': 'ours' } }, /\/b, which is not a conflicting place.*: \/a\./)
  refused({ resolutions: { '/a': 'ours', '/a/x': 'ours' } }, /\/a\/x/)
  refused({ resolutions: { a: 'ours' } }, /not a JSON Pointer/)
  refused({ resolutions: { '/a': 'mine' as never } }, /must be 'ours', 'theirs', 'base' or \{ value/)
  refused({ resolutions: { '/a': { value: 1, extra: 2 } as never } }, /must be/)
  refused({ resolutions: [] as never }, /must be an object/)
  assert.throws(() => mergeJson([1, 2], [1], [1, 3], { resolutions: { '/1': { value: 3 } } }), /must be an array/)
  assert.throws(() => mergeJson(1, 1, 1, { resolutions: { '': 'ours' } }), /no conflicts/)
})

test('no common base: different arrays or scalars conflict at the root, equal ones are fine', () => {
  assert.equal(merge(undefined, [1], [2]).conflicts, [{ kind: 'value', path: '', ours: [1], theirs: [2] }])
  assert.equal(merge(undefined, 'a', { b: 1 }).conflicts, [{ kind: 'value', path: '', ours: 'a', theirs: { b: 1 } }])
  const result = merge(undefined, 1, 2)
  assert.equal(result.conflicts, [{ kind: 'value', path: '', ours: 1, theirs: 2 }])
  assert.equal(result.value, 1)
  clean(merge(undefined, { a: [1, 2] }, { a: [1, 2] }), { a: [1, 2] })
  clean(merge(undefined, undefined, 5), 5)
})

// Rule 5: conflicts are collected, and onConflict settles them.

test('every conflict is reported, not just the first', () => {
  const base = { a: 1, b: { c: 1, d: [1, 2] }, e: 'x', keep: true }
  const ours = { a: 2, b: { c: 2, d: [1, 3] }, keep: true }
  const theirs = { a: 3, b: { c: 3, d: [1, 4] }, e: 'y', keep: false }
  const result = merge(base, ours, theirs)
  assert.equal(result.conflicts, [
    { kind: 'value', path: '/a', base: 1, ours: 2, theirs: 3 },
    { kind: 'value', path: '/b/c', base: 1, ours: 2, theirs: 3 },
    { kind: 'value', path: '/b/d/1', base: 2, ours: 3, theirs: 4 },
    { kind: 'value', path: '/e', base: 'x', theirs: 'y' }
  ])
  // Without onConflict the value takes ours at every conflict; the clean change (keep) is merged.
  assert.equal(result.value, { a: 2, b: { c: 2, d: [1, 3] }, keep: false })
})

test('onConflict settles each conflict with the chosen side and still lists them', () => {
  const base = { a: 1, b: [1, 2], c: 'same', d: 0 }
  const ours = { a: 2, b: [1, 20], c: 'same', d: 1 }
  const theirs = { a: 3, b: [1, 30], c: 'changed' }
  const conflicts = [
    { kind: 'value', path: '/a', base: 1, ours: 2, theirs: 3 },
    { kind: 'value', path: '/b/1', base: 2, ours: 20, theirs: 30 },
    { kind: 'value', path: '/d', base: 0, ours: 1 }
  ]
  const withOurs = merge(base, ours, theirs, 'ours')
  assert.equal(withOurs.value, { a: 2, b: [1, 20], c: 'changed', d: 1 })
  assert.equal(withOurs.conflicts, conflicts)
  const withTheirs = merge(base, ours, theirs, 'theirs')
  assert.equal(withTheirs.value, { a: 3, b: [1, 30], c: 'changed' })
  assert.equal(withTheirs.conflicts, conflicts)
})

// Rule 6: inputs are never mutated (merge() freezes them; this checks deep contents too).

test('inputs are left as they were', () => {
  const base = { a: [1, { b: 2 }], c: { d: 1 } }
  const ours = { a: [1, { b: 3 }, 4], c: { d: 2 } }
  const theirs = { a: [0, 1, { b: 2 }], c: { d: 3 }, e: 1 }
  const before = [base, ours, theirs].map(v => canonicalJson(v))
  mergeJson(base, ours, theirs)
  mergeJson(base, ours, theirs, { onConflict: 'theirs' })
  assert.equal([base, ours, theirs].map(v => canonicalJson(v)), before)
})

// Properties.

/** Any JSON value, normalised through canonical JSON so -0 reads as 0 like everywhere in revkv. */
const anyJson = fc.jsonValue({ maxDepth: 4 }).map(v => JSON.parse(canonicalJson(v)) as JsonValue)

/**
 * Small values from few keys and scalars, so independently drawn triples overlap often and
 * reach the object, array and conflict paths rather than conflicting at the root.
 */
const { small } = fc.letrec<{ small: JsonValue }>(tie => ({
  small: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: 0, max: 3 }),
    fc.constantFrom<JsonValue>(null, 'x', true),
    fc.array(tie('small'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('small'), { maxKeys: 3 })
  )
}))
const maybeSmall = fc.option(small, { nil: undefined })

const runs = { numRuns: 200 }

test('property: merge(b, x, b) is x, without conflicts', () => {
  fc.assert(fc.property(anyJson, anyJson, (b, x) => {
    const result = merge(b, x, b)
    return result.conflicts.length === 0 && jsonEqual(result.value, x)
  }), runs)
})

test('property: merge(b, b, x) is x, without conflicts', () => {
  fc.assert(fc.property(anyJson, anyJson, (b, x) => {
    const result = merge(b, b, x)
    return result.conflicts.length === 0 && jsonEqual(result.value, x)
  }), runs)
})

test('property: merge(b, x, x) is x, without conflicts', () => {
  fc.assert(fc.property(fc.option(anyJson, { nil: undefined }), anyJson, (b, x) => {
    const result = merge(b, x, x)
    return result.conflicts.length === 0 && jsonEqual(result.value, x)
  }), runs)
})

test('property: edits of different members compose without conflicts', () => {
  fc.assert(fc.property(small, small, small, small, (a, b, a2, b2) => {
    const result = merge({ a, b }, { a: a2, b }, { a, b: b2 })
    return result.conflicts.length === 0 && jsonEqual(result.value, { a: a2, b: b2 })
  }), runs)
})

test('property: appends on both sides keep base, then ours, then theirs', () => {
  const list = fc.array(small, { maxLength: 5 })
  fc.assert(fc.property(list, list, list, (base, mine, yours) => {
    fc.pre(mine.length > 0 && yours.length > 0 && !jsonEqual(mine, yours))
    const result = merge(base, [...base, ...mine], [...base, ...yours])
    return result.conflicts.length === 0 && jsonEqual(result.value, [...base, ...mine, ...yours])
  }), runs)
})

test('property: the chosen side changes the value at conflicts, never which conflicts are found', () => {
  fc.assert(fc.property(maybeSmall, maybeSmall, maybeSmall, (b, o, t) => {
    const withOurs = merge(b, o, t, 'ours')
    const withTheirs = merge(b, o, t, 'theirs')
    const byDefault = merge(b, o, t)
    // The result is storable JSON (canonicalJson throws otherwise), and deterministic.
    if (withOurs.value !== undefined) canonicalJson(withOurs.value)
    if (withTheirs.value !== undefined) canonicalJson(withTheirs.value)
    assert.equal(withTheirs.conflicts, withOurs.conflicts)
    assert.equal(byDefault, withOurs)
    if (withOurs.conflicts.length === 0) assert.ok(jsonEqual(withOurs.value, withTheirs.value))
    for (const c of withOurs.conflicts) assert.ok(c.path === '' || c.path.startsWith('/'), c.path)
  }), { numRuns: 500 })
})

test('a member holding undefined counts as absent, wherever the sides\' members line up', () => {
  // Not JSON, but a caller of mergeJson may pass it: the result never holds such a member.
  const removed = mergeJson({ a: 1, u: 1 }, { a: 2, u: undefined } as unknown as JsonObject, { a: 1, u: undefined } as unknown as JsonObject)
  assert.equal(removed.conflicts, [])
  assert.equal(Object.keys(removed.value as JsonObject), ['a'])
  assert.is((removed.value as JsonObject).a, 2)
  const kept = mergeJson({ a: 1, u: 1 }, { a: 1, u: undefined } as unknown as JsonObject, { a: 3, u: 1 })
  assert.equal(kept.conflicts, [])
  assert.equal(Object.keys(kept.value as JsonObject), ['a'])
})

test('a member named "undefined" survives a merge of objects whose members line up', () => {
  const result = mergeJson({ a: 1, undefined: 1 }, { a: 2, undefined: 1 }, { a: 1, undefined: 3 })
  assert.equal(result.conflicts, [])
  assert.equal(result.value, { a: 2, undefined: 3 })
})

test.run()
