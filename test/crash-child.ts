/**
 * The process the crash test kills: many writers committing as fast as they can, each
 * acknowledged revision reported on stdout the moment its commit resolves.
 */
import { Store } from '../src/index.js'

const [dir, sync] = process.argv.slice(2)
const store = await Store.open({ path: dir as string, sync: sync === 'sync' })
const writers = 32
let n = 0
await Promise.all(Array.from({ length: writers }, async (_, w) => {
  for (;;) {
    const key = `k${(w * 7 + n++) % 64}`
    const rev = await store.commit(key, { w, n, pad: 'x'.repeat(64) })
    process.stdout.write(`${key} ${rev.id}\n`)
  }
}))
