import { setTimeout as sleep } from 'node:timers/promises'
import { Level } from 'level'

/** LevelDB compacts level 0 once it holds this many files (kL0_CompactionTrigger). */
const L0_COMPACTION_TRIGGER = 4

/**
 * Let a freshly filled LevelDB directory settle before something is timed on it: open it
 * and wait (at most `timeoutMs`) until background compaction brings level 0 below the
 * compaction trigger. Without this, the compaction debt of the burst that built the store
 * (and of every reopen, which turns the log into one more level-0 file) makes LevelDB stall
 * every write by 1 ms once level 0 reaches 8 files, and that would be charged to revkv as a
 * cost of history height or store size. Returns how long settling took.
 */
export async function settleLevelDB (dir: string, timeoutMs = 30_000): Promise<number> {
  const db = new Level<string, string>(dir)
  await db.open({ createIfMissing: false })
  // In Node, `level` is classic-level, which has getProperty(); level's own types only declare the portable surface.
  const leveldb = db as unknown as { getProperty: (property: string) => string }
  const start = Date.now()
  try {
    while (Number(leveldb.getProperty('leveldb.num-files-at-level0')) >= L0_COMPACTION_TRIGGER && Date.now() - start < timeoutMs) {
      await sleep(100)
    }
  } finally {
    await db.close()
  }
  return Date.now() - start
}
