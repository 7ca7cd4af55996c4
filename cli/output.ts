/**
 * Everything the CLI prints goes through here: results on stdout (JSON with --json, text
 * otherwise), messages for people on stderr, colors only where a person is watching, and
 * errors turned into an explanation and an exit code.
 */
import type { GlobalArgs } from './command.js'

/** Exit codes, by the library's stable error codes. Anything unlisted is a bug. */
const EXIT_CODES: Readonly<Record<string, number>> = {
  REVKV_CONFLICT: 1,
  REVKV_MERGE_CONFLICT: 1,
  REVKV_INVALID: 2,
  REVKV_NOT_FOUND: 3,
  REVKV_LOCKED: 4,
  REVKV_REMOTE: 5,
  REVKV_DAMAGED: 6, REVKV_CORRUPT: 6
}

/** The exit code of a failure that is not one of revkv's documented errors (EX_SOFTWARE). */
export const EXIT_BUG = 70

/** The exit-code table as printed at the end of `revkv --help`. */
export const EXIT_CODE_HELP = [
  'Exit codes:',
  '  0   success',
  '  1   conflict: a stale --parent, --create on an existing key, a merge',
  '      conflict, or a write kept unmerged by --strategy manual; stderr',
  '      explains it and names the command that settles it',
  '  2   bad usage or input: unknown option, command or strategy, invalid JSON,',
  '      bad key',
  '  3   not found: unknown key or revision, or no store here (run revkv init)',
  '  4   the store is open in another process (after waiting --wait ms)',
  '  5   --remote: the server cannot be reached or refused the token',
  '  6   fsck found the store damaged (each problem is listed)',
  `  ${EXIT_BUG}  internal error (a bug); --debug prints the stack trace`
].join('\n')

/** Anything with a TTY flag: process.stdout, process.stderr, or a stand-in in tests. */
export interface MaybeTty {
  isTTY?: boolean
}

/** True when text for `stream` may be colored: it is a terminal and NO_COLOR is not set (no-color.org). */
export function colorEnabled (stream: MaybeTty, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '')
}

/** ANSI styles, or identity functions when color is off. */
export interface Palette {
  red: (text: string) => string
  green: (text: string) => string
  yellow: (text: string) => string
  bold: (text: string) => string
}

/** A palette that colors when `enabled`, and otherwise returns text unchanged. */
export function palette (enabled: boolean): Palette {
  const style = (open: number, close: number) => (text: string): string => enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text
  return { red: style(31, 39), green: style(32, 39), yellow: style(33, 39), bold: style(1, 22) }
}

/** Where a command writes. Results go to stdout; with --json stdout holds exactly one JSON document. */
export interface Output {
  readonly json: boolean
  /** Colors for text written to stdout. */
  readonly color: Palette
  /** True once stdout's reader went away (e.g. `revkv log k | head`): stop producing output. */
  readonly closed: boolean
  /** Print a machine-readable result: pretty JSON on stdout. */
  data: (value: unknown) => void
  /** Print one line of human output on stdout. */
  line: (text?: string) => void
  /** Tell people something on stderr, never on stdout (so pipes and --json stay clean). */
  note: (text: string) => void
}

let stdoutClosed = false
let stdoutFailure = false
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (stdoutClosed) return
  stdoutClosed = true
  // A reader that exits early (`revkv log k | head`) is normal use: stop writing, exit quietly.
  if (err.code === 'EPIPE') return
  // Anything else (a full disk behind `> file`) means the output is incomplete: never exit 0 then.
  process.stderr.write(`revkv: cannot write to standard output: ${err.message}\n`)
  stdoutFailure = true
  // The failure may surface after main() has set the exit code.
  process.exitCode = EXIT_BUG
})

/** True if standard output failed for a reason other than its reader leaving. */
export function stdoutFailed (): boolean {
  return stdoutFailure
}

/** The output of one command run. */
export function createOutput (args: Pick<GlobalArgs, 'json'>): Output {
  const color = palette(!args.json && colorEnabled(process.stdout))
  const write = (text: string): void => {
    if (!stdoutClosed) process.stdout.write(text)
  }
  return {
    json: args.json,
    color,
    get closed () { return stdoutClosed },
    data: (value) => write(`${JSON.stringify(value, null, 2)}\n`),
    line: (text = '') => write(`${text}\n`),
    note: (text) => { process.stderr.write(`${text}\n`) }
  }
}

/** Something that went wrong, in the shape `toJSON()` of revkv's errors gives. */
interface CodedError {
  code: string
  message: string
  toJSON?: () => Record<string, unknown>
}

function isCoded (err: unknown): err is CodedError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string'
}

/** The exit code for an error: by its `code` when revkv documents it, else EXIT_BUG. */
export function exitCodeOf (err: unknown): number {
  return isCoded(err) ? EXIT_CODES[err.code] ?? EXIT_BUG : EXIT_BUG
}

/** What a command adds to an error it knows the context of. */
export interface Explanation {
  /** Lines telling the user how to go on, e.g. the exact command that settles a conflict. */
  hint?: string[]
  /** Labels for a conflict's `expected` and `actual` revisions (default: expected head, actual head). */
  expected?: string
  actual?: string
}

// Kept beside the error rather than on it: the library's error objects stay as they were thrown.
const explanations = new WeakMap<object, Explanation>()

/** Attach an explanation to `err`; returns `err`, for `throw explain(err, ...)`. */
export function explain (err: unknown, explanation: Explanation): unknown {
  if (typeof err === 'object' && err !== null) explanations.set(err, { ...explanations.get(err), ...explanation })
  return err
}

/** Commands in one column and what each does in the next, for hints. */
export function aligned (rows: Array<[string, string]>): string[] {
  const width = Math.max(...rows.map(([command]) => command.length))
  return rows.map(([command, why]) => `  ${command.padEnd(width)}   ${why}`)
}

/** The fields a ConflictError or MergeConflictError carries (read structurally: the library is loaded lazily). */
interface ConflictFields {
  key?: string
  expected?: string | null
  actual?: string | null
  kept?: string
  conflicts?: Array<{ path: string, base?: unknown, ours?: unknown, theirs?: unknown }>
}

/**
 * Print an error on stderr and return the exit code. With --json stderr gets the error's
 * JSON form only; otherwise a sentence, the details needed to act, and the fix.
 */
export function reportError (err: unknown, args: Pick<GlobalArgs, 'json' | 'debug'>): number {
  const code = exitCodeOf(err)
  const stderr = process.stderr
  if (args.json) {
    const body = isCoded(err) && typeof err.toJSON === 'function'
      ? err.toJSON()
      : { name: err instanceof Error ? err.name : 'Error', code: isCoded(err) ? err.code : 'REVKV_INTERNAL', message: err instanceof Error ? err.message : String(err) }
    stderr.write(`${JSON.stringify(body)}\n`)
    if (args.debug && err instanceof Error && err.stack !== undefined) stderr.write(`${err.stack}\n`)
    return code
  }
  const c = palette(colorEnabled(stderr))
  const message = err instanceof Error ? err.message : String(err)
  const lines: string[] = []
  if (code === EXIT_BUG) {
    lines.push(`${c.red('revkv: internal error:')} ${message}`)
    // A wrapped failure (LevelDB's "failed to open") says little; its causes say why.
    for (let cause = causeOf(err); cause !== undefined; cause = causeOf(cause)) lines.push(`  caused by: ${cause instanceof Error ? cause.message : String(cause)}`)
    if (!args.debug) lines.push('This is not one of revkv\'s documented errors, so it may be a bug: run the command again with --debug for the stack trace, and report it.')
  } else {
    lines.push(`${c.red('revkv:')} ${message}`)
  }
  const explanation = typeof err === 'object' && err !== null ? explanations.get(err) ?? {} : {}
  if (code === 1) lines.push(...conflictDetails(err as ConflictFields, explanation, c))
  if (explanation.hint !== undefined) lines.push(...explanation.hint.map((line) => `  ${line}`))
  if (args.debug && err instanceof Error && err.stack !== undefined) lines.push(err.stack)
  stderr.write(`${lines.join('\n')}\n`)
  return code
}

function causeOf (err: unknown): unknown {
  return err instanceof Error ? err.cause : undefined
}

/** Expected vs actual head, and every conflicting place with its three values. */
function conflictDetails (err: ConflictFields, explanation: Explanation, c: Palette): string[] {
  const rows: Array<[string, string]> = []
  if (err.expected !== undefined) rows.push([explanation.expected ?? 'expected head', err.expected ?? 'none (create only: the key must not exist)'])
  if (err.actual !== undefined) rows.push([explanation.actual ?? 'actual head', err.actual ?? 'none (the key does not exist)'])
  if (err.kept !== undefined) rows.push(['kept unmerged', err.kept])
  const width = Math.max(0, ...rows.map(([label]) => label.length))
  const lines = rows.map(([label, id]) => `  ${`${label}:`.padEnd(width + 1)} ${id}`)
  if (err.conflicts !== undefined && err.conflicts.length > 0) {
    lines.push('  conflicting places:')
    for (const place of err.conflicts) {
      lines.push(`    ${c.bold(pointerLabel(place.path))}`)
      lines.push(`      base:   ${jsonText(place.base)}`)
      lines.push(`      ours:   ${c.red(jsonText(place.ours))}`)
      lines.push(`      theirs: ${c.green(jsonText(place.theirs))}`)
    }
  }
  return lines
}

/** A JSON Pointer as people read it: the root pointer '' has no visible form of its own. */
export function pointerLabel (pointer: string): string {
  return pointer === '' ? '(the whole value)' : pointer
}

/** Compact JSON of a value; `(absent)` where there is none (missing or deleted). */
export function jsonText (value: unknown): string {
  return value === undefined ? '(absent)' : JSON.stringify(value)
}

/** The first 12 hex characters of a revision id, as people read them (as the library's messages do). */
export function shortId (id: string): string {
  return id.slice(0, 12)
}

/** An argument as it must be typed in a POSIX shell, for the commands that hints print. */
export function shellQuote (arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, '\'\\\'\'')}'`
}
