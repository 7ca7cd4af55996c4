import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url))

/** How long a child may go without acknowledging a write before the test gives up on it (a guard, not a measurement). */
const SILENCE_LIMIT_MS = 60_000

/**
 * Run the child, SIGKILL it once it has acknowledged `target` writes (with more in flight:
 * 32 writers keep committing), and return what it acknowledged. Killing on a count of
 * acknowledgements, not after a delay, makes the kill point independent of machine speed.
 */
async function killAfter (dir: string, sync: boolean, target: number): Promise<Array<[string, string]>> {
  const child = spawn(process.execPath, [CHILD, dir, sync ? 'sync' : 'nosync'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const acked: Array<[string, string]> = []
  let partial = ''
  let silent = false
  const guard = setTimeout(() => { silent = true; child.kill('SIGKILL') }, SILENCE_LIMIT_MS)
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      const [key, id] = line.split(' ')
      acked.push([key as string, id as string])
    }
    guard.refresh()
    if (acked.length >= target) child.kill('SIGKILL')
  })
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => { resolve([c, s]) }))
  clearTimeout(guard)
  assert.not.ok(silent, `the child acknowledged nothing for ${SILENCE_LIMIT_MS} ms (after ${acked.length} writes)`)
  assert.is(signal, 'SIGKILL', `the child was killed (exit code ${String(code)})`)
  return acked
}

for (const sync of [false, true]) {
  test(`SIGKILL at random moments loses no acknowledged write (sync: ${String(sync)})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revkv-crash-'))
    try {
      let total = 0
      for (let round = 0; round < 4; round++) {
        // A random point between a few and a few hundred batches into the run.
        const target = 50 + Math.floor(Math.random() * 2000)
        const acked = await killAfter(dir, sync, target)
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
