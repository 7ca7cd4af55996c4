/** What the PostgreSQL tests check of a store after concurrent or interrupted writers. */
import * as assert from 'uvu/assert'
import pg from 'pg'
import type { Store } from '../../src/index.js'

/** An acknowledged write: the revision commit() returned for `key`. */
export interface Acked {
  key: string
  id: string
}

/**
 * Every revision reachable from each key's head (by log), as id → key, failing if a log
 * yields a revision twice or one of another key.
 */
export async function reachable (store: Store, keys: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  for (const key of keys) {
    for await (const rev of store.log(key)) {
      assert.is(rev.key, key, `log of ${key} yields only its own revisions`)
      assert.not.ok(found.has(rev.id), `log of ${key} yields revision ${rev.id} once`)
      found.set(rev.id, key)
    }
  }
  return found
}

/** Every acknowledged revision is in its key's history (reachable from the head), and each was acknowledged once. */
export function assertAckedInHistory (history: Map<string, string>, acked: Acked[]): void {
  assert.is(new Set(acked.map((a) => a.id)).size, acked.length, 'each acknowledgement names a distinct revision')
  const lost = acked.filter((a) => history.get(a.id) !== a.key)
  // The first few lost ones are enough to look into; the message counts them all.
  assert.equal(lost.slice(0, 3), [], `${lost.length} of ${acked.length} acknowledged revisions are not in their key's history`)
}

/**
 * The store is sound: verify() finds nothing, and (asked of the database itself, not
 * through revkv) no head points at a missing revision and no revision is stored that no
 * head reaches. Returns how many revisions are stored.
 */
export async function assertSound (store: Store, url: string, schema: string, history: Map<string, string>): Promise<number> {
  const report = await store.verify()
  assert.equal(report.problems, [], 'verify() finds no problem')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const dangling = await client.query(`SELECT key, head FROM "${schema}".heads h WHERE head IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "${schema}".revisions r WHERE r.id = h.head)`)
    assert.equal(dangling.rows, [], 'no head points at a missing revision')
    const stored = await client.query<{ id: string, key: string }>(`SELECT id, key FROM "${schema}".revisions`)
    const orphans = stored.rows.filter((row) => history.get(row.id) !== row.key)
    assert.equal(orphans.slice(0, 3), [], `${orphans.length} stored revisions are in no key's history: something was written that no head reaches`)
    assert.is(report.revisions, stored.rows.length, 'verify() read every stored revision')
    return stored.rows.length
  } finally {
    await client.end()
  }
}
