/**
 * What the command line prints: keys quoted as git quotes paths (and raw with -z), log
 * through a pager on a terminal, help examples that never break a command, messages in the
 * CLI's own words, and refusals where a request would otherwise be silently dropped.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { count, pagerCommand, quoteKey } from '../cli/output.js'
import type { Revision } from '../src/index.js'
import { MAIN, cleanUp, fails, json, ok, revkv, tempDir, withEmptyStore } from './cli-run.js'

test.after(cleanUp)

test('quoteKey quotes like git ls-files: control characters, " and \\ in C style; anything else as it is', () => {
  assert.is(quoteKey('user:1'), 'user:1')
  assert.is(quoteKey('Zoë ✓ spaced out'), 'Zoë ✓ spaced out')
  assert.is(quoteKey('two\nlines'), '"two\\nlines"')
  assert.is(quoteKey('tab\there\r'), '"tab\\there\\r"')
  assert.is(quoteKey('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"')
  assert.is(quoteKey('\u0001\u007f\u0085'), '"\\001\\177\\302\\205"')
  assert.is(count(1, 'key'), '1 key')
  assert.is(count(0, 'key'), '0 keys')
  assert.is(count(1200, 'revision'), '1,200 revisions')
})

test('keys: a key with a newline is one quoted line; -z prints raw keys ending in NUL', async () => {
  const dir = await withEmptyStore()
  for (const key of ['plain', 'two\nlines', 'q"uote']) ok(await revkv(dir, ['commit', '--', key, '1']))
  assert.is(ok(await revkv(dir, ['keys'])).stdout, 'plain\n"q\\"uote"\n"two\\nlines"\n')
  assert.is(ok(await revkv(dir, ['keys', '-z'])).stdout, 'plain\0q"uote\0two\nlines\0')
  assert.match(fails(await revkv(dir, ['keys', '-z', '--json']), 2), /-z and --json/)
  assert.match(ok(await revkv(dir, ['changes'])).stdout, / "two\\nlines"\n/)
})

/** Run revkv on a pseudo-terminal (util-linux `script`), so stdout is a TTY as in a shell. */
async function onTerminal (dir: string, args: string[], env: Record<string, string>): Promise<string> {
  const command = [process.execPath, MAIN, ...args].map((word) => `'${word}'`).join(' ')
  // Without FORCE_COLOR (which uvu sets): with NO_COLOR, node would warn on the terminal.
  const { FORCE_COLOR: _, ...inherited } = process.env
  const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], { cwd: dir, env: { ...inherited, NO_COLOR: '1', REVKV_DB: '', REVKV_REMOTE: '', ...env } })
  return stdout.replace(/\r\n/g, '\n')
}

test('log goes through $REVKV_PAGER on a terminal; never with --no-pager, --json or a pipe', async () => {
  const dir = await withEmptyStore()
  ok(await revkv(dir, ['commit', 'k', '1', '-m', 'first']))
  const env = { REVKV_PAGER: 'sed "s/^/paged: /"', PAGER: 'false' }
  const paged = await onTerminal(dir, ['log', 'k', '--oneline'], env)
  assert.match(paged, /^paged: [0-9a-f]{12} first\n$/, JSON.stringify(paged))
  assert.match(await onTerminal(dir, ['log', 'k', '--oneline'], { REVKV_PAGER: '', PAGER: 'sed "s/^/paged: /"' }), /^[0-9a-f]{12} first\n$/, 'an empty REVKV_PAGER means none')
  assert.match(await onTerminal(dir, ['--no-pager', 'log', 'k', '--oneline'], env), /^[0-9a-f]{12} first\n$/)
  assert.match(await onTerminal(dir, ['log', 'k', '--json'], env), /^\[\n/)
  assert.match(ok(await revkv(dir, ['log', 'k', '--oneline'], { env })).stdout, /^[0-9a-f]{12} first\n$/)
  assert.is(pagerCommand({}), 'less -FRX')
  assert.is(pagerCommand({ PAGER: 'more' }), 'more')
  assert.is(pagerCommand({ REVKV_PAGER: 'cat', PAGER: 'more' }), undefined)
})

test('every --help lays out each example as a comment, then the whole command on its own line', async () => {
  const dir = tempDir()
  for (const command of ['', 'commit', 'merge', 'log', 'keys', 'changes', 'serve']) {
    const help = ok(await revkv(dir, command === '' ? ['--help'] : [command, '--help'])).stdout.trimEnd()
    const lines = (/\nExamples:\n([\s\S]*?)(\n\n|$)/.exec(help)?.[1] ?? '').split('\n')
    assert.ok(lines.length >= 2, `${command} has examples`)
    lines.forEach((line, i) => assert.match(line, i % 2 === 0 ? /^ {2}# \S/ : /^ {2}(revkv|curl) /, `${command}: ${line}`))
  }
  const commit = ok(await revkv(dir, ['commit', '--help'])).stdout
  assert.ok(commit.includes('\n  revkv commit user:1 \'{"n":2}\' --parent HEAD~1 --strategy merge --on-conflict theirs\n'), 'the longest example is whole')
})

test('messages speak CLI: a kept write, no store, HEAD without a key; HEAD~N past the root counts right', async () => {
  const dir = await withEmptyStore()
  const first = ok(await revkv(dir, ['commit', 'k', '1'])).stdout.trim()
  ok(await revkv(dir, ['commit', 'k', '2']))
  ok(await revkv(dir, ['commit', 'k', '3']))
  const library = /store\.\w+\(|Store\.open|createIfMissing|registerStrategy|maxValueBytes/
  const kept = fails(await revkv(dir, ['commit', 'k', '4', '--parent', first, '--strategy', 'manual']), 1)
  assert.match(kept, /revkv merge k [0-9a-f]{12}/)
  const noStore = fails(await revkv(tempDir(), ['--db', 'nowhere', 'get', 'k']), 3)
  assert.match(noStore, /Create one with: revkv init nowhere\n/)
  const noKey = fails(await revkv(dir, ['show', 'HEAD~1']), 2)
  assert.match(noKey, /--key <key>/)
  const strategy = fails(await revkv(dir, ['serve', '--strategy', 'bogus', '--port', '0']), 2)
  for (const stderr of [kept, noStore, noKey, strategy]) assert.not.match(stderr, library)
  assert.match(fails(await revkv(dir, ['get', 'k', '--rev', 'HEAD~3']), 3), /HEAD~3 goes past the first revision of key "k": its first-parent line has 3 revisions \(HEAD to HEAD~2\)/)
  ok(await revkv(dir, ['commit', 'single', '1']))
  assert.match(fails(await revkv(dir, ['get', 'single', '--rev', 'HEAD~1']), 3), /has 1 revision \(HEAD only\)/)
})

test('merge of a revision already in the head\'s history refuses a value (exit 2) instead of dropping it', async () => {
  const dir = await withEmptyStore()
  const first = ok(await revkv(dir, ['commit', 'k', '1'])).stdout.trim()
  const head = ok(await revkv(dir, ['commit', 'k', '2'])).stdout.trim()
  assert.match(fails(await revkv(dir, ['merge', 'k', first, '--value', '7']), 2), new RegExp(`already part of the head's history.*value was not written.*revkv commit k --parent ${head.slice(0, 12)}`))
  assert.is(json<Revision>(await revkv(dir, ['get', 'k', '--json'])).id, head, 'nothing written')
  // Without a value there is nothing to lose: still exit 0, saying it was already merged.
  assert.match(ok(await revkv(dir, ['merge', 'k', first])).stderr, /Already merged/)
})

test('--db with --remote is a usage error; --db beats $REVKV_REMOTE', async () => {
  const dir = await withEmptyStore()
  assert.match(fails(await revkv(dir, ['--db', '.revkv', '--remote', 'http://127.0.0.1:9', 'keys']), 2), /db and remote are mutually exclusive/)
  ok(await revkv(dir, ['commit', 'k', '1']))
  assert.equal(json(await revkv(dir, ['--db', '.revkv', 'keys', '--json'], { env: { REVKV_REMOTE: 'http://127.0.0.1:9' } })), ['k'])
})

test.run()
