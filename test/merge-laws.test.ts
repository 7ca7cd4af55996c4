/**
 * The laws users rely on when they pick the `merge` strategy, checked on random documents
 * and random edits, arrays included (elements inserted, removed and replaced). Failing
 * seeds are kept below as regression cases (fast-check prints the seed and path of any
 * failure; add it to REGRESSIONS), and hand-picked cases run before the random ones.
 */
import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { canonicalJson, jsonEqual } from '../src/json.js'
import type { JsonObject, JsonValue } from '../src/json.js'
import { mergeJson } from '../src/json-merge.js'

const RUNS = 3000
/** Seeds of past failures, replayed on every run: { seed, path } as fast-check reports them. */
const REGRESSIONS: Array<{ seed: number, path?: string }> = []
/** Three-way cases every law is checked on first: [base, ours, theirs]. */
const CASES: Array<[JsonObject, JsonObject, JsonObject]> = [
  // Both append to one array; one inserts at the front while the other edits the end.
  [{ l: [1, 2] }, { l: [1, 2, 3] }, { l: [1, 2, 4] }],
  [{ l: [1, 2, 3] }, { l: [0, 1, 2, 3] }, { l: [1, 2, 30] }],
  // The same element replaced differently (a conflict inside an array), and removed against edited.
  [{ l: ['a', 'b', 'c'] }, { l: ['a', 'x', 'c'] }, { l: ['a', 'y', 'c'] }],
  [{ l: ['a', 'b', 'c'] }, { l: ['a', 'c'] }, { l: ['a', 'B', 'c'] }],
  // A stretch rewritten to different lengths on both sides.
  [{ l: [1, 2, 3, 4] }, { l: [1, 9, 4] }, { l: [1, 7, 8, 6, 4] }],
  // Duplicates: one side removes an occurrence while the other adds one.
  [{ l: ['a', 'b'] }, { l: ['a', 'b', 'a'] }, { l: ['b'] }],
  // An array emptied on one side and grown on the other; nested objects next to arrays.
  [{ l: [1], o: { a: 1 } }, { l: [], o: { a: 2 } }, { l: [1, 2], o: { a: 1, b: 1 } }]
]

const scalar = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom('a', 'b', 'c', ''), fc.boolean(), fc.constant(null))
const name = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f')
/** Small documents: objects of scalars, nested objects and arrays of scalars. */
const doc: fc.Arbitrary<JsonObject> = fc.letrec((tie) => ({
  obj: fc.dictionary(name, fc.oneof({ weight: 4, arbitrary: scalar }, { weight: 1, arbitrary: tie('obj') }, { weight: 1, arbitrary: fc.array(scalar, { maxLength: 4 }) }), { maxKeys: 4 })
})).obj as fc.Arbitrary<JsonObject>

/** An edit of one object: each member kept, removed, replaced or edited deeper, and members added. */
function edit (base: JsonObject): fc.Arbitrary<JsonObject> {
  const members = Object.entries(base).map(([k, v]) => fc.oneof(
    { weight: 3, arbitrary: fc.constant({ k, v: v as JsonValue | undefined }) },
    { weight: 1, arbitrary: fc.constant({ k, v: undefined as JsonValue | undefined }) },
    { weight: 1, arbitrary: scalar.map((s) => ({ k, v: s as JsonValue | undefined })) },
    { weight: 1, arbitrary: (isObject(v) ? edit(v) : Array.isArray(v) ? editArray(v) : fc.constant(v)).map((e) => ({ k, v: e as JsonValue | undefined })) }
  ))
  return fc.tuple(fc.tuple(...members), fc.dictionary(fc.constantFrom('x', 'y', 'z'), scalar, { maxKeys: 2 })).map(([kept, added]) => {
    const out: JsonObject = {}
    for (const { k, v } of kept) if (v !== undefined) out[k] = v
    return { ...out, ...added }
  })
}

/** An edit of an array of scalars: a few elements removed, replaced or inserted anywhere. */
function editArray (base: JsonValue[]): fc.Arbitrary<JsonValue[]> {
  const step = fc.tuple(fc.constantFrom('remove', 'replace', 'insert'), fc.nat(), scalar)
  return fc.array(step, { minLength: 1, maxLength: 3 }).map((steps) => {
    const out = [...base]
    for (const [kind, n, value] of steps) {
      const i = n % (out.length + 1)
      if (kind === 'insert') out.splice(i, 0, value)
      else if (i < out.length) out.splice(i, 1, ...(kind === 'replace' ? [value] : []))
    }
    return out
  })
}

/** A base with two independent edits of it. */
const threeWay = doc.chain((base) => fc.tuple(fc.constant(base), edit(base), edit(base)))

function isObject (value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Every (pointer, value) leaf of an object tree; arrays and scalars are leaves. */
function leaves (value: JsonValue | undefined, at = ''): Map<string, JsonValue | undefined> {
  const out = new Map<string, JsonValue | undefined>()
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) for (const [p, leaf] of leaves(v, `${at}/${k}`)) out.set(p, leaf)
    // An empty object is a leaf of its own, except at the root, where it only means every member went.
    if (Object.keys(value).length === 0 && at !== '') out.set(at, {})
  } else {
    out.set(at, value)
  }
  return out
}

/** Leaves that `side` changed relative to `base` (including removals, as undefined). */
function changes (base: JsonValue, side: JsonValue): Map<string, JsonValue | undefined> {
  const before = leaves(base)
  const after = leaves(side)
  const changed = new Map<string, JsonValue | undefined>()
  for (const [p, v] of after) {
    // An object emptied of its members is the removal of those members, checked below.
    if (isObject(v) && Object.keys(v).length === 0 && isObject(at(base, p))) continue
    if (!before.has(p) || !jsonEqual(before.get(p), v)) changed.set(p, v)
  }
  for (const p of before.keys()) if (!after.has(p) && ![...after.keys()].some((q) => q.startsWith(`${p}/`))) changed.set(p, undefined)
  return changed
}

/** Whether `run` appears in `list` as consecutive elements. */
function containsRun (list: JsonValue[], run: JsonValue[]): boolean {
  for (let i = 0; i + run.length <= list.length; i++) if (run.every((v, k) => jsonEqual(list[i + k], v))) return true
  return false
}

/** How many times each element occurs, by canonical JSON. */
function counts (list: JsonValue[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const v of list) out.set(canonicalJson(v), (out.get(canonicalJson(v)) ?? 0) + 1)
  return out
}

function at (value: JsonValue | undefined, pointer: string): JsonValue | undefined {
  let here = value
  for (const token of pointer.split('/').slice(1)) {
    if (!isObject(here) || !Object.hasOwn(here, token)) return undefined
    here = here[token]
  }
  return here
}

const THREE_WAY_EXAMPLES = CASES.map((c) => [c] as [[JsonObject, JsonObject, JsonObject]])

const options = (extra: fc.Parameters<unknown> = {}): fc.Parameters<unknown> => ({ numRuns: RUNS, ...extra })

function check<T> (property: fc.IAsyncPropertyWithHooks<T> | fc.IPropertyWithHooks<T>, examples: T[] = []): void {
  fc.assert(property as fc.IProperty<T>, options({ examples } as fc.Parameters<unknown>))
  for (const regression of REGRESSIONS) fc.assert(property as fc.IProperty<T>, options({ seed: regression.seed, ...(regression.path === undefined ? {} : { path: regression.path }), numRuns: 1 }))
}

test('merging an unchanged side returns the other side, without conflicts', () => {
  check(fc.property(threeWay, ([base, ours]) => {
    const a = mergeJson(base, ours, base)
    const b = mergeJson(base, base, ours)
    assert.equal(a.conflicts, [])
    assert.equal(b.conflicts, [])
    assert.is(canonicalJson(a.value), canonicalJson(ours))
    assert.is(canonicalJson(b.value), canonicalJson(ours))
  }), THREE_WAY_EXAMPLES)
})

test('identical edits on both sides never conflict', () => {
  check(fc.property(threeWay, ([base, ours]) => {
    const result = mergeJson(base, ours, ours)
    assert.equal(result.conflicts, [])
    assert.is(canonicalJson(result.value), canonicalJson(ours))
  }), THREE_WAY_EXAMPLES)
})

test('merge is symmetric in what it reports as conflicting', () => {
  check(fc.property(threeWay, ([base, ours, theirs]) => {
    const one = mergeJson(base, ours, theirs).conflicts.map((c) => c.path).sort()
    const other = mergeJson(base, theirs, ours).conflicts.map((c) => c.path).sort()
    assert.equal(one, other)
    // And each side's value is reported on the matching side.
    for (const c of mergeJson(base, ours, theirs).conflicts) {
      const mirrored = mergeJson(base, theirs, ours).conflicts.find((m) => m.path === c.path)
      assert.equal(mirrored?.ours, c.theirs)
      assert.equal(mirrored?.theirs, c.ours)
    }
  }), THREE_WAY_EXAMPLES)
})

test('without conflicts, every change of each side is in the result', () => {
  check(fc.property(threeWay, ([base, ours, theirs]) => {
    const result = mergeJson(base, ours, theirs)
    fc.pre(result.conflicts.length === 0)
    for (const [side, other] of [[ours, theirs], [theirs, ours]] as const) {
      const otherChanges = changes(base, other)
      for (const [pointer, value] of changes(base, side)) {
        const merged = at(result.value, pointer)
        if (Array.isArray(value) && Array.isArray(at(base, pointer)) && Array.isArray(otherChanges.get(pointer))) {
          // Both sides edited this array and it merged cleanly: nothing either side inserted is lost.
          assert.ok(Array.isArray(merged), `${pointer} is still an array`)
          const before = counts(at(base, pointer) as JsonValue[])
          const after = counts(merged as JsonValue[])
          for (const [element, n] of counts(value)) {
            if (n > (before.get(element) ?? 0)) assert.ok((after.get(element) ?? 0) >= 1, `${element} inserted at ${pointer} by ${JSON.stringify(value)} is in ${JSON.stringify(merged)} (base ${JSON.stringify(base)})`)
          }
          continue
        }
        assert.ok(jsonEqual(at(result.value, pointer), value), `${pointer} is ${JSON.stringify(value)} in ${JSON.stringify(side)}, ${JSON.stringify(at(result.value, pointer))} in the result ${JSON.stringify(result.value)} (base ${JSON.stringify(base)})`)
      }
    }
  }), THREE_WAY_EXAMPLES)
})

test('onConflict ours / theirs never fails and always gives JSON; conflicts still listed', () => {
  check(fc.property(threeWay, ([base, ours, theirs]) => {
    const plain = mergeJson(base, ours, theirs)
    for (const side of ['ours', 'theirs'] as const) {
      const settled = mergeJson(base, ours, theirs, { onConflict: side })
      assert.equal(settled.conflicts.map((c) => c.path), plain.conflicts.map((c) => c.path))
      assert.type(canonicalJson(settled.value), 'string')
      for (const c of settled.conflicts) {
        const parent = at(settled.value, c.path.slice(0, c.path.lastIndexOf('/')))
        if (Array.isArray(parent)) {
          // Inside an array the pointer names where the conflict starts in base, and the
          // settled array holds the side's stretch (or the one element) there, unbroken.
          const run = Array.isArray(c.base) ? (c[side] as JsonValue[] | undefined) ?? [] : [c[side] as JsonValue]
          assert.ok(containsRun(parent, run), `the ${side} side settles ${c.path}: ${JSON.stringify(run)} in ${JSON.stringify(parent)}`)
          continue
        }
        assert.ok(jsonEqual(at(settled.value, c.path), c[side]), `the ${side} side settles ${c.path}`)
      }
    }
  }), THREE_WAY_EXAMPLES)
})

test('arrays where both sides only append keep every element: base, then ours, then theirs', () => {
  check(fc.property(fc.array(scalar, { maxLength: 6 }), fc.array(scalar, { minLength: 1, maxLength: 4 }), fc.array(scalar, { minLength: 1, maxLength: 4 }), (base, more, other) => {
    const result = mergeJson({ list: base }, { list: [...base, ...more] }, { list: [...base, ...other] })
    assert.equal(result.conflicts, [])
    const expected = jsonEqual(more, other) ? [...base, ...more] : [...base, ...more, ...other]
    assert.equal((result.value as { list: JsonValue[] }).list, expected)
  }))
})

/** The same value with every object's members in reverse order (integer-like names keep V8's order). */
function reordered (value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(reordered)
  if (!isObject(value)) return value
  const out: JsonObject = {}
  for (const name of Object.keys(value).reverse()) out[name] = reordered(value[name] as JsonValue)
  return out
}

test('objects with the same members in the same order merge as they would in any order', () => {
  // mergeJson merges objects whose members line up by position, without looking names up;
  // reordering a side sends the same merge through the lookup by name, which must agree.
  check(fc.property(threeWay, ([base, ours, theirs]) => {
    const aligned = mergeJson(base, ours, theirs)
    for (const [b, t] of [[base, reordered(theirs)], [reordered(base), theirs]] as Array<[JsonValue, JsonValue]>) {
      const byName = mergeJson(b, ours, t)
      assert.is(canonicalJson(byName.value), canonicalJson(aligned.value))
      // Members only one side has are visited in that side's order, so only the set of places is compared.
      const places = (r: typeof aligned): string[] => r.conflicts.map((c) => `${c.kind} ${c.path}`).sort()
      assert.equal(places(byName), places(aligned))
    }
  }), THREE_WAY_EXAMPLES)
})

test.run()
