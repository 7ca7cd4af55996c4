import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { Store } from '../src/index.js'
import type { RevkvStore } from '../src/index.js'
import type { StoreFactory } from './store-suite.js'
import { storeSuite } from './store-suite.js'

const memory: StoreFactory = {
  name: 'memory-level',
  open: async (options = {}) => await Store.open({ ...options, db: new MemoryLevel() })
}
await storeSuite(memory)

const dirs = new Map<RevkvStore, string>()
process.on('exit', () => {
  for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true })
})

const directory: StoreFactory = {
  name: 'LevelDB directory',
  open: async (options = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'revkv-test-'))
    try {
      const store = await Store.open({ ...options, path: dir })
      dirs.set(store, dir)
      return store
    } catch (err) {
      // Options refused after the directory was made: nothing will close this store, so remove it now.
      rmSync(dir, { recursive: true, force: true })
      throw err
    }
  },
  reopen: async (store, options = {}) => {
    const dir = dirs.get(store) as string
    await store.close()
    const again = await Store.open({ ...options, path: dir })
    dirs.set(again, dir)
    return again
  }
}
await storeSuite(directory)
