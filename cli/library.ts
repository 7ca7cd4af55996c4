/**
 * The library, loaded on first use. Loading it pulls in LevelDB's native binding, which
 * `revkv --help`, `revkv completion` and usage errors never need; importing it lazily
 * keeps their startup to the cost of yargs alone.
 */
export type Library = typeof import('../src/index.js')

let loading: Promise<Library> | undefined

/** The revkv library (src/index.ts), imported once. */
export async function loadLibrary (): Promise<Library> {
  loading ??= import('../src/index.js')
  return await loading
}
