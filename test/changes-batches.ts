/**
 * Batches of the changes feed driven by hand, for the tests written against its mutants
 * (changes-mutants, changes-postgres-mutants): real batches on a real engine, sealed,
 * written and settled in the order each test chooses, with no timing involved.
 */
import * as assert from 'uvu/assert'
import { ChangeLog, type Change, type TxPosition } from '../src/changes.js'
import type { Engine } from '../src/engines/engine.js'
import { Batch } from '../src/group-commit.js'

/** One write's change: key, revision, whether it deleted or was kept unmerged, and its place in a multi-key batch. */
export type Write = [key: string, rev: string, deleted?: boolean, kept?: boolean, tx?: TxPosition]

/** Each batch's write, started when it was sealed (as group commit does), and its error if it failed. */
export const written = new WeakMap<Batch, Promise<unknown>>()

/**
 * A batch holding `writes`, sealed and being written (sequence numbers given), not yet
 * settled. Each of the `stale` keys gets a head move that expects a head no key has, so
 * a shared engine finds it stale and writes none of its changes.
 */
export function sealed (engine: Engine, log: ChangeLog, writes: Write[], stale: string[] = []): Batch {
  const batch = new Batch(engine.batch())
  for (const [key, rev, deleted = false, kept = false, tx] of writes) log.record(batch, key, rev, deleted, kept, tx)
  for (const key of stale) batch.records.setHead({ key, expected: 'not-the-head', head: { head: `${key}-new` }, added: [], removed: [] })
  for (const member of batch.members) member.seal(batch)
  written.set(batch, batch.write(false, 0).then(() => undefined, (err: unknown) => err))
  return batch
}

/** Wait for the batch's write, check it went as the test planned, and settle it. */
export async function settle (batch: Batch, ok = true): Promise<void> {
  assert.is(await written.get(batch) === undefined, ok, ok ? 'the write succeeds' : 'the write fails')
  for (const member of batch.members) member.settle(ok, batch)
}

/** A change log over `engine` that has found its last sequence number. */
export async function loaded (engine: Engine): Promise<ChangeLog> {
  const log = new ChangeLog(engine)
  await log.ready()
  return log
}

/** The sequence numbers of `changes`. */
export const seqs = (changes: Change[]): number[] => changes.map((c) => c.seq)
