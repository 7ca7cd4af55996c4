import {
  BatchConflictError, ClosedError, ConflictError, CorruptionError, InvalidInputError, LockedError, MergeConflictError, NotFoundError, ReadOnlyError, RemoteError, UnavailableError
} from './errors.js'
import type { BatchRefusal, ConflictPlace, RevkvError } from './errors.js'
import type { JsonPatchOperation } from './json-diff.js'
import { deepFreeze } from './json.js'
import type { JsonValue } from './json.js'
import { serializeValue, validateKey, validateRevisionId } from './revision.js'
import { checkDate, checkLimit, checkOptions, checkText } from './options.js'
import { checkOnExists } from './create.js'
import type { Revision } from './revision.js'
import { formatAsOf, momentOf } from './as-of.js'
import type { Moment } from './as-of.js'
import { checkBatchOps } from './batch-ops.js'
import type { BatchOp, BatchOptions } from './batch-ops.js'
import type { GetOptions, HeadOptions, KeysOptions, LogOptions, MergeOptions, ResolveOptions, WriteOptions } from './store.js'
import type { Change, ChangesOptions } from './changes.js'
import { checkCompactOptions } from './compact.js'
import type { CompactOptions, CompactReport } from './compact.js'
import type { ExportOptions, ImportReport } from './dump.js'
import type { VerifyOptions, VerifyReport } from './verify.js'
import type { Strategy, StrategyRef } from './strategies/types.js'
import { checkMs, checkOwner, checkToken, LOCK_TOKEN_HEADER, MAX_TTL_MS, MAX_WAIT_MS } from './leases.js'
import type { Lease, LockOptions, LocksOptions, RenewOptions } from './leases.js'
import type { RevkvStore, StoreCapabilities } from './store-interface.js'
import { remoteSyncEndpoint } from './sync/remote.js'
import { kSync } from './sync/types.js'
import type { SyncEndpoint } from './sync/types.js'

/** Options of RemoteStore.open(). */
export interface RemoteStoreOptions {
  /** The server's base URL, e.g. http://127.0.0.1:7070 */
  url: string
  /** Bearer token, when the server was started with --token. */
  token?: string | undefined
  /** Milliseconds to wait for each request (default 30,000). */
  timeout?: number | undefined
}

/** The server caps one log page; a RemoteStore log reads at most this many revisions. */
const MAX_LOG = 10_000

/** The media type of dumps and of operation progress. */
const NDJSON = 'application/x-ndjson'

/**
 * A client's capabilities: functions cannot be sent over HTTP, concurrent requests reach the
 * server in any order, and the server takes writes from every client.
 */
const REMOTE_SUPPORTS = Object.freeze<StoreCapabilities>({ customStrategies: false, callOrder: false, sharedWriters: true })

/** Lines gathered into one upload chunk of an import. */
const UPLOAD_CHUNK = 64 * 1024

/** One line of a streamed operation (verify, compact): progress, then a result or an error. */
type OperationLine = { progress: number } | { result: unknown } | { error: Record<string, unknown> & { status: number } }

/**
 * A client of `revkv serve` with the same methods, errors and codes as Store, so code
 * moves between an embedded and a shared store by changing how it is opened. Requests use
 * Node's fetch, whose connection pool keeps connections alive between requests.
 */
export class RemoteStore implements RevkvStore {
  readonly #base: string
  readonly #headers: Record<string, string>
  readonly #timeout: number
  #closed = false
  /** Requests under way, so close() can wait for them as Store.close() waits for writes. */
  readonly #inflight = new Set<Promise<unknown>>()
  /** Streamed answers being read; close() ends those its caller still reads (exports). */
  readonly #streams = new Set<IdleTimeout>()

  private constructor (options: RemoteStoreOptions) {
    this.#base = options.url.replace(/\/+$/, '')
    this.#headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }
    this.#timeout = options.timeout ?? 30_000
  }

  /** Connect to a server (checking that it answers) by URL or options. */
  static async open (urlOrOptions: string | RemoteStoreOptions): Promise<RemoteStore> {
    const options = typeof urlOrOptions === 'string' ? { url: urlOrOptions } : urlOrOptions
    let parsed: URL
    try {
      parsed = new URL(options.url)
    } catch {
      throw new InvalidInputError(`Remote URL ${JSON.stringify(options.url)} is not a URL; give one like http://127.0.0.1:7070.`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidInputError(`Remote URL ${options.url} must be http: or https:.`)
    const store = new RemoteStore(options)
    await store.#request('GET', '/v1/health')
    // The health route is open; make sure the token (if any) is right now rather than at the first write.
    await store.#request('GET', '/v1/keys?limit=0')
    return store
  }

  /** What a RemoteStore can do (see StoreCapabilities). */
  get supports (): StoreCapabilities {
    return REMOTE_SUPPORTS
  }

  /** Write a new value for a key; returns the new head revision. */
  async commit (key: string, value: JsonValue, options: WriteOptions = {}): Promise<Revision> {
    validateKey(key)
    if (options.parent !== undefined && options.parent !== null) validateRevisionId(options.parent, 'Option parent')
    checkOnExists(options)
    if (options.rename !== undefined) throw new InvalidInputError('A rename function runs where the store is, so a RemoteStore cannot send one: leave rename out for the default names (`report (1).json`), or rename in the server process.')
    // The same canonical form the server stores, so the returned revision equals the stored one.
    const body = serializeValue(value, Number.MAX_SAFE_INTEGER)
    const rev = await this.#request('PUT', `${keyPath(key)}${writeQuery(options)}`, body, lockHeader(options.lock, 'Option lock')) as Revision
    if (rev.strategy !== undefined) return await this.#revisionOrFail(rev.id)
    return deepFreeze({ ...rev, value: JSON.parse(body) as JsonValue })
  }

  /** Delete a key by writing a tombstone revision. */
  async delete (key: string, options: WriteOptions = {}): Promise<Revision> {
    validateKey(key)
    if (options.parent === null) throw new InvalidInputError('delete() cannot be create-only (parent: null); give the head revision id as parent, or no parent.')
    checkOnExists(options)
    const rev = await this.#request('DELETE', `${keyPath(key)}${writeQuery(options)}`, undefined, lockHeader(options.lock, 'Option lock')) as Revision
    return rev.strategy !== undefined && rev.deleted !== true ? await this.#revisionOrFail(rev.id) : deepFreeze(rev)
  }

  /** Join a revision into the key's head. */
  /** Several writes to distinct keys, all or nothing (POST /v1/batch); returns each key's new head, in op order. */
  async batch (ops: BatchOp[], options: BatchOptions = {}): Promise<Revision[]> {
    checkOptions(options, 'batch')
    for (const [i, op] of checkBatchOps(ops).entries()) {
      if (op.strategy !== undefined && typeof op.strategy !== 'string') {
        throw new InvalidInputError(`Batch op ${i}: a strategy object cannot be sent to a server; register it there and name it, or use reject, lww or merge.`)
      }
    }
    // The same canonical form the server stores, so the returned revisions equal the stored ones.
    const sent = ops.map((op) => op.type === 'commit' ? serializeValue(op.value, Number.MAX_SAFE_INTEGER) : undefined)
    const body = JSON.stringify({ ops, ...(options.author === undefined ? {} : { author: options.author }), ...(options.message === undefined ? {} : { message: options.message }) })
    const { revisions } = await this.#request('POST', '/v1/batch', body) as { revisions: Revision[] }
    // The server leaves values out (as for PUT): an op's value is its revision's, unless a strategy made the revision.
    return await Promise.all(revisions.map(async (rev, i) => {
      if (rev.strategy !== undefined) return await this.#revisionOrFail(rev.id)
      const json = sent[i]
      return deepFreeze(json === undefined ? rev : { ...rev, value: JSON.parse(json) as JsonValue })
    }))
  }

  async merge (key: string, rev: string, options: MergeOptions = {}): Promise<Revision> {
    validateKey(key)
    validateRevisionId(rev, 'merge() revision')
    const { lock, ...rest } = options
    const body = { rev, ...rest, ...strategyQuery(options.strategy) }
    return deepFreeze(await this.#request('POST', `${keyPath(key)}/merge`, JSON.stringify(body), lockHeader(lock, 'merge() option lock')) as Revision)
  }

  /** Take the lease on a key; the request waits on the server up to `wait` ms for a held one. */
  async lock (key: string, options: LockOptions): Promise<Lease> {
    validateKey(key)
    checkOptions(options, 'lock')
    // Checked here too, with the same rules as Store: JSON would turn NaN into null, and
    // the server's schema would read a number given as owner as a string.
    const body = {
      ttl: checkMs(options.ttl, 'lock() option ttl', 1, MAX_TTL_MS),
      wait: options.wait === undefined ? 0 : checkMs(options.wait, 'lock() option wait', 0, MAX_WAIT_MS),
      ...(options.owner === undefined ? {} : { owner: checkOwner(options.owner) })
    }
    return await this.#request('POST', `${keyPath(key)}/lock`, JSON.stringify(body), {}, this.#timeout + body.wait, options.signal) as Lease
  }

  /** Extend the live lease with this token to `ttl` ms from now. */
  async renew (key: string, token: number, options: RenewOptions): Promise<Lease> {
    validateKey(key)
    checkOptions(options, 'renew')
    const body = { ttl: checkMs(options.ttl, 'renew() option ttl', 1, MAX_TTL_MS) }
    return await this.#request('PATCH', `${keyPath(key)}/lock`, JSON.stringify(body), lockHeader(token, 'renew() token')) as Lease
  }

  /** Release the lease with this token; false when it had already ended. */
  async unlock (key: string, token: number): Promise<boolean> {
    validateKey(key)
    return ((await this.#request('DELETE', `${keyPath(key)}/lock`, undefined, lockHeader(token, 'unlock() token'))) as { released: boolean }).released
  }

  /** The live leases, in key order. */
  async locks (options: LocksOptions = {}): Promise<Lease[]> {
    checkOptions(options, 'locks')
    const query = options.prefix === undefined ? '' : `?prefix=${encodeURIComponent(options.prefix)}`
    return ((await this.#request('GET', `/v1/locks${query}`)) as { locks: Lease[] }).locks
  }

  /** The key's current revision, or undefined if it never existed. */
  async head (key: string, options: HeadOptions = {}): Promise<Revision | undefined> {
    validateKey(key)
    return await this.#optional(`${keyPath(key)}/head${asOfQuery(momentOf(options, 'head'))}`)
  }

  /** The key's value (or at revision `rev`); undefined when missing or deleted. */
  async get (key: string, options: GetOptions = {}): Promise<JsonValue | undefined> {
    validateKey(key)
    const moment = momentOf(options, 'get')
    const rev = options.rev === undefined ? await this.#optional(`${keyPath(key)}/head${asOfQuery(moment)}`) : await this.revision(options.rev)
    if (options.rev !== undefined && (rev === undefined || rev.key !== key)) {
      throw new NotFoundError(`Revision ${options.rev} (option rev) is not a revision of key ${JSON.stringify(key)}.`)
    }
    return rev === undefined || rev.deleted === true ? undefined : rev.value
  }

  /** A revision by id, or undefined when there is none. */
  async revision (id: string): Promise<Revision | undefined> {
    validateRevisionId(id, 'Revision id')
    return await this.#optional(`/v1/revisions/${id}`)
  }

  /** Revisions reachable from the head, newest first (at most 10,000 per call). */
  async * log (key: string, options: LogOptions = {}): AsyncGenerator<Revision> {
    validateKey(key)
    checkOptions(options, 'log')
    const limit = Math.min(checkLimit(options.limit, 'log() option limit'), MAX_LOG)
    if (limit === 0) return
    const page = await this.#request('GET', `${keyPath(key)}/log?limit=${limit}&first-parent=${options.firstParent === true}`) as { revisions: Revision[] }
    for (const rev of page.revisions) yield deepFreeze(rev)
  }

  /** RFC 6902 operations from revision `from` to revision `to`. */
  async diff (key: string, from: string, to: string): Promise<JsonPatchOperation[]> {
    validateKey(key)
    validateRevisionId(from, 'diff() from')
    validateRevisionId(to, 'diff() to')
    return await this.#request('GET', `${keyPath(key)}/diff?from=${from}&to=${to}`) as JsonPatchOperation[]
  }

  /** Revisions of the key kept unmerged by the manual strategy. */
  async conflicts (key: string): Promise<Revision[]> {
    validateKey(key)
    return ((await this.#request('GET', `${keyPath(key)}/conflicts`)) as { revisions: Revision[] }).revisions.map((r) => deepFreeze(r))
  }

  /** Changes after `since`, in sequence order, fetched page by page. */
  async * changes (options: ChangesOptions = {}): AsyncGenerator<Change> {
    checkOptions(options, 'changes')
    // URLSearchParams would silently turn a lone surrogate into U+FFFD: refuse it as Store does.
    checkText(options.prefix, 'changes() option prefix')
    let since = options.since ?? 0
    let left = checkLimit(options.limit, 'changes() option limit')
    while (left > 0) {
      const want = Math.min(left, 1000)
      const query = new URLSearchParams({ since: String(since), limit: String(want) })
      if (options.prefix !== undefined) query.set('prefix', options.prefix)
      const page = await this.#request('GET', `/v1/changes?${query.toString()}`) as { changes: Change[], last: number }
      for (const change of page.changes) yield change
      left -= page.changes.length
      // A short page is the end of what is published now.
      if (page.changes.length < want) return
      since = page.last
    }
  }

  /**
   * The changes after `since`, then each new one, over the server's event stream. If the
   * connection drops, it reconnects with Last-Event-ID, so nothing is missed or repeated.
   */
  async * watch (options: ChangesOptions = {}): AsyncGenerator<Change> {
    checkOptions(options, 'watch')
    // Checked before encoding: encodeURIComponent throws a bare URIError on a lone surrogate.
    checkText(options.prefix, 'watch() option prefix')
    let last = options.since ?? 0
    const query = options.prefix === undefined ? '' : `&prefix=${encodeURIComponent(options.prefix)}`
    const aborted = (): boolean => options.signal?.aborted === true
    for (let failures = 0; failures < 5 && !aborted() && !this.#closed;) {
      let response: Response
      try {
        response = await fetch(`${this.#base}/v1/changes/stream?since=${last}${query}`, {
          headers: { ...this.#headers, 'last-event-id': String(last) },
          ...(options.signal === undefined ? {} : { signal: options.signal })
        })
      } catch (err) {
        if (aborted()) return
        failures++
        if (failures >= 5) throw new RemoteError(`Lost the change stream of ${this.#base}: ${(err as Error).message}.`, 503, { cause: err })
        await new Promise((resolve) => setTimeout(resolve, 200 * failures))
        continue
      }
      if (!response.ok || response.body === null) throw errorFromProblem(response.status, parseJson(await response.text()), 'GET /v1/changes/stream')
      failures = 0
      let buffer = ''
      try {
        for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
          buffer += chunk
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const event = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const data = /^data: (.*)$/m.exec(event)?.[1]
            if (data === undefined) continue
            const change = JSON.parse(data) as Change
            if (change.seq <= last) continue
            last = change.seq
            yield change
          }
        }
      } catch {
        if (aborted()) return
      }
      // The stream ended: the server closed (or restarted); reconnect from the last seq.
      if (this.#closed) return
      failures++
    }
  }

  /** Keys that have revisions kept unmerged. */
  async * conflictedKeys (): AsyncGenerator<string> {
    yield * ((await this.#request('GET', '/v1/conflicts')) as { keys: string[] }).keys
  }

  /** Live keys in order, fetched page by page. */
  async * keys (options: KeysOptions = {}): AsyncGenerator<string> {
    checkOptions(options, 'keys')
    checkText(options.prefix, 'keys() option prefix')
    if (options.after !== undefined) validateKey(options.after)
    let remaining = checkLimit(options.limit, 'keys() option limit')
    const moment = momentOf(options, 'keys')
    let after = options.after
    while (remaining > 0) {
      const page = Math.min(remaining, 1000)
      const query = new URLSearchParams({ prefix: options.prefix ?? '', limit: String(page) })
      if (after !== undefined) query.set('after', after)
      if (moment !== undefined) query.set('asOf', formatAsOf(moment))
      const result = await this.#request('GET', `/v1/keys?${query.toString()}`) as { keys: string[], next?: string }
      for (const key of result.keys) yield key
      remaining -= result.keys.length
      if (result.next === undefined) return
      after = result.next
    }
  }

  /** A full revision id from an id, a unique prefix, or (with key) HEAD / HEAD~N. */
  async resolveRevision (ref: string, options: ResolveOptions = {}): Promise<string> {
    checkText(ref, 'A revision')
    if (options.key !== undefined) validateKey(options.key)
    const query = new URLSearchParams({ ref })
    if (options.key !== undefined) query.set('key', options.key)
    return ((await this.#request('GET', `/v1/resolve?${query.toString()}`)) as { id: string }).id
  }

  /**
   * A dump of the served store at one moment, streamed from the server as it reads its
   * snapshot (see Store.export). Fails if the server sends nothing for `timeout` ms.
   */
  async * export (options: ExportOptions = {}): AsyncGenerator<string> {
    checkOptions(options, 'export')
    const query = checkText(options.prefix, 'export() option prefix') === undefined ? '' : `?${new URLSearchParams({ prefix: options.prefix as string }).toString()}`
    let ended = false
    for await (const line of this.#lines('GET', `/v1/export${query}`)) {
      if (line === '') continue
      // The server ends a dump it could not finish without its end line; say so here, where it is known.
      ended = line.startsWith('{"end":')
      yield line
    }
    if (!ended) throw new RemoteError(`The export from ${this.#base} ended before its end line: the server failed while reading the store (its log has the details).`, 502)
  }

  /**
   * Restore a dump into the served store, streamed as it is read (see Store.import): all or
   * nothing, and the server holds the dump's records in memory until it writes them.
   */
  async import (lines: AsyncIterable<string> | Iterable<string>): Promise<ImportReport> {
    return await this.#upload('/v1/import', lines) as ImportReport
  }

  /** This client's side of sync: the server's sync routes (see src/sync/remote.ts); not part of the public API. */
  [kSync] (): SyncEndpoint {
    return remoteSyncEndpoint({
      request: async (method, path, body) => await this.#request(method, path, body),
      lines: (method, path, body) => this.#lines(method, path, body === undefined ? {} : { body, type: 'application/json' }),
      upload: async (path, lines) => await this.#upload(path, lines),
      base: this.#base
    })
  }

  /** POST `lines` as an NDJSON body, streamed as they are read; the JSON answer. */
  async #upload (path: string, lines: AsyncIterable<string> | Iterable<string>): Promise<unknown> {
    const idle = new IdleTimeout(this.#timeout)
    const source = Symbol.asyncIterator in lines ? lines[Symbol.asyncIterator]() : lines[Symbol.iterator]()
    const encoder = new TextEncoder()
    let failure: unknown
    const body = new ReadableStream<Uint8Array>({
      async pull (controller) {
        try {
          let chunk = ''
          while (chunk.length < UPLOAD_CHUNK) {
            const next = await source.next()
            if (next.done === true) break
            chunk += `${next.value}\n`
          }
          idle.touch()
          if (chunk === '') controller.close()
          else controller.enqueue(encoder.encode(chunk))
        } catch (err) {
          failure = err
          controller.error(err)
        }
      },
      async cancel () {
        await source.return?.()
      }
    })
    try {
      const text: string[] = []
      await this.#track((async () => {
        for await (const line of this.#lines('POST', path, { body, type: NDJSON, idle })) text.push(line)
      })())
      return parseJson(text.join('\n'))
    } catch (err) {
      // A failure to read the dump is the caller's own error, not a transport one.
      throw failure ?? err
    }
  }

  /** Check the whole served store (fsck) from one snapshot; progress comes as the server reads. */
  async verify (options: VerifyOptions = {}): Promise<VerifyReport> {
    checkOptions(options, 'verify')
    return await this.#operation('GET', '/v1/verify', undefined, options.onProgress) as VerifyReport
  }

  /** Cut old history in the served store (see Store.compact). */
  async compact (options: CompactOptions): Promise<CompactReport> {
    checkCompactOptions(options)
    const body = JSON.stringify({ keep: options.keep, ...(options.prefix === undefined ? {} : { prefix: options.prefix }) })
    return await this.#operation('POST', '/v1/compact', body) as CompactReport
  }

  /** Custom strategies run in the process that holds the store, so a client cannot register one. */
  registerStrategy (strategy: Strategy): void {
    throw customStrategy(strategy)
  }

  /** Wait for requests already made, then stop (ending exports still being read); later calls throw ClosedError. */
  async close (): Promise<void> {
    this.#closed = true
    await Promise.allSettled([...this.#inflight])
    for (const stream of this.#streams) stream.abort()
  }

  async #revisionOrFail (id: string): Promise<Revision> {
    const rev = await this.revision(id)
    if (rev === undefined) throw new RemoteError(`The server acknowledged revision ${id} but does not return it.`, 502)
    return rev
  }

  async #optional (path: string): Promise<Revision | undefined> {
    try {
      return deepFreeze(await this.#request('GET', path) as Revision)
    } catch (err) {
      // Absent, unless history was cut there: that the read cannot answer.
      if (err instanceof NotFoundError && err.dropped === undefined) return undefined
      throw err
    }
  }

  async #request (method: string, path: string, body?: string, headers: Record<string, string> = {}, timeout = this.#timeout, signal?: AbortSignal): Promise<unknown> {
    if (this.#closed) throw new ClosedError(`${method} ${path}`)
    return await this.#track(this.#send(method, path, body, headers, timeout, signal))
  }

  /** `work`, counted as a request under way until it settles. */
  async #track<T> (work: Promise<T>): Promise<T> {
    this.#inflight.add(work)
    try {
      return await work
    } finally {
      this.#inflight.delete(work)
    }
  }

  /** A streamed operation's result, reporting its progress lines as they come. */
  async #operation (method: string, path: string, body?: string, onProgress?: (done: number) => void): Promise<unknown> {
    return await this.#track(this.#follow(method, path, body, onProgress))
  }

  async #follow (method: string, path: string, body: string | undefined, onProgress: ((done: number) => void) | undefined): Promise<unknown> {
    const what = `${method} ${path}`
    for await (const text of this.#lines(method, path, body === undefined ? {} : { body, type: 'application/json' })) {
      if (text === '') continue
      const line = parseJson(text) as OperationLine
      if ('progress' in line) onProgress?.(line.progress)
      else if ('result' in line) return line.result
      else if ('error' in line) throw errorFromProblem(line.error.status, line.error, what)
    }
    throw new RemoteError(`${what} at ${this.#base} ended without a result: the server stopped while it ran (its log has the details).`, 502)
  }

  /**
   * The lines of a streamed answer, read as they arrive. Unlike other requests it has no
   * total time limit (a dump may take hours), only an idle one: nothing sent or received
   * for `timeout` ms.
   */
  async * #lines (method: string, path: string, request: { body?: string | ReadableStream<Uint8Array>, type?: string, idle?: IdleTimeout } = {}): AsyncGenerator<string> {
    if (this.#closed) throw new ClosedError(`${method} ${path}`)
    const idle = request.idle ?? new IdleTimeout(this.#timeout)
    this.#streams.add(idle)
    try {
      let response: Response
      try {
        response = await fetch(this.#base + path, {
          method,
          headers: request.type === undefined ? this.#headers : { ...this.#headers, 'content-type': request.type },
          ...(request.body === undefined ? {} : { body: request.body, duplex: 'half' }),
          signal: idle.signal
        } as RequestInit)
      } catch (err) {
        throw unreachable(this.#base, err)
      }
      if (!response.ok || response.body === null) throw errorFromProblem(response.status, parseJson(await response.text()), `${method} ${path}`)
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        idle.touch()
        let chunk: Awaited<ReturnType<typeof reader.read>>
        try {
          chunk = await reader.read()
        } catch (err) {
          throw new RemoteError(`The answer to ${method} ${path} from ${this.#base} broke off: ${reasonOf(err)}.`, 502, { cause: err })
        }
        // The consumer's pace is not the server's silence: no idle clock while lines are handed out.
        idle.stop()
        if (chunk.done) break
        const lines = (buffer + chunk.value).split('\n')
        buffer = lines.pop() as string
        yield * lines
      }
      if (buffer !== '') yield buffer
    } finally {
      idle.stop()
      // Ends the download if the consumer stopped early; a no-op once it is complete.
      idle.abort()
      this.#streams.delete(idle)
    }
  }

  async #send (method: string, path: string, body: string | undefined, headers: Record<string, string>, timeout: number, signal: AbortSignal | undefined): Promise<unknown> {
    let response: Response
    try {
      response = await fetch(this.#base + path, {
        method,
        headers: body === undefined ? { ...this.#headers, ...headers } : { ...this.#headers, ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body }),
        signal: signal === undefined ? AbortSignal.timeout(timeout) : AbortSignal.any([signal, AbortSignal.timeout(timeout)])
      })
    } catch (err) {
      // The caller stopped waiting: the same answer as a Store gives.
      if (signal?.aborted === true) throw new LockedError(`Gave up waiting for ${method} ${path} (the wait was aborted).`, {})
      throw unreachable(this.#base, err)
    }
    const text = await response.text()
    const parsed = text === '' ? undefined : parseJson(text)
    if (response.ok) return parsed
    throw errorFromProblem(response.status, parsed, `${method} ${path}`)
  }
}

/**
 * Aborts a long request when nothing moves, sent or received, for `ms`: a dump may
 * stream for hours, a stalled server must not hang its client forever.
 */
class IdleTimeout {
  readonly #controller = new AbortController()
  readonly #ms: number
  #timer: NodeJS.Timeout | undefined

  constructor (ms: number) {
    this.#ms = ms
    this.touch()
  }

  /** The signal to give fetch. */
  get signal (): AbortSignal {
    return this.#controller.signal
  }

  /** Something moved: the clock starts again. */
  touch (): void {
    this.stop()
    this.#timer = setTimeout(() => { this.#controller.abort(new Error(`nothing arrived for ${this.#ms} ms`)) }, this.#ms)
  }

  /** No clock until the next touch(). */
  stop (): void {
    clearTimeout(this.#timer)
  }

  /** Abort the request now. */
  abort (): void {
    this.stop()
    this.#controller.abort()
  }
}

function unreachable (base: string, err: unknown): RemoteError {
  return new RemoteError(`Cannot reach the revkv server at ${base}: ${reasonOf(err)}. Is \`revkv serve\` running there?`, 503, { cause: err })
}

function reasonOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function keyPath (key: string): string {
  return `/v1/keys/${encodeURIComponent(key)}`
}

/** The header carrying a lease's token, checked here so a bad one never reaches the wire. */
function lockHeader (token: unknown, what: string): Record<string, string> {
  return token === undefined ? {} : { [LOCK_TOKEN_HEADER]: String(checkToken(token, what)) }
}

function writeQuery (options: WriteOptions): string {
  const query = new URLSearchParams()
  if (options.parent !== undefined) query.set('parent', options.parent === null ? 'null' : options.parent)
  const strategy = strategyQuery(options.strategy)
  for (const [name, value] of Object.entries(strategy)) query.set(name, value)
  if (options.onExists !== undefined && options.onExists !== 'reject') query.set('onExists', options.onExists)
  const since = checkDate(options.ifUnmodifiedSince, 'ifUnmodifiedSince')
  if (since !== undefined) query.set('ifUnmodifiedSince', String(since))
  // Checked before encoding, which would turn a lone surrogate into U+FFFD without a word.
  const author = checkText(options.author, 'Option author')
  const message = checkText(options.message, 'Option message')
  if (author !== undefined) query.set('author', author)
  if (message !== undefined) query.set('message', message)
  const text = query.toString()
  return text === '' ? '' : `?${text}`
}

function strategyQuery (ref: StrategyRef | undefined): Record<string, string> {
  if (ref === undefined) return {}
  if (typeof ref === 'string') return { strategy: ref }
  const onConflict = (ref as { onConflict?: unknown }).onConflict
  if (ref.name === 'merge' && (onConflict === 'ours' || onConflict === 'theirs')) return { strategy: 'merge', onConflict }
  if (ref.name === 'merge' && onConflict === undefined) return { strategy: 'merge' }
  throw customStrategy(ref)
}

function customStrategy (strategy: unknown): InvalidInputError {
  const name = (strategy as { name?: unknown } | null)?.name
  return new InvalidInputError(`A custom strategy object${typeof name === 'string' ? ` (${name})` : ''} runs where the store is: register it in the server process and pass its name instead.`)
}

function optionalText (value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function parseJson (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Rebuild the store's own error from a problem+json answer, so callers branch on the same codes. */
function errorFromProblem (status: number, body: unknown, what: string): RevkvError {
  const p = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>
  const detail = typeof p.detail === 'string' ? p.detail : `${what} failed with HTTP ${status}.`
  const fields = {
    key: String(p.key ?? ''),
    expected: (p.expected ?? null) as string | null,
    actual: (p.actual ?? null) as string | null
  }
  switch (p.code) {
    case 'REVKV_MERGE_CONFLICT': return new MergeConflictError(detail, { ...fields, conflicts: (p.conflicts ?? []) as ConflictPlace[] })
    case 'REVKV_CONFLICT':
      if (Array.isArray(p.conflicts)) return new BatchConflictError(detail, p.conflicts as BatchRefusal[])
      return new ConflictError(detail, { ...fields, kept: typeof p.kept === 'string' ? p.kept : undefined })
    case 'REVKV_NOT_FOUND': return new NotFoundError(detail, { dropped: optionalText(p.dropped) })
    case 'REVKV_LOCKED': return new LockedError(detail, {
      key: typeof p.key === 'string' ? p.key : undefined,
      owner: typeof p.owner === 'string' ? p.owner : undefined,
      expires: typeof p.expires === 'number' ? p.expires : undefined,
      token: typeof p.token === 'number' ? p.token : undefined,
      path: typeof p.path === 'string' ? p.path : undefined
    })
    case 'REVKV_READ_ONLY': return new ReadOnlyError(detail)
    case 'REVKV_CLOSED': return new ClosedError('use the server: it is shutting down')
    case 'REVKV_CORRUPT': return new CorruptionError(detail, { key: optionalText(p.key), revision: optionalText(p.revision), reason: optionalText(p.reason) ?? detail })
    case 'REVKV_UNAVAILABLE': return new UnavailableError(detail, optionalText(p.server) ?? '')
    default:
      if (status === 400 || status === 413 || status === 415 || status === 422) return new InvalidInputError(detail)
      return new RemoteError(detail, status)
  }
}

/** The query string of a read at `moment` ('' when reading now). */
function asOfQuery (moment: Moment | undefined): string {
  return moment === undefined ? '' : `?asOf=${encodeURIComponent(formatAsOf(moment))}`
}
