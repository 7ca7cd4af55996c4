/** The storage engine conformance suite on the LevelDB engine: memory-level and a real LevelDB directory. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { engineSuite } from './engine-suite.js'
import { openLevelDatabase, openLevelDirectory } from '../src/engines/level/engine.js'

engineSuite('level, memory-level', async () => await openLevelDatabase(new MemoryLevel()), {
  supports: { sharedWriters: false, snapshots: true, sync: true, notify: false }
})

const dirs: string[] = []
process.on('exit', () => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }) })
engineSuite('level, directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-engine-'))
  dirs.push(dir)
  return await openLevelDirectory(dir, true)
}, {
  supports: { sharedWriters: false, snapshots: true, sync: true, notify: false }
})
