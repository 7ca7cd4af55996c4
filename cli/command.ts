/**
 * What a command is to main.ts: a yargs command module whose argument types are its own
 * business. Erasing them here lets main.ts keep one plain list of commands.
 */
import type { Argv, CommandModule } from 'yargs'

/** The global options every command receives (declared in main.ts). */
export interface GlobalArgs {
  db: string | undefined
  remote: string | undefined
  token: string | undefined
  json: boolean
  debug: boolean
  wait: number
  /** The largest value a write may store, in bytes of JSON (the store's maxValueBytes). */
  'max-value-bytes': number | undefined
}

/** A command ready to be added to the command line. */
export interface Command {
  /** The word that invokes it, e.g. 'commit'. */
  name: string
  /** Add it to a yargs instance. */
  register: (cli: Argv<GlobalArgs>) => Argv<GlobalArgs>
}

/** Wrap a yargs command module (with its own argument type `A`) as a Command. */
export function defineCommand<A> (module: CommandModule<GlobalArgs, A> & { command: string }): Command {
  return { name: module.command.split(' ')[0] ?? module.command, register: (cli) => cli.command(module) }
}
