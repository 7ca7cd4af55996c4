/** A JSON value as revkv stores it: what `JSON.parse` can return, with finite numbers only. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject

/** A JSON object: string members mapping to JSON values. */
export interface JsonObject {
  [member: string]: JsonValue
}

/** Why a value cannot be stored as JSON, with the JSON Pointer of the offending part. */
export class JsonShapeError extends Error {
  constructor (readonly pointer: string, readonly reason: string) {
    super(`${pointer === '' ? 'the value' : `the value at ${shortPointer(pointer)}`} ${reason}`)
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

/**
 * A pointer as a message shows it: deep ones keep their first three and last tokens, so
 * an error about a value nested 1,000 levels stays one readable line (the full pointer
 * is still on the error's `pointer`).
 */
function shortPointer (pointer: string): string {
  if (pointer.length <= 80) return pointer
  const tokens = pointer.split('/')
  return `${tokens.slice(0, 4).join('/')}/…/${tokens[tokens.length - 1] ?? ''} (${tokens.length - 1} levels down)`
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

/**
 * How deeply a value may nest arrays and objects (`[[1]]` is 2 levels). Deeper is refused,
 * everywhere a value or JSON text comes in, before recursive code could overflow the stack;
 * the fast path below also takes it for a cycle, and locate() then tells which.
 */
export const MAX_DEPTH = 1000

/**
 * What `value` is to the serializers, with every rule that makes a value unstorable checked
 * here, once for all of them: a primitive (a well-formed string, a finite number, a boolean,
 * null), an array, or a plain object, nested less than MAX_DEPTH. Throws NOT_JSON otherwise.
 */
function kindOf (value: unknown, depth: number): 'primitive' | 'array' | 'object' {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw NOT_JSON
      return 'primitive'
    case 'boolean':
      return 'primitive'
    case 'number':
      if (!Number.isFinite(value)) throw NOT_JSON
      return 'primitive'
    case 'object':
      break
    default:
      throw NOT_JSON
  }
  if (value === null) return 'primitive'
  if (depth >= MAX_DEPTH) throw NOT_JSON
  if (Array.isArray(value)) return 'array'
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) throw NOT_JSON
  return 'object'
}

/** True if JSON.stringify would already write `value` canonically; throws NOT_JSON for non-JSON. */
function isCanonical (value: unknown, depth: number): boolean {
  const kind = kindOf(value, depth)
  if (kind === 'primitive') return true
  if (kind === 'array') {
    const list = value as unknown[]
    for (let i = 0; i < list.length; i++) if (!isCanonical(list[i], depth + 1)) return false
    return true
  }
  let previous: string | undefined
  for (const member in value as object) {
    if (!member.isWellFormed()) throw NOT_JSON
    if (previous !== undefined && !(previous < member)) return false
    previous = member
    const child = (value as Record<string, unknown>)[member]
    if (child === undefined || !isCanonical(child, depth + 1)) return false
  }
  return true
}

function fast (value: unknown, depth: number): string {
  const kind = kindOf(value, depth)
  if (kind === 'primitive') return JSON.stringify(value)
  if (kind === 'array') {
    const list = value as unknown[]
    let out = '['
    for (let i = 0; i < list.length; i++) out += (i > 0 ? ',' : '') + fast(list[i], depth + 1)
    return out + ']'
  }
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
  if (path.size >= MAX_DEPTH) throw new JsonShapeError(pointer, `is nested more than ${MAX_DEPTH} levels deep; flatten the value`)
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

/**
 * A deep-frozen copy of a JSON value with its canonical JSON, the text made from the copy
 * so the two always agree (a getter is read once). Accepts and refuses exactly what
 * canonicalJson does, with the same JsonShapeError. Used instead of parsing the text back:
 * JSON.parse gives objects of more than 128 members V8's slow dictionary layout, which makes
 * every later merge, freeze and copy of such a value several times slower; for small values
 * the two cost about the same.
 */
export function frozenCopy (value: unknown): { copy: JsonValue, json: string } {
  let copy: JsonValue
  const order = { kept: true }
  try {
    copy = copyOf(value, 0, order)
  } catch (err) {
    if (err !== NOT_JSON && !(err instanceof RangeError)) throw err
    // canonicalJson names the offending part (both refuse the same values, so it throws);
    // were the two ever to disagree, the text parsed back is still a right copy.
    const json = canonicalJson(value)
    return { copy: deepFreeze(JSON.parse(json) as JsonValue), json }
  }
  // A copy whose every object kept its (sorted) member order is canonical as JSON.stringify
  // writes it; one rebuilt in sorted order may still not be (V8 puts integer-like names first).
  return { copy, json: order.kept ? JSON.stringify(copy) : canonicalJson(copy) }
}

/**
 * A frozen copy of `value` (see frozenCopy), members in code-unit order; throws NOT_JSON for
 * what canonicalJson refuses. `order.kept` is cleared when an object had to be rebuilt.
 */
function copyOf (value: unknown, depth: number, order: { kept: boolean }): JsonValue {
  const kind = kindOf(value, depth)
  // -0 is written as 0 and reads back as 0.
  if (kind === 'primitive') return value === 0 ? 0 : value as JsonValue
  if (kind === 'array') {
    const list = value as unknown[]
    const out: JsonValue[] = []
    for (let i = 0; i < list.length; i++) out.push(copyOf(list[i], depth + 1, order))
    return Object.freeze(out) as JsonValue[]
  }
  const record = value as Record<string, unknown>
  const names = Object.keys(record)
  let ordered = true
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string
    if (!name.isWellFormed()) throw NOT_JSON
    if (i > 0 && !((names[i - 1] as string) < name)) ordered = false
  }
  // Members in order and no symbol keys (which a spread would copy): copy whole, then put
  // each member's own copy in place. A spread keeps V8's fast layout at any size.
  if (ordered && Object.getOwnPropertySymbols(record).length === 0) {
    const out: JsonObject = { ...record } as JsonObject
    let complete = true
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string
      const child: unknown = out[name]
      if (child === undefined) {
        complete = false
        break
      }
      if (kindOf(child, depth + 1) !== 'primitive') out[name] = copyOf(child, depth + 1, order)
      // A primitive is its own copy (checked, not stored again: a keyed store into a large
      // object costs a lookup of the member), but for -0, which is written as 0.
      else if (child === 0) out[name] = 0
    }
    if (complete) return Object.freeze(out)
  }
  // Out of order, or with undefined members (left out, as JSON.stringify does): built member by member.
  order.kept = false
  names.sort()
  const out: JsonObject = {}
  for (const name of names) {
    const child = record[name]
    if (child === undefined) continue
    const copied = copyOf(child, depth + 1, order)
    // Assigning a "__proto__" member would set the prototype instead of adding a member.
    if (name === '__proto__') Object.defineProperty(out, name, { value: copied, enumerable: true, writable: true, configurable: true })
    else out[name] = copied
  }
  return Object.freeze(out)
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
    const children: unknown[] = Array.isArray(value) ? value : Object.values(value)
    // Primitive children are skipped before the call: most of a large value's members are.
    for (let i = 0; i < children.length; i++) {
      const child = children[i]
      if (child !== null && typeof child === 'object') deepFreeze(child)
    }
    Object.freeze(value)
  }
  return value
}
