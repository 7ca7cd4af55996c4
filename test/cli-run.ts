/**
 * Running the built `revkv` binary the way a user does: a child process with its own
 * working directory, environment and standard input, in a fresh temporary directory.
 */
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Store } from '../src/index.js'
import type { JsonValue } from '../src/index.js'

/** dist/cli/main.js, next to this file's compiled form in dist/test/. */
export const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url))

/** What one run of the binary did. */
export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Options of one run. */
export interface RunOptions {
  /** Written to the child's standard input, which is then closed (it is closed empty otherwise). */
  input?: string
  /** Variables to set (a string) or remove (undefined) on top of the test environment. */
  env?: Record<string, string | undefined>
}

// Tests must not depend on the environment they run in: no inherited store, author or colors.
const BASE_ENV: Record<string, string | undefined> = { ...process.env, REVKV_DB: undefined, REVKV_REMOTE: undefined, REVKV_TOKEN: undefined, REVKV_AUTHOR: undefined, FORCE_COLOR: undefined, NO_COLOR: '1' }

/** Run `revkv ...args` in `cwd` and collect its exit code and output. */
export async function revkv (cwd: string, args: string[], options: RunOptions = {}): Promise<Run> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries({ ...BASE_ENV, ...options.env })) if (value !== undefined) env[name] = value
  return await new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd, env })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

/** The run's result, after checking that it succeeded (a failure shows its stderr). */
export function ok (run: Run): Run {
  if (run.code !== 0) throw new Error(`revkv exited with ${String(run.code)}, expected 0.\nstdout: ${run.stdout}\nstderr: ${run.stderr}`)
  return run
}

/** Check a failed run: its exit code, that stdout stayed empty, and return stderr. */
export function fails (run: Run, code: number): string {
  if (run.code !== code) throw new Error(`revkv exited with ${String(run.code)}, expected ${code}.\nstdout: ${run.stdout}\nstderr: ${run.stderr}`)
  if (run.stdout !== '') throw new Error(`stdout should be empty when revkv fails, got: ${run.stdout}`)
  return run.stderr
}

/** stdout parsed as JSON (the whole of it must be one JSON document). */
export function json<T = JsonValue> (run: Run): T {
  return JSON.parse(ok(run).stdout) as T
}

const made: string[] = []

/** A fresh temporary directory, removed by cleanUp(). */
export function tempDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'revkv-cli-'))
  made.push(dir)
  return dir
}

/** A fresh directory holding an empty store at ./.revkv (made through the library: it is a fixture). */
export async function withEmptyStore (): Promise<string> {
  const dir = tempDir()
  const store = await Store.open(join(dir, '.revkv'))
  await store.close()
  return dir
}

/** Remove every directory tempDir() made. */
export function cleanUp (): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** `revkv serve --port 0 ...` in `cwd`, resolved once it prints the URL it listens on. */
export async function startServer (cwd: string, args: string[] = []): Promise<{ url: string, child: ChildProcessWithoutNullStreams, log: () => string }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', ...args], { cwd, env: { ...process.env, NO_COLOR: '1', REVKV_DB: '', REVKV_REMOTE: '', REVKV_TOKEN: '' } })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const line = /^(http:\/\/\S+)\n/.exec(out)
      if (line !== null) resolve(line[1] as string)
    })
    child.on('exit', (code) => reject(new Error(`serve exited with ${String(code)}: ${stderr}`)))
  })
  return { url, child, log: () => stderr }
}

/** Stop a server with SIGTERM; resolves to its exit code. */
export async function stop (child: ChildProcessWithoutNullStreams): Promise<number | null> {
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const [code] = await exited as [number | null]
  return code
}

/** Lines a child prints on stdout, as they come; `got` resolves once `count` lines have arrived. */
export function stdoutLines (child: { stdout: NodeJS.ReadableStream }, count: number): { lines: string[], got: Promise<void> } {
  const lines: string[] = []
  const got = new Promise<void>((resolve) => {
    let buffer = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk
      const parts = buffer.split('\n')
      buffer = parts.pop() ?? ''
      lines.push(...parts)
      if (lines.length >= count) resolve()
    })
  })
  return { lines, got }
}
