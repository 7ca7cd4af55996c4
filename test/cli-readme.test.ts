/**
 * The README's command-line session, run as written: each command's exit code, its stdout
 * against the `#>` lines after it, and its stderr against the `#!` lines (revision ids,
 * which depend on the time, are compared as ids).
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MAIN, cleanUp, tempDir } from './cli-run.js'

test.after(cleanUp)

const README = fileURLToPath(new URL('../../README.md', import.meta.url))

/** One command of the session and what the README says it does. */
interface Step {
  command: string
  stdout: string[]
  stderr: string[]
  exit: number
}

/** The session: the first ```sh block after "A session to paste". */
function session (): Step[] {
  const text = readFileSync(README, 'utf8')
  const block = /A session to paste[\s\S]*?```sh\n([\s\S]*?)```/.exec(text)?.[1]
  if (block === undefined) throw new Error('README.md has no session block')
  const steps: Step[] = []
  for (const line of block.trimEnd().split('\n')) {
    const step = steps.at(-1)
    if (line.startsWith('#>')) step?.stdout.push(line.slice(3))
    else if (line.startsWith('#!')) {
      const exit = /^#! exit (\d+): (.*)$/.exec(line)
      if (step !== undefined && exit !== null) step.exit = Number(exit[1])
      step?.stderr.push(exit === null ? line.slice(3) : exit[2] as string)
    } else if (!line.startsWith('#') && line.trim() !== '') steps.push({ command: line, stdout: [], stderr: [], exit: 0 })
  }
  return steps
}

/** Revision ids (full or the 12-character short form) as one placeholder. */
function ids (text: string): string {
  return text.replace(/\b[0-9a-f]{64}\b|\b[0-9a-f]{12}\b/g, '<id>')
}

test('the README\'s session runs as it says: exit codes, stdout and stderr', async () => {
  const steps = session()
  assert.ok(steps.length >= 8, 'the session was found')
  const dir = tempDir()
  // One shell runs the whole session (V1=... carries over); each command's output is kept apart.
  const script = [
    `revkv () { '${process.execPath}' '${MAIN}' "$@"; }`,
    ...steps.map((step, i) => `{ ${step.command}\n} >out.${i} 2>err.${i}; echo $? >rc.${i}`)
  ].join('\n')
  const { REVKV_DB: _db, REVKV_REMOTE: _remote, REVKV_TOKEN: _token, REVKV_AUTHOR: _author, FORCE_COLOR: _color, ...env } = process.env
  await promisify(execFile)('bash', ['-c', script], { cwd: dir, env: { ...env, NO_COLOR: '1' } })
  steps.forEach((step, i) => {
    const read = (name: string): string => readFileSync(join(dir, `${name}.${i}`), 'utf8')
    const stderr = read('err')
    assert.is(Number(read('rc')), step.exit, `exit code of: ${step.command}\n${stderr}`)
    if (step.stdout.length > 0) assert.is(ids(read('out')), ids(`${step.stdout.join('\n')}\n`), `stdout of: ${step.command}`)
    for (const line of step.stderr) assert.ok(ids(stderr).includes(ids(line)), `stderr of: ${step.command}\nhas no: ${line}\nbut: ${stderr}`)
  })
})

test.run()
