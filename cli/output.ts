/**
 * Everything the CLI prints goes through here: results on stdout (JSON with --json, text
 * otherwise), messages for people on stderr, colors only where a person is watching, and
 * errors turned into an explanation and an exit code.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { GlobalArgs } from './command.js'

/** A failure the command line itself raises (not the library), whose `code` sets the exit code as the library's codes do. */
export class CommandError extends Error {
  readonly code: string
  readonly status: number

  constructor (message: string, code: string, status: number, name: string) {
    super(message)
    this.code = code
    this.status = status
    this.name = name
  }

  toJSON (): Record<string, unknown> {
    return { name: this.name, code: this.code, status: this.status, message: this.message }
  }
}

/** Exit codes, by the library's stable error codes. Anything unlisted is a bug. */
const EXIT_CODES: Readonly<Record<string, number>> = {
  REVKV_CONFLICT: 1,
  REVKV_MERGE_CONFLICT: 1,
  REVKV_INVALID: 2,
  REVKV_NOT_FOUND: 3,
  REVKV_LOCKED: 4,
  REVKV_REMOTE: 5,
  REVKV_READ_ONLY: 5,
  // A PostgreSQL --db that cannot be reached is the same trouble as a --remote one.
  REVKV_UNAVAILABLE: 5,
  REVKV_DAMAGED: 6, REVKV_CORRUPT: 6
}

/** The exit code of a failure that is not one of revkv's documented errors (EX_SOFTWARE). */
export const EXIT_BUG = 70

/** `revkv serve` cannot listen where it was told to: port in use or not allowed, or no such host. */
export const EXIT_CANNOT_LISTEN = 7

/**
 * What a server's answer means, by HTTP status, when it carries none of the store's own
 * codes (RevkvError's `status` with code REVKV_REMOTE): the exit code in the terms of the
 * table above, and what the user can do about it.
 */
export const EXIT_BY_STATUS: Readonly<Record<number, { exit: number, message?: string, hint?: string }>> = {
  // The request itself was refused as bad: bad usage or input, as for a local store.
  400: { exit: 2 },
  413: { exit: 2, hint: 'The request was larger than the server takes (revkv serve --body-limit).' },
  414: { exit: 2 },
  415: { exit: 2 },
  417: { exit: 2 },
  422: { exit: 2 },
  428: { exit: 2, message: 'The server requires every write to name its parent (it runs with --require-parent): pass --parent <rev> (the head, from revkv log <key>), or --create for a new key.' },
  431: { exit: 2 },
  // A stale parent, in HTTP's words.
  409: { exit: 1 },
  412: { exit: 1 },
  423: { exit: 4 },
  // The server refused the token, or the URL is not a revkv server's API.
  401: { exit: 5, message: 'The server refused the request: it needs its token. Pass it with --token <token> or REVKV_TOKEN.' },
  403: { exit: 5, message: 'The server refused the request with this token. Pass the token the server was started with (--token <token> or REVKV_TOKEN).' },
  404: { exit: 5, hint: 'The --remote URL does not lead to a revkv server\'s API: give the address `revkv serve` printed.' },
  405: { exit: 5, hint: 'The --remote URL does not lead to a revkv server\'s API: give the address `revkv serve` printed.' },
  // The server cannot be reached, or cannot answer now.
  408: { exit: 5 },
  429: { exit: 5 },
  502: { exit: 5 },
  503: { exit: 5 },
  504: { exit: 5 },
  // The server failed: a bug there, and its log has the stack trace.
  500: { exit: EXIT_BUG, message: 'The server failed on this request (HTTP 500); its log (the stderr of revkv serve) has the details. It may be a bug: report it.' }
}

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
  '  4   locked: the store is open in another process (after waiting --wait ms),',
  '      or the key is leased by someone else (the holder and when the lease',
  '      ends are shown) or your --lock token\'s lease has ended',
  '  5   --remote: the server cannot be reached, refused the token, is',
  '      read-only (a push), or is not a revkv server; or the PostgreSQL',
  '      server of --db is unavailable',
  '  6   the store is damaged: fsck found problems (each is listed), or a',
  '      command read a damaged record (run revkv fsck)',
  '  7   serve cannot listen: the port is in use or not allowed, or --host is',
  '      not an address of this machine',
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
  /** Print text on stdout as it is, with no newline added. */
  text: (text: string) => void
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
    text: write,
    note: (text) => { process.stderr.write(`${text}\n`) }
  }
}

/** The pager when git would use one: \$REVKV_PAGER, else \$PAGER, else `less -FRX`; none when empty or `cat`. */
export function pagerCommand (env: NodeJS.ProcessEnv = process.env): string | undefined {
  const command = (env.REVKV_PAGER ?? env.PAGER ?? 'less -FRX').trim()
  return command === '' || command === 'cat' ? undefined : command
}

/** An Output that a command must end(), to wait for its pager. */
export interface PagedOutput extends Output {
  /** Close the pager's input and wait until the user has quit it. */
  end: () => Promise<void>
}

/**
 * The output of a command that can fill screens (`log`): on a terminal it goes through a
 * pager as git's does, started at the first line (an error alone needs none). Never with
 * --json, --no-pager, or when stdout is not a terminal (a pipe or a file gets the text).
 */
export function createPagedOutput (args: Pick<GlobalArgs, 'json' | 'pager'>): PagedOutput {
  const out = createOutput(args)
  const command = pagerCommand()
  if (args.json || !args.pager || process.stdout.isTTY !== true || command === undefined) return { ...out, get closed () { return out.closed }, end: async () => {} }
  let pager: ChildProcess | undefined
  let quit = false
  const write = (text: string): void => {
    if (quit) return
    if (pager === undefined) {
      // LESS as git sets it, for a pager named without options: quit on one screen, keep colors.
      pager = spawn(command, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env: { LESS: 'FRX', LV: '-c', ...process.env } })
      // The user quitting the pager early is normal use: stop writing (EPIPE), like `| head`.
      pager.stdin?.on('error', () => { quit = true })
      pager.on('exit', () => { quit = true })
    }
    pager.stdin?.write(text)
  }
  return {
    ...out,
    get closed () { return quit },
    line: (text = '') => { write(`${text}\n`) },
    text: write,
    data: (value) => { write(`${JSON.stringify(value, null, 2)}\n`) },
    end: async () => {
      if (pager === undefined) return
      const exited = pager.exitCode === null ? once(pager, 'exit') : Promise.resolve()
      pager.stdin?.end()
      await exited
    }
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

/**
 * The exit code for an error: by its `code` when revkv documents it, by HTTP status for a
 * server's answer outside the store's codes (any other status is 5, like an unreachable
 * server), 7 when serve cannot listen, else EXIT_BUG.
 */
export function exitCodeOf (err: unknown): number {
  if (listenFailure(err) !== undefined) return EXIT_CANNOT_LISTEN
  if (!isCoded(err)) return EXIT_BUG
  if (err.code === 'REVKV_REMOTE') return EXIT_BY_STATUS[statusOf(err)]?.exit ?? EXIT_CODES.REVKV_REMOTE ?? EXIT_BUG
  return EXIT_CODES[err.code] ?? EXIT_BUG
}

function statusOf (err: unknown): number {
  const status = (err as { status?: unknown }).status
  return typeof status === 'number' ? status : 0
}

/** The system error of a server that cannot listen, with the fields Node gives it. */
interface ListenFailure {
  code: string
  syscall: string
  address?: string
  port?: number
  hostname?: string
  message: string
}

/**
 * Why a server could not listen, in the user's words (undefined for any other failure):
 * listen() fails with the address and port, the host name lookup before it with the name.
 */
function listenFailure (err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined
  const e = err as Error & Partial<ListenFailure>
  if (e.syscall === 'getaddrinfo') {
    return `Cannot listen on --host ${e.hostname ?? '?'}: it is neither an address of this machine nor a name it can resolve (${e.code ?? 'lookup failed'}). Pass --host 127.0.0.1 (this machine only, the default), 0.0.0.0 (every interface) or one of this machine's addresses.`
  }
  if (e.syscall !== 'listen' && e.syscall !== 'bind') return undefined
  const where = `${e.address ?? '?'}:${String(e.port ?? '?')}`
  switch (e.code) {
    case 'EADDRINUSE': return `Cannot listen on ${where}: the port is in use by another process. Pass another --port, or --port 0 for a free one (the URL is printed).`
    case 'EADDRNOTAVAIL': return `Cannot listen on ${where}: --host ${e.address ?? '?'} is not an address of this machine. Pass 127.0.0.1 (this machine only, the default), 0.0.0.0 (every interface) or one of its addresses.`
    case 'EACCES': return `Cannot listen on ${where}: not allowed (ports below 1024 need privileges). Pass --port 1024 or above, or --port 0 for a free one.`
    default: return `Cannot listen on ${where}: ${e.message}.`
  }
}

/** What a command adds to an error it knows the context of. */
export interface Explanation {
  /** Lines telling the user how to go on, e.g. the exact command that settles a conflict. */
  hint?: string[]
  /** The message in the CLI's terms, where the library's names a library call or option. */
  message?: string
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
  conflicts?: ConflictPlaceFields[]
}

/** A conflicting place (read structurally, like ConflictFields). */
export interface ConflictPlaceFields {
  kind?: 'value' | 'range'
  path: string
  base?: unknown
  ours?: unknown
  theirs?: unknown
}

/**
 * Print an error on stderr and return the exit code. With --json stderr gets the error's
 * JSON form only; otherwise a sentence, the details needed to act, and the fix.
 */
export function reportError (err: unknown, args: Pick<GlobalArgs, 'json' | 'debug'>): number {
  const code = exitCodeOf(err)
  const stderr = process.stderr
  const explanation = typeof err === 'object' && err !== null ? explanations.get(err) ?? {} : {}
  const answer = isCoded(err) && err.code === 'REVKV_REMOTE' ? EXIT_BY_STATUS[statusOf(err)] : undefined
  const message = explanation.message ?? answer?.message ?? listenFailure(err) ?? (err instanceof Error ? err.message : String(err))
  const hint = [...(answer?.hint === undefined ? [] : [answer.hint]), ...explanation.hint ?? []]
  if (args.json) {
    const body = isCoded(err) && typeof err.toJSON === 'function'
      ? err.toJSON()
      : { name: listenFailure(err) !== undefined ? 'ListenError' : err instanceof Error ? err.name : 'Error', code: isCoded(err) ? err.code : 'REVKV_INTERNAL', message }
    stderr.write(`${JSON.stringify({ ...body, message })}\n`)
    if (args.debug && err instanceof Error && err.stack !== undefined) stderr.write(`${err.stack}\n`)
    return code
  }
  const c = palette(colorEnabled(stderr))
  const lines: string[] = []
  if (code === EXIT_BUG) {
    lines.push(`${c.red('revkv: internal error:')} ${message}`)
    // A wrapped failure (LevelDB's "failed to open") says little; its causes say why.
    for (let cause = causeOf(err); cause !== undefined; cause = causeOf(cause)) lines.push(`  caused by: ${cause instanceof Error ? cause.message : String(cause)}`)
    if (!args.debug && answer === undefined) lines.push('This is not one of revkv\'s documented errors, so it may be a bug: run the command again with --debug for the stack trace, and report it.')
  } else {
    lines.push(`${c.red('revkv:')} ${message}`)
  }
  if (code === 1) lines.push(...(isBatchRefusal(err) ? refusedOps(err.conflicts, c) : conflictDetails(err as ConflictFields, explanation, c)))
  lines.push(...hint.map((line) => `  ${line}`))
  if (args.debug && err instanceof Error && err.stack !== undefined) lines.push(err.stack)
  stderr.write(`${lines.join('\n')}\n`)
  return code
}

function causeOf (err: unknown): unknown {
  return err instanceof Error ? err.cause : undefined
}

/** A refused op of a batch, as BatchConflictError lists it (read structurally, like ConflictFields). */
interface RefusalFields {
  index: number
  key: string
  message: string
  expected?: string | null
  actual: string | null
  places?: ConflictPlaceFields[]
}

function isBatchRefusal (err: unknown): err is { conflicts: RefusalFields[] } {
  const conflicts = (err as { conflicts?: unknown } | null)?.conflicts
  return Array.isArray(conflicts) && conflicts.length > 0 && typeof (conflicts[0] as { index?: unknown }).index === 'number'
}

/** Every refused op of a batch: why, its expected and actual heads, and its conflicting places. */
function refusedOps (conflicts: RefusalFields[], c: Palette): string[] {
  const lines: string[] = []
  for (const op of conflicts) {
    lines.push(`  op ${op.index}, key ${JSON.stringify(op.key)}: ${op.message}`)
    if (op.expected !== undefined) lines.push(`    expected head: ${op.expected ?? 'none (create only: the key must not exist)'}`)
    lines.push(`    actual head:   ${op.actual ?? 'none (the key does not exist)'}`)
    const sides = { ours: op.actual === null ? 'head' : `head ${shortId(op.actual)}`, theirs: 'this op' }
    for (const place of op.places ?? []) lines.push(...diff3Lines(place, sides, c).map((line) => `      ${line}`))
  }
  return lines
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
    const sides = {
      ours: err.actual === undefined || err.actual === null ? 'head' : `head ${shortId(err.actual)}`,
      theirs: explanation.expected === 'merging' && typeof err.expected === 'string' ? shortId(err.expected) : 'this write'
    }
    for (const place of err.conflicts) lines.push(...diff3Lines(place, sides, c).map((line) => `    ${line}`))
  }
  return lines
}

/**
 * A conflicting place the way diff3 -m shows one: ours, base and theirs between conflict
 * markers. A range place shows each side's array elements one per line, so it cannot be
 * mistaken for a place whose value is an array (shown as one JSON line).
 */
export function diff3Lines (place: ConflictPlaceFields, sides: { ours: string, theirs: string }, c: Palette): string[] {
  const range = place.kind === 'range'
  const shown = (value: unknown): string[] => {
    if (!range) return [jsonText(value)]
    const elements = Array.isArray(value) ? value : []
    return elements.length === 0 ? ['(no elements)'] : elements.map((element) => JSON.stringify(element))
  }
  return [
    c.bold(range ? `${place.path} (array elements from index ${place.path.slice(place.path.lastIndexOf('/') + 1)})` : pointerLabel(place.path)),
    `<<<<<<< ours (${sides.ours})`,
    ...shown(place.ours).map(c.red),
    '||||||| base',
    ...shown(place.base),
    '=======',
    ...shown(place.theirs).map(c.green),
    `>>>>>>> theirs (${sides.theirs})`
  ]
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

/**
 * A revkv command line for a hint, typed as it must be: operands quoted for the shell, and
 * after `--` (with the options before it) when one starts with '-', so none reads as an option.
 */
export function commandLine (command: string, operands: readonly string[], options = ''): string {
  const quoted = operands.map(shellQuote).join(' ')
  const opts = options === '' ? '' : ` ${options}`
  return operands.some((operand) => operand.startsWith('-')) ? `revkv ${command}${opts} -- ${quoted}` : `revkv ${command} ${quoted}${opts}`
}

/** `n` and the noun, plural unless n is 1: "1 key", "2 keys". */
export function count (n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`
}

const C_ESCAPES: Readonly<Record<string, string>> = { '\u0007': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', '"': '\\"', '\\': '\\\\' }

/**
 * A key as a line of text shows it, the way `git ls-files` quotes paths: a key holding a
 * control character (a newline would make it look like two keys), `"` or `\` is printed
 * in double quotes with C escapes (\n, \t, \", \\, else octal UTF-8 bytes); any other key as
 * it is, Unicode included.
 */
export function quoteKey (key: string): string {
  if (!/[\u0000-\u001f\u007f-\u009f"\\]/.test(key)) return key
  return `"${key.replace(/[\u0000-\u001f\u007f-\u009f"\\]/g, (char) => C_ESCAPES[char] ?? [...Buffer.from(char, 'utf8')].map((byte) => `\\${byte.toString(8).padStart(3, '0')}`).join(''))}"`
}

/** An argument as it must be typed in a POSIX shell, for the commands that hints print. */
export function shellQuote (arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, '\'\\\'\'')}'`
}
