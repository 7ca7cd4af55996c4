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
      text = decodeUtf8(await readFile(source.file), `file ${source.file}`, InvalidInputError)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      const why = code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message
      throw new InvalidInputError(`Cannot read --file ${source.file}: ${why}.`, { cause: err })
    }
  } else {
    name = 'standard input'
    if (process.stdin.isTTY === true) process.stderr.write('Reading the JSON value from standard input (end it with Ctrl-D)...\n')
    text = decodeUtf8(await readStdin(), 'standard input', InvalidInputError)
  }
  return parseJsonText(text, name)
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
