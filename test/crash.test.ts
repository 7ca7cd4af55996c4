import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/index.js'

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url))

/** Run the child until it has acknowledged some writes, SIGKILL it at a random moment, and return what it acknowledged. */
async function killMidway (dir: string, sync: boolean): Promise<Array<[string, string]>> {
  const child = spawn(process.execPath, [CHILD, dir, sync ? 'sync' : 'nosync'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const acked: Array<[string, string]> = []
  let partial = ''
  let killTimer: NodeJS.Timeout | undefined
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      const [key, id] = line.split(' ')
      acked.push([key as string, id as string])
    }
    // Kill at a random moment once writes are flowing, so a batch is as likely in flight as not.
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), 50 + Math.floor(Math.random() * 250))
  })
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => { resolve([c, s]) }))
  clearTimeout(killTimer)
  assert.is(signal, 'SIGKILL', `the child was killed (exit code ${String(code)})`)
  return acked
}

for (const sync of [false, true]) {
  test(`SIGKILL at random moments loses no acknowledged write (sync: ${String(sync)})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revkv-crash-'))
    try {
      let total = 0
      for (let round = 0; round < 4; round++) {
        const acked = await killMidway(dir, sync)
        assert.ok(acked.length > 0, `round ${round}: the child acknowledged writes before it was killed`)
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
