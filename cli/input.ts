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
  /** How to name the file when it cannot be read (default `--file <path>`). */
  fileName?: string
}

/** Read and parse the JSON value from its source; throws InvalidInputError (exit 2) naming the source. */
export async function readJsonInput (source: JsonSource): Promise<JsonValue> {
  const { parseJsonText } = await loadLibrary()
  const { text, name } = await readTextInput(source, 'the JSON value')
  return parseJsonText(text, name)
}

/** The text of a source (UTF-8 checked) and how to name it in messages; `what` says what is read from stdin. */
export async function readTextInput (source: JsonSource, what: string): Promise<{ text: string, name: string }> {
  const { InvalidInputError } = await loadLibrary()
  if (source.text !== undefined && source.text !== '-') return { text: source.text, name: source.textName }
  if (source.file !== undefined && source.file !== '-' && source.file !== '') {
    const name = `file ${source.file}`
    try {
      return { text: decodeUtf8(await readFile(source.file), name, InvalidInputError), name }
    } catch (err) {
      if (err instanceof InvalidInputError) throw err
      const code = (err as NodeJS.ErrnoException).code
      const why = code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message
      throw new InvalidInputError(`Cannot read ${source.fileName ?? `--file ${source.file}`}: ${why}.`, { cause: err })
    }
  }
  if (process.stdin.isTTY === true) process.stderr.write(`Reading ${what} from standard input (end it with Ctrl-D)...\n`)
  return { text: decodeUtf8(await readStdin(), 'standard input', InvalidInputError), name: 'standard input' }
}

async function readStdin (): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/**
 * Bytes as UTF-8 text, refusing invalid sequences: Node's lenient decoding would turn them
 * into U+FFFD and store a value the user never wrote.
 */
function decodeUtf8 (bytes: Buffer, name: string, InvalidInputError: new (message: string) => Error): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    let offset = 0
    // Find the first bad byte for the message: decode growing prefixes is too slow; scan instead.
    for (; offset < bytes.length; offset++) {
      const byte = bytes[offset] as number
      const length = byte < 0x80 ? 1 : byte >= 0xc2 && byte < 0xe0 ? 2 : byte >= 0xe0 && byte < 0xf0 ? 3 : byte >= 0xf0 && byte < 0xf5 ? 4 : 0
      if (length === 0) break
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(offset, offset + length))
      } catch {
        break
      }
      offset += length - 1
    }
    throw new InvalidInputError(`${name} is not valid UTF-8 (first bad byte at offset ${offset}); save it as UTF-8 and try again.`)
  }
}
