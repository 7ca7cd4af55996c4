#!/usr/bin/env node
/**
 * The `revkv` command: yargs setup, the global options, and the mapping from failures to
 * exit codes. Each command lives in its own file under commands/; this one only wires them.
 */
import yargs from 'yargs'
import { hideBin } from 'yargs/helpers'
import { batch } from './commands/batch.js'
import { commit } from './commands/commit.js'
import { conflicts } from './commands/conflicts.js'
import { del } from './commands/delete.js'
import { diff } from './commands/diff.js'
import { get } from './commands/get.js'
import { init } from './commands/init.js'
import { keys } from './commands/keys.js'
import { log } from './commands/log.js'
import { merge } from './commands/merge.js'
import { show } from './commands/show.js'
import { CommandError, EXIT_BUG, EXIT_CODE_HELP, explain, reportError, stdoutFailed } from './output.js'
import { addExample } from './command.js'
import type { Command } from './command.js'
import { serveCommand } from './commands/serve.js'
import { bench } from './commands/bench.js'
import { fsck } from './commands/fsck.js'
import { changes } from './commands/changes.js'
import { compact } from './commands/compact.js'
import { exportCommand } from './commands/export.js'
import { importCommand } from './commands/import.js'
import { packageVersion } from './version.js'
import { lock } from './commands/lock.js'
import { unlock } from './commands/unlock.js'
import { renew } from './commands/renew.js'
import { locks } from './commands/locks.js'
import { clone } from './commands/clone.js'
import { pull, push } from './commands/pull-push.js'
import { remote } from './commands/remote.js'
import { sync } from './commands/sync.js'

/** Every command, in the order `revkv --help` lists them. Later commands (bench, serve) join here. */
const COMMANDS: readonly Command[] = [init, commit, batch, del, get, show, log, diff, merge, conflicts, lock, renew, unlock, locks, keys, changes, fsck, compact, exportCommand, importCommand, clone, pull, push, sync, remote, serveCommand, bench]

/** Bad usage caught by yargs (unknown option, missing argument, bad choice): exit 2, like bad input. */
class UsageError extends CommandError {
  constructor (message: string) {
    super(message, 'REVKV_INVALID', 400, 'UsageError')
  }
}

/** Run the command line; resolves to the exit code. */
async function main (argv: string[]): Promise<number> {
  const operands = endOfOptions(benchJsonFile(argv))
  argv = operands.argv
  // Known before parsing, so a failure to parse is itself reported the way the user asked.
  const options = operands.options
  const reporting = { json: options.includes('--json'), debug: options.includes('--debug') }
  const base = yargs(argv)
    .middleware((args) => { operands.restore(args) }, true)
    .scriptName('revkv')
    .usage('$0 <command> [options]\n\nA Git-like versioned key-value store: every write is a revision in its key\'s history.')
    .option('db', { type: 'string', requiresArg: true, describe: 'The store: a directory, or a postgres:// URL of a PostgreSQL database that many processes share (default: $REVKV_DB, else ./.revkv)' })
    .option('schema', { type: 'string', requiresArg: true, describe: 'With a postgres:// --db: the schema holding the store\'s tables (default revkv; not with a directory)' })
    .option('remote', { type: 'string', requiresArg: true, describe: 'Use the store served by `revkv serve` at this URL (default: $REVKV_REMOTE)' })
    .option('token', { type: 'string', requiresArg: true, describe: 'Bearer token for --remote, or for `serve` to require (default: $REVKV_TOKEN)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print machine-readable JSON on stdout (errors as JSON on stderr)' })
    .option('debug', { type: 'boolean', default: false, describe: 'Print stack traces of errors' })
    .option('pager', { type: 'boolean', default: true, describe: 'Page long output (log) on a terminal through $REVKV_PAGER, $PAGER or less -FRX; --no-pager prints it directly' })
    .option('max-value-bytes', {
      type: 'number',
      requiresArg: true,
      describe: 'Largest value a write may store, in bytes of JSON (default 1 MiB); with --remote the server\'s own applies',
      coerce: (bytes: number) => {
        if (!Number.isSafeInteger(bytes) || bytes < 1) throw new Error(`--max-value-bytes must be a whole number of bytes ≥ 1, got ${String(bytes)}.`)
        return bytes
      }
    })
    .option('wait', {
      type: 'number',
      default: 3000,
      requiresArg: true,
      describe: 'How long to wait, in ms, for a store directory that another process has open (PostgreSQL stores need no wait)',
      coerce: (ms: number) => {
        if (!Number.isFinite(ms) || ms < 0) throw new Error(`--wait must be a number of milliseconds ≥ 0, got ${String(ms)}.`)
        return ms
      }
    })
  const examples: Array<[string, string]> = [
    ['$0 init', 'Create a store in ./.revkv'],
    ['$0 commit user:1 \'{"name":"Ada"}\' -m "add Ada"', 'Write a value; prints the revision id'],
    ['$0 get user:1', 'Print the value'],
    ['$0 log user:1 --graph --oneline', 'The key\'s history with its merges'],
    ['$0 --db postgres://app@db:5432/app init', 'Create a store in PostgreSQL (schema revkv); many processes and machines can share it'],
    ['$0 lock user:1 --ttl 5m', 'Lease a key: prints the fencing token that writes to it must carry (--lock)'],
    ['$0 completion >> ~/.bashrc', 'Enable tab completion']
  ]
  const cli = examples.reduce((y, [command, description]) => addExample(y, command, description), COMMANDS.reduce((y, command) => command.register(y), base))
    .completion('completion', 'Print a bash/zsh completion script (add it to ~/.bashrc or ~/.zshrc)')
    .demandCommand(1, 'No command given.')
    // Two places to find the store named at once: refuse rather than pick one silently.
    .conflicts('db', 'remote')
    .strict()
    .strictCommands()
    .epilogue([
      EXIT_CODE_HELP,
      '',
      'Revisions are named by a unique id prefix (4 or more hex characters),',
      'HEAD, or HEAD~N (the Nth first-parent ancestor of the head).',
      '',
      'Environment: REVKV_DB (the store directory or postgres:// URL), REVKV_REMOTE and REVKV_TOKEN',
      '(a server instead of a directory), REVKV_AUTHOR (the default --author),',
      'REVKV_PAGER, else PAGER (the pager of log; empty for none), NO_COLOR (no',
      'colors, even on a terminal).'
    ].join('\n'))
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message: string | null, err: Error | undefined) => {
      // yargs passes a message for its own failures (usage); a command's error comes alone.
      if (message === null || message === '') throw err
      throw new UsageError(operands.restoreText(message))
    })
  try {
    const grouped = options.find(isOptionGroup)
    if (grouped !== undefined) throw new UsageError(`Unknown option: ${grouped}`)
    await cli.parseAsync()
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      const command = argv.find((arg) => COMMANDS.some((c) => c.name === arg))
      const grouped = options.find(isOptionGroup)
      explain(err, {
        hint: [
          ...(grouped === undefined ? [] : [`A key or value that starts with - goes after --: revkv ${command ?? '<command>'} -- ${grouped}`]),
          `Run \`revkv ${command === undefined ? '' : `${command} `}--help\` for usage.`
        ]
      })
    }
    return reportError(err, reporting)
  }
}

/**
 * A group of short options (`-dash`), which revkv does not take: yargs would read it as
 * -d -a -s -h and print help, exiting 0 without running the command. It is far more likely a
 * key or value that belongs after `--`. Negative numbers, `-n5` and `-m=text` are not groups.
 */
function isOptionGroup (arg: string): boolean {
  return /^-[^-\d.]./.test(arg) && !/^-[a-zA-Z](\d+|=.*)$/.test(arg)
}

/** Arguments after `--` hidden from yargs' option parsing, and the way back to them. */
interface Operands {
  /** The arguments for yargs, operands replaced by placeholders. */
  argv: string[]
  /** The arguments before `--`. */
  options: string[]
  /** Put the operands back into parsed arguments (in place), except in `_`. */
  restore: (args: Record<string, unknown>) => void
  /** Put the operands back into a message that quotes arguments. */
  restoreText: (text: string) => string
}

/**
 * `--` ends option parsing, as in every POSIX tool: what follows is an operand even when it
 * starts with '-' (`revkv get -- -dash`). yargs fills a command's positionals only from the
 * arguments before `--`, so each operand after it is swapped for a placeholder yargs reads as
 * a plain word, and swapped back before the command runs. A placeholder holds a NUL byte,
 * which no real argument can contain, so it never collides with one.
 */
function endOfOptions (argv: string[]): Operands {
  const end = argv.indexOf('--')
  const originals = end === -1 ? [] : argv.slice(end + 1)
  const placeholder = (i: number): string => `\u0000${i}\u0000`
  const back = (text: string): string => text.replace(/\u0000(\d+)\u0000/g, (_, i: string) => originals[Number(i)] ?? '')
  const restoreValue = (value: unknown): unknown => typeof value === 'string' ? back(value) : Array.isArray(value) ? value.map(restoreValue) : value
  return {
    argv: end === -1 ? argv : [...argv.slice(0, end), ...originals.map((_, i) => placeholder(i))],
    options: end === -1 ? argv : argv.slice(0, end),
    // `_` keeps its placeholders: yargs checks it for unknown commands and extra arguments, and
    // an operand must never be taken for a command (`revkv -- get` runs nothing).
    restore: (args) => { for (const name of Object.keys(args)) if (name !== '_') args[name] = restoreValue(args[name]) },
    restoreText: back
  }
}

/**
 * `revkv bench --json <file>` writes its report to a file, while everywhere else `--json`
 * is the global switch for machine output. yargs cannot give one option two types, so for
 * bench a `--json` followed by a value is renamed to bench's own --json-file here.
 */
function benchJsonFile (argv: string[]): string[] {
  if (argv[0] !== 'bench') return argv
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const next = argv[i + 1]
    if (arg === '--json' && next !== undefined && !next.startsWith('-')) {
      out.push('--json-file', next)
      i++
    } else if (arg.startsWith('--json=')) {
      out.push('--json-file', arg.slice('--json='.length))
    } else {
      out.push(arg)
    }
  }
  return out
}

const code = await main(hideBin(process.argv))
// A failed write to stdout has already set EXIT_BUG; a command's success must not hide it.
process.exitCode = stdoutFailed() ? EXIT_BUG : code
