/**
 * The process the crash test kills: many writers committing as fast as they can, each
 * acknowledged revision reported on stdout the moment its commit resolves. Beside them,
 * batch writers write multi-key batches: each batch is announced (`P id key...`) before it
 * is submitted and reported (`B id rev...`) once acknowledged, and every value it writes
 * carries its id, so after the kill the test can tell of any batch whether it is there.
 */
import { Store } from '../src/index.js'

const [dir, sync] = process.argv.slice(2)
const store = await Store.open({ path: dir as string, sync: sync === 'sync' })
const writers = 32
const batchWriters = 8
/** The batches' keys: apart from the single writers', so a batch is never refused. */
const batchKeys = 32
let n = 0
let b = 0
const singles = Array.from({ length: writers }, async (_, w) => {
  for (;;) {
    const key = `k${(w * 7 + n++) % 64}`
    const rev = await store.commit(key, { w, n, pad: 'x'.repeat(64) })
    process.stdout.write(`${key} ${rev.id}\n`)
  }
})
const batches = Array.from({ length: batchWriters }, async (_, w) => {
  for (;;) {
    const id = `${process.pid}.${b++}`
    // 2 to 6 distinct keys (a step of 7 is coprime to 32), overlapping other batches' keys.
    const start = (w * 5 + b * 3) % batchKeys
    const keys = Array.from({ length: 2 + (b % 5) }, (_, i) => `b${(start + i * 7) % batchKeys}`)
    // A pipe write is synchronous on Linux: the announcement is out before the batch can be on disk.
    process.stdout.write(`P ${id} ${keys.join(' ')}\n`)
    const revs = await store.batch(keys.map((key, i) => ({ type: 'commit' as const, key, value: { batch: id, i, pad: 'y'.repeat(64) } })))
    process.stdout.write(`B ${id} ${revs.map((rev) => rev.id).join(' ')}\n`)
  }
})
await Promise.all([...singles, ...batches])
