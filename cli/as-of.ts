import type { AsOf } from '../src/index.js'

/**
 * The --as-of option as read options ({} when absent). The parser is imported only when
 * the option is given: commands load the library lazily (see library.ts).
 */
export async function asOfArg (text: string | undefined): Promise<{ asOf?: AsOf }> {
  if (text === undefined) return {}
  const { parseAsOf } = await import('../src/as-of.js')
  return { asOf: parseAsOf(text, '--as-of') }
}
