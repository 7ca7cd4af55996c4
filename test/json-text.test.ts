import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidInputError } from '../src/index.js'
import { exactInDouble, lineColumn, parseJsonText } from '../src/json-text.js'

function failure (text: string): string {
  try {
    parseJsonText(text, 'the test input')
  } catch (err) {
    assert.instance(err, InvalidInputError)
    return (err as Error).message
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`)
}

test('invalid JSON is reported with its source, line, column and position', () => {
  assert.match(failure('{"a": 1,,}'), /^Invalid JSON in the test input at line 1, column 9 \(position 8\)/)
  assert.match(failure('{\n  "a": tru\n}'), /line 2, column 11/)
  assert.match(failure('[1,\n2'), /line 2, column 2/)
  assert.match(failure('hello'), /To store a string, write it as JSON with quotes/)
  assert.match(failure('   '), /it is empty/)
  assert.match(failure('{"a": 1,,}'), /\n  \{"a": 1,,\}\n {10}\^/)
})

test('valid JSON parses, a byte order mark is ignored', () => {
  assert.equal(parseJsonText('\ufeff{"a":[1,null]}', 'x'), { a: [1, null] })
  assert.is(parseJsonText('"s"', 'x'), 's')
  assert.equal(lineColumn('ab\ncd', 4), { line: 2, column: 2 })
})

test('a number is refused, with line and column, unless the double it parses to prints back as the same number', () => {
  // Survivors: the parsed double, printed back, is the same decimal number.
  for (const text of ['1.0', '1e2', '1E+2', '0.1', '-0', '-0.0e5', '0.30000000000000004', '9007199254740992', '100000000000000000000', '5e-324', '1.7976931348623157e308', '123456789012345', '-1.5e-7', '0e99999']) {
    assert.ok(exactInDouble(text), text)
    assert.equal(parseJsonText(`[${text}]`, 'x'), [Number(text)], text)
  }
  // Not survivors: more digits than a double holds, or out of its range.
  for (const text of ['12345678901234567890123', '9007199254740993', '0.10000000000000001', '123456789012345678', '1e-400', '2.4703282292062328e-324']) {
    assert.not.ok(exactInDouble(text), text)
  }
  assert.match(failure('{"id":\n  12345678901234567890123}'), /^JSON in the test input at line 2, column 3: the number 12345678901234567890123 cannot be stored exactly; .* it would be 1\.2345678901234568e\+22\. Send it as a string/)
  assert.match(failure('[9007199254740993]'), /line 1, column 2: the number 9007199254740993 .* 9007199254740992/)
  assert.match(failure('[1e-400]'), /it would be 0\./)
  assert.match(failure('[1, -1e400]'), /column 5: the number -1e400 is beyond the range of a double/)
  // -0 is the number zero: accepted, and stored (like every zero) as 0.
  assert.is(JSON.stringify(parseJsonText('-0', 'x')), '0')
})

test('lossyNumbers accepts the nearest double, but never a number out of range', () => {
  assert.is(parseJsonText('12345678901234567890123', 'x', { lossyNumbers: true }), 1.2345678901234568e+22)
  assert.is(parseJsonText('0.10000000000000001', 'x', { lossyNumbers: true }), 0.1)
  try {
    parseJsonText('1e400', 'x', { lossyNumbers: true })
    assert.unreachable('1e400 must be refused')
  } catch (err) {
    assert.instance(err, InvalidInputError)
    assert.match((err as Error).message, /beyond the range of a double/)
  }
})

test('duplicate member names are refused with both places, compared after unescaping', () => {
  assert.match(failure('{"a":1,"a":2}'), /^JSON in the test input at line 1, column 8: duplicate member name "a" \(first at line 1, column 2\)/)
  assert.match(failure('{"a":1,\n "\\u0061":2}'), /line 2, column 2: duplicate member name "a" \(first at line 1, column 2\)/)
  assert.match(failure('[{"x":{"k":1,"j":[{"k":1}],"k":3}}]'), /column 28: duplicate member name "k" \(first at line 1, column 8\)/)
  // The same name in different objects, or as a string value, is no duplicate.
  assert.equal(parseJsonText('{"a":{"a":"a"},"b":[{"a":1},{"a":2}],"c":"a"}', 'x'), { a: { a: 'a' }, b: [{ a: 1 }, { a: 2 }], c: 'a' })
  assert.equal(parseJsonText('{"\\"":1,"\\\\":2,"a\\"b":3}', 'x'), { '"': 1, '\\': 2, 'a"b': 3 })
})

test('nesting deeper than 1000 levels is refused with a short message; 1000 levels parse', () => {
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n)
  assert.ok(Array.isArray(parseJsonText(deep(1000), 'x')))
  const message = failure(deep(1001))
  assert.match(message, /^JSON in the test input at line 1, column 1001: nested more than 1000 levels deep/)
  assert.ok(message.length < 200, `a short message, not ${message.length} characters`)
  assert.match(failure(`{"a":${'{"b":'.repeat(1000)}1${'}'.repeat(1001)}`), /column 5001: nested more than 1000 levels/)
  assert.match(failure(deep(200_000)), /nested more than 1000 levels/, 'far deeper than the stack allows')
})

test.run()
