/**
 * Array merges whose answer depends on the exact diff3 matching (longest common
 * subsequence, prefix and suffix), and the few object edges the laws do not reach.
 * Written to kill the mutants of src/json-merge.ts that other tests let live (see test/mutation/).
 */
import * as fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkResolutions, matchIndexes, mergeJson } from '../src/json-merge.js'
import { InvalidInputError } from '../src/index.js'
import type { JsonValue } from '../src/json.js'

/**
 * ours: base edited everywhere except around index k (the first element deleted, the last
 * replaced, others kept, deleted or followed by inserts); theirs: base with only element k
 * replaced. A correct matching keeps base[k] in step with ours, so the merge is clean and
 * is ours with base[k] replaced.
 */
const arbEdit = fc.integer({ min: 6, max: 40 }).chain((n) => fc.record({
  n: fc.constant(n),
  k: fc.integer({ min: 2, max: n - 3 }),
  ops: fc.array(fc.constantFrom('keep', 'delete', 'insert', 'keep'), { minLength: n, maxLength: n })
}))

test('diff3 keeps an edit of one side in step with the other side\'s deletions and inserts around it', () => {
  fc.assert(fc.property(arbEdit, ({ n, k, ops }) => {
    const base: JsonValue[] = Array.from({ length: n }, (_, i) => i)
    const ours: JsonValue[] = []
    const expected: JsonValue[] = []
    base.forEach((value, i) => {
      const op = i === 0 ? 'delete' : i === n - 1 ? 'replace' : Math.abs(i - k) <= 1 ? 'keep' : ops[i]
      if (op === 'delete') return
      const own = op === 'replace' ? `last-${i}` : value
      ours.push(own)
      expected.push(i === k ? 'T' : own)
      if (op === 'insert') { ours.push(`new-${i}`); expected.push(`new-${i}`) }
    })
    const theirs = base.map((value, i) => i === k ? 'T' : value)
    const merged = mergeJson(base, ours, theirs)
    assert.equal(merged.conflicts, [])
    assert.equal(merged.value, expected)
    // The same from the other side.
    assert.equal(mergeJson(base, theirs, ours), { value: expected, conflicts: [] })
  }), { numRuns: 300, seed: 9 })
})

/** The length of a longest common subsequence, by the textbook recurrence (the reference). */
function lcsLength (a: string[], b: string[]): number {
  let row = new Array<number>(b.length + 1).fill(0)
  for (const x of a) {
    const next = [0]
    b.forEach((y, j) => next.push(x === y ? (row[j] as number) + 1 : Math.max(row[j + 1] as number, next[j] as number)))
    row = next
  }
  return row[b.length] as number
}

test('matchIndexes pairs equal elements, in increasing order on both sides, as many as a longest common subsequence has', () => {
  // A small alphabet, so arrays share prefixes, suffixes and repeated elements in every mix.
  const arr = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 12 })
  fc.assert(fc.property(arr, arr, (from, to) => {
    const matches = matchIndexes(from, to)
    assert.is(matches.length, from.length)
    const pairs = matches.flatMap((j, i) => j === undefined ? [] : [[i, j] as const])
    for (const [i, j] of pairs) assert.is(from[i], to[j], `from[${i}] is matched with an equal element`)
    pairs.forEach(([i, j], k) => {
      const [pi, pj] = pairs[k - 1] ?? [-1, -1]
      assert.ok(i > pi && j > pj, 'matches increase in both arrays')
    })
    assert.is(pairs.length, lcsLength(from, to), `${JSON.stringify(from)} ~ ${JSON.stringify(to)}`)
  }), { numRuns: 2000, seed: 14 })
  // Equal arrays (which a merge settles before matching) are matched element for element.
  assert.equal(matchIndexes(['a', 'b'], ['a', 'b']), [0, 1])
})

test('a chunk changed on both sides with the same shape merges element by element; conflicts name each element\'s own index', () => {
  const merged = mergeJson([0, 'x', { v: 1, w: 1 }, 9], [0, 'y', { v: 2, w: 1 }, 9], [0, 'z', { v: 3, w: 2 }, 9])
  assert.equal(merged.conflicts.map((c) => c.path), ['/1', '/2/v'])
  assert.equal(merged.value, [0, 'y', { v: 2, w: 2 }, 9])
})

test('a long middle is matched exactly up to 4,000,000 cells, then left as one chunk', () => {
  // ours: first and last element changed (so the whole array is the middle) and 900 elements
  // inserted: 1,600 × 2,500 = 4,000,000 cells, still matched; theirs edits element 800.
  const base: JsonValue[] = Array.from({ length: 1600 }, (_, i) => i)
  const ours: JsonValue[] = ['first', ...base.slice(1, 400), ...Array.from({ length: 900 }, (_, i) => `n${i}`), ...base.slice(400, 1599), 'last']
  const theirs = base.map((v, i) => i === 800 ? 'T' : v)
  const merged = mergeJson(base, ours, theirs)
  assert.equal(merged.conflicts, [])
  assert.equal(merged.value, ours.map((v) => v === 800 ? 'T' : v))
  // One more element on ours' side is over the bound: the middle is one chunk both sides changed.
  const over = mergeJson(base, [...ours.slice(0, 10), 'extra', ...ours.slice(10)], theirs)
  assert.equal(over.conflicts.map((c) => c.path), ['/0'])
})

test('arrays: the same element changed differently on both sides conflicts at its index; the same insert on both sides is kept once', () => {
  assert.equal(mergeJson([1, 2, 3], [9, 2, 3], [8, 2, 3]), { value: [9, 2, 3], conflicts: [{ path: '/0', base: 1, ours: 9, theirs: 8, kind: 'value' }] })
  assert.equal(mergeJson([1, 2, 3], [1, 2, 9], [1, 2, 8], { onConflict: 'theirs' }), { value: [1, 2, 8], conflicts: [{ path: '/2', base: 3, ours: 9, theirs: 8, kind: 'value' }] })
  assert.equal(mergeJson([1, 2, 3], [1, 'x', 2, 3, 'o'], [1, 'x', 2, 3]), { value: [1, 'x', 2, 3, 'o'], conflicts: [] })
  // A deleted duplicate against an append: the one x left is matched once, not twice.
  assert.ok(mergeJson(['x', 'x'], ['x'], ['x', 'x', 'y']).conflicts.length > 0)
})

test('arrays: common prefix and suffix around a middle that only one side changed', () => {
  assert.equal(mergeJson([1, 2, 3, 4, 5], [1, 2, 'a', 'b', 4, 5], [0, 1, 2, 3, 4, 5, 6]), { value: [0, 1, 2, 'a', 'b', 4, 5, 6], conflicts: [] })
  assert.equal(mergeJson(['p', 'm', 's'], ['p', 'm1', 'm2', 's'], ['p', 'm', 's', 's2']), { value: ['p', 'm1', 'm2', 's', 's2'], conflicts: [] })
  assert.equal(mergeJson(['s', 'a', 's'], ['s', 's'], ['s', 'a', 's', 'z']), { value: ['s', 's', 'z'], conflicts: [] })
})

test('a "__proto__" member in a merge result is a plain own member, like JSON.parse makes it', () => {
  const merged = mergeJson(JSON.parse('{"a":1}'), JSON.parse('{"a":1,"__proto__":{"x":1}}'), JSON.parse('{"a":2}'))
  const value = merged.value as Record<string, JsonValue>
  assert.equal(Object.getOwnPropertyDescriptor(value, '__proto__'), Object.getOwnPropertyDescriptor(JSON.parse('{"__proto__":{"x":1}}'), '__proto__'))
  assert.is(Object.getPrototypeOf(value), Object.prototype)
  assert.is(value.a, 2)
})

test('resolutions: each bad option refused in words that name it; places no conflict has are named with the ones there are', () => {
  const refused = (run: () => unknown): string => {
    try {
      run()
    } catch (err) {
      assert.instance(err, InvalidInputError)
      return (err as Error).message
    }
    return assert.unreachable('accepted') as never
  }
  const shape = "Option resolutions must be an object mapping JSON Pointers to 'ours', 'theirs', 'base' or { value }, got "
  assert.is(refused(() => checkResolutions(null)), `${shape}null.`)
  assert.is(refused(() => checkResolutions(['ours'])), `${shape}an array.`)
  assert.is(refused(() => checkResolutions(7)), `${shape}number.`)
  assert.is(refused(() => checkResolutions({ a: 'ours' })), 'resolutions key "a" is not a JSON Pointer: write it as the conflict\'s path, \'\' for the whole value or starting with \'/\' (like /a/b).')
  const choice = (got: string): string => `resolutions["/a"] must be 'ours', 'theirs', 'base' or { value: <json> }, got ${got}.`
  assert.is(refused(() => checkResolutions({ '/a': 'mine' })), choice('"mine"'))
  assert.is(refused(() => checkResolutions({ '/a': null })), choice('null'))
  assert.is(refused(() => checkResolutions({ '/a': undefined })), choice('undefined'))
  assert.is(refused(() => checkResolutions({ '/a': [1] })), choice('[1]'))
  assert.is(refused(() => checkResolutions({ '/a': {} })), choice('{}'))
  assert.is(refused(() => checkResolutions({ '/a': { value: 1, also: 2 } })), choice('{"value":1,"also":2}'))
  assert.is(refused(() => checkResolutions({ '/a': { other: 1 } })), choice('{"other":1}'))
  assert.equal([...checkResolutions({ '': 'base', '/a': 'ours', '/b': 'theirs', '/c': { value: null } })], [['', 'base'], ['/a', 'ours'], ['/b', 'theirs'], ['/c', { value: null }]])

  const base = { a: 1, b: 1 }
  const ours = { a: 2, b: 2 }
  const theirs = { a: 3, b: 3 }
  assert.equal(mergeJson(base, ours, theirs, { resolutions: { '/a': 'theirs', '/b': { value: 9 } } }), { value: { a: 3, b: 9 }, conflicts: [] })
  assert.is(refused(() => mergeJson(base, ours, theirs, { resolutions: { '/a': 'theirs', '/x': 'ours' } })),
    'resolutions name /x, which is not a conflicting place of this merge. Name the places as the conflicts report them: /a, /b.')
  assert.is(refused(() => mergeJson(base, ours, theirs, { resolutions: { '/x': 'ours', '': 'base' } })),
    "resolutions name /x, '' (the whole value), which are not conflicting places of this merge. Name the places as the conflicts report them: /a, /b.")
  assert.is(refused(() => mergeJson(base, base, theirs, { resolutions: { '/a': 'ours' } })),
    'resolutions name /a, which is not a conflicting place of this merge. The merge has no conflicts: leave resolutions out.')
})

test.run()
