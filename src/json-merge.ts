import { canonicalJson, escapePointerToken, jsonEqual } from './json.js'
import type { JsonObject, JsonValue } from './json.js'
import { InvalidInputError } from './errors.js'
import type { ConflictPlace } from './errors.js'

/** One place changed differently on both sides (the same shape errors report). */
export type MergeConflict = ConflictPlace

/** What a three-way merge gives: the merged value (undefined = absent/deleted) and every conflict found. */
export interface MergeResult {
  value: JsonValue | undefined
  conflicts: MergeConflict[]
}

/** The side whose value settles a conflicting place. */
export type ConflictSide = 'ours' | 'theirs'

/**
 * How to settle one conflicting place: take a side's value there ('base' = as it was at the
 * common ancestor), or write `{ value }`. Where the chosen side has nothing, the place ends
 * up absent; at a `range` place, `value` must be an array (the elements that go there).
 */
export type PlaceResolution = 'ours' | 'theirs' | 'base' | { value: JsonValue }

/** Options of mergeJson. */
export interface MergeOptions {
  /** Settle each conflicting place with this side; the conflicts are still listed. Default: ours is taken, callers fail. */
  onConflict?: ConflictSide | undefined
  /**
   * Settle conflicting places by their JSON Pointer (the `path` a conflict reports); settled
   * places are not listed as conflicts. A pointer that names no conflicting place throws
   * InvalidInputError, so a typo cannot pass unnoticed.
   */
  resolutions?: Record<string, PlaceResolution> | undefined
}

/**
 * Three-way merge of JSON values: objects member by member, arrays diff3-style, anything
 * changed differently on both sides a conflict. Pure: inputs are never mutated, though the
 * result may share unchanged subtrees with them. `undefined` for a side means absent/deleted.
 */
export function mergeJson (
  base: JsonValue | undefined,
  ours: JsonValue | undefined,
  theirs: JsonValue | undefined,
  options: MergeOptions = {}
): MergeResult {
  const resolutions = options.resolutions === undefined ? undefined : checkResolutions(options.resolutions)
  const ctx: MergeContext = { conflicts: [], side: options.onConflict === 'theirs' ? 'theirs' : 'ours', resolutions, settled: [] }
  const value = mergeValue(base, ours, theirs, undefined, ctx)
  if (resolutions !== undefined && ctx.settled.length < resolutions.size) {
    const unknown = [...resolutions.keys()].filter((path) => !ctx.settled.some((place) => place.path === path))
    const places = [...ctx.settled, ...ctx.conflicts].map((place) => pointerLabel(place.path))
    throw new InvalidInputError(
      `resolutions name ${unknown.map(pointerLabel).join(', ')}, which ${unknown.length === 1 ? 'is not a conflicting place' : 'are not conflicting places'} of this merge. ` +
      (places.length === 0 ? 'The merge has no conflicts: leave resolutions out.' : `Name the places as the conflicts report them: ${places.join(', ')}.`))
  }
  return { value, conflicts: ctx.conflicts }
}

/** The root pointer '' has no visible form of its own. */
function pointerLabel (path: string): string {
  return path === '' ? "'' (the whole value)" : path
}

/** A resolutions option, checked: pointers well-formed, each choice one of the documented shapes. */
export function checkResolutions (resolutions: unknown): Map<string, PlaceResolution> {
  if (resolutions === null || typeof resolutions !== 'object' || Array.isArray(resolutions)) {
    throw new InvalidInputError(`Option resolutions must be an object mapping JSON Pointers to 'ours', 'theirs', 'base' or { value }, got ${resolutions === null ? 'null' : Array.isArray(resolutions) ? 'an array' : typeof resolutions}.`)
  }
  const checked = new Map<string, PlaceResolution>()
  for (const [path, choice] of Object.entries(resolutions)) {
    if (path !== '' && !path.startsWith('/')) {
      throw new InvalidInputError(`resolutions key ${JSON.stringify(path)} is not a JSON Pointer: write it as the conflict's path, '' for the whole value or starting with '/' (like /a/b).`)
    }
    const isValue = choice !== null && typeof choice === 'object' && !Array.isArray(choice) && Object.keys(choice).length === 1 && Object.hasOwn(choice, 'value')
    if (choice !== 'ours' && choice !== 'theirs' && choice !== 'base' && !isValue) {
      throw new InvalidInputError(`resolutions[${JSON.stringify(path)}] must be 'ours', 'theirs', 'base' or { value: <json> }, got ${JSON.stringify(choice) ?? String(choice)}.`)
    }
    checked.set(path, choice as PlaceResolution)
  }
  return checked
}

interface MergeContext {
  conflicts: MergeConflict[]
  side: ConflictSide
  resolutions: Map<string, PlaceResolution> | undefined
  /** Conflicting places a resolution settled. */
  settled: MergeConflict[]
}

/** Merge where any side may be absent; the absent cases are settled here so mergePresent deals only in values. */
function mergeValue (
  base: JsonValue | undefined,
  ours: JsonValue | undefined,
  theirs: JsonValue | undefined,
  pointer: Pointer,
  ctx: MergeContext
): JsonValue | undefined {
  if (base !== undefined && ours !== undefined && theirs !== undefined) return mergePresent(base, ours, theirs, pointer, ctx)
  if (jsonEqual(ours, theirs)) return ours
  if (jsonEqual(ours, base)) return theirs
  if (jsonEqual(theirs, base)) return ours
  // Two whole values created independently (a create-only race on a key) merge as if both
  // started empty: their members combine and only members set differently conflict. Only at
  // the root: a member added on both sides inside a merge is a conflict, since combining the
  // two additions would invent an object neither side wrote and lose what one side left out.
  if (pointer === undefined && base === undefined && ours !== undefined && theirs !== undefined && isObject(ours) && isObject(theirs)) {
    return mergeObjects({}, ours, theirs, pointer, ctx)
  }
  // Both sides changed and at least one is absent: delete vs edit, or add vs a different add.
  return conflict(ctx, 'value', pointer, base, ours, theirs)
}

function mergePresent (base: JsonValue, ours: JsonValue, theirs: JsonValue, pointer: Pointer, ctx: MergeContext): JsonValue {
  // Three objects merge member by member without comparing them whole first: a side equal
  // to the base merges to the other side's content all the same, and a large object with
  // one changed member would otherwise be walked up to three more times.
  if (isObject(base) && isObject(ours) && isObject(theirs)) return ours === theirs || theirs === base ? ours : ours === base ? theirs : mergeObjects(base, ours, theirs, pointer, ctx)
  if (jsonEqual(ours, theirs)) return ours
  if (jsonEqual(ours, base)) return theirs
  if (jsonEqual(theirs, base)) return ours
  if (Array.isArray(base) && Array.isArray(ours) && Array.isArray(theirs)) return mergeArrays(base, ours, theirs, pointer, ctx)
  // Scalars, or a change of type on at least one side: there is no finer place to merge at.
  return conflict(ctx, 'value', pointer, base, ours, theirs)
}

/**
 * Record a conflict and return the value that stands in its place: the resolution given
 * for it (then it is settled, not a conflict), else the chosen side's.
 */
function conflict<T extends JsonValue | undefined> (
  ctx: MergeContext,
  kind: ConflictPlace['kind'],
  at: Pointer,
  base: T,
  ours: T,
  theirs: T
): T {
  // Absent sides are left out rather than set to undefined, so `'ours' in c` and JSON output say the same thing.
  const found: MergeConflict = { kind, path: pointerText(at) }
  if (base !== undefined) found.base = base
  if (ours !== undefined) found.ours = ours
  if (theirs !== undefined) found.theirs = theirs
  const resolution = ctx.resolutions?.get(found.path)
  if (resolution === undefined) {
    ctx.conflicts.push(found)
    return ctx.side === 'theirs' ? theirs : ours
  }
  ctx.settled.push(found)
  if (resolution === 'base') return base
  if (resolution === 'ours') return ours
  if (resolution === 'theirs') return theirs
  if (kind === 'range' && !Array.isArray(resolution.value)) {
    throw new InvalidInputError(`resolutions[${JSON.stringify(found.path)}] settles a range of array elements, so its value must be an array of the elements to put there, got ${JSON.stringify(resolution.value)}.`)
  }
  return resolution.value as T
}

function isObject (value: JsonValue): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** An own member or undefined: `obj['__proto__']` would otherwise read Object.prototype for a missing member. */
function member (obj: JsonObject, name: string): JsonValue | undefined {
  return Object.hasOwn(obj, name) ? obj[name] : undefined
}

function mergeObjects (base: JsonObject, ours: JsonObject, theirs: JsonObject, pointer: Pointer, ctx: MergeContext): JsonObject {
  const names = Object.keys(ours)
  if (sameNames(names, Object.keys(base)) && sameNames(names, Object.keys(theirs))) return mergeAligned(names, base, ours, theirs, pointer, ctx)
  const result: JsonObject = {}
  // Ours' member order first, then members only theirs has, then those only base has;
  // base-only members end up absent on both sides or conflicting, so they rarely survive.
  for (const name of names) {
    put(result, name, mergeValue(member(base, name), ours[name], member(theirs, name), { up: pointer, token: name }, ctx))
  }
  for (const name of Object.keys(theirs)) {
    if (!Object.hasOwn(ours, name)) put(result, name, mergeValue(member(base, name), undefined, theirs[name], { up: pointer, token: name }, ctx))
  }
  for (const name of Object.keys(base)) {
    if (!Object.hasOwn(ours, name) && !Object.hasOwn(theirs, name)) put(result, name, mergeValue(base[name], undefined, undefined, { up: pointer, token: name }, ctx))
  }
  return result
}

/**
 * Three objects with the same members in the same order (the usual case: revisions read
 * back from canonical JSON, and a write that changed some members of its parent), merged
 * by position. Looking members up by name costs more than the rest of a merge of a large
 * flat object, and a member identical on two sides is settled without a call; the result
 * is ours itself when nothing of theirs gets in, else a copy of ours with those members set.
 */
function mergeAligned (names: string[], base: JsonObject, ours: JsonObject, theirs: JsonObject, pointer: Pointer, ctx: MergeContext): JsonObject {
  const baseValues = Object.values(base)
  const ourValues = Object.values(ours)
  const theirValues = Object.values(theirs)
  let result: JsonObject | undefined
  for (let i = 0; i < names.length; i++) {
    // A member holding undefined (not JSON, but a caller may pass one) counts as absent, as in mergeValue.
    const o = ourValues[i]
    const b = baseValues[i]
    const t = theirValues[i]
    const name = names[i] as string
    const merged = o === t || t === b ? o : o === b ? t : mergeValue(b, o, t, { up: pointer, token: name }, ctx)
    if (merged === o && o !== undefined) continue
    result ??= { ...ours }
    if (merged === undefined) delete result[name]
    else put(result, name, merged)
  }
  return result ?? ours
}

/** True when two lists of member names are the same, in the same order. */
function sameNames (a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function put (result: JsonObject, name: string, value: JsonValue | undefined): void {
  if (value === undefined) return
  // Assigning a "__proto__" member would set the prototype instead of adding a member.
  if (name === '__proto__') Object.defineProperty(result, name, { value, enumerable: true, writable: true, configurable: true })
  else result[name] = value
}

/**
 * Where in the document a merge is, as a chain of reference tokens. The RFC 6901 text is
 * built only for a conflict, so merging a large clean object costs no string per member.
 */
type Pointer = { up: Pointer, token: string | number } | undefined

function pointerText (at: Pointer): string {
  let text = ''
  for (let p = at; p !== undefined; p = p.up) text = `/${typeof p.token === 'number' ? p.token : escapePointerToken(p.token)}${text}`
  return text
}

/**
 * diff3: match base to each side by longest common subsequence; base elements matched on
 * both sides are sync points, and each stretch between them is merged as one chunk.
 */
function mergeArrays (base: JsonValue[], ours: JsonValue[], theirs: JsonValue[], pointer: Pointer, ctx: MergeContext): JsonValue[] {
  const baseKeys = base.map(canonicalJson)
  const oursKeys = ours.map(canonicalJson)
  const theirsKeys = theirs.map(canonicalJson)
  const inOurs = matchIndexes(baseKeys, oursKeys)
  const inTheirs = matchIndexes(baseKeys, theirsKeys)

  const result: JsonValue[] = []
  let b = 0
  let o = 0
  let t = 0
  // The loop runs once past the end: (base.length, ours.length, theirs.length) is the closing sentinel.
  for (let i = 0; i <= base.length; i++) {
    let oi = ours.length
    let ti = theirs.length
    if (i < base.length) {
      const mo = inOurs[i]
      const mt = inTheirs[i]
      if (mo === undefined || mt === undefined) continue
      oi = mo
      ti = mt
    }
    if (b < i || o < oi || t < ti) {
      const merged = mergeChunk(
        { values: base.slice(b, i), keys: baseKeys.slice(b, i) },
        { values: ours.slice(o, oi), keys: oursKeys.slice(o, oi) },
        { values: theirs.slice(t, ti), keys: theirsKeys.slice(t, ti) },
        pointer, b, ctx
      )
      // A loop, not push(...merged): spreading a long chunk as arguments can overflow the stack.
      for (const element of merged) result.push(element)
    }
    const synced = ours[oi]
    if (i < base.length && synced !== undefined) result.push(synced)
    b = i + 1
    o = oi + 1
    t = ti + 1
  }
  return result
}

/** One side's stretch of an array between two sync points, with the canonical key of each element. */
interface Stretch {
  values: JsonValue[]
  keys: string[]
}

/** Merge one diff3 chunk of the array at `pointer`; `start`, the base index it begins at, names it in pointers. */
function mergeChunk (base: Stretch, ours: Stretch, theirs: Stretch, pointer: Pointer, start: number, ctx: MergeContext): JsonValue[] {
  if (sameKeys(ours.keys, base.keys)) return theirs.values
  if (sameKeys(theirs.keys, base.keys)) return ours.values
  if (sameKeys(ours.keys, theirs.keys)) return ours.values
  // Both sides inserted at the same place (e.g. both appended): neither insert is lost.
  if (base.values.length === 0) return [...ours.values, ...theirs.values]
  const length = base.values.length
  if (ours.values.length === length && theirs.values.length === length) {
    // Same shape on all sides: element k of each side is taken to be one element edited, so
    // edits of different members of that element both survive. Lengths are equal, hence the casts.
    return base.values.map((element, k) => mergePresent(
      element, ours.values[k] as JsonValue, theirs.values[k] as JsonValue, { up: pointer, token: start + k }, ctx
    ))
  }
  return conflict(ctx, 'range', { up: pointer, token: start }, base.values, ours.values, theirs.values)
}

function sameKeys (a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((key, k) => key === b[k])
}

/** Above this many DP cells the middle of an array diff is left unmatched (see matchIndexes). */
const MAX_LCS_CELLS = 4_000_000

/**
 * For each index of `from`, the index of the element of `to` it is matched with by a longest
 * common subsequence (undefined where unmatched). Matches are increasing in both arrays.
 */
export function matchIndexes (from: string[], to: string[]): (number | undefined)[] {
  const matches = new Array<number | undefined>(from.length).fill(undefined)
  // Common prefix and suffix first: they are matched in any LCS worth having, and the usual
  // edit (a few elements changed in a long array) leaves only a small middle for the DP.
  let start = 0
  while (start < from.length && start < to.length && from[start] === to[start]) {
    matches[start] = start
    start++
  }
  let fromEnd = from.length
  let toEnd = to.length
  while (fromEnd > start && toEnd > start && from[fromEnd - 1] === to[toEnd - 1]) {
    fromEnd--
    toEnd--
    matches[fromEnd] = toEnd
  }
  const n = fromEnd - start
  const m = toEnd - start
  // The DP is O(n*m) in time and memory. Past the bound, the whole middle stays unmatched: it
  // becomes one chunk, which merges cleanly if only one side touched it and conflicts otherwise.
  // Coarser than a true LCS, but bounded, and never a wrong merge.
  if (n === 0 || m === 0 || n * m > MAX_LCS_CELLS) return matches

  // lengths[i * (m + 1) + j] = LCS length of from[start + i ..] and to[start + j ..].
  // Uint16 is enough: an LCS is at most min(n, m), and n * m <= 4e6 keeps min(n, m) <= 2000.
  const width = m + 1
  const lengths = new Uint16Array((n + 1) * width)
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * width + j] = from[start + i] === to[start + j]
        ? (lengths[(i + 1) * width + j + 1] ?? 0) + 1
        : Math.max(lengths[(i + 1) * width + j] ?? 0, lengths[i * width + j + 1] ?? 0)
    }
  }
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (from[start + i] === to[start + j]) {
      matches[start + i] = start + j
      i++
      j++
    } else if ((lengths[(i + 1) * width + j] ?? 0) >= (lengths[i * width + j + 1] ?? 0)) {
      i++
    } else {
      j++
    }
  }
  return matches
}
