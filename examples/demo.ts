/**
 * The main job, end to end, on an embedded LevelDB store in a temporary directory:
 * two writers edit the same version of a document, and revkv turns the classic lost
 * update into a ConflictError, a clean three-way merge, or a conflict kept for a person.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConflictError, MergeConflictError, Store } from '../src/index.js'
import type { Revision } from '../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'revkv-demo-'))
const short = (rev: Revision | string): string => (typeof rev === 'string' ? rev : rev.id).slice(0, 12)
const say = (text: string): void => { console.log(text) }

try {
  const store = await Store.open({ path: dir, author: 'demo' })
  say(`revkv demo: a LevelDB store in ${dir}\n`)

  const v1 = await store.commit('doc:intro', { title: 'Hello', tags: ['draft'], words: 120 }, { message: 'first draft' })
  say(`1. created doc:intro at ${short(v1)}: ${JSON.stringify(v1.value)}`)

  // Alice and Bob both read v1, then both write. Without revisions, Bob would silently erase Alice's edit.
  const alice = await store.commit('doc:intro', { title: 'Hello, world', tags: ['draft'], words: 120 }, { parent: v1.id, author: 'alice' })
  say(`2. alice edits the title, based on ${short(v1)}: new head ${short(alice)}`)
  try {
    await store.commit('doc:intro', { title: 'Hello', tags: ['draft', 'intro'], words: 150 }, { parent: v1.id, author: 'bob' })
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err
    say(`3. bob's write, also based on ${short(v1)}, is refused (${err.code}, HTTP ${err.status}):`)
    say(`   expected head ${short(err.expected ?? '')}, actual head ${short(err.actual ?? '')}: no lost update`)
  }

  // With the merge strategy the same stale write is merged three-way instead.
  const merged = await store.commit('doc:intro', { title: 'Hello', tags: ['draft', 'intro'], words: 150 }, { parent: v1.id, author: 'bob', strategy: 'merge' })
  say(`4. bob retries with strategy 'merge': merge revision ${short(merged)} with parents ${merged.parents.map(short).join(' + ')}`)
  say(`   merged value: ${JSON.stringify(merged.value)}`)

  // Carol also started from v1 and changed the title too: two edits of one field cannot both
  // win, so the merge reports the conflict per JSON Pointer and writes nothing.
  try {
    await store.commit('doc:intro', { title: 'Hi', tags: ['draft'], words: 120 }, { parent: v1.id, author: 'carol', strategy: 'merge' })
  } catch (err) {
    if (!(err instanceof MergeConflictError)) throw err
    for (const c of err.conflicts) say(`5. merge conflict at ${c.path}: base ${JSON.stringify(c.base)}, ours ${JSON.stringify(c.ours)}, theirs ${JSON.stringify(c.theirs)}`)
  }

  // Under 'manual' the stale write is kept unmerged for a person, and settled later.
  try {
    await store.commit('doc:intro', { title: 'Hi', tags: ['draft'], words: 120 }, { parent: v1.id, author: 'carol', strategy: 'manual' })
  } catch (err) {
    if (!(err instanceof ConflictError) || err.kept === undefined) throw err
    say(`6. under 'manual' it is kept as ${short(err.kept)}; conflicts: ${(await store.conflicts('doc:intro')).map(short).join(', ')}`)
    const settled = await store.merge('doc:intro', err.kept, { value: { title: 'Hi, world', tags: ['draft', 'intro'], words: 150 }, author: 'editor' })
    say(`   settled by the editor at ${short(settled)}: ${JSON.stringify(settled.value)}`)
  }

  await store.delete('doc:intro', { message: 'retired' })
  say(`7. deleted: get() is ${JSON.stringify(await store.get('doc:intro'))}, yet nothing is lost:\n`)
  for await (const rev of store.log('doc:intro')) {
    const what = rev.deleted === true ? '(deleted)' : JSON.stringify(rev.value)
    say(`   ${short(rev)} h${rev.height} ${(rev.author ?? '').padEnd(6)} ${rev.parents.length === 2 ? 'merge ' : '      '}${what}`)
  }
  await store.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
