import { InvalidInputError } from '../errors.js'
import { describe } from '../revision.js'
import { mergeBase, walkHistory } from '../history.js'
import { checkOptions, checkText } from '../options.js'
import { markName, readMark, writeMark } from './marks.js'
import type { StoreSync } from './store-side.js'
import { addReport, emptyReport } from './types.js'
import type { HeadLine, SyncEndpoint, SyncOptions, SyncReport, Want } from './types.js'

/** Keys compared per round of negotiation: one headsOf() and at most one send() per this many keys. */
const NEGOTIATE_CHUNK = 1000
/**
 * Revisions of a key's history a pull names besides its head and kept ones, newest first:
 * where the two heads diverged within this many revisions, the sender stops at the fork
 * instead of sending the key's whole history, and no extra round trip is needed to find it.
 */
const HAVE_ANCESTORS = 32
/** Revision ids one want names at most (POST /v1/sync/send takes 1,000): haves are only hints, so the rest are left out. */
const MAX_HAVES = 1000
/**
 * The largest JSON body of wants one send() (or keys one headsOf()) asks with; a batch with more is asked in parts.
 * A server takes at least 16 × 64 KiB for POST /v1/sync/send (its values' limit plus 64 KiB,
 * 16 times), and long keys with their haves would otherwise pass that at 1,000 keys.
 */
const SEND_BODY_BYTES = 512 * 1024

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
    const wanted: Array<{ key: string, here: HeadLine | undefined }> = []
    for (const [i, line] of lines.entries()) {
      const here = mine[i]
      if (sameHeads(line, here)) continue
      // Everything the head line names is here already (this store is ahead, or had it
      // pushed): the head is decided without asking the source for anything.
      if (await local.has([line.head, ...(line.unmerged ?? [])])) direct.push(line)
      else wanted.push({ key: line.key, here })
    }
    // The keys' histories are read all at once, not one key after another: these reads are
    // most of what naming haves costs.
    const wants = await Promise.all(wanted.map(async ({ key, here }): Promise<Want> => ({ key, haves: here === undefined ? [] : await havesOf(local, here) })))
    if (direct.length > 0) addReport(report, await local.receive(headsOnly(direct), { strategy }))
    for (const part of inParts(wants)) addReport(report, await local.receive(counted(source.send(part), report), { strategy }))
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
    // Asked in parts like a pull's wants: a thousand long keys full of escapes pass a server's body limit.
    const there: Array<HeadLine | undefined> = []
    for (const keys of inParts(lines.map((line) => line.key))) there.push(...await target.headsOf(keys))
    const wants: Want[] = []
    for (const [i, line] of lines.entries()) {
      const other = there[i]
      if (sameHeads(line, other)) continue
      const theirHead = other === undefined ? undefined : await local.context.revision(other.head)
      const ourHead = await linked(line.head, line.key)
      let base: string | undefined
      if (theirHead?.key === line.key && ourHead !== undefined) {
        // Their head is known here, so their common ancestor with ours is too: the sender
        // stops there, and nothing is sent at all when the target already holds our head.
        base = (await mergeBase(ourHead, theirHead, linked))?.id
        if (base === line.head && (line.unmerged ?? []).length === 0) continue
      }
      const haves = other === undefined ? [] : [other.head, ...(base === undefined ? [] : [base]), ...(other.unmerged ?? [])]
      wants.push({ key: line.key, haves: haves.slice(0, MAX_HAVES) })
    }
    // One stream for the batch: wants go to this store's own send(), never over the network.
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

/**
 * What a pull names as held of a key it wants: its head, its kept revisions, and the newest
 * HAVE_ANCESTORS revisions of the head's history (every parent, not only first ones, read
 * here). The source walks its history down to these, so a key that diverged recently costs
 * only the revisions made since the fork, not the whole history.
 */
async function havesOf (local: StoreSync, here: HeadLine): Promise<string[]> {
  const haves = [here.head, ...(here.unmerged ?? [])]
  const { linked } = local.context
  const head = await linked(here.head, here.key)
  if (head !== undefined) {
    let named = 0
    for await (const rev of walkHistory(head, linked)) {
      if (rev.id === head.id) continue
      if (named++ >= HAVE_ANCESTORS) break
      haves.push(rev.id)
    }
  }
  return haves.slice(0, MAX_HAVES)
}

/** Items (wants, keys) in parts whose JSON body stays under SEND_BODY_BYTES (at least one item each); none for none. */
function * inParts<T> (items: T[]): Generator<T[]> {
  let part: T[] = []
  let bytes = 0
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item), 'utf8') + 1
    if (part.length > 0 && bytes + size > SEND_BODY_BYTES) {
      yield part
      part = []
      bytes = 0
    }
    part.push(item)
    bytes += size
  }
  if (part.length > 0) yield part
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
