/**
 * How revisions and patches look to people: the Git-style revision header that `log` and
 * `show` share, and the pointer-by-pointer diff that `diff` and `show` share.
 */
import type { JsonPatchOperation, JsonValue, Revision } from '../src/index.js'
import { jsonText, pointerLabel, shortId } from './output.js'
import type { Palette } from './output.js'

/** What to put in a revision's header beyond Git's `log` lines. */
export interface HeaderOptions {
  /** Mark the revision as the key's head. */
  head?: boolean
  /** `show`: the key, every parent in full, and the strategy that made a merge. */
  full?: boolean
}

/** A revision as `git log` prints a commit: id, merge parents, author, date, indented message. */
export function revisionLines (rev: Revision, c: Palette, options: HeaderOptions = {}): string[] {
  const marks = [options.head === true ? 'HEAD' : undefined, rev.deleted === true ? 'deleted' : undefined].filter((m) => m !== undefined)
  const lines = [c.yellow(`commit ${rev.id}`) + (marks.length > 0 ? ` (${marks.join(', ')})` : '')]
  // `log` keeps git's labels; `show` has more of them, so its values get a wider column.
  const label = (name: string): string => `${name}:`.padEnd(options.full === true ? 10 : 8)
  if (options.full === true) {
    lines.push(`${label('Key')}${rev.key}`)
    lines.push(`${label('Parents')}${rev.parents.length === 0 ? '(none: the key\'s first revision)' : rev.parents.join(' ')}`)
    if (rev.strategy !== undefined) lines.push(`${label('Strategy')}${rev.strategy}`)
  } else if (rev.parents.length > 1) {
    lines.push(`Merge: ${rev.parents.map(shortId).join(' ')}`)
  }
  if (rev.author !== undefined) lines.push(`${label('Author')}${rev.author}`)
  lines.push(`${label('Date')}${new Date(rev.time).toISOString()}`)
  lines.push('')
  const message = rev.message ?? '(no message)'
  for (const line of message.split('\n')) lines.push(`    ${line}`)
  return lines
}

/** A revision on one line: short id, then the first line of its message (its subject, as in Git). */
export function onelineText (rev: Revision, c: Palette): string {
  const subject = rev.message?.split('\n')[0] ?? '(no message)'
  return `${c.yellow(shortId(rev.id))} ${subject}${rev.deleted === true ? ' (deleted)' : ''}`
}

/**
 * A patch as people read it: each JSON Pointer with its old and new value. `from` is the
 * value the patch applies to, where old values are read (undefined = absent).
 */
export function patchLines (patch: readonly JsonPatchOperation[], from: JsonValue | undefined, c: Palette): string[] {
  return patch.map((op) => {
    const where = c.bold(pointerLabel(op.path))
    switch (op.op) {
      case 'add':
        return `${c.green('+')} ${where}: ${c.green(jsonText(op.value))}`
      case 'remove':
        return `${c.red('-')} ${where}: ${c.red(jsonText(valueAt(from, op.path)))}`
      case 'replace':
        return `${c.yellow('~')} ${where}: ${c.red(jsonText(valueAt(from, op.path)))} -> ${c.green(jsonText(op.value))}`
      default:
        return `${op.op} ${where}${op.from === undefined ? '' : ` from ${op.from}`}${op.value === undefined ? '' : `: ${jsonText(op.value)}`}`
    }
  })
}

/**
 * The value at an RFC 6901 JSON Pointer, or undefined. Reading old values from the original
 * document is right for the diff's patches: their removals run from the highest array index
 * down, so no earlier operation shifts the place a later one names.
 */
export function valueAt (doc: JsonValue | undefined, pointer: string): JsonValue | undefined {
  if (pointer === '') return doc
  let here: JsonValue | undefined = doc
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (here === null || typeof here !== 'object') return undefined
    here = Array.isArray(here) ? here[Number(token)] : Object.hasOwn(here, token) ? here[token] : undefined
  }
  return here
}

/** A revision's value, undefined for a tombstone (as the library's diffs treat it). */
export function revisionValue (rev: Revision | undefined): JsonValue | undefined {
  return rev === undefined || rev.deleted === true ? undefined : rev.value
}
