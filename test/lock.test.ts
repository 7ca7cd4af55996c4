import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LockedError, NotFoundError, Store } from '../src/index.js'

const run = promisify(execFile)
const index = fileURLToPath(new URL('../src/index.js', import.meta.url))

test('a second process opening the same directory gets LockedError, and can open once it is free', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-lock-'))
  try {
    const store = await Store.open(dir)
    await store.commit('k', 'held')
    const script = `
      import { Store } from ${JSON.stringify(index)}
      try {
        const s = await Store.open(${JSON.stringify(dir)})
        console.log(JSON.stringify({ opened: true, value: await s.get('k') }))
        await s.close()
      } catch (err) {
        console.log(JSON.stringify({ name: err.name, code: err.code, status: err.status, path: err.path, message: err.message }))
      }`
    const locked = JSON.parse((await run(process.execPath, ['--input-type=module', '-e', script])).stdout)
    assert.is(locked.name, 'LockedError')
    assert.is(locked.code, 'REVKV_LOCKED')
    assert.is(locked.status, 423)
    assert.is(locked.path, dir)
    assert.match(locked.message, /open in another process/)
    assert.match(locked.message, /revkv serve/)
    await store.close()
    const free = JSON.parse((await run(process.execPath, ['--input-type=module', '-e', script])).stdout)
    assert.equal(free, { opened: true, value: 'held' })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the same process opening a directory twice also gets LockedError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-lock-'))
  try {
    const store = await Store.open(dir)
    const err = await Store.open(dir).then(() => undefined, (e: unknown) => e)
    assert.instance(err, LockedError)
    await store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('createIfMissing: false on a missing directory is NotFoundError and creates nothing', async () => {
  const dir = join(tmpdir(), `revkv-missing-${process.pid}`)
  const err = await Store.open({ path: dir, createIfMissing: false }).then(() => undefined, (e: unknown) => e)
  assert.instance(err, NotFoundError)
  assert.match(String((err as Error).message), /revkv init/)
  assert.not.ok(existsSync(dir), 'no directory was made')
})

test.run()
