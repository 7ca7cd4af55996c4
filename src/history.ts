import type { Revision } from './revision.js'

/**
 * Loads a revision that history points to, of `key` (walks pass it so a damaged record's
 * error can name the key). Undefined means history was cut there by compaction (like a
 * shallow Git clone): walks stop at that parent.
 */
export type LoadRevision = (id: string, key?: string) => Revision | undefined | Promise<Revision | undefined>

/** Newest first: greater height, then later time, then larger id (so the order is total and stable). */
function newer (a: Revision, b: Revision): boolean {
  if (a.height !== b.height) return a.height > b.height
  if (a.time !== b.time) return a.time > b.time
  return a.id > b.id
}

/** A binary max-heap of revisions ordered by `newer`. */
class RevisionHeap {
  readonly #items: Revision[] = []

  get size (): number {
    return this.#items.length
  }

  push (rev: Revision): void {
    const items = this.#items
    items.push(rev)
    let i = items.length - 1
    while (i > 0) {
      const up = (i - 1) >> 1
      if (!newer(items[i] as Revision, items[up] as Revision)) break
      ;[items[i], items[up]] = [items[up] as Revision, items[i] as Revision]
      i = up
    }
  }

  pop (): Revision | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let best = i
        if (l < items.length && newer(items[l] as Revision, items[best] as Revision)) best = l
        if (r < items.length && newer(items[r] as Revision, items[best] as Revision)) best = r
        if (best === i) break
        ;[items[i], items[best]] = [items[best] as Revision, items[i] as Revision]
        i = best
      }
    }
    return top
  }
}

/**
 * Every revision reachable from `head`, newest first, each once.
 *
 * Memory is bounded by the frontier, not the history: heights strictly decrease along
 * parent links and revisions are visited highest first, so once a revision is visited
 * every revision that points to it has been visited too, and it can never be queued again.
 */
export async function * walkHistory (head: Revision, load: LoadRevision, firstParent = false): AsyncGenerator<Revision> {
  const heap = new RevisionHeap()
  const queued = new Set<string>([head.id])
  heap.push(head)
  for (let rev = heap.pop(); rev !== undefined; rev = heap.pop()) {
    queued.delete(rev.id)
    yield rev
    const parents = firstParent ? rev.parents.slice(0, 1) : rev.parents
    for (const id of parents) {
      if (queued.has(id)) continue
      queued.add(id)
      const loaded = load(id, rev.key)
      // Awaiting only real promises: a walk through cached revisions stays synchronous.
      const parent = loaded instanceof Promise ? await loaded : loaded
      if (parent !== undefined) heap.push(parent)
    }
  }
}

/**
 * The nearest common ancestor of two revisions of one key (the base of a three-way merge),
 * or undefined when their histories never meet. Revisions are visited highest first, so a
 * revision's marks are final when it is visited: every revision above it came first.
 */
export async function mergeBase (a: Revision, b: Revision, load: LoadRevision): Promise<Revision | undefined> {
  if (a.id === b.id) return a
  const BOTH = 3
  const marks = new Map<string, number>([[a.id, 1], [b.id, 2]])
  const heap = new RevisionHeap()
  heap.push(a)
  heap.push(b)
  // How many revisions on the heap carry only mark 1 or only mark 2: once either side has
  // none left, its ancestry is exhausted and nothing further can be common (this ends the
  // walk early where compaction cut one side's history short; see history-mutants.test).
  const onlyFrom = new Map<number, number>([[1, 1], [2, 1]])
  const count = (mark: number, delta: number): void => { onlyFrom.set(mark, (onlyFrom.get(mark) ?? 0) + delta) }
  for (let rev = heap.pop(); rev !== undefined; rev = heap.pop()) {
    const mark = marks.get(rev.id) ?? 0
    if (mark === BOTH) return rev
    // As in walkHistory, a visited revision is never reached again, so its mark can go.
    marks.delete(rev.id)
    count(mark, -1)
    for (const id of rev.parents) {
      const before = marks.get(id)
      if (before === undefined) {
        const loaded = load(id, rev.key)
        // Awaiting only real promises: a merge of a hot key walks through the revisions of
        // the batch being decided, all in memory, and a microtask per step would dominate.
        const parent = loaded instanceof Promise ? await loaded : loaded
        if (parent === undefined) continue
        marks.set(id, mark)
        count(mark, 1)
        heap.push(parent)
      } else if (before !== BOTH && before !== mark) {
        marks.set(id, BOTH)
        count(before, -1)
      }
    }
    if (onlyFrom.get(1) === 0 || onlyFrom.get(2) === 0) {
      // A revision marked by both may still be waiting on the heap.
      for (let next = heap.pop(); next !== undefined; next = heap.pop()) {
        if (marks.get(next.id) === BOTH) return next
      }
      return undefined
    }
  }
  return undefined
}
