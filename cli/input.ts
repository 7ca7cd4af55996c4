/**
 * Reading a JSON value from where the user put it: a command-line argument, a file, or
 * standard input. Parsing (and locating errors by line and column) is the library's
 * parseJsonText, shared with the HTTP server.
 */
import { readFile } from 'node:fs/promises'
import type { JsonValue } from '../src/index.js'
import { loadLibrary } from './library.js'

/** Where the JSON comes from: `text` given on the command line, or `file` ('-' = stdin), else stdin. */
export interface JsonSource {
  /** The JSON text from an argument or option, if given. */
  text?: string | undefined
  /** How to name the argument in messages, e.g. 'the value argument' or '--value'. */
  textName: string
  /** A file path from --file; '-' means standard input. */
  file?: string | undefined
}

/** Read and parse the JSON value from its source; throws InvalidInputError (exit 2) naming the source. */
export async function readJsonInput (source: JsonSource): Promise<JsonValue> {
  const { InvalidInputError, parseJsonText } = await loadLibrary()
  let text: string
  let name: string
  if (source.text !== undefined && source.text !== '-') {
    text = source.text
    name = source.textName
  } else if (source.file !== undefined && source.file !== '-') {
    name = `file ${source.file}`
    try {
      text = await readFile(source.file, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      const why = code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message
      throw new InvalidInputError(`Cannot read --file ${source.file}: ${why}.`, { cause: err })
    }
  } else {
    name = 'standard input'
    if (process.stdin.isTTY === true) process.stderr.write('Reading the JSON value from standard input (end it with Ctrl-D)...\n')
    text = await readStdin()
  }
  return parseJsonText(text, name)
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
