/**
 * Parsing JSON text that a person or program sent (a CLI argument, a file, stdin, an HTTP
 * body), with failures located by line and column: a bare offset inside a 40 KB document
 * is useless to whoever has to fix it.
 */
import { InvalidInputError } from './errors.js'
import type { JsonValue } from './json.js'

/** A line and column, both counted from 1. */
export interface TextPosition {
  line: number
  column: number
}

/** Parse JSON text; throws InvalidInputError naming `source`, the line, the column and the reason. */
export function parseJsonText (text: string, source: string): JsonValue {
  // Editors on some systems start UTF-8 files with a byte order mark, which JSON.parse refuses.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  if (text.trim() === '') throw new InvalidInputError(`No JSON value in ${source}: it is empty.`)
  try {
    return JSON.parse(text) as JsonValue
  } catch (err) {
    const reason = (err as Error).message
    const position = jsonErrorPosition(text, reason)
    const { line, column } = lineColumn(text, position)
    const hint = /^\s*[{["\d\-tfn]/.test(text) ? '' : '\nTo store a string, write it as JSON with quotes, e.g. \'"hello"\'.'
    throw new InvalidInputError(
      `Invalid JSON in ${source} at line ${line}, column ${column} (position ${position}): ${cleanReason(reason)}.${excerpt(text, line, column)}${hint}`,
      { cause: err })
  }
}

/**
 * The offset in `text` where JSON.parse failed, from its message. V8 (Node 20) says
 * "at position N" for most failures, but for an unexpected token it only quotes the text;
 * then the offset is found as the end of the longest prefix that could still begin valid
 * JSON (validity of prefixes is monotonic, so a binary search finds it).
 */
export function jsonErrorPosition (text: string, message: string): number {
  const end = text.trimEnd().length
  const at = /at position (\d+)/.exec(message)
  // Past the last character means "input ended early": point just after the last visible character.
  if (at !== null) return Math.min(Number(at[1]), end)
  if (/Unexpected end of JSON input/.test(message)) return end
  let good = 0
  let bad = text.length
  while (bad - good > 1) {
    const mid = (good + bad) >> 1
    if (couldBeginJson(text.slice(0, mid))) good = mid
    else bad = mid
  }
  return bad - 1
}

/** True if `prefix` parses, or fails only because it stops early (the error is at its very end). */
function couldBeginJson (prefix: string): boolean {
  try {
    JSON.parse(prefix)
    return true
  } catch (err) {
    const message = (err as Error).message
    if (/Unexpected end of JSON input/.test(message)) return true
    const at = /at position (\d+)/.exec(message)
    return at !== null && Number(at[1]) >= prefix.length
  }
}

/** The 1-based line and column of an offset (columns in UTF-16 code units, as editors count). */
export function lineColumn (text: string, offset: number): TextPosition {
  let line = 1
  let start = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++
    start = i + 1
  }
  return { line, column: offset - start + 1 }
}

/** V8's reason without its position (given as line and column instead) or its copy of the whole input. */
function cleanReason (message: string): string {
  return message.replace(/ (?:in JSON )?at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '')
}

/** The offending line with a caret under the column, when the line is short enough to show. */
function excerpt (text: string, line: number, column: number): string {
  const content = text.split('\n')[line - 1]?.replace(/\r$/, '')
  if (content === undefined || content.length > 120) return ''
  return `\n  ${content}\n  ${' '.repeat(Math.max(0, column - 1))}^`
}
