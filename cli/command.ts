/**
 * What a command is to main.ts: a yargs command module whose argument types are its own
 * business. Erasing them here lets main.ts keep one plain list of commands.
 */
import type { Argv, CommandModule } from 'yargs'

/** The global options every command receives (declared in main.ts). */
export interface GlobalArgs {
  db: string | undefined
  remote: string | undefined
  /** With a PostgreSQL --db: the schema of the store (undefined: revkv). */
  schema: string | undefined
  token: string | undefined
  json: boolean
  debug: boolean
  wait: number
  /** False with --no-pager: never page output. */
  pager: boolean
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
export function defineCommand<A> (module: Omit<CommandModule<GlobalArgs, A>, 'builder'> & { command: string, builder: (y: Argv<GlobalArgs>) => Argv<A> }): Command {
  const laidOut: CommandModule<GlobalArgs, A> = { ...module, builder: (y) => examplesBelow(y, module.builder) }
  return { name: module.command.split(' ')[0] ?? module.command, register: (cli) => cli.command(laidOut) }
}

/**
 * Run a command's builder with each example laid out as a shell comment saying what it does,
 * then the command on a line of its own, ready to paste. yargs puts the two side by side and
 * caps the command's column at half the width, which broke long commands in the middle.
 */
function examplesBelow<A> (y: Argv<GlobalArgs>, builder: (y: Argv<GlobalArgs>) => Argv<A>): Argv<A> {
  const examples: Array<[string, string]> = []
  // Every yargs method returns the instance, so the proxy stands in for it along the chain.
  const proxy: Argv<GlobalArgs> = new Proxy(y, {
    get (target, property) {
      if (property === 'example') {
        return (command: string, description: string) => { examples.push([command, description]); return proxy }
      }
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args)
        return result === target ? proxy : result
      }
    }
  })
  const built = builder(proxy)
  for (const [command, description] of examples) addExample(y, command, description)
  return built
}

/** Add an example to a help page: what it does as a shell comment, then the command. */
export function addExample<T> (y: Argv<T>, command: string, description: string): Argv<T> {
  return y.example(`# ${description}`, '').example(command, '')
}
