/**
 * The revision model's edges: key and id validation at their exact limits, the size limit
 * in bytes, the record's exact bytes, frozen results and re-verification. Written to kill
 * the mutants of src/revision.ts that other tests let live (see test/mutation/).
 */
import { createHash } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CorruptionError, InvalidInputError } from '../src/index.js'
import { canonicalJson } from '../src/json.js'
import { decodeRecord, describe, hashRecord, parseRecord, sealRevision, serializeValue, validateKey, validateRevisionId, verifyRecord } from '../src/revision.js'

/** The InvalidInputError `fn` throws, failing the test if it throws nothing or something else. */
function invalid (fn: () => unknown): InvalidInputError {
  try {
    fn()
  } catch (err) {
    assert.instance(err, InvalidInputError)
    return err as InvalidInputError
  }
  throw new assert.Assertion({ message: 'expected an InvalidInputError', operator: 'throws', expects: 'InvalidInputError', actual: 'nothing thrown' })
}

test('validateKey: a string of 1 to 1024 UTF-8 bytes without U+0000, with messages that name the problem', () => {
  for (const key of ['a', 'a'.repeat(1024), 'é'.repeat(512), '€'.repeat(341) + 'a', 'x'.repeat(341), 'x'.repeat(342)]) validateKey(key)
  assert.match(invalid(() => validateKey(5)).message, /^Key must be a string, got number 5\.$/)
  assert.match(invalid(() => validateKey(undefined)).message, /got undefined/)
  assert.is(invalid(() => validateKey('')).message, 'Key must not be empty.')
  assert.is(invalid(() => validateKey('a\u0000b')).message, 'Key "a\\u0000b" contains U+0000, which keys may not contain; remove it.')
  assert.is(invalid(() => validateKey('a'.repeat(1025))).message,
    'Key is 1025 UTF-8 bytes long; keys may be at most 1024 bytes. Use a shorter key (for example a hash of the long one).')
  // 342 three-byte characters are 1026 bytes in only 342 UTF-16 units.
  assert.match(invalid(() => validateKey('€'.repeat(342))).message, /^Key is 1026 UTF-8 bytes long/)
  assert.match(invalid(() => validateKey('é'.repeat(513))).message, /^Key is 1026 UTF-8 bytes long/)
})

test('validateRevisionId: exactly 64 lowercase hex characters', () => {
  validateRevisionId('0123456789abcdef'.repeat(4), 'Option parent')
  for (const bad of ['0123456789abcdef'.repeat(4).toUpperCase(), 'a'.repeat(63), 'a'.repeat(65), `x${'a'.repeat(64)}`, `${'a'.repeat(64)}\n`, 'g'.repeat(64), 42, { toString: () => 'a'.repeat(64) }]) {
    const err = invalid(() => validateRevisionId(bad, 'Option parent'))
    assert.ok(err.message.startsWith('Option parent must be a revision id (64 lowercase hex characters), got '), err.message)
  }
})

test('serializeValue: canonical JSON, the limit in UTF-8 bytes inclusive, and bad shapes as InvalidInputError with the cause', () => {
  assert.is(serializeValue({ b: [1, 'x'], a: null }, 100), '{"a":null,"b":[1,"x"]}')
  // '"ééé"' is 5 UTF-16 units and 8 bytes: the limit counts bytes, and equal is allowed.
  assert.is(serializeValue('ééé', 8), '"ééé"')
  assert.is(invalid(() => serializeValue('ééé', 7)).message,
    'Value is 8 bytes as JSON, over the limit of 7 bytes. Store less, or open the store with a larger maxValueBytes.')
  assert.is(serializeValue('x'.repeat(98), 100).length, 100)
  assert.match(invalid(() => serializeValue('x'.repeat(99), 100)).message, /^Value is 101 bytes as JSON/)
  const err = invalid(() => serializeValue({ a: Number.NaN }, 100))
  assert.match(err.message, /^Value is not storable JSON: .*\/a.*\.$/)
  assert.ok(err.cause instanceof Error, 'the shape error is kept as the cause')
  // Anything but a shape error is not disguised as bad input.
  const boom = new TypeError('boom')
  const trap = { get a (): number { throw boom } }
  assert.throws(() => serializeValue(trap, 100), (e: unknown) => e === boom)
})

test('sealRevision: the record is canonical JSON of every field, in order, and the id is its SHA-256', () => {
  const full = sealRevision({ key: 'k"1', parents: ['p1', 'p2'], height: 3, time: 17, value: { z: 1, a: 'é' }, author: 'ada', message: 'm\n', strategy: 'merge' })
  const fields = { author: 'ada', height: 3, key: 'k"1', message: 'm\n', parents: ['p1', 'p2'], strategy: 'merge', time: 17, value: { a: 'é', z: 1 } }
  assert.is(full.record, canonicalJson(fields))
  assert.is(full.revision.id, createHash('sha256').update(full.record).digest('hex'))
  assert.equal({ ...full.revision }, { id: full.revision.id, ...fields })
  assert.ok(verifyRecord(full.revision.id, full.record))

  const tomb = sealRevision({ key: 'k', parents: ['p'], height: 2, time: 5, deleted: true, value: 'ignored' })
  assert.is(tomb.record, '{"deleted":true,"height":2,"key":"k","parents":["p"],"time":5}')
  assert.equal({ ...tomb.revision }, { id: hashRecord(tomb.record), key: 'k', parents: ['p'], height: 2, time: 5, deleted: true })
  assert.not.ok('value' in tomb.revision)

  const plain = sealRevision({ key: 'k', parents: [], height: 1, time: 0, value: null, deleted: false })
  assert.is(plain.record, '{"height":1,"key":"k","parents":[],"time":0,"value":null}')
  assert.equal(Object.keys(plain.revision).sort(), ['height', 'id', 'key', 'parents', 'time', 'value'])
  assert.is(plain.revision.value, null)
})

test('sealRevision: given valueJson it is used as is; the revision and its value are frozen copies', () => {
  const value = { list: [1, 2], n: 1 }
  const parents = ['p']
  const sealed = sealRevision({ key: 'k', parents, height: 2, time: 1, value: { other: true } }, canonicalJson(value))
  assert.is(sealed.record, '{"height":2,"key":"k","parents":["p"],"time":1,"value":{"list":[1,2],"n":1}}')
  assert.equal(sealed.revision.value, value)
  assert.is.not(sealed.revision.value, value, 'the caller keeps its own object')
  assert.ok(Object.isFrozen(sealed.revision))
  assert.ok(Object.isFrozen(sealed.revision.parents))
  assert.ok(Object.isFrozen(sealed.revision.value))
  assert.ok(Object.isFrozen((sealed.revision.value as { list: number[] }).list))
  // An owned value (a merge result nobody else holds) is frozen in place, not copied.
  const owned = { n: 2 }
  const own = sealRevision({ key: 'k', parents: [], height: 1, time: 1 }, canonicalJson(owned), owned)
  assert.is(own.revision.value, owned)
  assert.ok(Object.isFrozen(owned))
})

test('parseRecord and verifyRecord: a frozen revision back, and only an untouched canonical record verifies', () => {
  const { revision, record } = sealRevision({ key: 'k', parents: [], height: 1, time: 2, value: { a: [1] }, author: 'ada' })
  const parsed = parseRecord(revision.id, record)
  assert.equal(parsed, { ...revision })
  assert.ok(Object.isFrozen(parsed) && Object.isFrozen(parsed.value))
  assert.ok(verifyRecord(revision.id, record))
  assert.ok(verifyRecord(revision.id, record, JSON.parse(record)))
  assert.not.ok(verifyRecord(revision.id, record.replace('"ada"', '"eve"')))
  // Same fields, not canonical (members out of order): the hash of those bytes is right, the record is not.
  const shuffled = '{"key":"k","author":"ada","height":1,"parents":[],"time":2,"value":{"a":[1]}}'
  assert.not.ok(verifyRecord(hashRecord(shuffled), shuffled))
  assert.not.ok(verifyRecord(revision.id, record, { different: true }))
})

test('decodeRecord: each damaged shape named, with the key the record or the caller gives, and the parse error kept as cause', () => {
  const id = 'a'.repeat(64)
  const good = { key: 'k', parents: [], height: 1, time: 1, value: 1 }
  const damaged = (record: string, key?: string): CorruptionError => {
    try {
      decodeRecord(id, record, key)
    } catch (err) {
      assert.instance(err, CorruptionError)
      return err as CorruptionError
    }
    return assert.unreachable('decoded a damaged record') as never
  }
  const cases: Array<[unknown, string | undefined, string]> = [
    [null, undefined, 'its record is not a JSON object'],
    [7, undefined, 'its record is not a JSON object'],
    [[good], undefined, 'its record is not a JSON object'],
    [{ ...good, key: 3 }, undefined, 'its record has no key'],
    [{ ...good, parents: 'x' }, 'k', 'its record has malformed parents'],
    [{ ...good, parents: [id, id, id] }, 'k', 'its record has malformed parents'],
    [{ ...good, parents: [id, 'x'] }, 'k', 'its record has malformed parents'],
    [{ ...good, height: 0 }, 'k', 'its record has a malformed height'],
    [{ ...good, height: 1.5 }, 'k', 'its record has a malformed height'],
    [{ ...good, time: '1' }, 'k', 'its record has no time'],
    [{ key: 'k', parents: [], height: 1, time: 1 }, 'k', 'its record has neither a value nor a tombstone flag'],
    [{ ...good, deleted: true }, 'k', 'its record has neither a value nor a tombstone flag']
  ]
  for (const [record, key, reason] of cases) {
    const err = damaged(JSON.stringify(record))
    assert.equal([err.reason, err.key, err.revision], [reason, key, id], JSON.stringify(record))
    assert.ok(err.message.startsWith(`Revision ${id}${key === undefined ? '' : ` of key "${key}"`} is damaged: ${reason}.`), err.message)
  }
  // Two parents, a tombstone without a value, and the caller's key over the record's.
  assert.equal(decodeRecord(id, JSON.stringify({ key: 'k', parents: [id, id], height: 2, time: 1, deleted: true })), { key: 'k', parents: [id, id], height: 2, time: 1, deleted: true })
  assert.is(damaged(JSON.stringify({ ...good, height: 0 }), 'caller').key, 'caller')
  const notJson = damaged('{', 'k')
  assert.equal([notJson.reason, notJson.key], ['its record is not valid JSON', 'k'])
  assert.instance(notJson.cause, SyntaxError)
  assert.is(damaged('[').key, undefined)
  assert.ok(!('cause' in damaged(JSON.stringify({ ...good, height: 0 }))), 'a shape problem has no cause')
})

test('validateText and sealRevision\'s optional fields: strategy and token are stored in order', () => {
  let err: unknown
  try { validateKey('a\ud800') } catch (e) { err = e }
  assert.instance(err, InvalidInputError)
  assert.ok((err as Error).message.startsWith('Key "a\\ud800" '), (err as Error).message)
  assert.ok((err as Error).message.endsWith('.'))
  const { revision, record } = sealRevision({ key: 'k', parents: [], height: 1, time: 5, value: 1, strategy: 'lww', token: 9 })
  assert.is(record, '{"height":1,"key":"k","parents":[],"strategy":"lww","time":5,"token":9,"value":1}')
  assert.is(revision.strategy, 'lww')
  assert.is(revision.token, 9)
  const plain = sealRevision({ key: 'k', parents: [], height: 1, time: 5, value: 1 }).revision
  assert.ok(!('strategy' in plain) && !('token' in plain))
})

test('describe: short, printable descriptions of unexpected arguments', () => {
  assert.is(describe(undefined), 'undefined')
  assert.is(describe(null), 'null')
  assert.is(describe('abc'), '"abc"')
  assert.is(describe('x'.repeat(80)), JSON.stringify('x'.repeat(80)))
  assert.is(describe('x'.repeat(81)), JSON.stringify(`${'x'.repeat(77)}...`))
  assert.is(describe([1]), 'an array')
  assert.is(describe({}), 'an object')
  assert.is(describe(3), 'number 3')
  assert.is(describe(false), 'boolean false')
})

test.run()
