import { Store } from './dist/src/index.js'
import { Level } from 'level'
import { mkdtempSync, rmSync } from 'node:fs'
const W = 64, MS = 2000
const val = { pad: 'x'.repeat(80) }
async function drive (op) {
  let n = 0; const end = performance.now() + MS
  await Promise.all(Array.from({ length: W }, async (_, w) => { let i = 0; while (performance.now() < end) { await op(w, i++); n++ } }))
  return n / MS * 1000
}
async function revkv () {
  const dir = mkdtempSync('/tmp/revkv-qi-'); const s = await Store.open({ path: dir })
  const r = await drive((w, i) => s.commit(`k:${w}:${i}`, val, { parent: null }))
  await s.close(); rmSync(dir, { recursive: true }); return r
}
async function raw () {
  const dir = mkdtempSync('/tmp/revkv-qi-'); const db = new Level(dir, { valueEncoding: 'utf8' }); await db.open()
  const r = await drive((w, i) => db.put(`k:${w}:${i}`, JSON.stringify(val)))
  await db.close(); rmSync(dir, { recursive: true }); return r
}
for (let i = 0; i < 2; i++) { const a = await revkv(); const b = await raw(); console.log(Math.round(a), Math.round(b), (a / b).toFixed(2)) }
