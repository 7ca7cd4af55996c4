import jsonpatch from 'fast-json-patch'
import { jsonEqual } from './json.js'
import type { JsonValue } from './json.js'

/** One RFC 6902 JSON Patch operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test'
  path: string
  value?: JsonValue
  from?: string
}

/**
 * RFC 6902 operations that turn `from` into `to` (undefined = absent, i.e. missing or deleted).
 * fast-json-patch diffs two containers of the same kind; a change of the whole value (root
 * scalars, a type change, appearing or disappearing) is one operation on the root pointer ''.
 */
export function diffValues (from: JsonValue | undefined, to: JsonValue | undefined): JsonPatchOperation[] {
  if (jsonEqual(from, to)) return []
  if (from === undefined) return [{ op: 'add', path: '', value: to as JsonValue }]
  if (to === undefined) return [{ op: 'remove', path: '' }]
  if (isContainer(from) && isContainer(to) && Array.isArray(from) === Array.isArray(to)) {
    return jsonpatch.compare(from, to) as JsonPatchOperation[]
  }
  return [{ op: 'replace', path: '', value: to }]
}

function isContainer (value: JsonValue): value is JsonValue[] | { [member: string]: JsonValue } {
  return value !== null && typeof value === 'object'
}
