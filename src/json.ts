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
  const parts: string[] = []
  write(value, '', parts, new Set())
  return parts.join('')
}

function write (value: unknown, pointer: string, out: string[], path: Set<object>): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value))
      return
    case 'boolean':
      out.push(value ? 'true' : 'false')
      return
    case 'number':
      if (!Number.isFinite(value)) throw new JsonShapeError(pointer, `is ${value}, which JSON cannot represent; use a finite number, a string or null`)
      // -0 serializes as 0 in JSON.stringify; keep that, so -0 and 0 hash alike.
      out.push(JSON.stringify(value))
      return
    case 'object':
      break
    default:
      throw new JsonShapeError(pointer, `is of type ${typeof value}, which is not JSON; use an object, array, string, finite number, boolean or null`)
  }
  if (value === null) {
    out.push('null')
    return
  }
  if (path.has(value)) throw new JsonShapeError(pointer, 'refers back to itself (a cycle), which JSON cannot represent')
  path.add(value)
  if (Array.isArray(value)) {
    out.push('[')
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',')
      write(value[i], `${pointer}/${i}`, out, path)
    }
    out.push(']')
  } else {
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'unknown'
      throw new JsonShapeError(pointer, `is a ${name} instance, not a plain object; convert it to plain JSON first`)
    }
    const record = value as Record<string, unknown>
    const members = Object.keys(record).sort()
    out.push('{')
    let first = true
    for (const member of members) {
      const child = record[member]
      // JSON.stringify drops undefined members; doing the same keeps {a: undefined} storable
      // and equal to {} instead of failing a value that round-trips through JSON anyway.
      if (child === undefined) continue
      if (!first) out.push(',')
      first = false
      out.push(JSON.stringify(member), ':')
      write(child, `${pointer}/${escapePointerToken(member)}`, out, path)
    }
    out.push('}')
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
