import type { JsonObject, JsonValue } from '../json.js'

function isObject (value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Apply an RFC 7396 JSON Merge Patch: null removes a member, objects merge, anything else replaces. */
export function applyMergePatch (target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch
  const result: JsonObject = isObject(target) ? { ...target } : {}
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[name]
    } else {
      Object.defineProperty(result, name, { value: applyMergePatch(Object.hasOwn(result, name) ? result[name] : undefined, value), enumerable: true, writable: true, configurable: true })
    }
  }
  return result
}
