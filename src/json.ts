/** A JSON value as revkv stores it: what `JSON.parse` can return, with finite numbers only. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject

/** A JSON object: string members mapping to JSON values. */
export interface JsonObject {
  [member: string]: JsonValue
}

/** Why a value cannot be stored as JSON, with the JSON Pointer of the offending part. */
export class JsonShapeError extends Error {
  constructor (readonly pointer: string, readonly reason: string) {
    super(`${pointer === '' ? 'the value' : `the value at ${pointer}`} ${reason}`)
    this.name = 'JsonShapeError'
  }
}

/**
 * Why `text` cannot be stored, or undefined when it can. A lone UTF-16 surrogate has no
 * UTF-8 form: LevelDB would store U+FFFD in its place, so distinct strings would become
 * one ('\ud800', '\udc00' and '\ufffd' the same key). This is the one rule every string
 * that becomes part of a stored key or record goes through.
 */
export function unstorableText (text: string): string | undefined {
  if (text.isWellFormed()) return undefined
  const at = text.search(/\p{Cs}/u)
  const unit = text.charCodeAt(at).toString(16)
  return `contains a lone UTF-16 surrogate (\\u${unit} at index ${at}), which has no UTF-8 form and would be stored as U+FFFD; ` +
    'pass well-formed Unicode (String.prototype.toWellFormed() replaces lone surrogates)'
}

/** Escape one JSON Pointer reference token (RFC 6901). */
export function escapePointerToken (token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1')
}

/**
 * Serialize a value canonically: object members sorted by code unit, no white space.
 * Equal JSON values always give equal strings, which makes the output fit for hashing
 * (revision ids) and for cheap deep equality. Throws JsonShapeError for anything that
 * is not JSON (undefined, functions, NaN, Infinity, class instances, cycles).
 */
export function canonicalJson (value: unknown): string {
  try {
    // Most values already have their members in order: then a check without allocation
    // plus the native JSON.stringify beats building the string piece by piece.
    return isCanonical(value, 0) ? JSON.stringify(value) : fast(value, 0)
  } catch (err) {
    // The fast path keeps no pointers; on failure, walk again to say exactly where.
    // A RangeError is a stack overflow: a cycle, or nesting deeper than the stack allows.
    if (err === NOT_JSON || err instanceof RangeError) {
      locate(value, '', new Set())
      throw new JsonShapeError('', `is nested too deeply to serialize; keep it under ${MAX_DEPTH} levels`)
    }
    throw err
  }
}

const NOT_JSON = new Error('not JSON')
/** Deeper than this is taken for a cycle by the fast path; locate() then tells which. */
const MAX_DEPTH = 1000

/** True if JSON.stringify would already write `value` canonically; throws NOT_JSON for non-JSON. */
function isCanonical (value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw NOT_JSON
      return true
    case 'boolean':
      return true
    case 'number':
      if (!Number.isFinite(value)) throw NOT_JSON
      return true
    case 'object':
      break
    default:
      throw NOT_JSON
  }
  if (value === null) return true
  if (depth > MAX_DEPTH) throw NOT_JSON
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isCanonical(value[i], depth + 1)) return false
    return true
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) throw NOT_JSON
  let previous: string | undefined
  for (const member in value) {
    if (!member.isWellFormed()) throw NOT_JSON
    if (previous !== undefined && !(previous < member)) return false
    previous = member
    const child = (value as Record<string, unknown>)[member]
    if (child === undefined || !isCanonical(child, depth + 1)) return false
  }
  return true
}

function fast (value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw NOT_JSON
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) throw NOT_JSON
      return JSON.stringify(value)
    case 'object':
      break
    default:
      throw NOT_JSON
  }
  if (value === null) return 'null'
  if (depth > MAX_DEPTH) throw NOT_JSON
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + fast(value[i], depth + 1)
    return out + ']'
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) throw NOT_JSON
  const record = value as Record<string, unknown>
  const members = Object.keys(record).sort()
  let out = '{'
  let first = true
  for (const member of members) {
    const child = record[member]
    // JSON.stringify drops undefined members; doing the same keeps {a: undefined} storable
    // and equal to {} instead of failing a value that round-trips through JSON anyway.
    if (child === undefined) continue
    if (!member.isWellFormed()) throw NOT_JSON
    out += (first ? '' : ',') + JSON.stringify(member) + ':' + fast(child, depth + 1)
    first = false
  }
  return out + '}'
}

/** Throw a JsonShapeError naming the first part of `value` that is not JSON. */
function locate (value: unknown, pointer: string, path: Set<object>): void {
  switch (typeof value) {
    case 'string': {
      const why = unstorableText(value)
      if (why !== undefined) throw new JsonShapeError(pointer, why)
      return
    }
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) throw new JsonShapeError(pointer, `is ${value}, which JSON cannot represent; use a finite number, a string or null`)
      return
    case 'object':
      break
    default:
      throw new JsonShapeError(pointer, `is of type ${typeof value}, which is not JSON; use an object, array, string, finite number, boolean or null`)
  }
  if (value === null) return
  if (path.has(value)) throw new JsonShapeError(pointer, 'refers back to itself (a cycle), which JSON cannot represent')
  if (path.size > MAX_DEPTH) throw new JsonShapeError(pointer, `is nested more than ${MAX_DEPTH} levels deep; flatten the value`)
  path.add(value)
  if (Array.isArray(value)) {
    value.forEach((child, i) => { locate(child, `${pointer}/${i}`, path) })
  } else {
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'unknown'
      throw new JsonShapeError(pointer, `is a ${name} instance, not a plain object; convert it to plain JSON first`)
    }
    for (const [member, child] of Object.entries(value)) {
      if (child === undefined) continue
      const why = unstorableText(member)
      // The member name itself goes into the message escaped: printed raw it would show as U+FFFD.
      if (why !== undefined) throw new JsonShapeError(pointer, `has a member name ${JSON.stringify(member)} that ${why}`)
      locate(child, `${pointer}/${escapePointerToken(member)}`, path)
    }
  }
  path.delete(value)
}

/** Deep equality of two JSON values (undefined stands for "absent" and equals only itself). */
export function jsonEqual (a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || a === null || b === null) return false
  if (typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ak = Object.keys(a)
  if (ak.length !== Object.keys(b).length) return false
  for (const k of ak) {
    if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false
  }
  return true
}

/** Freeze a parsed JSON value and everything inside it, so shared revisions cannot be mutated. */
export function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
