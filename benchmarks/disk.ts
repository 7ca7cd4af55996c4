import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh, empty directory for one scenario's database, under `parent` (default: the OS temp dir). */
export function freshDir (parent: string | undefined, name: string): string {
  return mkdtempSync(join(parent ?? tmpdir(), `revkv-bench-${name}-`))
}

/** Total size in bytes of the files under `dir`. */
export function dirBytes (dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size
  }
  return total
}

/** Remove a scenario's directory and everything in it. */
export function removeDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
