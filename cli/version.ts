import { readFileSync } from 'node:fs'

/** The version in package.json (two levels above dist/cli/ in the repository and in the package). */
export function packageVersion (): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }
    return pkg.version ?? 'unknown'
  } catch {
    return 'unknown'
  }
}
