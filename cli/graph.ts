/**
 * The ASCII history graph of `revkv log --graph`, drawn the way `git log --graph` draws it:
 *
 *   *   merge
 *   |\
 *   | * side
 *   * | main
 *   |/
 *   * base
 *
 * Pure functions of the revisions, newest first (any order where children come before
 * their parents works; store.log() gives that). Each column ("lane") waits for one
 * revision id. A revision is drawn as `*` in its lane; a merge fans out with `\`; lanes
 * that wait for the same revision join with `/` as soon as they can, one column per row,
 * so no two edges ever meet in one cell.
 */

/** What the graph needs of a revision. */
export interface GraphNode {
  id: string
  parents: readonly string[]
}

/** The revision each lane waits for, left to right; null marks a lane that just ended. */
export type Lanes = ReadonlyArray<string | null>

/** The rows drawn for one revision, and the lanes left for the next one. */
export interface GraphStep {
  /** The row with `*`, beside which the revision's first text line goes. */
  commit: string
  /** Rows drawn after it: a merge fanning out, then lanes joining or closing gaps. */
  after: string[]
  /** The row repeated beside any further text lines (the lanes as they are after `after`). */
  padding: string
  /** The lanes for the next revision. */
  lanes: Lanes
}

/** Draw one revision given the lanes left by the previous ones. */
export function graphStep (before: Lanes, node: GraphNode): GraphStep {
  const lanes: Array<string | null> = [...before]
  let at = lanes.indexOf(node.id)
  if (at === -1) {
    // Not awaited by anything drawn so far: a head of its own, in a new lane on the right.
    at = lanes.length
    lanes.push(node.id)
  }
  const commit = lanes.map((_, k) => k === at ? '*' : '|').join(' ')
  const after: string[] = []
  const [first, ...more] = node.parents
  lanes[at] = first ?? null
  // Each further parent gets a new lane just right of this one, and the lanes to its right
  // step aside (revkv merges have two parents; more fan out one row each, last first, so
  // the lanes end up in parent order).
  for (const parent of more.reverse()) {
    const chars = blank(lanes.length + 1)
    for (let k = 0; k < lanes.length; k++) {
      if (k <= at) chars[2 * k] = '|'
      else chars[2 * k + 1] = '\\'
    }
    chars[2 * at + 1] = '\\'
    after.push(text(chars))
    lanes.splice(at + 1, 0, parent)
  }
  let current = trimEnded(lanes)
  while (needsCollapse(current)) {
    const { rows, next } = collapse(current)
    after.push(...rows)
    current = trimEnded(next)
  }
  return { commit, after, padding: current.map(() => '|').join(' '), lanes: current }
}

/** Put text lines beside a revision's graph rows, padded so the text of one revision lines up. */
export function besideGraph (step: GraphStep, lines: readonly string[]): string[] {
  const rows = [step.commit, ...step.after]
  const width = Math.max(step.padding.length, ...rows.map((row) => row.length))
  const out: string[] = []
  for (let i = 0; i < Math.max(rows.length, lines.length); i++) {
    const row = rows[i] ?? step.padding
    const line = lines[i]
    out.push(line === undefined || line === '' ? row.trimEnd() : `${row.padEnd(width)} ${line}`)
  }
  return out
}

/** The whole graph with each revision's text lines beside it. */
export function drawGraph<T extends GraphNode> (nodes: Iterable<T>, textOf: (node: T) => readonly string[]): string[] {
  const out: string[] = []
  let lanes: Lanes = []
  for (const node of nodes) {
    const step = graphStep(lanes, node)
    out.push(...besideGraph(step, textOf(node)))
    lanes = step.lanes
  }
  return out
}

/** True while some lane has ended (a gap) or two lanes wait for the same revision. */
function needsCollapse (lanes: Lanes): boolean {
  return lanes.includes(null) || new Set(lanes).size !== lanes.length
}

/** Lanes ended at the right edge leave no gap to close, so they are simply dropped. */
function trimEnded (lanes: Lanes): Array<string | null> {
  let end = lanes.length
  while (end > 0 && lanes[end - 1] === null) end--
  return lanes.slice(0, end)
}

/**
 * One row of joining: every lane moves at most one column left. A lane joins the lane
 * just left of it that waits for the same revision (`|/`); gaps close by shifting the
 * lanes right of them (`/`). A lane whose partner is further left crosses the lanes
 * between underneath (`_`) and arrives in a second row (`|/|`), as git draws it; only
 * one such crossing per row, and only when nothing to its left moved, so edges never meet.
 */
function collapse (lanes: Lanes): { rows: string[], next: Array<string | null> } {
  const next: string[] = []
  const chars = blank(lanes.length)
  let moved = false
  let arrival: number | undefined
  for (let j = 0; j < lanes.length; j++) {
    const id = lanes[j]
    if (id === null || id === undefined) {
      moved = true
      continue
    }
    const partner = next.indexOf(id)
    if (partner !== -1 && partner === j - 1) {
      chars[2 * j - 1] = '/'
      moved = true
    } else if (partner !== -1 && !moved) {
      chars[2 * j - 1] = '/'
      for (let k = partner + 1; k <= j - 2; k++) chars[2 * k + 1] = '_'
      arrival = partner
      moved = true
    } else if (next.length === j) {
      chars[2 * j] = '|'
      next.push(id)
    } else {
      chars[2 * j - 1] = '/'
      next.push(id)
    }
  }
  const rows = [text(chars)]
  if (arrival !== undefined) {
    const tail = blank(next.length)
    for (let k = 0; k < next.length; k++) tail[2 * k] = '|'
    tail[2 * arrival + 1] = '/'
    rows.push(text(tail))
  }
  return { rows, next }
}

function blank (lanes: number): string[] {
  return new Array<string>(Math.max(0, 2 * lanes)).fill(' ')
}

function text (chars: string[]): string {
  return chars.join('').trimEnd()
}
