import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidInputError } from '../src/index.js'
import { lineColumn, parseJsonText } from '../src/json-text.js'

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

test.run()
