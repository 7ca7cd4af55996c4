import { existsSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join, resolve } from 'node:path'
import jsonpatch from 'fast-json-patch'
import type { Operation } from 'fast-json-patch'
import { Level } from 'level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { besideGraph, drawGraph, graphStep } from '../cli/graph.js'
import { jsonErrorPosition, lineColumn } from '../src/json-text.js'
import { colorEnabled, palette } from '../cli/output.js'
import { patchLines } from '../cli/render.js'
import { Store } from '../src/index.js'
import type { JsonPatchOperation, Revision } from '../src/index.js'
import { FORMAT_VERSION } from '../src/engines/engine.js'
import { FORMAT_KEY, UTF8, encodeHead, headKey } from '../src/engines/level/layout.js'
import { cleanUp, fails, json, ok, revkv, tempDir, withEmptyStore } from './cli-run.js'

const ID = /^[0-9a-f]{64}$/

test.after(cleanUp)

/** The key's history through the CLI, newest first. */
async function history (dir: string, key: string): Promise<Revision[]> {
  return json<Revision[]>(await revkv(dir, ['log', key, '--json']))
}

/** Commit through the CLI and return the new revision id. */
async function commit (dir: string, key: string, value: string, ...args: string[]): Promise<string> {
  const id = ok(await revkv(dir, ['commit', key, value, ...args])).stdout.trim()
  assert.match(id, ID)
  return id
}

// ---------------------------------------------------------------- help, completion, usage

test('--help lists every command, the global options, examples and the exit codes', async () => {
  const { stdout } = ok(await revkv(tempDir(), ['--help']))
  for (const command of ['init', 'commit', 'delete', 'get', 'show', 'log', 'diff', 'merge', 'conflicts', 'keys', 'completion']) {
    assert.match(stdout, new RegExp(`revkv ${command}\\b`))
  }
  for (const option of ['--db', '--json', '--debug', '--wait', '--help', '--version']) assert.ok(stdout.includes(option), option)
  assert.match(stdout, /Examples:/)
  assert.match(stdout, /Exit codes:/)
  for (const code of ['0', '1', '2', '3', '4']) assert.match(stdout, new RegExp(`^ {2}${code} +\\S`, 'm'))
  assert.match(stdout, /revkv init/)
  assert.match(ok(await revkv(tempDir(), ['--version'])).stdout, /^\d+\.\d+\.\d+/)
})

test('every command\'s --help lists its options with an example', async () => {
  const options: Record<string, string[]> = {
    init: [],
    commit: ['--file', '--create', '--parent', '--strategy', '--on-conflict', '--message', '--author'],
    delete: ['--parent', '--strategy', '--on-conflict', '--message', '--author'],
    get: ['--rev'],
    show: ['--key'],
    log: ['--max-count', '--oneline', '--first-parent', '--graph'],
    diff: [],
    merge: ['--strategy', '--on-conflict', '--value', '--file', '--message', '--author'],
    conflicts: [],
    keys: ['--prefix', '--limit'],
    changes: ['--since', '--prefix', '--limit', '--follow'],
    fsck: [],
    compact: ['--keep', '--prefix'],
    export: ['--prefix'],
    import: [],
    serve: ['--port', '--host', '--require-parent', '--body-limit', '--quiet', '--strategy', '--sync', '--token'],
    bench: ['--workload', '--writers', '--strategy', '--ops', '--duration', '--value-size', '--sync', '--json', '--chart', '--seed']
  }
  const dir = tempDir()
  const helps = new Map(await Promise.all(Object.keys(options).map(async (command) => [command, ok(await revkv(dir, [command, '--help'])).stdout] as const)))
  for (const [command, own] of Object.entries(options)) {
    const help = helps.get(command) ?? ''
    assert.match(help, new RegExp(`^revkv ${command}`), command)
    assert.match(help, /Examples:\n {2}# .+\n {2}revkv /, `${command} has examples`)
    for (const option of [...own, '--db', '--json', '--wait', '--remote']) assert.ok(help.includes(option), `${command} --help lists ${option}`)
  }
  assert.match(helps.get('merge') ?? '', /choices: "lww", "merge"/)
  assert.match(helps.get('commit') ?? '', /choices: "reject", "lww", "merge", "manual"/)
})

test('completion prints a shell script, and completions list the commands', async () => {
  const dir = tempDir()
  const [script, words] = await Promise.all([revkv(dir, ['completion']), revkv(dir, ['--get-yargs-completions', 'revkv', ''])])
  assert.match(ok(script).stdout, /###-begin-revkv-completions-###/)
  assert.match(script.stdout, /--get-yargs-completions/)
  const listed = ok(words).stdout.split('\n')
  for (const command of ['commit', 'log', 'merge', 'conflicts']) assert.ok(listed.includes(command), command)
})

test('bad usage exits 2 with yargs\' message: unknown option, unknown command, unknown strategy, missing argument', async () => {
  const dir = await withEmptyStore()
  const [option, command, strategy, side, missing, none, both, wait] = await Promise.all([
    revkv(dir, ['get', 'k', '--bogus']),
    revkv(dir, ['bogus']),
    revkv(dir, ['commit', 'k', '1', '--strategy', 'bogus']),
    revkv(dir, ['merge', 'k', 'abcd', '--on-conflict', 'mine']),
    revkv(dir, ['get']),
    revkv(dir, []),
    revkv(dir, ['commit', 'k', '1', '--file', 'v.json']),
    revkv(dir, ['keys', '--wait', '-5'])
  ])
  assert.match(fails(option, 2), /Unknown argument: bogus/)
  assert.match(option.stderr, /revkv get --help/)
  assert.match(fails(command, 2), /Unknown command: bogus/)
  assert.match(fails(strategy, 2), /Invalid values:[\s\S]*strategy[\s\S]*"bogus"/)
  assert.match(fails(side, 2), /Invalid values:[\s\S]*on-conflict/)
  assert.match(fails(missing, 2), /Not enough non-option arguments/)
  assert.match(fails(none, 2), /No command given/)
  assert.match(fails(both, 2), /mutually exclusive/)
  assert.match(fails(wait, 2), /--wait must be a number of milliseconds/)
  // Nothing was written by any of them.
  fails(await revkv(dir, ['get', 'k']), 3)
})

test('--on-conflict with a strategy other than merge is bad input (exit 2)', async () => {
  const dir = await withEmptyStore()
  const stderr = fails(await revkv(dir, ['commit', 'k', '1', '--strategy', 'lww', '--on-conflict', 'ours']), 2)
  assert.match(stderr, /--on-conflict goes with --strategy merge/)
})

test('a bad key is bad input (exit 2)', async () => {
  const dir = await withEmptyStore()
  const [empty, long] = await Promise.all([revkv(dir, ['commit', '', '1']), revkv(dir, ['get', 'x'.repeat(1025)])])
  assert.match(fails(empty, 2), /Key must not be empty/)
  assert.match(fails(long, 2), /at most 1024 bytes/)
})

test('with --json, errors are JSON on stderr and stdout stays empty', async () => {
  const dir = await withEmptyStore()
  const [usage, missing, invalid] = await Promise.all([
    revkv(dir, ['--json', 'get', 'k', '--bogus']),
    revkv(dir, ['get', 'k', '--json']),
    revkv(dir, ['commit', 'k', '{', '--json'])
  ])
  assert.equal(JSON.parse(fails(usage, 2)), { name: 'UsageError', code: 'REVKV_INVALID', status: 400, message: 'Unknown argument: bogus' })
  const notFound = JSON.parse(fails(missing, 3)) as Record<string, unknown>
  assert.is(notFound.code, 'REVKV_NOT_FOUND')
  assert.is(notFound.status, 404)
  const bad = JSON.parse(fails(invalid, 2)) as Record<string, unknown>
  assert.is(bad.name, 'InvalidInputError')
  assert.match(String(bad.message), /line 1, column 2/)
})

// ---------------------------------------------------------------- finding the store

test('without a store every command says so and names revkv init (exit 3), creating nothing', async () => {
  const dir = tempDir()
  const [get, log, json] = await Promise.all([revkv(dir, ['get', 'k']), revkv(dir, ['log', 'k']), revkv(dir, ['keys', '--json'])])
  assert.match(fails(get, 3), /revkv init/)
  assert.match(fails(log, 3), /revkv init/)
  assert.match((JSON.parse(fails(json, 3)) as { message: string }).message, /revkv init/)
  assert.not.ok(existsSync(join(dir, '.revkv')))
})

test('a directory that exists but holds no store is "no store" too (exit 3, naming revkv init)', async () => {
  const dir = tempDir()
  const stderr = fails(await revkv(dir, ['get', 'k'], { env: { REVKV_DB: dir } }), 3)
  assert.match(stderr, /revkv init/)
})

test('init creates a store, says when one already exists, and honours dir, --db and REVKV_DB', async () => {
  const dir = tempDir()
  assert.match(ok(await revkv(dir, ['init'])).stdout, /Initialized empty revkv store in .*\.revkv/)
  assert.match(ok(await revkv(dir, ['init'])).stdout, /already exists/)
  assert.equal(json(await revkv(dir, ['init', '--json'])), { path: join(dir, '.revkv'), created: false })
  assert.equal(json(await revkv(dir, ['init', 'data/kv', '--json'])), { path: join(dir, 'data/kv'), created: true })
  ok(await revkv(dir, ['init'], { env: { REVKV_DB: 'from-env' } }))
  ok(await revkv(dir, ['init', '--db', 'from-flag']))
  // Each location is a store of its own: --db beats REVKV_DB, which beats ./.revkv.
  await commit(dir, 'where', '"flag"', '--db', 'from-flag')
  const env = { REVKV_DB: 'from-env' }
  ok(await revkv(dir, ['commit', 'where', '"env"'], { env }))
  assert.is(ok(await revkv(dir, ['get', 'where'], { env })).stdout, '"env"\n')
  assert.is(ok(await revkv(dir, ['get', 'where', '--db', 'from-flag'], { env })).stdout, '"flag"\n')
  fails(await revkv(dir, ['get', 'where']), 3)
  fails(await revkv(dir, ['get', 'where', '--db', 'data/kv']), 3)
})

// ---------------------------------------------------------------- writing values

test('commit takes the value from the argument, --file, standard input and -, and prints the revision id', async () => {
  const dir = await withEmptyStore()
  writeFileSync(join(dir, 'v.json'), '\uFEFF{ "from": "file" }\n')
  const fromArg = await commit(dir, 'arg', '{"from":"argument","n":[1,2]}')
  const fromFile = ok(await revkv(dir, ['commit', 'file', '--file', 'v.json'])).stdout.trim()
  const fromStdin = ok(await revkv(dir, ['commit', 'stdin'], { input: '{"from":\n "stdin"}\n' })).stdout.trim()
  const fromDash = ok(await revkv(dir, ['commit', 'dash', '-'], { input: '"dash"' })).stdout.trim()
  const fromFileDash = ok(await revkv(dir, ['commit', 'filedash', '--file', '-'], { input: '[1, 2, 3]' })).stdout.trim()
  // A negative number is a value, not an option.
  ok(await revkv(dir, ['commit', 'negative', '-5']))
  assert.equal(json(await revkv(dir, ['get', 'negative'])), -5)
  for (const id of [fromArg, fromFile, fromStdin, fromDash, fromFileDash]) assert.match(id, ID)
  assert.equal(json(await revkv(dir, ['get', 'arg'])), { from: 'argument', n: [1, 2] })
  assert.equal(json(await revkv(dir, ['get', 'file'])), { from: 'file' })
  assert.equal(json(await revkv(dir, ['get', 'stdin'])), { from: 'stdin' })
  assert.equal(json(await revkv(dir, ['get', 'dash'])), 'dash')
  assert.equal(json(await revkv(dir, ['get', 'filedash'])), [1, 2, 3])
  assert.is(json<Revision>(await revkv(dir, ['get', 'arg', '--json'])).id, fromArg)
})

test('commit --json prints the revision with its author (--author, else REVKV_AUTHOR, else the OS user) and message', async () => {
  const dir = await withEmptyStore()
  const named = json<Revision>(await revkv(dir, ['commit', 'k', '1', '--json', '--author', 'ada', '-m', 'one']))
  assert.match(named.id, ID)
  assert.is(named.key, 'k')
  assert.is(named.value, 1)
  assert.is(named.author, 'ada')
  assert.is(named.message, 'one')
  assert.equal(named.parents, [])
  const fromEnv = json<Revision>(await revkv(dir, ['commit', 'k', '2', '--json', '--message', 'two'], { env: { REVKV_AUTHOR: 'grace' } }))
  assert.is(fromEnv.author, 'grace')
  assert.equal(fromEnv.parents, [named.id])
  const fromOs = json<Revision>(await revkv(dir, ['commit', 'k', '3', '--json']))
  assert.is(fromOs.author, userInfo().username)
  assert.is(fromOs.message, undefined)
})

test('invalid JSON is exit 2 with the source, line and column, and nothing is written', async () => {
  const dir = await withEmptyStore()
  writeFileSync(join(dir, 'bad.json'), '{\n  "a": 1,\n  "b": tru\n}\n')
  const [arg, stdin, file, missing, word, empty] = await Promise.all([
    revkv(dir, ['commit', 'k', '{"a":1,}']),
    revkv(dir, ['commit', 'k'], { input: '{\n  "a": [1, 2\n' }),
    revkv(dir, ['commit', 'k', '--file', 'bad.json']),
    revkv(dir, ['commit', 'k', '--file', 'nope.json']),
    revkv(dir, ['commit', 'k', 'hello']),
    revkv(dir, ['commit', 'k'], { input: '  \n' })
  ])
  assert.match(fails(arg, 2), /Invalid JSON in the value argument at line 1, column 8/)
  assert.match(fails(stdin, 2), /Invalid JSON in standard input at line 2, column 13/)
  assert.match(fails(file, 2), /Invalid JSON in file bad\.json at line 3, column 11/)
  assert.match(file.stderr, / {2}"b": tru\n {12}\^/)
  assert.match(fails(missing, 2), /Cannot read --file nope\.json: it does not exist/)
  assert.match(fails(word, 2), /line 1, column 1[\s\S]*To store a string, write it as JSON with quotes/)
  assert.match(fails(empty, 2), /No JSON value in standard input: it is empty/)
  fails(await revkv(dir, ['get', 'k']), 3)
})

test('the JSON error position is found for every kind of V8 message', () => {
  const at = (text: string): { line: number, column: number } => {
    try {
      JSON.parse(text)
    } catch (err) {
      return lineColumn(text, jsonErrorPosition(text, (err as Error).message))
    }
    throw new Error(`${text} parsed`)
  }
  assert.equal(at('{"a":}'), { line: 1, column: 6 })
  assert.equal(at('[1,\n 2,\n x]'), { line: 3, column: 2 })
  assert.equal(at('{"a":1'), { line: 1, column: 7 })
  assert.equal(at('{"a":1\n\n'), { line: 1, column: 7 })
  assert.equal(at('"abc'), { line: 1, column: 5 })
  assert.equal(at('1 2'), { line: 1, column: 3 })
  assert.equal(at('{"a":"\\u12G4"}'), { line: 1, column: 11 })
})

// ---------------------------------------------------------------- conditional writes and conflicts

test('a stale --parent is refused with exit 1, explained on stderr, and nothing is written', async () => {
  const dir = await withEmptyStore()
  const first = await commit(dir, 'k', '{"n":1}')
  const second = await commit(dir, 'k', '{"n":2}', '--parent', first.slice(0, 8))
  const before = await history(dir, 'k')
  const stderr = fails(await revkv(dir, ['commit', 'k', '{"n":3}', '--parent', first.slice(0, 6)]), 1)
  assert.match(stderr, /Conflict/)
  assert.match(stderr, new RegExp(`expected head: ${first}`))
  assert.match(stderr, new RegExp(`actual head: +${second}`))
  assert.match(stderr, new RegExp(`--parent ${second.slice(0, 12)}`))
  assert.equal(await history(dir, 'k'), before)
  assert.equal(json(await revkv(dir, ['get', 'k'])), { n: 2 })
  // The head as parent is not stale; HEAD names it too.
  await commit(dir, 'k', '{"n":3}', '--parent', 'HEAD')
  assert.is((await history(dir, 'k')).length, 3)
})

test('--create fails with exit 1 on an existing key and creates a missing one', async () => {
  const dir = await withEmptyStore()
  await commit(dir, 'k', '1', '--create')
  const stderr = fails(await revkv(dir, ['commit', 'k', '2', '--create']), 1)
  assert.match(stderr, /already exists/)
  assert.match(stderr, /expected head: none \(create only/)
  assert.match(stderr, /drop --create/)
  assert.is((await history(dir, 'k')).length, 1)
  assert.is(json(await revkv(dir, ['get', 'k'])), 1)
})

test('--strategy lww and merge settle a stale write into a merge revision', async () => {
  const dir = await withEmptyStore()
  const base = await commit(dir, 'k', '{"a":1,"b":1}')
  await commit(dir, 'k', '{"a":2,"b":1}')
  const lww = ok(await revkv(dir, ['commit', 'k', '{"a":1,"b":5}', '--parent', base, '--strategy', 'lww']))
  assert.match(lww.stderr, /strategy lww merged this write/)
  assert.equal(json(await revkv(dir, ['get', 'k'])), { a: 1, b: 5 })
  const head = json<Revision>(await revkv(dir, ['get', 'k', '--json']))
  assert.is(head.id, lww.stdout.trim())
  assert.is(head.parents.length, 2)
  assert.is(head.strategy, 'lww')
  await commit(dir, 'k', '{"a":1,"b":5,"c":1}', '--parent', base, '--strategy', 'merge')
  assert.equal(json(await revkv(dir, ['get', 'k'])), { a: 1, b: 5, c: 1 })
})

test('a merge conflict is exit 1 listing each pointer with base, ours and theirs; --on-conflict settles it', async () => {
  const dir = await withEmptyStore()
  const base = await commit(dir, 'k', '{"title":"a","tags":["x"],"n":1}')
  await commit(dir, 'k', '{"title":"ours","tags":["x"],"n":2}')
  const before = await history(dir, 'k')
  const stderr = fails(await revkv(dir, ['commit', 'k', '{"title":"theirs","tags":["x"],"n":3}', '--parent', base, '--strategy', 'merge']), 1)
  assert.match(stderr, /Merge conflict/)
  assert.match(stderr, /\/title\n +<<<<<<< ours \(head [0-9a-f]{12}\)\n +"ours"\n +\|\|\|\|\|\|\| base\n +"a"\n +=======\n +"theirs"\n +>>>>>>> theirs \(this write\)/)
  assert.match(stderr, /\/n\n +<<<<<<< ours \(head [0-9a-f]{12}\)\n +2\n +\|\|\|\|\|\|\| base\n +1\n +=======\n +3\n +>>>>>>> theirs/)
  assert.match(stderr, /--on-conflict ours or --on-conflict theirs/)
  assert.equal(await history(dir, 'k'), before)
  const asJson = JSON.parse(fails(await revkv(dir, ['commit', 'k', '{"title":"theirs","tags":["x"],"n":3}', '--parent', base, '--strategy', 'merge', '--json']), 1)) as { code: string, conflicts: Array<{ path: string }> }
  assert.is(asJson.code, 'REVKV_MERGE_CONFLICT')
  assert.equal(asJson.conflicts.sort((a, b) => a.path < b.path ? -1 : 1), [{ kind: 'value', path: '/n', base: 1, ours: 2, theirs: 3 }, { kind: 'value', path: '/title', base: 'a', ours: 'ours', theirs: 'theirs' }])
  // --on-conflict alone implies the merge strategy.
  await commit(dir, 'k', '{"title":"theirs","tags":["x","y"],"n":3}', '--parent', base, '--on-conflict', 'theirs')
  assert.equal(json(await revkv(dir, ['get', 'k'])), { title: 'theirs', tags: ['x', 'y'], n: 3 })
})

test('a manual conflict is kept (exit 1), listed by conflicts, refused by a conflicting merge, settled by merge --value, and drawn by log --graph', async () => {
  const dir = await withEmptyStore()
  const base = await commit(dir, 'doc', '{"title":"a","body":"x"}', '-m', 'base')
  await commit(dir, 'doc', '{"title":"b","body":"x"}', '-m', 'ours')
  await commit(dir, 'other', '1')
  const kept = fails(await revkv(dir, ['commit', 'doc', '{"title":"c","body":"y"}', '--parent', base.slice(0, 10), '--strategy', 'manual', '-m', 'theirs']), 1)
  const keptId = /kept unmerged: ([0-9a-f]{64})/.exec(kept)?.[1] ?? ''
  assert.match(keptId, ID)
  assert.match(kept, new RegExp(`revkv merge doc ${keptId.slice(0, 12)}`))
  assert.equal(json(await revkv(dir, ['get', 'doc'])), { title: 'b', body: 'x' })

  const [all, one, allJson] = await Promise.all([revkv(dir, ['conflicts']), revkv(dir, ['conflicts', 'doc', '--json']), revkv(dir, ['conflicts', '--json'])])
  assert.match(ok(all).stdout, new RegExp(`^doc: head [0-9a-f]{12}, 1 unmerged revision\n {2}${keptId.slice(0, 12)} .* theirs\n {2}settle with: revkv merge doc ${keptId.slice(0, 12)}`))
  assert.not.match(all.stdout, /other/)
  const listed = json<Array<{ key: string, revisions: Revision[] }>>(one)
  assert.is(listed.length, 1)
  assert.is(listed[0]?.revisions[0]?.id, keptId)
  assert.equal(json<Array<{ key: string }>>(allJson).map((c) => c.key), ['doc'])

  const refused = fails(await revkv(dir, ['merge', 'doc', keptId.slice(0, 8)]), 1)
  assert.match(refused, new RegExp(`/title\n +<<<<<<< ours \\(head [0-9a-f]{12}\\)\n +"b"\n +\\|{7} base\n +"a"\n +=======\n +"c"\n +>>>>>>> theirs \\(${keptId.slice(0, 12)}\\)`))
  assert.match(refused, new RegExp(`merging: +${keptId}`))
  assert.match(refused, new RegExp(`revkv merge doc ${keptId.slice(0, 12)} --value`))

  const merged = ok(await revkv(dir, ['merge', 'doc', keptId.slice(0, 8), '--value', '{"title":"b+c","body":"y"}', '-m', 'settled'])).stdout.trim()
  assert.match(merged, ID)
  assert.equal(json(await revkv(dir, ['get', 'doc'])), { title: 'b+c', body: 'y' })
  assert.equal(json(await revkv(dir, ['conflicts', '--json'])), [])
  assert.match(ok(await revkv(dir, ['conflicts'])).stderr, /No unmerged revisions/)
  const again = ok(await revkv(dir, ['merge', 'doc', keptId.slice(0, 8)]))
  assert.is(again.stdout.trim(), merged)
  assert.match(again.stderr, /Already merged/)

  const graph = ok(await revkv(dir, ['log', 'doc', '--graph', '--oneline'])).stdout
  assert.is(graph, [
    `*   ${merged.slice(0, 12)} settled`,
    '|\\',
    `| * ${keptId.slice(0, 12)} theirs`,
    `* | ${(await history(dir, 'doc'))[2]?.id.slice(0, 12) ?? ''} ours`,
    '|/',
    `* ${base.slice(0, 12)} base`,
    ''
  ].join('\n'))
  const full = ok(await revkv(dir, ['log', 'doc', '--graph'])).stdout
  assert.match(full, new RegExp(`^\\* {3}commit ${merged} \\(HEAD\\)\n\\|\\\\ {2}Merge: [0-9a-f]{12} ${keptId.slice(0, 12)}\n\\| \\| Author: `))
  assert.match(full, /\n\|\/ {2}Author: /)
})

test('merge joins a side revision with --strategy lww or --on-conflict, and --file gives the value', async () => {
  const dir = await withEmptyStore()
  const base = await commit(dir, 'k', '{"a":1}')
  await commit(dir, 'k', '{"a":2}')
  const sideA = /kept unmerged: ([0-9a-f]{64})/.exec(fails(await revkv(dir, ['commit', 'k', '{"a":3}', '--parent', base, '--strategy', 'manual']), 1))?.[1] ?? ''
  const sideB = /kept unmerged: ([0-9a-f]{64})/.exec(fails(await revkv(dir, ['commit', 'k', '{"a":4}', '--parent', base, '--strategy', 'manual']), 1))?.[1] ?? ''
  const sideC = /kept unmerged: ([0-9a-f]{64})/.exec(fails(await revkv(dir, ['commit', 'k', '{"a":5}', '--parent', base, '--strategy', 'manual']), 1))?.[1] ?? ''
  assert.is(json<Array<{ revisions: unknown[] }>>(await revkv(dir, ['conflicts', 'k', '--json']))[0]?.revisions.length, 3)
  const lww = json<Revision>(await revkv(dir, ['merge', 'k', sideA.slice(0, 8), '--strategy', 'lww', '--json']))
  assert.is(lww.strategy, 'lww')
  assert.equal(lww.parents[1], sideA)
  assert.equal(json(await revkv(dir, ['get', 'k'])), { a: 3 })
  ok(await revkv(dir, ['merge', 'k', sideB.slice(0, 8), '--on-conflict', 'ours']))
  assert.equal(json(await revkv(dir, ['get', 'k'])), { a: 3 })
  writeFileSync(join(dir, 'merged.json'), '{"a": 6}')
  ok(await revkv(dir, ['merge', 'k', sideC.slice(0, 8), '--file', 'merged.json']))
  assert.equal(json(await revkv(dir, ['get', 'k'])), { a: 6 })
  assert.equal(json(await revkv(dir, ['conflicts', '--json'])), [])
  fails(await revkv(dir, ['merge', 'k', sideC.slice(0, 8), '--value', '1', '--strategy', 'lww']), 2)
})

// ---------------------------------------------------------------- reading

/** A store with some history, shared by the tests that only read it. */
let shared: { dir: string, k: Revision[] } | undefined

async function sharedStore (): Promise<{ dir: string, k: Revision[] }> {
  if (shared !== undefined) return shared
  const dir = tempDir()
  const store = await Store.open(join(dir, '.revkv'))
  const r1 = await store.commit('k', { a: 1, b: [1, 2], gone: true }, { message: 'first', author: 'ada' })
  const r2 = await store.commit('k', { a: 2, b: [1, 3], c: 'x' }, { message: 'second\nwith a body', author: 'ada' })
  const r3 = await store.commit('k', { a: 3, b: [1, 3], c: 'x' }, { author: 'grace' })
  for (const key of ['user:1', 'user:2', 'user:3', 'zebra']) await store.commit(key, key)
  await store.commit('user:0', 0)
  await store.delete('user:0', { message: 'bye' })
  await store.close()
  shared = { dir, k: [r3, r2, r1] }
  return shared
}

test('get prints the value, at --rev (prefix, HEAD~N) too, and --json the whole revision; unknown and deleted keys exit 3', async () => {
  const { dir, k } = await sharedStore()
  const [r3, r2, r1] = k as [Revision, Revision, Revision]
  const [head, prev, byPrefix, whole, missing, deleted, badRev, tooFar] = await Promise.all([
    revkv(dir, ['get', 'k']),
    revkv(dir, ['get', 'k', '--rev', 'HEAD~1']),
    revkv(dir, ['get', 'k', '--rev', r1.id.slice(0, 7)]),
    revkv(dir, ['get', 'k', '--json']),
    revkv(dir, ['get', 'nope']),
    revkv(dir, ['get', 'user:0']),
    revkv(dir, ['get', 'k', '--rev', 'ffff0000ffff']),
    revkv(dir, ['get', 'k', '--rev', 'HEAD~3'])
  ])
  assert.is(ok(head).stdout, '{\n  "a": 3,\n  "b": [\n    1,\n    3\n  ],\n  "c": "x"\n}\n')
  assert.equal(json(prev), r2.value)
  assert.equal(json(byPrefix), r1.value)
  assert.equal(json(whole), JSON.parse(JSON.stringify(r3)))
  assert.match(fails(missing, 3), /Key "nope" does not exist/)
  assert.match(fails(deleted, 3), /deleted/)
  assert.match(fails(badRev, 3), /No revision of key "k" starts with ffff0000ffff/)
  assert.match(fails(tooFar, 3), /HEAD~3 goes past the first revision/)
})

test('log prints Git-style entries newest first; -n, --oneline, --first-parent and --json', async () => {
  const { dir, k } = await sharedStore()
  const [r3, r2, r1] = k as [Revision, Revision, Revision]
  const [full, limited, oneline, asJson, deleted, missing] = await Promise.all([
    revkv(dir, ['log', 'k']),
    revkv(dir, ['log', 'k', '-n', '2', '--oneline']),
    revkv(dir, ['log', 'k', '--oneline', '--first-parent']),
    revkv(dir, ['log', 'k', '--json', '--max-count', '2']),
    revkv(dir, ['log', 'user:0', '--oneline']),
    revkv(dir, ['log', 'nope'])
  ])
  assert.is(ok(full).stdout, [
    `commit ${r3.id} (HEAD)`,
    'Author: grace',
    `Date:   ${new Date(r3.time).toISOString()}`,
    '',
    '    (no message)',
    '',
    `commit ${r2.id}`,
    'Author: ada',
    `Date:   ${new Date(r2.time).toISOString()}`,
    '',
    '    second',
    '    with a body',
    '',
    `commit ${r1.id}`,
    'Author: ada',
    `Date:   ${new Date(r1.time).toISOString()}`,
    '',
    '    first',
    ''
  ].join('\n'))
  assert.is(ok(limited).stdout, `${r3.id.slice(0, 12)} (no message)\n${r2.id.slice(0, 12)} second\n`)
  assert.is(ok(oneline).stdout.split('\n').length, 4)
  assert.equal(json<Revision[]>(asJson).map((r) => r.id), [r3.id, r2.id])
  assert.match(ok(deleted).stdout, /^[0-9a-f]{12} bye \(deleted\)\n[0-9a-f]{12} \(no message\)\n$/)
  assert.match(fails(missing, 3), /Key "nope" does not exist/)
})

test('log --first-parent leaves out merged-in revisions', async () => {
  const dir = await withEmptyStore()
  const base = await commit(dir, 'k', '{"a":1,"b":1}', '-m', 'base')
  await commit(dir, 'k', '{"a":2,"b":1}', '-m', 'main')
  const head = json<Revision>(await revkv(dir, ['commit', 'k', '{"a":1,"b":2}', '--parent', base, '--strategy', 'merge', '--json']))
  const side = (head.parents[1] ?? '').slice(0, 12)
  const all = ok(await revkv(dir, ['log', 'k', '--oneline'])).stdout
  const first = ok(await revkv(dir, ['log', 'k', '--oneline', '--first-parent', '--graph'])).stdout
  assert.is(all.split('\n').length, 5)
  assert.ok(all.includes(`${side} (no message)`))
  assert.match(first, /^\* [0-9a-f]{12} Merge [0-9a-f]{12} into [0-9a-f]{12} \(merge\)\n\* [0-9a-f]{12} main\n\* [0-9a-f]{12} base\n$/)
  assert.not.match(first, new RegExp(`^\\* ${side}`, 'm'))
})

test('diff shows each pointer with old and new values; defaults to the head against its first parent; --json is RFC 6902', async () => {
  const { dir, k } = await sharedStore()
  const [r3, , r1] = k as [Revision, Revision, Revision]
  const [last, range, patch, first, same] = await Promise.all([
    revkv(dir, ['diff', 'k']),
    revkv(dir, ['diff', 'k', r1.id.slice(0, 6), 'HEAD~1']),
    revkv(dir, ['diff', 'k', 'HEAD~2', '--json']),
    revkv(dir, ['diff', 'k', r1.id.slice(0, 6), r1.id.slice(0, 6)]),
    revkv(dir, ['diff', 'user:1'])
  ])
  assert.is(ok(last).stdout, '~ /a: 2 -> 3\n')
  const lines = ok(range).stdout.trim().split('\n').sort()
  assert.equal(lines, ['+ /c: "x"', '- /gone: true', '~ /a: 1 -> 2', '~ /b/1: 2 -> 3'])
  const ops = json<JsonPatchOperation[]>(patch)
  assert.equal(jsonpatch.applyPatch(structuredClone(r1.value), ops as Operation[]).newDocument, r3.value)
  assert.equal(ops.map((op) => op.op).sort(), ['add', 'remove', 'replace', 'replace'])
  assert.is(ok(first).stdout, '')
  assert.match(first.stderr, /No differences/)
  assert.is(ok(same).stdout, '+ (the whole value): "user:1"\n')
})

test('show prints a revision with its parents and its diff against the first parent; --json gives both', async () => {
  const { dir, k } = await sharedStore()
  const [r3, r2, r1] = k as [Revision, Revision, Revision]
  const [human, root, asJson, noKey] = await Promise.all([
    revkv(dir, ['show', r2.id.slice(0, 5)]),
    revkv(dir, ['show', 'HEAD~2', '--key', 'k']),
    revkv(dir, ['show', 'HEAD', '--key', 'k', '--json']),
    revkv(dir, ['show', 'HEAD'])
  ])
  assert.is(ok(human).stdout, [
    `commit ${r2.id}`,
    'Key:      k',
    `Parents:  ${r1.id}`,
    'Author:   ada',
    `Date:     ${new Date(r2.time).toISOString()}`,
    '',
    '    second',
    '    with a body',
    '',
    `Changes since ${r1.id.slice(0, 12)}:`,
    '- /gone: true',
    '~ /b/1: 2 -> 3',
    '~ /a: 1 -> 2',
    '+ /c: "x"',
    ''
  ].join('\n'))
  assert.match(ok(root).stdout, /Parents: {2}\(none: the key's first revision\)[\s\S]*first revision of the key[\s\S]*\+ \(the whole value\): \{"a":1,"b":\[1,2\],"gone":true\}/)
  assert.equal(json(asJson), { revision: JSON.parse(JSON.stringify(r3)), diff: [{ op: 'replace', path: '/a', value: 3 }] })
  assert.match(fails(noKey, 2), /HEAD needs a key/)
})

test('keys lists live keys in order, with --prefix and -n, and --json', async () => {
  const { dir } = await sharedStore()
  const [all, prefixed, limited, asJson] = await Promise.all([
    revkv(dir, ['keys']),
    revkv(dir, ['keys', '--prefix', 'user:']),
    revkv(dir, ['keys', '--prefix', 'user:', '-n', '2']),
    revkv(dir, ['keys', '--json', '--limit', '3'])
  ])
  assert.is(ok(all).stdout, 'k\nuser:1\nuser:2\nuser:3\nzebra\n')
  assert.is(ok(prefixed).stdout, 'user:1\nuser:2\nuser:3\n')
  assert.is(ok(limited).stdout, 'user:1\nuser:2\n')
  assert.equal(json(asJson), ['k', 'user:1', 'user:2'])
})

test('delete writes a tombstone, honours --parent, and a missing key is exit 3', async () => {
  const dir = await withEmptyStore()
  const first = await commit(dir, 'k', '1')
  await commit(dir, 'k', '2')
  const stale = fails(await revkv(dir, ['delete', 'k', '--parent', first]), 1)
  assert.match(stale, /redo the delete with --parent/)
  const tomb = json<Revision>(await revkv(dir, ['delete', 'k', '-m', 'gone', '--json', '--parent', 'HEAD']))
  assert.is(tomb.deleted, true)
  assert.is(tomb.message, 'gone')
  assert.match(fails(await revkv(dir, ['get', 'k']), 3), /deleted/)
  assert.match(ok(await revkv(dir, ['log', 'k', '-n', '1'])).stdout, /^commit [0-9a-f]{64} \(HEAD, deleted\)\n/)
  assert.is(ok(await revkv(dir, ['keys'])).stdout, '')
  assert.match(fails(await revkv(dir, ['delete', 'k']), 3), /already deleted/)
  assert.match(fails(await revkv(dir, ['delete', 'nope']), 3), /does not exist/)
})

// ---------------------------------------------------------------- revision prefixes

test('revision prefixes: unique ones resolve, ambiguous ones list the candidates (exit 2), short ones are refused', async () => {
  const dir = tempDir()
  // Ids are hashes, so two sharing a 4-hex prefix is likely after a few hundred revisions
  // (birthday bound over 65,536 prefixes) but not certain: write until it happens.
  const store = await Store.open(join(dir, '.revkv'))
  const byPrefix = new Map<string, string>()
  let pair: [string, string] | undefined
  for (let i = 0; i < 20_000 && pair === undefined; i++) {
    const { id } = await store.commit('k', i)
    const other = byPrefix.get(id.slice(0, 4))
    if (other !== undefined) pair = [other, id]
    byPrefix.set(id.slice(0, 4), id)
  }
  await store.close()
  if (pair === undefined) throw new Error('no two of 20,000 revision ids share a 4-hex prefix')
  const [a, b] = pair
  let unique = 5
  while (a.slice(0, unique) === b.slice(0, unique)) unique++
  const [ambiguous, resolved, tooShort, other] = await Promise.all([
    revkv(dir, ['show', a.slice(0, 4)]),
    revkv(dir, ['show', a.slice(0, unique), '--json']),
    revkv(dir, ['show', a.slice(0, 3)]),
    revkv(dir, ['get', 'other', '--rev', a.slice(0, unique)])
  ])
  const stderr = fails(ambiguous, 2)
  assert.match(stderr, /ambiguous/)
  assert.ok(stderr.includes(a) && stderr.includes(b), 'lists both candidates')
  assert.is(json<{ revision: Revision }>(resolved).revision.id, a)
  assert.match(fails(tooShort, 2), /too short/)
  fails(other, 3)
})

// ---------------------------------------------------------------- two processes, one store

test('a store held by another process: --wait 0 exits 4 naming the directory and revkv serve', async () => {
  const dir = await withEmptyStore()
  const location = resolve(dir, '.revkv')
  const holder = await Store.open(location)
  try {
    const [human, asJson, waited] = await Promise.all([
      revkv(dir, ['get', 'k', '--wait', '0']),
      revkv(dir, ['commit', 'k', '1', '--wait', '0', '--json']),
      revkv(dir, ['keys', '--wait', '400'])
    ])
    const stderr = fails(human, 4)
    assert.ok(stderr.includes(location), 'names the directory')
    assert.match(stderr, /open in another process/)
    assert.match(stderr, /revkv serve/)
    const err = JSON.parse(fails(asJson, 4)) as { code: string, message: string }
    assert.is(err.code, 'REVKV_LOCKED')
    assert.ok(err.message.includes(location))
    // How long it waited is checked on a virtual clock in lock-wait.test.ts; here, that --wait reaches it.
    assert.match(fails(waited, 4), /Waited 400 ms/)
  } finally {
    await holder.close()
  }
  fails(await revkv(dir, ['get', 'k']), 3)
})

test('processes started together on one store all get their turn', async () => {
  // Waiting for a held store, and being let in once it is free, is checked with events and a
  // virtual clock in lock-wait.test.ts; here, real processes racing for a free store.
  const dir = await withEmptyStore()
  const runs = await Promise.all(['a', 'b', 'c'].map(async (v) => await revkv(dir, ['commit', 'k', `"${v}"`])))
  for (const run of runs) assert.match(ok(run).stdout.trim(), ID)
  const log = await history(dir, 'k')
  assert.equal(log.map((r) => r.value).sort(), ['a', 'b', 'c'])
})

// ---------------------------------------------------------------- internal errors and colors

test('an unexpected failure (LevelDB cannot open its files) exits 70 without a stack trace unless --debug', async () => {
  const dir = await withEmptyStore()
  // LevelDB's own files damaged: an error revkv does not document, so exit 70.
  writeFileSync(join(dir, '.revkv', 'CURRENT'), 'MANIFEST-999999\n')
  const [plain, debug] = await Promise.all([revkv(dir, ['get', 'k']), revkv(dir, ['get', 'k', '--debug'])])
  const stderr = fails(plain, 70)
  assert.match(stderr, /internal error: .*\n.*MANIFEST-999999/)
  assert.match(stderr, /--debug/)
  assert.not.match(stderr, /\n {4}at /)
  assert.match(fails(debug, 70), /\n {4}at /)
})

test('a damaged revkv record (a head pointing at a missing revision) exits 6 and says to run revkv fsck', async () => {
  const dir = tempDir()
  const db = new Level<string, string>(join(dir, '.revkv'), UTF8)
  await db.open()
  await db.put(FORMAT_KEY, FORMAT_VERSION, UTF8)
  await db.put(headKey('k'), encodeHead({ head: 'f'.repeat(64) }), UTF8)
  await db.close()
  const stderr = fails(await revkv(dir, ['get', 'k']), 6)
  assert.match(stderr, /Revision f{64} of key "k" is damaged: .*missing\. Run `revkv fsck`/)
  assert.not.match(stderr, /internal error/)
})

test('colors: only on a terminal and never with NO_COLOR; piped output has no escape codes', async () => {
  assert.ok(colorEnabled({ isTTY: true }, {}))
  assert.ok(colorEnabled({ isTTY: true }, { NO_COLOR: '' }))
  assert.not.ok(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }))
  assert.not.ok(colorEnabled({ isTTY: false }, {}))
  assert.not.ok(colorEnabled({}, {}))
  const ops: JsonPatchOperation[] = [{ op: 'replace', path: '/a', value: 2 }, { op: 'add', path: '/b', value: true }, { op: 'remove', path: '/c' }]
  const colored = patchLines(ops, { a: 1, c: 'x' }, palette(true))
  assert.is(colored[0], '\u001b[33m~\u001b[39m \u001b[1m/a\u001b[22m: \u001b[31m1\u001b[39m -> \u001b[32m2\u001b[39m')
  assert.match(colored[1] ?? '', /\u001b\[32m\+/)
  assert.match(colored[2] ?? '', /\u001b\[31m"x"/)
  assert.equal(patchLines(ops, { a: 1, c: 'x' }, palette(false)), ['~ /a: 1 -> 2', '+ /b: true', '- /c: "x"'])
  const dir = await withEmptyStore()
  await commit(dir, 'k', '{"a":1}')
  await commit(dir, 'k', '{"a":2}')
  const env = { NO_COLOR: undefined }
  const [log, diff, error] = await Promise.all([revkv(dir, ['log', 'k'], { env }), revkv(dir, ['diff', 'k'], { env }), revkv(dir, ['get', 'nope'], { env })])
  for (const run of [log, diff, error]) assert.not.ok(`${run.stdout}${run.stderr}`.includes('\u001b'), 'no escape codes in a pipe')
})

// ---------------------------------------------------------------- the graph, on its own

test('graph: a merge fans out with |\\ and joins back with |/ as git draws it', () => {
  const nodes = [
    { id: 'M', parents: ['H', 'S'] },
    { id: 'S', parents: ['B'] },
    { id: 'H', parents: ['B'] },
    { id: 'B', parents: [] }
  ]
  assert.equal(drawGraph(nodes, (n) => [n.id]), ['*   M', '|\\', '| * S', '* | H', '|/', '* B'])
  // Either side may come first: the join happens after whichever comes second.
  const swapped = [nodes[0], nodes[2], nodes[1], nodes[3]] as typeof nodes
  assert.equal(drawGraph(swapped, (n) => [n.id]), ['*   M', '|\\', '* | H', '| * S', '|/', '* B'])
})

test('graph: nested merges, a join across a lane, a root beside a lane, and an octopus', () => {
  const text = (n: { id: string }): string[] => [n.id]
  assert.equal(drawGraph([
    { id: 'M2', parents: ['M1', 'c2'] },
    { id: 'M1', parents: ['H', 'c1'] },
    { id: 'c2', parents: ['P'] },
    { id: 'c1', parents: ['P'] },
    { id: 'H', parents: ['P'] },
    { id: 'P', parents: [] }
  ], text), ['*   M2', '|\\', '* |   M1', '|\\ \\', '| | * c2', '| * | c1', '| |/', '* | H', '|/', '* P'])
  // c2's lane has to pass H2's lane to reach its parent: under it with a second row, as git does.
  assert.equal(drawGraph([
    { id: 'M2', parents: ['M1', 'c2'] },
    { id: 'M1', parents: ['H2', 'c1'] },
    { id: 'c2', parents: ['H'] },
    { id: 'H2', parents: ['H'] },
    { id: 'c1', parents: ['P'] },
    { id: 'H', parents: ['P'] },
    { id: 'P', parents: [] }
  ], text), ['*   M2', '|\\', '* |   M1', '|\\ \\', '| | * c2', '* | | H2', '| |/', '|/|', '| * c1', '* | H', '|/', '* P'])
  assert.equal(drawGraph([{ id: 'M', parents: ['A', 'B'] }, { id: 'A', parents: [] }, { id: 'B', parents: [] }], text), ['*   M', '|\\', '* | A', ' /', '* B'])
  assert.equal(drawGraph([
    { id: 'O', parents: ['A', 'B', 'C'] },
    { id: 'A', parents: ['Z'] },
    { id: 'B', parents: ['Z'] },
    { id: 'C', parents: ['Z'] },
    { id: 'Z', parents: [] }
  ], text), ['*     O', '|\\', '|\\ \\', '* | | A', '| * | B', '|/ /', '| * C', '|/', '* Z'])
})

test('graph: text lines beyond the drawn rows get the lanes as padding; steps are pure', () => {
  const lanes = Object.freeze(['X', 'Y'])
  const step = graphStep(lanes, { id: 'Y', parents: ['Z'] })
  assert.equal(lanes, ['X', 'Y'])
  assert.equal(step, { commit: '| *', after: [], padding: '| |', lanes: ['X', 'Z'] })
  assert.equal(besideGraph(step, ['commit y', 'Author: a', '', '    msg']), ['| * commit y', '| | Author: a', '| |', '| |     msg'])
  const merge = graphStep([], { id: 'M', parents: ['A', 'B'] })
  assert.equal(besideGraph(merge, ['commit m', 'Merge: a b', 'Author: x']), ['*   commit m', '|\\  Merge: a b', '| | Author: x'])
})

test.run()
