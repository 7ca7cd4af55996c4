import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { JsonValue } from '../src/index.js'
import { matchesStrong, matchesWeak, parseTagCondition } from '../src/server/conditional.js'
import { applyMergePatch } from '../src/server/merge-patch.js'

test('If-Match / If-None-Match headers parse as RFC 9110 entity-tag lists', () => {
  assert.is(parseTagCondition(undefined), undefined)
  assert.equal(parseTagCondition('*'), { any: true })
  assert.equal(parseTagCondition('"abc"'), { any: false, tags: [{ weak: false, opaque: 'abc' }] })
  assert.equal(parseTagCondition('"a", W/"b" ,"c"'), { any: false, tags: [{ weak: false, opaque: 'a' }, { weak: true, opaque: 'b' }, { weak: false, opaque: 'c' }] })
  assert.equal(parseTagCondition(['"a"', '"b"']), { any: false, tags: [{ weak: false, opaque: 'a' }, { weak: false, opaque: 'b' }] })
  for (const bad of ['abc', '"abc', '"a" junk', '', 'W/abc']) assert.is(parseTagCondition(bad), null, bad)
})

test('If-Match compares strongly, If-None-Match weakly', () => {
  const list = parseTagCondition('W/"x", "y"')
  if (list === null || list === undefined) throw new Error('parse failed')
  assert.not.ok(matchesStrong(list, 'x'), 'a weak tag never matches If-Match')
  assert.ok(matchesStrong(list, 'y'))
  assert.ok(matchesWeak(list, 'x'))
  assert.not.ok(matchesWeak(list, 'z'))
  assert.not.ok(matchesStrong({ any: true }, undefined), 'If-Match: * fails when there is nothing')
  assert.ok(matchesStrong({ any: true }, 'x'))
})

test('JSON Merge Patch follows the examples of RFC 7396 appendix A', () => {
  const cases: Array<[JsonValue, JsonValue, JsonValue]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }]
  ]
  for (const [target, patch, result] of cases) {
    const before = JSON.stringify(target)
    assert.equal(applyMergePatch(target, patch), result, `${before} + ${JSON.stringify(patch)}`)
    assert.is(JSON.stringify(target), before, 'the target is not mutated')
  }
  assert.equal(applyMergePatch(undefined, { a: 1 }), { a: 1 }, 'a missing value patches like {}')
})

test.run()
