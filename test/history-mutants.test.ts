/**
 * History walks and merge bases on plain revision graphs, checked against brute force:
 * every order and every base is computed a second, obvious way. Written to kill the
 * mutants of src/history.ts that the store suite let live (see test/mutation/).
 */
import * as fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mergeBase, walkHistory, type LoadRevision } from '../src/history.js'
import type { Revision } from '../src/revision.js'
import { all } from './helpers.js'

/** A revision graph: revision i has parents among 0..i-1, heights consistent with them. */
function graph (parentLists: number[][], times: number[]): Revision[] {
  const revs: Revision[] = []
  parentLists.forEach((parents, i) => {
    const ps = [...new Set(parents.map((p) => p % Math.max(i, 1)))].filter(() => i > 0)
    const height = 1 + Math.max(0, ...ps.map((p) => (revs[p] as Revision).height))
    // Ids are not in creation order, so the id tie-break is exercised on its own.
    revs.push({ id: `${(i * 7919 % 1000).toString().padStart(3, '0')}-${i}`, key: 'k', parents: ps.map((p) => (revs[p] as Revision).id), height, time: times[i] ?? 0 })
  })
  return revs
}

/** Newest first: greater height, then later time, then larger id. */
function newestFirst (a: Revision, b: Revision): number {
  return b.height - a.height || b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
}

/** Every revision reachable from `from` (itself included), skipping those `missing`. */
function ancestors (from: Revision, byId: Map<string, Revision>, missing: Set<string>, firstParent = false): Set<Revision> {
  const seen = new Set<Revision>()
  const stack = [from]
  while (stack.length > 0) {
    const rev = stack.pop() as Revision
    if (seen.has(rev)) continue
    seen.add(rev)
    for (const id of firstParent ? rev.parents.slice(0, 1) : rev.parents) {
      const parent = byId.get(id)
      if (parent !== undefined && !missing.has(id)) stack.push(parent)
    }
  }
  return seen
}

function loader (revs: Revision[], missing: Set<string>, async: boolean): LoadRevision {
  const byId = new Map(revs.map((r) => [r.id, r]))
  return (id) => {
    const rev = missing.has(id) ? undefined : byId.get(id)
    return async ? Promise.resolve(rev) : rev
  }
}

const arbGraph = fc.record({
  parents: fc.array(fc.array(fc.nat(50), { maxLength: 2 }), { minLength: 1, maxLength: 24 }),
  times: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 24 }),
  missing: fc.array(fc.nat(23), { maxLength: 3 }),
  async: fc.boolean(),
  firstParent: fc.boolean()
})

test('walkHistory: exactly the reachable revisions, each once, newest first (height, time, id)', async () => {
  await fc.assert(fc.asyncProperty(arbGraph, async ({ parents, times, missing, async, firstParent }) => {
    const revs = graph(parents, times)
    const head = revs[revs.length - 1] as Revision
    const gone = new Set(missing.map((i) => revs[i]?.id).filter((id): id is string => id !== undefined && id !== head.id))
    const walked = await all(walkHistory(head, loader(revs, gone, async), firstParent))
    const expected = [...ancestors(head, new Map(revs.map((r) => [r.id, r])), gone, firstParent)].sort(newestFirst)
    assert.equal(walked.map((r) => r.id), expected.map((r) => r.id))
  }), { numRuns: 300, seed: 10 })
})

test('mergeBase: the newest revision that both histories hold, or undefined when they never meet', async () => {
  await fc.assert(fc.asyncProperty(arbGraph, fc.nat(), fc.nat(), async ({ parents, times, missing, async }, ia, ib) => {
    const revs = graph(parents, times)
    const a = revs[ia % revs.length] as Revision
    const b = revs[ib % revs.length] as Revision
    const gone = new Set(missing.map((i) => revs[i]?.id).filter((id): id is string => id !== undefined && id !== a.id && id !== b.id))
    const byId = new Map(revs.map((r) => [r.id, r]))
    const ofB = ancestors(b, byId, gone)
    const common = [...ancestors(a, byId, gone)].filter((r) => ofB.has(r)).sort(newestFirst)
    const base = await mergeBase(a, b, loader(revs, gone, async))
    assert.is(base?.id, common[0]?.id)
  }), { numRuns: 500, seed: 11 })
})

/** A revision made by hand, for the shapes below. */
function rev (id: string, parents: string[], height: number, time = 0): Revision {
  return { id, key: 'k', parents, height, time }
}

test('walkHistory orders equal heights by time, then by id, and yields a revision reached twice once', async () => {
  const root = rev('r', [], 1)
  const x = rev('x', ['r'], 2, 5)
  const y = rev('y', ['r'], 2, 9)
  const z = rev('z', ['r'], 2, 9)
  const m = rev('m', ['x', 'y', 'z'], 3)
  const load = loader([root, x, y, z, m], new Set(), false)
  assert.equal((await all(walkHistory(m, load))).map((r) => r.id), ['m', 'z', 'y', 'x', 'r'])
  assert.equal((await all(walkHistory(m, load, true))).map((r) => r.id), ['m', 'x', 'r'])
})

test('walkHistory keeps a wide frontier in order (both children of a heap node are compared)', async () => {
  const roots = Array.from({ length: 40 }, (_, i) => rev(`r${(i * 17) % 40}`, [], 1, (i * 7919) % 13))
  const head = rev('head', roots.map((r) => r.id), 2)
  const walked = await all(walkHistory(head, loader([...roots, head], new Set(), false)))
  assert.equal(walked.map((r) => r.id), [head, ...[...roots].sort(newestFirst)].map((r) => r.id))
})

test('walkHistory with a loader that never finds a parent yields the head alone', async () => {
  const head = rev('h', ['gone'], 2)
  assert.equal((await all(walkHistory(head, () => undefined))).map((r) => r.id), ['h'])
})

test('mergeBase: a revision with itself, an ancestor, a criss-cross, and a create race with no common root', async () => {
  const r = rev('r', [], 1)
  const a = rev('a', ['r'], 2, 1)
  const b = rev('b', ['r'], 2, 2)
  const c = rev('c', ['a', 'b'], 3, 3)
  const d = rev('d', ['b', 'a'], 3, 4)
  const lone = rev('lone', [], 1)
  const load = loader([r, a, b, c, d, lone], new Set(), false)
  assert.is(await mergeBase(c, c, load), c)
  assert.is(await mergeBase(c, r, load), r)
  assert.is(await mergeBase(r, c, load), r)
  assert.is(await mergeBase(a, b, load), r)
  // Both a and b are common to c and d; b is the newer (later time at the same height).
  assert.is(await mergeBase(c, d, load), b)
  assert.is(await mergeBase(c, lone, load), undefined)
  assert.is(await mergeBase(lone, c, load), undefined)
})

test('mergeBase stops walking once one side has no ancestry left to share', async () => {
  // b's history was cut by compaction below it: once b is visited, nothing older can be
  // common, so the long chain under a must not be read to the root.
  const chain: Revision[] = [rev('c0', [], 1)]
  for (let i = 1; i < 50; i++) chain.push(rev(`c${i}`, [`c${i - 1}`], i + 1))
  const b = rev('b', ['cut'], 10)
  const loaded: string[] = []
  const byId = new Map([...chain, b].map((r) => [r.id, r]))
  const base = await mergeBase(chain[49] as Revision, b, (id) => { loaded.push(id); return byId.get(id) })
  assert.is(base, undefined)
  assert.not.ok(loaded.includes('c5'), `loaded ${loaded.join(', ')}`)
  // The same with the sides given the other way round.
  loaded.length = 0
  assert.is(await mergeBase(b, chain[49] as Revision, (id) => { loaded.push(id); return byId.get(id) }), undefined)
  assert.not.ok(loaded.includes('c5'), `loaded ${loaded.join(', ')}`)
})

test('mergeBase stops walking once the other side is all common: a long branch of one side only is not read', async () => {
  // a merges two chains p and q; b sits on p40 (its other parent cut). Once p40 is reached
  // from both sides, b's side has nothing of its own left, so q's chain is not read down.
  // b's id sorts first at its height, so b is walked before p41 reaches p40 from a's side.
  const p: Revision[] = [rev('p0', [], 1)]
  const q: Revision[] = [rev('q0', [], 1)]
  for (let i = 1; i < 50; i++) {
    p.push(rev(`p${i}`, [`p${i - 1}`], i + 1))
    q.push(rev(`q${i}`, [`q${i - 1}`], i + 1))
  }
  const a = rev('a', ['p49', 'q49'], 51)
  const b = rev('zb', ['p40', 'cut'], 42)
  const byId = new Map([...p, ...q, a, b].map((r) => [r.id, r]))
  const loaded: string[] = []
  assert.is((await mergeBase(a, b, (id) => { loaded.push(id); return byId.get(id) }))?.id, 'p40')
  // q41 is walked at p41's height and loads q40; nothing of q below it is read.
  assert.not.ok(loaded.includes('q39'), `loaded ${loaded.join(', ')}`)
})

test('mergeBase: the newest common revision even while both sides still hold older revisions of their own', async () => {
  // a and b each merged x with an old side revision (o1, o2); x is the base, not the root
  // both old revisions also lead to.
  const r = rev('r', [], 1)
  const o1 = rev('o1', ['r'], 2)
  const o2 = rev('o2', ['r'], 2)
  const x1 = rev('x1', ['r'], 2)
  const x2 = rev('x2', ['x1'], 3)
  const x = rev('x', ['x2'], 4)
  const a = rev('a', ['x', 'o1'], 5)
  const b = rev('b', ['x', 'o2'], 5)
  const load = loader([r, o1, o2, x1, x2, x, a, b], new Set(), false)
  assert.is((await mergeBase(a, b, load))?.id, 'x')
  assert.is((await mergeBase(b, a, load))?.id, 'x')
})

test('mergeBase: a revision one side reaches twice is not taken for common', async () => {
  // a's history is a diamond over s; b shares only the root r with it.
  const r = rev('r', [], 1)
  const s = rev('s', ['r'], 2)
  const p = rev('p', ['s'], 3)
  const q = rev('q', ['s'], 3)
  const a = rev('a', ['p', 'q'], 4)
  const b = rev('b', ['r'], 2)
  const load = loader([r, s, p, q, a, b], new Set(), false)
  assert.is((await mergeBase(a, b, load))?.id, 'r')
  assert.is((await mergeBase(b, a, load))?.id, 'r')
})

test.run()
