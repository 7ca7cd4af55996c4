import { InvalidInputError } from '../errors.js'
import { describe } from '../revision.js'
import { mergeBase } from '../history.js'
import { checkOptions, checkText } from '../options.js'
import { markName, readMark, writeMark } from './marks.js'
import type { StoreSync } from './store-side.js'
import { addReport, emptyReport } from './types.js'
import type { HeadLine, SyncEndpoint, SyncOptions, SyncReport, Want } from './types.js'

/** Keys compared per round of negotiation: one headsOf() and at most one send() per this many keys. */
const NEGOTIATE_CHUNK = 1000

/**
 * Bring into `local` what `source` has (keys starting with `prefix`): list the source's
 * heads (all of them the first time, then only keys changed since the last pull), compare
 * them with local heads a batch at a time, fetch in one stream per batch the histories
 * this store lacks, and move heads (see decideHead). The mark is advanced only when every
 * key was applied, so a pull that was interrupted or refused a key is simply run again.
 */
export async function pull (local: StoreSync, source: SyncEndpoint, options: SyncOptions): Promise<SyncReport> {
  const { prefix, strategy, since, finish } = await begin('pull', local, source, options)
  // Checked before any head is compared: a strategy that does not exist is refused up front.
  if (strategy !== undefined) local.context.strategy(strategy)
  const report = emptyReport()
  const round = async (lines: HeadLine[]): Promise<void> => {
    const mine = await local.headsOf(lines.map((line) => line.key))
    const direct: HeadLine[] = []
    const wants: Want[] = []
    for (const [i, line] of lines.entries()) {
      const here = mine[i]
      if (sameHeads(line, here)) continue
      // Everything the head line names is here already (this store is ahead, or had it
      // pushed): the head is decided without asking the source for anything.
      if (await local.has([line.head, ...(line.unmerged ?? [])])) direct.push(line)
      else wants.push({ key: line.key, haves: here === undefined ? [] : [here.head, ...(here.unmerged ?? [])] })
    }
    if (direct.length > 0) addReport(report, await local.receive(headsOnly(direct), { strategy }))
    if (wants.length > 0) addReport(report, await local.receive(counted(source.send(wants), report), { strategy }))
  }
  await inRounds(source.heads(prefix, since), report, round)
  await finish(report)
  return report
}

/**
 * Send to `target` what this store has that it lacks (keys starting with `prefix`): the
 * mirror of pull(), with the target's heads asked a batch at a time and the target's
 * strategies (or `strategy`) settling diverged keys there.
 */
export async function push (local: StoreSync, target: SyncEndpoint, options: SyncOptions): Promise<SyncReport> {
  const { prefix, strategy, since, finish } = await begin('push', local, target, options)
  const { linked } = local.context
  const report = emptyReport()
  const round = async (lines: HeadLine[]): Promise<void> => {
    const there = await target.headsOf(lines.map((line) => line.key))
    const wants: Want[] = []
    for (const [i, line] of lines.entries()) {
      const other = there[i]
      if (sameHeads(line, other)) continue
      const haves = other === undefined ? [] : [other.head, ...(other.unmerged ?? [])]
      const theirHead = other === undefined ? undefined : await local.context.revision(other.head)
      const ourHead = await linked(line.head, line.key)
      if (theirHead?.key === line.key && ourHead !== undefined) {
        // Their head is known here, so their common ancestor with ours is too: the sender
        // stops there, and nothing is sent at all when the target already holds our head.
        const base = await mergeBase(ourHead, theirHead, linked)
        if (base?.id === line.head && (line.unmerged ?? []).length === 0) continue
        if (base !== undefined) haves.push(base.id)
      }
      wants.push({ key: line.key, haves })
    }
    if (wants.length > 0) addReport(report, await target.receive(counted(local.send(wants), report), { strategy }))
  }
  await inRounds(local.heads(prefix, since), report, round)
  await finish(report)
  return report
}

/** Where a pull or push starts: its options, the feed position to read changes after (undefined: all keys), and how to note where it got to. */
interface Start {
  prefix: string
  strategy: SyncOptions['strategy']
  since: number | undefined
  finish: (report: SyncReport) => Promise<void>
}

/**
 * Check the options, tell the two stores apart, and read the mark: a pull reads the other
 * store's feed, a push its own. The mark moves only when every key was applied, so a sync
 * that was interrupted or refused a key is simply run again.
 */
async function begin (direction: 'pull' | 'push', local: StoreSync, peer: SyncEndpoint, options: SyncOptions): Promise<Start> {
  const { prefix, strategy } = checkSyncOptions(options, direction)
  const [theirs, ours] = await Promise.all([peer.info(), local.info()])
  if (theirs.id === ours.id) throw new InvalidInputError(`${direction}() was given this store itself; give another store.`)
  const feed = direction === 'pull' ? theirs : ours
  const name = markName(direction, theirs.id, prefix)
  const mark = await readMark(local.context.engine, name)
  // A mark past the feed's end means that store is not what it was (restored from a
  // backup, say): everything is compared again.
  // Under another import stamp, keys came in that the feed does not list: compare them all.
  const since = options.full !== true && mark !== undefined && mark.seq <= feed.seq && mark.imports === feed.imports ? mark.seq : undefined
  return {
    prefix,
    strategy,
    since,
    finish: async (report) => { if (report.refused.length === 0) await writeMark(local.context.engine, name, { seq: feed.seq, imports: feed.imports }) }
  }
}

/** Feed head lines to `round` a batch at a time, counting them. */
async function inRounds (heads: AsyncIterable<HeadLine>, report: SyncReport, round: (lines: HeadLine[]) => Promise<void>): Promise<void> {
  let lines: HeadLine[] = []
  for await (const line of heads) {
    report.keys++
    lines.push(line)
    if (lines.length >= NEGOTIATE_CHUNK) {
      await round(lines)
      lines = []
    }
  }
  if (lines.length > 0) await round(lines)
}

/** True when both sides have the same head and the same unmerged revisions. */
function sameHeads (a: HeadLine, b: HeadLine | undefined): boolean {
  if (b === undefined || a.head !== b.head) return false
  const ua = a.unmerged ?? []
  const ub = new Set(b.unmerged ?? [])
  return ua.length === ub.size && ua.every((id) => ub.has(id))
}

/** A stream of head lines only (their revisions are here already), with its end line. */
async function * headsOnly (lines: HeadLine[]): AsyncGenerator<string> {
  for (const line of lines) yield JSON.stringify({ head: line })
  yield JSON.stringify({ end: { keys: lines.length } })
}

/** Pass lines through, adding their bytes (with newlines, as NDJSON on the wire) to the report. */
async function * counted (lines: AsyncIterable<string>, report: SyncReport): AsyncGenerator<string> {
  for await (const line of lines) {
    report.bytes += Buffer.byteLength(line, 'utf8') + 1
    yield line
  }
}

/** The options of pull() and push(), checked. */
function checkSyncOptions (options: SyncOptions, method: string): { prefix: string, strategy: SyncOptions['strategy'] } {
  checkOptions(options, method)
  const prefix = checkText(options.prefix, `${method}() option prefix`) ?? ''
  if (options.full !== undefined && typeof options.full !== 'boolean') throw new InvalidInputError(`${method}() option full must be true or false, got ${describe(options.full)}.`)
  return { prefix, strategy: options.strategy }
}
