import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { rejection } from './helpers.js'
import { ConflictError } from '../src/index.js'
import { driveWriters } from '../benchmarks/writers.js'

test('driveWriters: stops at the ops budget and counts commits and reads per writer', async () => {
  const result = await driveWriters({
    writers: 3,
    ops: 30,
    attempt: async (writer) => writer === 2 ? 0 : 1
  })
  assert.is(result.commits + result.reads, 30)
  assert.is(result.commitsByWriter[2], 0)
  assert.is(result.starvedWriters, 0, 'a writer that only reads is not starved')
  assert.ok(result.readLatency !== undefined)
})

test('driveWriters: retries conflicts, and a writer that never succeeds is starved', async () => {
  let tries = 0
  const result = await driveWriters({
    writers: 2,
    durationMs: 30,
    attempt: async (writer, retrying) => {
      if (writer === 0) return 1
      tries++
      if (tries > 1) assert.ok(retrying, 'a conflict is retried as the same operation')
      throw new ConflictError('stale', { key: 'k', expected: null, actual: null })
    }
  })
  assert.ok(result.commits > 0)
  assert.ok(result.conflicts > 0)
  assert.ok(result.retries > 0)
  assert.is(result.starvedWriters, 1)
})

test('driveWriters: any other error fails the run', async () => {
  assert.match((await rejection(driveWriters({ writers: 1, ops: 5, attempt: async () => { throw new Error('disk on fire') } }))).message, /disk on fire/)
})

test.run()
