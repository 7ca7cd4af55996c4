/**
 * Parsing JSON text that a person or program sent (a CLI argument, a file, stdin, an HTTP
 * body), with failures located by line and column: a bare offset inside a 40 KB document
 * is useless to whoever has to fix it.
 */
import { InvalidInputError } from './errors.js'
import { MAX_DEPTH } from './json.js'
import type { JsonValue } from './json.js'

/** A line and column, both counted from 1. */
export interface TextPosition {
  line: number
  column: number
}

/** Options of parseJsonText. */
export interface JsonTextOptions {
  /**
   * Accept numbers a double cannot hold exactly, storing the nearest double
   * (12345678901234567890123 becomes 1.2345678901234568e+22). Default false: refused.
   */
  lossyNumbers?: boolean | undefined
}

/**
 * Parse JSON text; throws InvalidInputError naming `source`, the line, the column and the
 * reason. Beyond JSON's syntax it refuses what would change the value silently or could
 * not be stored: duplicate member names (JSON.parse keeps the last), numbers that do not
 * survive a round trip through a double (see exactInDouble), and nesting deeper than
 * MAX_DEPTH levels.
 */
export function parseJsonText (text: string, source: string, options: JsonTextOptions = {}): JsonValue {
  // Editors on some systems start UTF-8 files with a byte order mark, which JSON.parse refuses.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  if (text.trim() === '') throw new InvalidInputError(`No JSON value in ${source}: it is empty.`)
  let value: JsonValue
  try {
    // V8's JSON.parse does not recurse, so nesting is checked after it, on valid text.
    value = JSON.parse(text) as JsonValue
  } catch (err) {
    const reason = (err as Error).message
    const position = jsonErrorPosition(text, reason)
    const { line, column } = lineColumn(text, position)
    const hint = /^\s*[{["\d\-tfn]/.test(text) ? '' : '\nTo store a string, write it as JSON with quotes, e.g. \'"hello"\'.'
    throw new InvalidInputError(
      `Invalid JSON in ${source} at line ${line}, column ${column} (position ${position}): ${cleanReason(reason)}.${excerpt(text, line, column)}${hint}`,
      { cause: err })
  }
  checkJsonText(text, source, options.lossyNumbers === true)
  return value
}

/**
 * One pass over valid JSON text, without recursion: nesting depth, duplicate member names
 * (compared after unescaping, so "a" and "\u0061" are the same name) and numbers.
 */
function checkJsonText (text: string, source: string, lossyNumbers: boolean): void {
  // One entry per open container: null for an array; for an object, its names so far
  // (created at the first name) with the offset where each was written.
  const open: Array<Map<string, number> | null | undefined> = []
  let expectName = false
  const length = text.length
  let i = 0
  while (i < length) {
    const c = text.charCodeAt(i)
    if (c === 0x22) { // a string
      const start = i
      let escaped = false
      for (i++; text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c) { escaped = true; i++ }
      }
      i++
      if (expectName) {
        expectName = false
        const name = escaped ? JSON.parse(text.slice(start, i)) as string : text.slice(start + 1, i - 1)
        const names = open[open.length - 1] ?? new Map<string, number>()
        open[open.length - 1] = names
        const first = names.get(name)
        if (first !== undefined) {
          const before = lineColumn(text, first)
          throw located(text, source, start, `duplicate member name ${quote(name)} (first at line ${before.line}, column ${before.column}); only one of them would be kept. Give each member of an object a unique name`)
        }
        names.set(name, start)
      }
      continue
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) { // a number
      const start = i
      for (i++; i < length && isNumberChar(text.charCodeAt(i)); i++);
      checkNumber(text, source, start, text.slice(start, i), lossyNumbers)
      continue
    }
    if (c === 0x7b || c === 0x5b) { // { or [
      if (open.length >= MAX_DEPTH) {
        throw located(text, source, i, `nested more than ${MAX_DEPTH} levels deep (arrays and objects may nest at most ${MAX_DEPTH} levels); flatten it`)
      }
      open.push(c === 0x7b ? undefined : null)
      expectName = c === 0x7b
    } else if (c === 0x7d || c === 0x5d) { // } or ]
      open.pop()
    } else if (c === 0x2c) { // a comma: in an object, a name comes next
      expectName = open[open.length - 1] !== null
    }
    i++
  }
}

function isNumberChar (c: number): boolean {
  // digits, '.', '+', '-', 'e', 'E'
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2b || c === 0x2d || c === 0x65 || c === 0x45
}

function checkNumber (text: string, source: string, offset: number, token: string, lossyNumbers: boolean): void {
  const double = Number(token)
  if (!Number.isFinite(double)) {
    throw located(text, source, offset, `the number ${shorten(token)} is beyond the range of a double (about ±1.8e308), how revkv stores numbers. Send it as a string`)
  }
  if (!lossyNumbers && !exactInDouble(token, double)) {
    throw located(text, source, offset, `the number ${shorten(token)} cannot be stored exactly; as a double, how revkv stores numbers, it would be ${String(double)}. Send it as a string to keep every digit, or send ${String(double)}`)
  }
}

/**
 * True if the number written as `token` survives a round trip through a double: the double
 * it parses to, printed back (shortest form, as JSON.stringify prints it), is the same
 * decimal number. So 1.0, 1e2, 0.1 and 0.30000000000000004 survive (they print back as 1,
 * 100, 0.1 and 0.30000000000000004); 12345678901234567890123, 9007199254740993 and
 * 0.10000000000000001 do not (1.2345678901234568e+22, 9007199254740992, 0.1), nor does 1e-400
 * (0). -0 is the number zero and survives; it is stored, like every zero, as 0.
 */
export function exactInDouble (token: string, double: number = Number(token)): boolean {
  // Up to 15 significant digits and no exponent: always exact (a double holds 15 decimal digits).
  if (token.length <= 15 && !/[eE]/.test(token)) return true
  if (!Number.isFinite(double)) return false
  const a = decimal(token)
  const b = decimal(String(double))
  return a !== undefined && b !== undefined && a.negative === b.negative && a.digits === b.digits && a.exponent === b.exponent
}

/** A decimal number as sign, significant digits (no leading or trailing zeros) and exponent; zero has no sign. */
function decimal (text: string): { negative: boolean, digits: string, exponent: number } | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text)
  if (m === null) return undefined
  const fraction = m[3] ?? ''
  const all = `${m[2] ?? ''}${fraction}`.replace(/^0+/, '')
  if (all === '') return { negative: false, digits: '', exponent: 0 }
  const digits = all.replace(/0+$/, '')
  return { negative: m[1] === '-', digits, exponent: Number(m[4] ?? 0) - fraction.length + (all.length - digits.length) }
}

/** An InvalidInputError for a problem at `offset` of valid JSON text, with line, column and excerpt. */
function located (text: string, source: string, offset: number, reason: string): InvalidInputError {
  const { line, column } = lineColumn(text, offset)
  return new InvalidInputError(`JSON in ${source} at line ${line}, column ${column}: ${reason}.${excerpt(text, line, column)}`)
}

function quote (name: string): string {
  return shorten(JSON.stringify(name))
}

/** Long tokens cut in the middle, so a message stays one readable line. */
function shorten (token: string): string {
  return token.length <= 60 ? token : `${token.slice(0, 30)}…${token.slice(-20)}`
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
