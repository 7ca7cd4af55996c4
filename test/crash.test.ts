import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'
import { runChild } from './helpers.js'

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url))

/** How long a child may go without acknowledging a write before the test gives up on it (a guard, not a measurement). */
const SILENCE_LIMIT_MS = 60_000

/** What the child reported: acknowledged single writes ([key, id]), batches announced (id → keys) and batches acknowledged (id → revisions, in key order). */
interface Reported {
  acked: Array<[string, string]>
  planned: Map<string, string[]>
  batches: Map<string, string[]>
}

/**
 * Run the child, SIGKILL it once it has acknowledged `target` writes (with more in flight:
 * 32 writers keep committing, 8 more write batches), and return what it reported. Killing
 * on a count of acknowledgements, not after a delay, makes the kill point independent of
 * machine speed.
 */
async function killAfter (dir: string, sync: boolean, target: number): Promise<Reported> {
  const acked: Array<[string, string]> = []
  const planned = new Map<string, string[]>()
  const batches = new Map<string, string[]>()
  const { code, signal, silent } = await runChild(CHILD, [dir, sync ? 'sync' : 'nosync'], (line, kill) => {
    const [first, second, ...rest] = line.split(' ')
    if (first === 'P') planned.set(second as string, rest)
    else if (first === 'B') batches.set(second as string, rest)
    else acked.push([first as string, second as string])
    if (acked.length >= target) kill()
  }, SILENCE_LIMIT_MS)
  assert.not.ok(silent, `the child acknowledged nothing for ${SILENCE_LIMIT_MS} ms (after ${acked.length} writes)`)
  assert.is(signal, 'SIGKILL', `the child was killed (exit code ${String(code)})`)
  return { acked, planned, batches }
}

/**
 * Every batch the child announced is all there or all absent, judged by its values (each
 * carries the batch's id) in its keys' histories; every acknowledged batch is all there,
 * its revisions those it was acknowledged with. Returns how many batches were there.
 */
async function assertBatchesWhole (store: Store, planned: Map<string, string[]>, acked: Map<string, string[]>, round: number): Promise<number> {
  const keys = new Set([...planned.values()].flat())
  // Batch id → key → the revision of that key carrying the batch's value.
  const found = new Map<string, Map<string, string>>()
  for (const key of keys) {
    for await (const rev of store.log(key)) {
      const id = (rev.value as { batch?: string } | undefined)?.batch
      if (id === undefined) continue
      const mine = found.get(id) ?? new Map<string, string>()
      assert.not.ok(mine.has(key), `round ${round}: batch ${id} wrote ${key} once`)
      found.set(id, mine.set(key, rev.id))
    }
  }
  let whole = 0
  for (const [id, batchKeys] of planned) {
    const there = found.get(id) ?? new Map<string, string>()
    assert.ok(there.size === 0 || there.size === batchKeys.length, `round ${round}: batch ${id} is half there: ${[...there.keys()].join(', ')} of ${batchKeys.join(', ')}`)
    const revs = acked.get(id)
    if (revs !== undefined) {
      assert.equal(batchKeys.map((key) => there.get(key)), revs, `round ${round}: acknowledged batch ${id} is all there, with the revisions it was acknowledged with`)
    }
    if (there.size > 0) whole++
  }
  for (const id of found.keys()) assert.ok(planned.has(id), `round ${round}: batch ${id} was announced before it was written`)
  return whole
}

for (const sync of [false, true]) {
  test(`SIGKILL at random moments loses no acknowledged write and leaves no batch half there (sync: ${String(sync)})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revkv-crash-'))
    try {
      let total = 0
      const planned = new Map<string, string[]>()
      const batches = new Map<string, string[]>()
      for (let round = 0; round < 4; round++) {
        // A random point between a few and a few hundred batches into the run.
        const target = 50 + Math.floor(Math.random() * 2000)
        const reported = await killAfter(dir, sync, target)
        const { acked } = reported
        // Checked again in every later round: a later run must not disturb an earlier batch either.
        for (const [id, keys] of reported.planned) planned.set(id, keys)
        for (const [id, revs] of reported.batches) batches.set(id, revs)
        assert.ok(reported.batches.size > 0, `round ${round}: some batches were acknowledged before the kill`)
        assert.ok(acked.length >= target, `round ${round}: killed after ${acked.length} acknowledged writes, not before ${target}`)
        assert.is(new Set(acked.map(([, id]) => id)).size, acked.length, 'every acknowledgement names a distinct revision')
        total += acked.length
        const store = await Store.open(dir)
        try {
          for (const [key, id] of acked) {
            const rev = await store.revision(id)
            assert.ok(rev !== undefined, `round ${round}: acknowledged revision ${id} of ${key} survived`)
            assert.is(rev.key, key)
          }
          for await (const key of store.keys()) {
            const head = await store.head(key)
            assert.ok(head !== undefined && (await store.revision(head.id)) !== undefined, `the head of ${key} exists`)
          }
          const whole = await assertBatchesWhole(store, planned, batches, round)
          assert.ok(whole >= batches.size, 'every acknowledged batch is there')
          const report = await store.verify()
          assert.equal(report.problems, [], `round ${round}: verify finds nothing wrong`)
          assert.ok(report.revisions >= total, 'every acknowledged revision is counted')
        } finally {
          await store.close()
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

test.run()
