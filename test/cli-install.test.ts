/**
 * Installing the command as the README says: the built entry is executable (every build
 * restores the bit tsc drops), and `npm install -g .` puts a working `revkv` on the PATH.
 */
import { execFile } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MAIN, cleanUp, tempDir } from './cli-run.js'

const run = promisify(execFile)
/** The checkout: dist/test/ is two levels below it. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

test.after(cleanUp)

test('the built entry is executable and runs by itself (shebang), as bin names it', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>, files: string[] }
  assert.is(join(ROOT, pkg.bin.revkv ?? ''), MAIN)
  assert.ok(pkg.files.some((dir) => MAIN.startsWith(join(ROOT, dir))), 'the package\'s files include it')
  assert.is(statSync(MAIN).mode & 0o111, 0o111, 'executable by everyone (0755)')
  // Run the file itself, not `node file`: what a linked or installed `revkv` does.
  const { stdout } = await run(MAIN, ['--version'])
  assert.is(stdout, `${VERSION}\n`)
})

test('npm install -g . (the README\'s way) puts revkv on the PATH', async () => {
  const prefix = tempDir()
  await run('npm', ['install', '-g', '.', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: ROOT })
  const { stdout } = await run(join(prefix, 'bin', 'revkv'), ['--version'])
  assert.is(stdout, `${VERSION}\n`)
})

test.run()
