import { InvalidInputError } from '../errors.js'
import type { Engine } from './engine.js'
import { openLevelDatabase, openLevelDirectory } from './level/engine.js'
import type { RevkvDatabase } from './level/layout.js'

/** Where a store's records are: exactly one of these. */
export interface EngineOptions {
  /** A LevelDB directory, created if missing (unless createIfMissing is false). */
  path?: string
  /** An abstract-level database with string keys and values, e.g. a MemoryLevel. */
  db?: RevkvDatabase
  /** With `path`: create the directory when it does not exist (default true). */
  createIfMissing?: boolean
}

/** Open the engine the options name; the store's layout is created or checked on the way. */
export async function openEngine (options: EngineOptions): Promise<Engine> {
  const given = (['path', 'db'] as const).filter((name) => options[name] !== undefined)
  if (given.length !== 1) {
    throw new InvalidInputError(`Store.open() needs exactly one of { path } (a LevelDB directory) or { db } (an abstract-level database)${given.length > 1 ? `, got ${given.join(' and ')}` : ''}.`)
  }
  if (options.db !== undefined) return await openLevelDatabase(options.db)
  return await openLevelDirectory(options.path as string, options.createIfMissing !== false)
}
