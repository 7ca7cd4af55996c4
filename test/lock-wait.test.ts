/**
 * The CLI's wait for a store another process holds, on a clock the test drives: how long
 * it waits and when it retries are checked in virtual milliseconds, and the store is let
 * go when every waiter has been seen waiting (an event), never after a delay.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { openStore } from '../cli/store-location.js'
import type { WaitClock } from '../cli/store-location.js'
import { Store } from '../src/index.js'
import { nextTurn, rejection } from './helpers.js'

/** A clock whose sleeps take no real time: each advances `now` and lets the event loop turn once. */
function virtualClock (onSleep: () => void = () => {}): WaitClock & { sleeps: number[], elapsed: () => number } {
  let now = 0
  const sleeps: number[] = []
  return {
    now: () => now,
    sleep: async (ms) => {
      assert.ok(ms > 0, `slept ${ms} ms`)
      sleeps.push(ms)
      now += ms
      onSleep()
      await nextTurn()
    },
    sleeps,
    elapsed: () => now
  }
}

/** Run `work` with process.stderr.write captured (the wait notice goes there). */
async function capturingStderr<T> (work: () => Promise<T>): Promise<{ notices: string[], result: T }> {
  const notices: string[] = []
  const write = process.stderr.write
  process.stderr.write = ((chunk: string | Uint8Array) => { notices.push(String(chunk)); return true }) as typeof process.stderr.write
  try {
    return { notices, result: await work() }
  } finally {
    process.stderr.write = write
  }
}

const dirs: string[] = []
test.after(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }) })

/** A store directory, held open by this process (as another process would hold it). */
async function heldStore (): Promise<{ dir: string, holder: Store }> {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-wait-'))
  dirs.push(dir)
  return { dir, holder: await Store.open(dir) }
}

test('--wait N: retries with growing pauses for exactly N ms of the clock, then fails with REVKV_LOCKED', async () => {
  const { dir, holder } = await heldStore()
  try {
    const clock = virtualClock()
    const { notices, result } = await capturingStderr(async () => await rejection(openStore(dir, { create: false, wait: 400, clock })))
    const err = result
    assert.is((err as { code?: string }).code, 'REVKV_LOCKED')
    assert.ok(Math.abs(clock.elapsed() - 400) < 1e-6, `gave up after ${clock.elapsed()} ms of the clock, not 400`)
    assert.ok(clock.sleeps.length >= 4, `retried ${clock.sleeps.length} times`)
    // Backoff: pauses start near 10 ms and, jitter included, never exceed 1.5 x 200 ms.
    assert.ok((clock.sleeps[0] as number) <= 15, `first pause ${clock.sleeps[0]} ms`)
    assert.ok(clock.sleeps.every((ms) => ms <= 300), `pauses ${clock.sleeps.join(', ')}`)
    assert.equal(notices, [], 'no notice within the first second')
    const now = virtualClock()
    assert.is((await rejection(openStore(dir, { create: false, wait: 0, clock: now })) as { code?: string }).code, 'REVKV_LOCKED')
    assert.equal(now.sleeps, [], '--wait 0 gives up at once')
    // A longer wait says so on stderr once the clock passes one second, and only once.
    const long = virtualClock()
    const waited = await capturingStderr(async () => await rejection(openStore(dir, { create: false, wait: 2500, clock: long })))
    assert.is((waited.result as { code?: string }).code, 'REVKV_LOCKED')
    assert.is(waited.notices.length, 1, waited.notices.join(''))
    assert.ok(waited.notices[0]?.includes(dir) === true && /another process has it open/.test(waited.notices[0]), waited.notices[0])
  } finally {
    await holder.close()
  }
})

test('waiters get the store once it is let go, each in turn, and none before', async () => {
  const { dir, holder } = await heldStore()
  let held = true
  let releasing: Promise<void> | undefined
  const waiting = new Set<number>()
  const racers = [0, 1, 2].map(async (n) => {
    // The holder lets go once every racer has found the store locked and is waiting.
    const clock = virtualClock(() => {
      waiting.add(n)
      if (waiting.size === 3) releasing ??= holder.close().then(() => { held = false })
    })
    const store = await openStore(dir, { create: false, wait: 60_000, clock })
    try {
      assert.not.ok(held, `racer ${n} opened the store while it was held`)
      await store.commit('k', n)
    } finally {
      await store.close()
    }
    return clock.sleeps.length
  })
  const retries = (await capturingStderr(async () => await Promise.all(racers))).result
  assert.ok(retries.every((r) => r >= 1), `every racer waited (${retries.join(', ')} retries)`)
  const store = await Store.open(dir)
  const values: unknown[] = []
  for await (const rev of store.log('k')) values.push(rev.value)
  await store.close()
  assert.equal(values.sort(), [0, 1, 2], 'all three wrote')
})

test.run()
