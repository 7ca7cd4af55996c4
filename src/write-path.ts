import { ConflictError, InvalidInputError, LockedError, MergeConflictError, NotFoundError } from './errors.js'
import type { ConflictPlace } from './errors.js'
import type { ChangeLog, TxPosition } from './changes.js'
import { GroupCommit } from './group-commit.js'
import type { Batch, GroupCommitOptions } from './group-commit.js'
import { mergeBase } from './history.js'
import { tick } from './key-state.js'
import type { KeyState } from './key-state.js'
import type { Leases } from './leases.js'
import type { Engine } from './engines/engine.js'
import { LruMap } from './lru.js'
import { Records } from './records.js'
import type { CacheOptions } from './records.js'
import { describe, sealRevision, serializeValue, validateKey, validateRevisionId } from './revision.js'
import { MAX_RENAMES, numberedName } from './create.js'
import type { RenameFunction } from './create.js'
import { modifiedSince } from './unmodified.js'
import type { Revision, RevisionDraft, SealedRevision } from './revision.js'
import { baseless, builtIn } from './strategies/built-in.js'
import { groupRefusal, OpGroup } from './op-group.js'
import type { Refused } from './op-group.js'
import type { Resolution, ResolveMode, Strategy } from './strategies/types.js'
import type { JsonValue } from './json.js'

interface OpBase {
  key: string
  /** Set once a refusal was checked against the stored head (engines shared with other processes). */
  checked?: true
  /** When the write arrived, on the tick() clock (compared with KeyState.confirmed). */
  arrived: number
  author: string | undefined
  message: string | undefined
  /** The fencing token of the lease the write is made under, if any. */
  token: number | undefined
  /** Undefined only for a group's check (CheckOp), whose resolve is its group's. */
  resolve: (rev: Revision | undefined) => void
  reject: (err: unknown) => void
  /** Set when the write is decided into a batch: what to answer once the batch settles. */
  decision?: Decision
  /** The multi-key batch the write is part of, if any. */
  group?: OpGroup | undefined
  /** A group's one clock reading, shared by all its revisions (so a read at a time sees all of it or none). */
  time?: number
}

/** A commit or delete: `parent` undefined = on top of the head, null = create only, an id = conditional. */
export interface CommitOp extends OpBase {
  kind: 'commit' | 'delete'
  /** Canonical JSON of the value (commit only). */
  valueJson: string | undefined
  /** The value as a frozen copy that valueJson was made from (see storeValue); when absent, valueJson is parsed. */
  value?: JsonValue | undefined
  parent: string | null | undefined
  strategy: Strategy
  /** With parent null and a live key: write on top of it, or create under the next free name. */
  onExists: 'replace' | 'rename' | undefined
  /** Names rename candidates (default numberedName). */
  rename: RenameFunction | undefined
  /** Set while renaming: the key first asked for, and the number of the candidate op.key now is. */
  renaming?: { from: string, n: number }
  /** Refuse the write if the head changed after this time (ms since the epoch). */
  ifUnmodifiedSince: number | undefined
}

/** Joining a stored revision into the head, by a strategy or with an explicit value. */
export interface MergeOp extends OpBase {
  kind: 'merge'
  rev: string
  strategy: Strategy
  /** Canonical JSON of an explicit resolution, which wins over the strategy. */
  valueJson: string | undefined
}

/** A transaction's read of a key, checked when it commits: the head must still be `expected` (null: absent). */
export interface CheckOp extends OpBase {
  kind: 'check'
  expected: string | null
}

/** A write waiting in its key's queue. */
export type WriteOp = CommitOp | MergeOp | CheckOp

/** A create that found its key taken moves on to the next candidate name, decided in that key's queue. */
interface Renamed {
  moveTo: string
  n: number
}

/** What a decided write changes: records to store, the key's new state, and the writer's answer. */
interface Decision {
  revisions: SealedRevision[]
  head: Revision
  /** A revision to keep unmerged, or one that was merged and leaves the unmerged set. */
  keep?: string
  settle?: string
  result: Revision
  /** Thrown to the writer once the batch is durable (a `manual` conflict: kept, then reported). */
  error?: ConflictError
  /** Write the head as it is (a checked read on a shared engine: its compare-and-set is the check). */
  touch?: true
}

/** Options of the write path. */
export interface WritePathOptions extends CacheOptions, GroupCommitOptions {
  maxValueBytes: number
}

/**
 * The write path. Each key has a queue, and its writes are decided one after another
 * against the head the previous one left, in memory; decided writes of all keys join one
 * group-commit batch. A key whose records are in the batch being written waits for it
 * before deciding more, so every decision rests on durable state or on the batch it joins.
 */
export class WritePath {
  readonly records: Records
  readonly #group: GroupCommit<WriteOp>
  readonly #maxValueBytes: number
  readonly #clock: () => number
  /** Other processes write the same store: decisions are checked when written, refusals before they are final. */
  readonly #shared: boolean
  /** Revisions decided but not yet durable, by id, so later decisions can walk through them. */
  readonly #undurable = new Map<string, Revision>()
  /**
   * Revisions written in the last few batches. Stale writes are almost always based on one
   * of these (a head read just before), so their decisions need no disk read. Kept small
   * and apart from the read cache: young objects die young, which the garbage collector
   * handles far more cheaply than a large cache churned on every commit.
   */
  readonly #recent = new LruMap<string, Revision>(4096)
  #outstanding = 0
  /** Writes held at a gate (counted in #outstanding too). */
  #gated = 0
  #pause: Promise<void> | undefined
  readonly #idle: Array<() => void> = []
  /** Waiting for every write that got past the gate to be answered. */
  readonly #quiet: Array<() => void> = []

  /** The changes feed, fed by every decided write. */
  readonly changes: ChangeLog
  /** The leases, which every write is checked against when it is decided and applied. */
  readonly leases: Leases

  constructor (engine: Engine, changes: ChangeLog, leases: Leases, options: WritePathOptions) {
    this.changes = changes
    this.leases = leases
    this.records = new Records(engine, options, (state) => this.#drain(state), (id) => this.#recent.get(id))
    this.#group = new GroupCommit<WriteOp>(engine, options, {
      beforeSettle: (batch, ok) => { this.#settleRevisions(batch, ok) },
      afterSettle: (batch, err) => {
        const again: WriteOp[] = []
        const groups = new Set<OpGroup>()
        const staleGroup = (group: OpGroup): boolean => groups.has(group) || group.ops.some((o) => batch.stale(o.key))
        for (const op of batch.ops) {
          if (err !== undefined) this.#fail(op, err)
          else if (op.group !== undefined && staleGroup(op.group)) groups.add(op.group)
          else if (!batch.stale(op.key)) this.#answer(op)
          else again.push(op)
        }
        if (again.length > 0) this.#again(again)
        // The engine wrote nothing of a group one of whose keys was stale: decide it again, whole.
        for (const group of groups) this.#requeue(group)
      }
    })
    this.#shared = engine.supports.sharedWriters
    this.#maxValueBytes = options.maxValueBytes
    this.#clock = options.clock
  }

  /** Queue a write on its key; resolves with the revision the caller gets, or rejects. */
  submit (op: WriteOp): Promise<Revision> {
    this.#outstanding++
    op.arrived = tick()
    return new Promise<Revision>((resolve, reject) => {
      // A single write is a commit, delete or merge: its decision always has a result.
      op.resolve = resolve as OpBase['resolve']
      op.reject = reject
      this.#admit(1, () => { this.#route(op) }, (err) => { this.#fail(op, err) })
    })
  }

  /**
   * Queue a multi-key batch (distinct keys): decided together, written in one engine batch
   * or not at all. Resolves with each op's result in op order (undefined for checks), or
   * rejects with a BatchConflictError listing every refused op.
   */
  submitGroup (ops: WriteOp[]): Promise<Array<Revision | undefined>> {
    this.#outstanding += ops.length
    const arrived = tick()
    return new Promise((resolve, reject) => {
      const group = new OpGroup(ops, arrived, resolve, reject)
      ops.forEach((op, i) => {
        op.arrived = arrived
        op.group = group
        op.resolve = (rev) => { group.answered(i, rev) }
        op.reject = (err) => { group.failed(err) }
      })
      this.#admit(ops.length, () => { this.#gather(group) }, (err) => { for (const op of ops) this.#fail(op, err) })
    })
  }

  /**
   * Let `count` writes in (`go`), or hold them at a gate: while an exclusive task runs (an
   * import), and until the changes feed knows its last number and the leases are read (the first writes after open).
   */
  #admit (count: number, go: () => void, fail: (err: unknown) => void): void {
    const gate = this.#pause ?? this.changes.ready() ?? this.leases.ready()
    if (gate === undefined) {
      go()
      return
    }
    this.#gated += count
    gate.then(() => {
      this.#gated -= count
      this.#admit(count, go, fail)
    }, (err: unknown) => {
      this.#gated -= count
      fail(err)
    })
  }

  /**
   * Get every key state of a group (pinned in the cache meanwhile), then queue all its ops
   * at once: the one synchronous step that keeps groups in the same order in every queue.
   */
  #gather (group: OpGroup): void {
    let left = group.ops.length
    let failed = false
    group.ops.forEach((op, i) => {
      this.records.stateFor(op.key, (state) => {
        if (failed) return
        state.pins++
        group.states[i] = state
        if (--left > 0) return
        for (const [j, held] of group.states.entries()) {
          held.pins--
          held.queue.push(group.ops[j] as WriteOp)
        }
        for (const held of group.states) this.#drain(held)
      }, (err) => {
        if (failed) return
        failed = true
        for (const held of group.states) if (held !== undefined) held.pins--
        for (const failing of group.ops) this.#fail(failing, err)
      })
    })
  }

  /**
   * Run `task` with no write in progress and none starting: writes that arrive meanwhile
   * wait at the gate and go on, in order, once it is done.
   */
  async exclusive<T> (task: () => Promise<T>): Promise<T> {
    while (this.#pause !== undefined) await this.#pause
    let release = (): void => {}
    this.#pause = new Promise<void>((resolve) => { release = resolve })
    try {
      if (this.#outstanding > this.#gated) await new Promise<void>((resolve) => this.#quiet.push(resolve))
      await this.#group.idle()
      return await task()
    } finally {
      this.#pause = undefined
      release()
    }
  }

  /**
   * Pause writes as exclusive() does, for work that is not one promise (a generator read
   * at the consumer's pace): resolves once writes are paused, to the function that resumes them.
   */
  async pause (): Promise<() => void> {
    let resume = (): void => {}
    const held = new Promise<void>((resolve) => { resume = resolve })
    return await new Promise<() => void>((resolve, reject) => {
      this.exclusive(async () => {
        resolve(resume)
        await held
      }).catch(reject)
    })
  }

  #route (op: WriteOp): void {
    this.records.stateFor(op.key, (state) => { this.#enqueue(state, op) }, (err) => { this.#fail(op, err) })
  }

  /** Drop every cached revision (after compaction deleted some). */
  forgetRevisions (): void {
    this.#recent.clear()
    this.records.clearRevisions()
  }

  /**
   * Resolves once the writes to `key` decided so far are on disk. A new lease waits for
   * this, so its holder reads the head its own writes will be judged against.
   */
  async settled (key: string): Promise<void> {
    const state = await this.records.state(key)
    for (let batch = state.batch; batch !== undefined; batch = state.batch) {
      await new Promise<void>((resolve) => { batch.onDone(() => { resolve() }) })
    }
  }

  /** Resolves once every submitted write has been answered (and so its batch settled). */
  async idle (): Promise<void> {
    while (this.#pause !== undefined) await this.#pause
    if (this.#outstanding > 0) await new Promise<void>((resolve) => this.#idle.push(resolve))
    await this.#group.idle()
  }

  /** Answer a decided write: its result, or the conflict it was kept with. */
  #answer (op: WriteOp): void {
    if (op.kind === 'check') {
      this.#answered()
      op.resolve(undefined)
      return
    }
    const decision = op.decision as Decision
    if (decision.error !== undefined) this.#fail(op, decision.error)
    else {
      this.#answered()
      op.resolve(decision.result)
    }
  }

  #fail (op: WriteOp, err: unknown): void {
    this.#answered()
    op.reject(err)
  }

  #answered (): void {
    if (--this.#outstanding === 0) for (const resolve of this.#idle.splice(0)) resolve()
    if (this.#outstanding === this.#gated) for (const resolve of this.#quiet.splice(0)) resolve()
  }

  #enqueue (state: KeyState, op: WriteOp): void {
    state.queue.push(op)
    this.#drain(state)
  }

  /**
   * Decide writes again, first in their keys' queues and in their order, once their keys
   * are read anew: the engine found another process had moved the head they were decided
   * against (so nothing of them was written), or a refusal is to be checked.
   */
  #again (ops: WriteOp[]): void {
    const byKey = new Map<string, WriteOp[]>()
    for (const op of ops) {
      op.decision = undefined
      const list = byKey.get(op.key)
      if (list === undefined) byKey.set(op.key, [op])
      else list.push(op)
    }
    for (const [key, list] of byKey) {
      this.records.stateFor(key, (state) => {
        state.stale = true
        state.queue.unshift(...list)
        this.#drain(state)
      }, (err) => { for (const op of list) this.#fail(op, err) })
    }
  }

  /** Decide the key's queued writes in order until one has to wait. */
  #drain (state: KeyState): void {
    if (state.running) return
    state.running = true
    while (state.queue.length > 0 && !this.#inFlight(state)) {
      if (state.stale) {
        // Read anew once the key's own batch, if any, has settled (settling drains again).
        if (state.batch === undefined) this.#reload(state)
        else state.running = false
        return
      }
      const op = state.queue[0] as WriteOp
      if (op.kind === 'check' || op.group !== undefined) {
        // Decided with the rest of its group, once it is first in every one of its keys' queues.
        state.running = false
        this.#tryGroup(op.group as OpGroup)
        return
      }
      let decided: Decision | Renamed | Promise<Decision | Renamed>
      try {
        decided = this.#decide(state, op)
      } catch (err) {
        state.queue.shift()
        this.#refuse(state, op, err)
        continue
      }
      if (decided instanceof Promise) {
        // An awaited decision may be outdated when it returns: its key's batch settled
        // (epoch) or was sealed meanwhile. Then it is made again; otherwise applied.
        const epoch = state.epoch
        const retry = (): boolean => epoch !== state.epoch || this.#inFlight(state)
        // Writes sent back to be decided again (#again) may have been put in front of `op`
        // meanwhile, so it is taken out of the queue by identity, not as the first.
        decided.then((decision) => {
          if (!retry()) {
            take(state.queue, op)
            this.#apply(state, op, decision)
          }
        }, (err: unknown) => {
          if (!retry()) {
            take(state.queue, op)
            this.#refuse(state, op, err)
          }
        }).finally(() => {
          state.running = false
          this.#drain(state)
        })
        return
      }
      state.queue.shift()
      this.#apply(state, op, decided)
    }
    state.running = false
  }

  /** Read a stale key's state from the engine, then go on deciding; if that fails, so do its queued writes. */
  #reload (state: KeyState): void {
    Promise.all([this.records.reload(state), this.leases.reload(state.key)]).catch((err: unknown) => {
      for (const op of state.queue.splice(0)) this.#fail(op, err)
    }).finally(() => {
      state.running = false
      this.#drain(state)
    })
  }

  /**
   * Reject a write. A conflict judged against writes that are not on disk yet is held back
   * until they are: the writer will read the head again to retry, and reads see only
   * durable state, so an early answer would send it round with the same stale head, again
   * and again, without the event loop ever turning to write the batch that moves it on.
   */
  #refuse (state: KeyState, op: WriteOp, err: unknown): void {
    if (this.#shared && op.checked !== true && (err instanceof ConflictError || err instanceof NotFoundError || err instanceof LockedError)) {
      // Another process may have moved the key since this process last knew its head. A
      // refusal stands if that head was confirmed by the database after the write arrived
      // (loaded, or written by a batch of this key) and no lease is involved (leases held
      // elsewhere are known only when read); otherwise it is decided again, once, after
      // reading the key anew. A refusal against a batch being written waits for it: if the
      // batch moved the key, that is the confirmation.
      const again = (): void => {
        op.checked = true
        this.#again([op])
      }
      const batch = state.batch
      if (batch === undefined) {
        if (err instanceof LockedError || state.confirmed < op.arrived) again()
        else this.#fail(op, err)
      } else {
        batch.onDone((failed) => {
          if (failed === undefined && !batch.stale(state.key) && !(err instanceof LockedError)) this.#fail(op, err)
          else again()
        }, true)
      }
      return
    }
    if (err instanceof ConflictError && state.batch !== undefined) {
      state.batch.onDone(() => { this.#fail(op, err) }, true)
    } else {
      this.#fail(op, err)
    }
  }

  /**
   * Decide a group's ops together, once each is first in its key's queue and no key is
   * busy: the keys are held (running) while any decision is awaited, so nothing else is
   * decided on them in between.
   */
  #tryGroup (group: OpGroup): void {
    if (group.deciding) return
    const { ops, states } = group
    const ready = (i: number): boolean => {
      const state = states[i] as KeyState
      return state.queue[0] === ops[i] && !state.running && !state.stale && !this.#inFlight(state)
    }
    // Each key's drain asks, so a scan resumes where the last one stopped (keys mostly become
    // ready in op order); the ops before it are checked again once the rest are ready.
    for (let i = group.scan; i < ops.length; i++) {
      if (!ready(i)) {
        group.scan = i
        return
      }
    }
    for (let i = 0; i < group.scan; i++) {
      if (!ready(i)) {
        group.scan = i
        return
      }
    }
    group.deciding = true
    const now = this.#clock()
    for (const op of ops) op.time = now
    for (const state of states) state.running = true
    const epochs = states.map((state) => state.epoch)
    const outcomes = ops.map((op, i) => this.#decideInGroup(states[i] as KeyState, op))
    if (outcomes.some((outcome) => outcome instanceof Promise)) {
      void Promise.all(outcomes).then((done) => { this.#groupDecided(group, epochs, done) })
    } else {
      this.#groupDecided(group, epochs, outcomes as Outcome[])
    }
  }

  #decideInGroup (state: KeyState, op: WriteOp): Outcome | Promise<Outcome> {
    try {
      if (op.kind === 'check') return checkRead(state, op)
      const decided = this.#decide(state, op)
      if (decided instanceof Promise) return decided.then((decision) => ({ decision }), (error: unknown) => ({ error }))
      return { decision: decided }
    } catch (error) {
      return { error }
    }
  }

  /** Every op of a group is decided: write them all into the pending batch, or refuse them all. */
  #groupDecided (group: OpGroup, epochs: number[], outcomes: Outcome[]): void {
    const { ops, states } = group
    group.deciding = false
    for (const state of states) state.running = false
    if (states.some((state, i) => state.epoch !== epochs[i] || this.#inFlight(state))) {
      // A key's batch settled or was sealed meanwhile: decide again on what it left.
      for (const state of states) this.#drain(state)
      return
    }
    const refused: Refused[] = []
    const decisions: Array<Decision | undefined> = []
    for (const [i, outcome] of outcomes.entries()) {
      const op = ops[i] as WriteOp
      let error = 'error' in outcome ? outcome.error : undefined
      if ('decision' in outcome) {
        const { decision } = outcome
        if (decision !== undefined && 'moveTo' in decision) error = new InvalidInputError(`Op ${i} (key ${JSON.stringify(op.key)}): onExists 'rename' is not available in a batch.`)
        else if (decision?.error !== undefined) error = notKept(op, decision.error)
        else {
          // Again at the last moment, as for a single write (see #apply).
          try {
            if (op.kind !== 'check') this.leases.check(op.key, op.token)
            decisions[i] = decision
          } catch (err) {
            error = err
          }
        }
      }
      if (error !== undefined) refused.push({ index: i, error, actual: (states[i] as KeyState).head?.id ?? null })
    }
    if (refused.length > 0) {
      this.#refuseGroup(group, refused)
      return
    }
    const batch = this.#group.pending()
    if (this.#shared && ops.length > 1) batch.records.atomic(ops.map((op) => op.key))
    const size = decisions.filter((decision, i) => decision !== undefined && decision.head !== (states[i] as KeyState).head).length
    let offset = 0
    for (const [i, op] of ops.entries()) {
      const state = states[i] as KeyState
      const decision = decisions[i]
      take(state.queue, op)
      if (decision === undefined || (decision.touch === true && !this.#shared)) {
        // A check with nothing to write: answered with the batch (and decided again with it
        // if stale, so its state stays in the cache until then).
        batch.ops.push(op)
        state.pins++
        batch.onDone(() => { state.pins-- })
        continue
      }
      this.#place(state, op, decision, batch, decision.head === state.head ? undefined : { offset: offset++, size })
    }
    this.#group.added()
    for (const state of states) this.#drain(state)
  }

  /**
   * Refuse a whole group. As for a single write (see #refuse), the refusal is given once the
   * batches it was judged against are durable; on a shared engine, a refusal against a head
   * not confirmed since the group arrived is decided again once, on heads read anew.
   */
  #refuseGroup (group: OpGroup, refused: Refused[]): void {
    const { ops, states } = group
    for (const [i, op] of ops.entries()) {
      const state = states[i] as KeyState
      take(state.queue, op)
      // Out of the queues, so the keys go on; kept in the cache, to be queued again if need be.
      state.pins++
    }
    const error = groupRefusal(group, refused)
    const refusing = refused.map((r) => states[r.index] as KeyState)
    const pending = [...new Set(refusing.map((state) => state.batch).filter((batch) => batch !== undefined))]
    let moved = false
    const conclude = (): void => {
      for (const state of states) state.pins--
      const recheck = this.#shared && !group.checked && error instanceof ConflictError &&
        (moved || refused.some((r) => r.error instanceof LockedError || (states[r.index] as KeyState).confirmed < group.arrived))
      if (!recheck) {
        for (const op of ops) this.#fail(op, error)
        return
      }
      group.checked = true
      for (const state of refusing) state.stale = true
      this.#requeue(group)
    }
    let left = pending.length
    for (const batch of pending) {
      batch.onDone((err) => {
        if (err !== undefined || refusing.some((state) => batch.stale(state.key))) moved = true
        if (--left === 0) conclude()
      }, true)
    }
    if (left === 0) conclude()
    for (const state of states) this.#drain(state)
  }

  /** Put a group's ops back first in their queues, in one step, to be decided again whole. */
  #requeue (group: OpGroup): void {
    for (const [i, op] of group.ops.entries()) {
      op.decision = undefined
      ;(group.states[i] as KeyState).queue.unshift(op)
    }
    for (const state of group.states) this.#drain(state)
  }

  #inFlight (state: KeyState): boolean {
    return state.batch?.sealed === true
  }

  #apply (state: KeyState, op: WriteOp, decision: Decision | Renamed): void {
    if ('moveTo' in decision) {
      // Into the candidate's own queue: its decision is serialized with every other write
      // there, so two creators can never both find the same name free.
      const renamed = op as CommitOp
      renamed.renaming = { from: renamed.renaming?.from ?? renamed.key, n: decision.n }
      renamed.key = decision.moveTo
      // The date was about the key asked for; a candidate only has to be free.
      renamed.ifUnmodifiedSince = undefined
      this.#route(renamed)
      return
    }
    try {
      // Again at the last moment: a lease may have been granted or ended while an
      // asynchronous decision was made. Applying is synchronous, so nothing slips in after.
      this.leases.check(op.key, op.token)
    } catch (err) {
      this.#refuse(state, op, err)
      return
    }
    op.decision = decision
    if (decision.revisions.length === 0 && decision.head === state.head && decision.keep === undefined && decision.settle === undefined) {
      // Nothing to write (merging a revision already in history): answer once the key is durable.
      if (state.batch === undefined) this.#answer(op)
      else state.batch.onDone((err) => { if (err === undefined) this.#answer(op); else this.#fail(op, err) })
      return
    }
    this.#place(state, op, decision, this.#group.pending())
    // The key's next queued write is decided right after this one: an early write of the
    // batch would make it wait a whole round trip, one batch per write on a hot key.
    this.#group.added(state.queue.length === 0)
  }

  /** Put a decided write's records into `batch` and move its key's state on; `tx` places its change in a multi-key batch. */
  #place (state: KeyState, op: WriteOp, decision: Decision, batch: Batch<WriteOp>, tx?: TxPosition): void {
    op.decision = decision
    for (const { revision, record } of decision.revisions) {
      batch.records.putRevision(revision.id, revision.key, record)
      batch.revisions.push(revision)
      this.#undurable.set(revision.id, revision)
    }
    if (decision.head !== state.head) this.changes.record(batch, state.key, decision.head.id, decision.head.deleted === true, false, tx)
    if (decision.keep !== undefined) this.changes.record(batch, state.key, decision.keep, false, true)
    state.moveHead(decision.head)
    state.token = op.token
    if (decision.keep !== undefined) state.addUnmerged(decision.keep)
    if (decision.settle !== undefined) state.removeUnmerged(decision.settle)
    if (state.batch !== batch) {
      state.batch = batch
      batch.members.add(state)
    }
    batch.ops.push(op)
  }

  #settleRevisions (batch: Batch<WriteOp>, ok: boolean): void {
    for (const rev of batch.revisions) {
      this.#undurable.delete(rev.id)
      if (ok && !batch.stale(rev.key)) this.#recent.set(rev.id, rev)
    }
  }

  /** A revision by id for deciding writes: undurable ones first (records find recently written ones). */
  #load = (id: string, key?: string): Revision | undefined | Promise<Revision | undefined> => {
    return this.#undurable.get(id) ?? this.records.revision(id, key)
  }

  /** Like #load, for ids that history points to: undefined only where compaction cut history. */
  #loadLinked = (id: string, key?: string): Revision | undefined | Promise<Revision | undefined> => {
    return this.#undurable.get(id) ?? this.records.linked(id, key)
  }

  async #revisionOfKey (id: string, key: string, what: string): Promise<Revision> {
    const rev = await this.#load(id, key)
    if (rev === undefined && await this.records.dropped(id) === key) {
      throw new NotFoundError(`${what} ${id} of key ${JSON.stringify(key)} was dropped by compaction: history was cut before it.`)
    }
    if (rev === undefined || rev.key !== key) {
      throw new NotFoundError(`${what} ${id} is not a revision of key ${JSON.stringify(key)}${rev === undefined ? '' : ` (it belongs to key ${JSON.stringify(rev.key)})`}.`)
    }
    return rev
  }

  #decide (state: KeyState, op: CommitOp | MergeOp): Decision | Renamed | Promise<Decision | Renamed> {
    this.leases.check(op.key, op.token)
    if (op.kind === 'merge') return this.#decideMerge(state, op)
    const head = state.head
    if (op.ifUnmodifiedSince !== undefined && head !== undefined) {
      const since = op.ifUnmodifiedSince
      const modified = modifiedSince({ head, parentTime: () => timeOf(this.#loadLinked(head.parents[0] as string)) }, since, 1)
      const judge = (yes: boolean): Decision | Renamed | Promise<Decision | Renamed> => {
        if (yes) throw unmodifiedConflict(op, head, since)
        return this.#decideWrite(state, op)
      }
      return modified instanceof Promise ? modified.then(judge) : judge(modified)
    }
    return this.#decideWrite(state, op)
  }

  /** A commit or delete whose preconditions hold: create, on top of the head, or stale. */
  #decideWrite (state: KeyState, op: CommitOp): Decision | Renamed | Promise<Decision> {
    const head = state.head
    const { parent } = op
    if (parent === null) {
      if (head !== undefined && head.deleted !== true && op.onExists !== 'replace') {
        if (op.onExists === 'rename') return nextName(op, head)
        return this.#resolveStale(state, op, this.#seal(op, [], 1), undefined)
      }
    } else if (parent !== undefined && parent !== head?.id) {
      return this.#decideAgainstParent(state, op, parent)
    }
    if (op.kind === 'delete' && (head === undefined || head.deleted === true)) {
      throw new NotFoundError(`Cannot delete key ${JSON.stringify(op.key)}: it ${head === undefined ? 'does not exist' : 'is already deleted'}.`)
    }
    const sealed = this.#seal(op, head === undefined ? [] : [head.id], head === undefined ? 1 : head.height + 1)
    return { revisions: [sealed], head: sealed.revision, result: sealed.revision }
  }

  async #decideAgainstParent (state: KeyState, op: CommitOp, parentId: string): Promise<Decision> {
    validateRevisionId(parentId, 'Option parent')
    const parent = await this.#revisionOfKey(parentId, op.key, 'Parent')
    if (state.head === undefined) {
      // The parent exists but, as this process knows the key, the key does not: on a shared
      // engine another process created it since. A conflict is checked again on the key
      // read anew (see #refuse, #refuseGroup); there is no head to settle a strategy against.
      throw new ConflictError(`Conflict: the write to key ${JSON.stringify(op.key)} was based on ${short(parentId)} but the key has no head. Read the head again and redo the change.`, { key: op.key, expected: parentId, actual: null })
    }
    return await this.#resolveStale(state, op, this.#seal(op, [parent.id], parent.height + 1), parent)
  }

  #seal (op: CommitOp, parents: string[], height: number): SealedRevision {
    const draft: RevisionDraft = { key: op.key, parents, height, time: op.time ?? this.#clock(), author: op.author, message: op.message, token: op.token }
    if (op.kind === 'delete') draft.deleted = true
    return sealRevision(draft, op.valueJson, op.value)
  }

  /** A stale write: its strategy decides between rejecting, keeping and merging it. */
  async #resolveStale (state: KeyState, op: CommitOp, incoming: SealedRevision, parent: Revision | undefined): Promise<Decision> {
    const head = state.head as Revision
    const theirs = incoming.revision
    const resolution = await this.#resolve(op.strategy, 'commit', head, theirs, parent, parent !== undefined && state.isPastHead(parent.id))
    const fields = { key: op.key, expected: op.parent ?? null, actual: head.id }
    if ('reject' in resolution) {
      const why = op.parent === null
        ? `key ${JSON.stringify(op.key)} already exists (head ${short(head.id)}) and the write was create-only (parent null)`
        : `the write to key ${JSON.stringify(op.key)} was based on ${short(op.parent ?? '')} but the head is now ${short(head.id)}`
      throw new ConflictError(`Conflict: ${why}. Read the head again and redo the change, or choose a strategy (lww, merge, manual) that settles stale writes.`, fields)
    }
    if ('conflicts' in resolution) throw mergeConflict(op.key, fields, resolution.conflicts, op.strategy.name)
    if ('keep' in resolution) {
      const error = new ConflictError(
        `Conflict on key ${JSON.stringify(op.key)}: the write was based on ${op.parent === null ? 'nothing (create only)' : short(op.parent ?? '')} but the head is ${short(head.id)}. ` +
        `It was kept unmerged as revision ${theirs.id}, so nothing was lost: merge it into the head to settle it.`,
        { ...fields, kept: theirs.id })
      return { revisions: [incoming], head, keep: theirs.id, result: theirs, error }
    }
    // The writer's message stays on its own (incoming) revision; the merge says what it joined.
    const merged = this.#sealMerge({ ...op, message: undefined }, head, theirs, resolution, op.strategy.name, builtIn.has(op.strategy))
    return { revisions: [incoming, merged], head: merged.revision, result: merged.revision }
  }

  async #decideMerge (state: KeyState, op: MergeOp): Promise<Decision> {
    const head = state.head
    if (head === undefined) throw new NotFoundError(`Key ${JSON.stringify(op.key)} does not exist, so there is nothing to merge into.`)
    const side = await this.#revisionOfKey(op.rev, op.key, 'Revision')
    const settle = state.unmerged.has(side.id) ? side.id : undefined
    const base = await mergeBase(head, side, this.#loadLinked)
    if (base?.id === side.id) {
      // Already part of the head's history: nothing to join, only the unmerged list to tidy.
      return { revisions: [], head, ...(settle === undefined ? {} : { settle }), result: head }
    }
    if (base?.id === head.id && op.valueJson === undefined) {
      // The head is in the side's history: like Git, move the head forward to it rather than
      // record a merge revision that joins nothing (an explicit value still makes one).
      return { revisions: [], head: side, ...(settle === undefined ? {} : { settle }), result: side }
    }
    let resolution: Resolution
    let strategyName: string
    if (op.valueJson !== undefined) {
      resolution = { value: JSON.parse(op.valueJson) as JsonValue }
      strategyName = 'manual'
    } else {
      resolution = await this.#resolve(op.strategy, 'merge', head, side, base, true)
      strategyName = op.strategy.name
      if ('reject' in resolution || 'keep' in resolution) {
        throw new InvalidInputError(`Strategy ${JSON.stringify(op.strategy.name)} cannot settle a merge; use strategy 'merge' or 'lww', or give an explicit value.`)
      }
      if ('conflicts' in resolution) {
        throw mergeConflict(op.key, { key: op.key, expected: side.id, actual: head.id }, resolution.conflicts, op.strategy.name)
      }
    }
    // An explicit value was parsed from its JSON here, and built-in strategies' results hold
    // only frozen or fresh parts: neither needs copying again.
    const merged = this.#sealMerge(op, head, side, resolution, strategyName, op.valueJson !== undefined || builtIn.has(op.strategy))
    return { revisions: [merged], head: merged.revision, ...(settle === undefined ? {} : { settle }), result: merged.revision }
  }

  /**
   * Ask a strategy, with base = the nearest common ancestor of ours and theirs. `from` is
   * theirs' parent (a commit) or the base itself (merge(), or a parent known to be an
   * ancestor of ours: then the nearest common ancestor is that parent).
   */
  async #resolve (strategy: Strategy, mode: ResolveMode, ours: Revision, theirs: Revision, from: Revision | undefined, fromIsBase = false): Promise<Resolution> {
    const baseRev = from === undefined || baseless.has(strategy) ? undefined : fromIsBase ? from : await mergeBase(ours, from, this.#loadLinked)
    const resolution = await strategy.resolve({
      key: ours.key,
      mode,
      base: valueOf(baseRev),
      ours: valueOf(ours),
      theirs: valueOf(theirs),
      baseRev,
      oursRev: ours,
      theirsRev: theirs
    })
    return checkResolution(strategy.name, resolution)
  }

  #sealMerge (op: OpBase, head: Revision, theirs: Revision, resolution: Resolution, strategy: string, owned = false): SealedRevision {
    const draft: RevisionDraft = {
      key: op.key,
      parents: [head.id, theirs.id],
      height: Math.max(head.height, theirs.height) + 1,
      time: op.time ?? this.#clock(),
      author: op.author,
      message: op.message ?? `Merge ${short(theirs.id)} into ${short(head.id)} (${strategy})`,
      strategy,
      token: op.token
    }
    if ('deleted' in resolution) {
      draft.deleted = true
      return sealRevision(draft)
    }
    if (!('value' in resolution)) throw new Error('unreachable: a merge needs a value or a delete')
    return sealRevision(draft, serializeValue(resolution.value, this.#maxValueBytes), owned ? resolution.value : undefined)
  }
}

/** How one op of a group was decided. */
type Outcome = { decision: Decision | Renamed | undefined } | { error: unknown }

/**
 * A transaction's read, checked: refused if the head moved since. On a shared engine the
 * head is written back as it is (touch), so the engine's compare-and-set makes the check
 * atomic with the batch; a key read as absent has no head to compare, so there the check
 * is this process's (see the README on transactions).
 */
function checkRead (state: KeyState, op: CheckOp): Outcome {
  const head = state.head
  const actual = head?.id ?? null
  if (actual !== op.expected) {
    const read = op.expected === null ? 'absent' : `at ${short(op.expected)}`
    throw new ConflictError(`Conflict: key ${JSON.stringify(op.key)} was read ${read} but its head is now ${actual === null ? 'gone' : short(actual)}.`, { key: op.key, expected: op.expected, actual })
  }
  return { decision: head === undefined ? undefined : { revisions: [], head, result: head, touch: true } }
}

/** A stale write the manual strategy would keep unmerged: in a batch, which is all or nothing, it is refused instead. */
function notKept (op: WriteOp, kept: ConflictError): ConflictError {
  return new ConflictError(
    `Conflict on key ${JSON.stringify(op.key)}: the write was based on ${kept.expected === null ? 'nothing (create only)' : short(kept.expected)} but the head is ${short(kept.actual ?? '')}. ` +
    'Under the manual strategy a single write would be kept unmerged, but a batch is all or nothing, so nothing of it was written.',
    { key: op.key, expected: kept.expected, actual: kept.actual })
}

/** Remove `op` from a key's queue (usually its first). */
function take (queue: WriteOp[], op: WriteOp): void {
  queue.splice(queue[0] === op ? 0 : queue.indexOf(op), 1)
}

/** The next name a renaming create tries, checked: a string, a valid key, a new candidate. */
function nextName (op: CommitOp, head: Revision): Renamed {
  const from = op.renaming?.from ?? op.key
  const n = (op.renaming?.n ?? 0) + 1
  if (n > MAX_RENAMES) {
    throw new ConflictError(`Cannot create ${JSON.stringify(from)} under a new name: the first ${MAX_RENAMES} candidate names are all taken (the last, ${JSON.stringify(op.key)}, has head ${short(head.id)}). Nothing was written. Choose another name, or give a rename function that names more.`, { key: from, expected: null, actual: head.id })
  }
  const name = (op.rename ?? numberedName)(from, n)
  if (typeof name !== 'string') throw new InvalidInputError(`The rename function returned ${describe(name)} for (${JSON.stringify(from)}, ${n}); it must return a key (a string). Nothing was written.`)
  if (name === op.key || name === from) {
    throw new InvalidInputError(`The rename function returned ${JSON.stringify(name)} for (${JSON.stringify(from)}, ${n}), a name already found taken; it must give a different name for each n. Nothing was written.`)
  }
  try {
    validateKey(name)
  } catch (err) {
    throw new InvalidInputError(`The rename function returned ${JSON.stringify(name)} for (${JSON.stringify(from)}, ${n}), which is not a valid key: ${(err as Error).message} Nothing was written.`, { cause: err })
  }
  return { moveTo: name, n }
}

/** The refusal of a write whose ifUnmodifiedSince no longer holds: what changed, and when. */
function unmodifiedConflict (op: CommitOp, head: Revision, since: number): ConflictError {
  const what = head.deleted === true ? 'was deleted' : 'was written'
  return new ConflictError(
    `Conflict: key ${JSON.stringify(op.key)} may have changed since ${new Date(since).toISOString()}: its head ${short(head.id)} ${what} at ${new Date(head.time).toISOString()}` +
    `${head.time <= since ? ' (in the same millisecond as a revision before it, so which one was read cannot be told)' : ''}. Nothing was written. Read the key again and redo the change with the new head's time.`,
    { key: op.key, expected: op.parent ?? null, actual: head.id })
}

/** The time of a revision that may still be loading; undefined where compaction cut history. */
function timeOf (rev: Revision | undefined | Promise<Revision | undefined>): number | undefined | Promise<number | undefined> {
  return rev instanceof Promise ? rev.then((r) => r?.time) : rev?.time
}

function valueOf (rev: Revision | undefined): JsonValue | undefined {
  return rev === undefined || rev.deleted === true ? undefined : rev.value
}

/** The first 12 hex characters of an id, as people read them. */
export function short (id: string): string {
  return id.slice(0, 12)
}

function mergeConflict (key: string, fields: { key: string, expected: string | null, actual: string | null }, conflicts: ConflictPlace[], strategy: string): MergeConflictError {
  const places = conflicts.map((c) => c.path === '' ? '(the whole value)' : c.path).join(', ')
  return new MergeConflictError(
    `Merge conflict on key ${JSON.stringify(key)} (strategy ${strategy}): both sides changed ${places} differently. Nothing was written. ` +
    'Settle it with an explicit value, with onConflict \'ours\' or \'theirs\', place by place with merge() and resolutions ({ \'<path>\': \'ours\' | \'theirs\' | \'base\' | { value } }), or keep it for later with the manual strategy.',
    { ...fields, conflicts })
}

/** A custom strategy's answer must be one of the documented shapes; junk is refused, not stored. */
function checkResolution (name: string, resolution: unknown): Resolution {
  const r = resolution as Record<string, unknown> | null
  if (r !== null && typeof r === 'object') {
    if ('value' in r) return r as Resolution
    if (r.deleted === true || r.reject === true || r.keep === true) return r as Resolution
    if (Array.isArray(r.conflicts) && r.conflicts.length > 0) {
      // A custom strategy written before places had a kind reports values: say so explicitly.
      return { conflicts: (r.conflicts as ConflictPlace[]).map((c) => c.kind === 'range' ? c : { ...c, kind: 'value' }) }
    }
  }
  throw new InvalidInputError(`Strategy ${JSON.stringify(name)} returned ${describe(resolution)}; a strategy must return { value }, { deleted: true } or { conflicts: [...] } (non-empty).`)
}
