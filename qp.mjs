import { Store } from './dist/src/index.js'
import { mkdtempSync, rmSync } from 'node:fs'
const W = 64, MS = 3000
const val = { pad: 'x'.repeat(80) }
const dir = mkdtempSync('/tmp/revkv-qi-'); const s = await Store.open({ path: dir })
let n = 0; const end = performance.now() + MS
await Promise.all(Array.from({ length: W }, async (_, w) => { let i = 0; while (performance.now() < end) { await s.commit(`k:${w}:${i++}`, val, { parent: null }); n++ } }))
console.log(n / MS * 1000)
await s.close(); rmSync(dir, { recursive: true })
