import { suite } from 'uvu'
import type { Test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { NOW, commitOne, engineSuite, fakeRevision, move } from './engine-suite.js'
import { all, rejection } from './helpers.js'
import { startCluster } from './pg/cluster.js'
import { openPostgres } from '../src/engines/postgres/index.js'
import type { PostgresEngine, PostgresOptions } from '../src/engines/postgres/index.js'
import { InvalidInputError, UnavailableError } from '../src/errors.js'
import type { Engine } from '../src/engines/engine.js'

const cluster = await startCluster()
const url = cluster?.url ?? ''
let schemas = 0
/** A schema name no other test uses, so each test has its own store. */
const freshSchema = (): string => `t${process.pid}_${++schemas}`
const openIn = async (schema: string, options: Partial<PostgresOptions> = {}): Promise<PostgresEngine> =>
  await openPostgres({ postgres: url, schema, poolSize: 3, ...options })

engineSuite('postgres', async () => await openIn(freshSchema()), {
  supports: { sharedWriters: true, snapshots: true, sync: true, notify: true },
  skip: cluster === undefined
})

const base = suite('postgres engine')
const it: Test = cluster === undefined ? base.skip as unknown as Test : base
const opened: PostgresEngine[] = []
const open = async (schema: string, options: Partial<PostgresOptions> = {}): Promise<PostgresEngine> => {
  const engine = await openIn(schema, options)
  opened.push(engine)
  return engine
}
base.after.each(async () => {
  for (const engine of opened.splice(0)) await engine.close()
})
base.after(async () => {
  await cluster?.stop()
})

/** Runs `sql` on the test database with a connection of its own. */
async function sql (text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await client.query(text, params)
  } finally {
    await client.end()
  }
}

it('two engines race on one key: exactly one moves it each round, the stale one writes nothing', async () => {
  const schema = freshSchema()
  const [a, b] = [await open(schema), await open(schema)]
  let head = (await commitOne(a, 'hot', null, 'start')).id
  for (let round = 0; round < 20; round++) {
    const [ra, rb] = await Promise.all([commitOne(a, 'hot', head, `a${round}`), commitOne(b, 'hot', head, `b${round}`)])
    assert.is(ra.stale !== rb.stale, true, `round ${round}: exactly one of the two moves the head`)
    const [winner, loser] = ra.stale ? [rb, ra] : [ra, rb]
    assert.is(await a.revision(loser.id), undefined, 'the stale revision is not written')
    assert.is(loser.firstSeq, undefined)
    assert.is(winner.firstSeq, round + 2)
    head = winner.id
    assert.equal(await b.head('hot'), { head })
  }
  const changes = await all(a.changes(0))
  assert.is(changes.length, 21, 'one change per round, none of a stale batch')
})

it('sequence numbers are consecutive and in commit order under concurrent batches of several engines', async () => {
  const schema = freshSchema()
  const engines = await Promise.all([0, 1, 2, 3].map(async () => await open(schema)))
  const reader = await open(schema)
  let done = false
  let seen = 0
  // A reader that polls while the writers run must only ever see a gap-free prefix: if a
  // number could become visible before a smaller one, it would skip that change forever.
  const polling = (async () => {
    while (!done) {
      for await (const [seq] of reader.changes(seen)) {
        assert.is(seq, seen + 1, 'changes(since) never skips a number')
        seen = seq
      }
    }
  })()
  const written: Array<[first: number, count: number]> = []
  await Promise.all(engines.map(async (engine, e) => {
    for (let round = 0; round < 15; round++) {
      const count = 1 + ((e + round) % 4)
      const batch = engine.batch()
      for (let i = 0; i < count; i++) {
        const key = `e${e}-r${round}-${i}`
        const r = fakeRevision(key)
        batch.putRevision(r.id, key, r.record)
        batch.setHead(move(key, null, r.id))
        batch.addChange([key, r.id, 0])
      }
      const { firstSeq, stale } = await batch.write({ sync: false, now: NOW })
      assert.is(stale.size, 0)
      written.push([firstSeq ?? NaN, count])
    }
  }))
  done = true
  await polling
  written.sort((x, y) => x[0] - y[0])
  let next = 1
  for (const [first, count] of written) {
    assert.is(first, next, 'each batch starts right after the previous one')
    next += count
  }
  assert.is(await reader.lastSeq(), next - 1)
  const changes = await all(reader.changes(0))
  assert.equal(changes.map(([seq]) => seq), Array.from({ length: next - 1 }, (_, i) => i + 1))
})

/** Waits until `n` statements of the test database wait for a lock (an event, polled; no timing is asserted). */
async function lockWaiters (n: number): Promise<void> {
  for (;;) {
    const { rows } = await sql("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'revkv_test' AND wait_event_type = 'Lock'")
    if (rows[0].n >= n) return
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

it('a lease granted while another engine\'s batch waits for the key\'s row stops that batch', async () => {
  const schema = freshSchema()
  const a: Engine = await open(schema)
  const b: Engine = await open(schema)
  const v1 = await commitOne(a, 'k', null, 'v1')
  // Hold the key's row, so the grant and then the batch queue behind it in that order.
  const holder = new pg.Client({ connectionString: url })
  await holder.connect()
  try {
    await holder.query('BEGIN')
    await holder.query(`SELECT 1 FROM ${schema}.heads WHERE key = 'k' FOR UPDATE`)
    const grant = a.grantLease('k', 'ada', NOW + 1000, NOW, { sync: false })
    await lockWaiters(1)
    const write = commitOne(b, 'k', v1.id, 'unleased')
    await lockWaiters(2)
    await holder.query('COMMIT')
    assert.equal(await grant, { granted: { token: 1, owner: 'ada', expires: NOW + 1000 } })
    // The batch began before the lease existed, but moves the head only after it: refused.
    assert.is((await write).stale, true)
    assert.equal(await a.head('k'), { head: v1.id })
  } finally {
    await holder.end()
  }
})

it('allOrNothing across engines: another engine moved one key, so no key of the batch is written', async () => {
  const schema = freshSchema()
  const [a, b] = [await open(schema), await open(schema)]
  const v1 = await commitOne(a, 'k', null, 'v1')
  await commitOne(b, 'k', v1.id, 'v2')
  const fresh = fakeRevision('fresh')
  const batch = a.batch()
  batch.putRevision(fresh.id, 'fresh', fresh.record)
  batch.setHead(move('fresh', null, fresh.id))
  batch.addChange(['fresh', fresh.id, 0])
  const late = fakeRevision('late')
  batch.putRevision(late.id, 'k', late.record)
  batch.setHead(move('k', v1.id, late.id))
  const outcome = await batch.write({ sync: true, now: NOW, allOrNothing: true })
  assert.equal([...outcome.stale], ['k'])
  assert.is(await b.head('fresh'), undefined)
  assert.is(await b.revision(fresh.id), undefined)
  assert.is(await b.lastSeq(), 2)
})

it('the store lives in the schema it is given, beside the user\'s own tables', async () => {
  const schema = freshSchema()
  await sql(`CREATE SCHEMA ${schema}`)
  await sql(`CREATE TABLE ${schema}.users (name text)`)
  await sql(`INSERT INTO ${schema}.users VALUES ('ada')`)
  const engine = await open(schema)
  await commitOne(engine, 'k', null, 'v1')
  const other = await open(freshSchema())
  assert.is(await other.head('k'), undefined, 'another schema is another store')
  assert.equal((await sql(`SELECT name FROM ${schema}.users`)).rows, [{ name: 'ada' }])
  const tables = (await sql('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema])).rows.map(r => r.table_name as string)
  assert.equal(tables, ['changes', 'dropped', 'heads', 'meta', 'revisions', 'sync', 'unmerged', 'users'])
})

it('a schema with a table of a revkv name that is not revkv\'s is refused, untouched', async () => {
  const schema = freshSchema()
  await sql(`CREATE SCHEMA ${schema}`)
  await sql(`CREATE TABLE ${schema}.heads (x int)`)
  const err = await rejection(openIn(schema))
  assert.instance(err, InvalidInputError)
  assert.match(err.message, /not a revkv store/)
  assert.is((await sql('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [schema])).rows[0].n, 1)
})

it('bad schema names are refused with a clear error', async () => {
  for (const schema of ['', 'a-b', 'x"; DROP TABLE y; --', 'pg_catalog', '1abc', 'a'.repeat(49)]) {
    const err = await rejection(openIn(schema))
    assert.instance(err, InvalidInputError, schema)
    assert.match(err.message, /schema/)
  }
})

it('a store of a newer layout version is refused, never misread', async () => {
  const schema = freshSchema()
  await (await openIn(schema)).close()
  await sql(`UPDATE ${schema}.meta SET version = '2'`)
  const err = await rejection(openIn(schema))
  assert.instance(err, InvalidInputError)
  assert.match(err.message, /layout version 2.*Upgrade revkv/)
  assert.is((await sql(`SELECT version FROM ${schema}.meta`)).rows[0].version, '2')
})

it('several processes opening a new store at once all succeed', async () => {
  const schema = freshSchema()
  const engines = await Promise.all([0, 1, 2, 3, 4, 5].map(async () => await open(schema, { poolSize: 2 })))
  const v = await commitOne(engines[0] as PostgresEngine, 'k', null, 'v1')
  for (const engine of engines) assert.equal(await engine.head('k'), { head: v.id })
})

it('listen() wakes another engine when a batch wrote changes', async () => {
  const schema = freshSchema()
  const [a, b] = [await open(schema), await open(schema)]
  let woken!: () => void
  const wake = new Promise<void>(resolve => { woken = resolve })
  const stop = await b.listen(() => woken())
  await commitOne(a, 'k', null, 'v1')
  await wake
  await stop()
})

it('notify: false declares no notify and cannot listen', async () => {
  const engine = await open(freshSchema(), { notify: false })
  assert.is(engine.supports.notify, false)
  assert.is((await commitOne(engine, 'k', null, 'v1')).firstSeq, 1)
  assert.instance(await rejection(engine.listen(() => {})), InvalidInputError)
})

it('a caller\'s pool is used and left open by close()', async () => {
  const pool = new pg.Pool({ connectionString: url, max: 3 })
  try {
    const engine = await openPostgres({ postgres: pool, schema: freshSchema() })
    await commitOne(engine, 'k', null, 'v1')
    await engine.close()
    assert.equal((await pool.query('SELECT 1 AS one')).rows, [{ one: 1 }])
  } finally {
    await pool.end()
  }
})

it('server stopped: reads and writes fail with REVKV_UNAVAILABLE; after restart the same engine works', async () => {
  const schema = freshSchema()
  const engine = await open(schema)
  const v1 = await commitOne(engine, 'k', null, 'v1')
  await cluster?.stopServer()
  let err: Error
  try {
    err = await rejection(commitOne(engine, 'k', v1.id, 'v2'))
    assert.instance(err, UnavailableError)
    assert.is((err as UnavailableError).code, 'REVKV_UNAVAILABLE')
    assert.is((err as UnavailableError).status, 503)
    assert.match(err.message, /127\.0\.0\.1:\d+\/revkv_test/)
    assert.match(err.message, /not acknowledged/)
    assert.instance(await rejection(engine.head('k')), UnavailableError)
  } finally {
    await cluster?.startServer()
  }
  const v2 = await commitOne(engine, 'k', v1.id, 'v2')
  assert.is(v2.stale, false)
  assert.equal(await engine.head('k'), { head: v2.id })
})

it('listen() goes on after the server restarts', async () => {
  const schema = freshSchema()
  const [a, b] = [await open(schema), await open(schema)]
  const calls: Array<() => void> = []
  const nextCall = async (): Promise<void> => await new Promise(resolve => { calls.push(resolve) })
  const stop = await b.listen(() => calls.shift()?.())
  try {
    const relistened = nextCall()
    await cluster?.restart()
    // Listening again wakes the listener once: notifications sent meanwhile were missed.
    await relistened
    const notified = nextCall()
    await commitOne(a, 'k', null, 'v1')
    await notified
  } finally {
    await stop()
  }
})

base.run()
