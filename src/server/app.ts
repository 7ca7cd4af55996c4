import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import jsonpatch from 'fast-json-patch'
import { BatchConflictError, ConflictError, HttpError, InvalidInputError, NotFoundError } from '../errors.js'
import type { BatchOp } from '../batch-ops.js'
import type { RevkvError } from '../errors.js'
import { diffValues } from '../json-diff.js'
import { parseJsonText } from '../json-text.js'
import type { JsonValue } from '../json.js'
import type { PlaceResolution } from '../json-merge.js'
import type { Revision } from '../revision.js'
import { parseAsOf } from '../as-of.js'
import type { AsOf } from '../as-of.js'
import type { Change } from '../changes.js'
import { mergeStrategy } from '../strategies/merge.js'
import { LOCK_TOKEN_HEADER } from '../leases.js'
import type { StrategyRef } from '../strategies/types.js'
import type { Store, WriteOptions } from '../store.js'
import { httpDate, modifiedSince } from '../unmodified.js'
import { etagOf, matchesStrong, matchesWeak, parseHttpDate, parseTagCondition } from './conditional.js'
import type { TagCondition } from './conditional.js'
import { applyMergePatch } from './merge-patch.js'
import { NDJSON, ndjsonStream, operationLines } from './ndjson.js'
import { openApiDocument } from './openapi.js'
import { answerClientError } from './client-error.js'
import { logServerError, problemOf } from './problem.js'
import { BATCH_BODY_FACTOR, ROUTES } from './routes.js'
import type { RouteSpec } from './routes.js'
import { validateKey } from '../revision.js'
import { kSync } from '../sync/types.js'
import type { HeadLine, Want } from '../sync/types.js'

/** Options of the HTTP server. */
export interface ServerOptions {
  /** Require `Authorization: Bearer <token>` on every route but /v1/health. */
  token?: string | undefined
  /** Answer 428 to writes that name neither a parent nor an If-Match / If-None-Match precondition. */
  requireParent?: boolean | undefined
  /** Answer 403 to every request that would change the store (writes, merges, leases, import, compact, sync pushes); reads and sync pulls go on. */
  readOnly?: boolean | undefined
  /** Largest request body in bytes (default the store's maxValueBytes + 64 KiB: a maximal value plus JSON spacing and escapes). Dumps sent to POST /v1/import stream and are not limited by it. */
  bodyLimit?: number | undefined
  /**
   * Milliseconds a client has to send a whole request, headers and body (default 30,000;
   * 0 means no limit). A late request gets 408 and its connection is closed.
   */
  requestTimeout?: number | undefined
  /** Accept numbers a double cannot hold exactly, storing the nearest double (default false: 400). */
  lossyNumbers?: boolean | undefined
  /** Receives one access-log line per request; none when undefined. */
  log?: ((line: string) => void) | undefined
  /** The version reported by /v1/health and the OpenAPI document. */
  version?: string | undefined
}

type KeyRequest = FastifyRequest<{ Params: { key: string }, Querystring: Record<string, string | undefined> }>

/** The asOf query parameter as a read option ({} when absent). */
function asOfQuery (req: KeyRequest): { asOf?: AsOf } {
  const text = req.query.asOf
  return text === undefined ? {} : { asOf: parseAsOf(text, 'Query parameter asOf') }
}

/** RFC 9110 preconditions as a request states them (dates in ms). */
interface Preconditions {
  ifMatch: TagCondition | undefined
  ifNoneMatch: TagCondition | undefined
  ifUnmodifiedSince: number | undefined
  ifModifiedSince: number | undefined
}

/** A write's conditions as the request states them. */
interface WriteConditions extends Preconditions {
  parent: string | null | undefined
  /** With parent null (or POST): what to do when the key is live. */
  onExists: 'reject' | 'replace' | 'rename' | undefined
  /** The library's ifUnmodifiedSince, passed on by RemoteStore (ms; a 409 like a stale parent). */
  sinceOption: number | undefined
  strategy: StrategyRef | undefined
  author: string | undefined
  message: string | undefined
  /** The lease's fencing token (Revkv-Lock-Token). */
  lock: number | undefined
}

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json']
/** Room in a request body for JSON spacing and escapes around a value of the largest size. */
const BODY_OVERHEAD = 64 * 1024

/** Build the fastify app serving `store` (not listening yet; `app.inject()` works for tests). */
export function buildServer (store: Store, options: ServerOptions = {}): FastifyInstance {
  const requestTimeout = options.requestTimeout ?? 30_000
  if (!Number.isSafeInteger(requestTimeout) || requestTimeout < 0) {
    throw new InvalidInputError(`requestTimeout must be a whole number of milliseconds (0 for no limit), got ${String(requestTimeout)}.`)
  }
  const log = options.log
  const bodyLimit = options.bodyLimit ?? store.maxValueBytes + BODY_OVERHEAD
  const app = Fastify({
    bodyLimit,
    requestTimeout,
    http: {
      // Node times headers and the whole request apart (headers default to 60 s) and looks
      // for late requests only every 30 s: one limit for both, checked often enough that a
      // late request is answered within a tenth of the limit (at most 1 s) after it.
      requestTimeout,
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(requestTimeout / 10)))
    },
    // Keep-alive connections outlive a typical load balancer's 60 s idle timeout.
    keepAliveTimeout: 72_000,
    // fastify's own 503 is not problem+json: the onRequest hook below answers instead.
    return503OnClosing: false,
    clientErrorHandler: (err, socket) => { answerClientError(err, socket, { requestTimeout, log }) },
    logger: false,
    // Unknown query parameters are errors (400), not silently dropped: a typo must not change a write.
    ajv: { customOptions: { removeAdditional: false } },
    // Keys may be long and contain anything; their percent-encoding is decoded once by the router.
    routerOptions: { maxParamLength: 4096 },
    // Errors raised before routing (a malformed percent-encoding, an overlong path segment) are problems like any other.
    frameworkErrors: (err, req, reply) => {
      const path = shorten(req.url.split('?')[0] ?? '')
      void refuse(reply, err.code === 'FST_ERR_BAD_URL'
        ? new InvalidInputError(`The path ${path} is not valid percent-encoding: percent-encode keys with encodeURIComponent().`)
        : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new HttpError(`A segment of the path ${path} is over 4096 characters; keys are at most 1024 bytes.`, 'REVKV_TOO_LARGE', 414)
          : err)
    }
  })
  // Node answers an Expect header other than 100-continue itself, with an empty 417.
  app.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const p = problemOf(new HttpError(`Expect: ${String(req.headers.expect)} is not supported; only 100-continue is.`, 'REVKV_INVALID', 417))
    const body = JSON.stringify(p)
    res.writeHead(417, { 'content-type': 'application/problem+json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body)
  })
  const version = options.version ?? '0.0.0'
  const tokenDigest = options.token === undefined ? undefined : digest(options.token)

  // One JSON parser for values and patches, whose errors give line, column and position.
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser(['application/json', ...PATCH_TYPES], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonText(body as string, 'the request body', { lossyNumbers: options.lossyNumbers }))
    } catch (err) {
      done(err as Error, undefined)
    }
  })

  // While closing, requests still arriving on open connections are turned away (first hook).
  let closing = false
  app.addHook('onRequest', async (_req, reply) => {
    if (!closing) return
    reply.header('Connection', 'close')
    return await refuse(reply, new HttpError('The server is shutting down; retry when it is back (or on another instance).', 'REVKV_CLOSED', 503))
  })

  // A dump streams in as it comes: the import reads it line by line, never as one string.
  app.addContentTypeParser(NDJSON, (_req, payload, done) => { done(null, payload) })

  if (tokenDigest !== undefined) {
    app.addHook('onRequest', async (req, reply) => {
      if (req.url === '/v1/health') return
      const header = req.headers.authorization ?? ''
      const match = /^Bearer (.+)$/i.exec(header)
      // Compare digests, so the comparison takes the same time whatever the token's length.
      if (match === null || !timingSafeEqual(digest(match[1] as string), tokenDigest)) {
        reply.header('WWW-Authenticate', 'Bearer realm="revkv"')
        return await refuse(reply, new HttpError('This server needs Authorization: Bearer <token> (revkv serve --token / REVKV_TOKEN).', 'REVKV_UNAUTHORIZED', 401))
      }
    })
  }

  if (log !== undefined) {
    // The address is read when the request starts: when a change stream ends, its socket
    // is closed and no longer knows it.
    const addresses = new WeakMap<FastifyRequest, string>()
    app.addHook('onRequest', async (req, reply) => {
      const address = req.ip
      addresses.set(req, address)
      // onResponse runs when a response is finished; one the client hung up on first
      // (a change stream, most often) is logged when its connection closes.
      reply.raw.once('close', () => { if (!reply.raw.writableFinished) log(accessLogLine(address, req, reply)) })
    })
    app.addHook('onResponse', async (req, reply) => {
      log(accessLogLine(addresses.get(req) ?? '-', req, reply))
    })
  }

  app.setErrorHandler(async (err: unknown, _req, reply) => {
    const p = problemOf(err)
    logServerError(err, p)
    return await sendProblem(reply, p)
  })

  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0] ?? ''
    const allowed = ROUTES.filter((r) => routePattern(r).test(path)).map((r) => r.method)
    if (allowed.length > 0) {
      const methods = [...new Set(allowed.flatMap((m) => m === 'GET' ? ['GET', 'HEAD'] : [m]))]
      reply.header('Allow', methods.join(', '))
      return await refuse(reply, new HttpError(`${req.method} is not allowed on ${shorten(path)}; use ${methods.join(', ')}.`, 'REVKV_METHOD_NOT_ALLOWED', 405))
    }
    return await refuse(reply, new HttpError(`No route ${req.method} ${shorten(path)}; see /v1/openapi.json.`, 'REVKV_NO_ROUTE', 404))
  })

  // Live change streams and queued lock requests, ended when the server closes (they would otherwise hold it open).
  const streams = new Set<AbortController>()
  app.addHook('preClose', async () => {
    closing = true
    for (const stream of streams) stream.abort()
  })

  const handlers: Record<string, (req: KeyRequest, reply: FastifyReply) => Promise<unknown>> = {
    health: async () => ({ status: 'ok', version }),
    openapi: async () => openApiDocument(version),

    listKeys: async (req) => {
      const { prefix, after } = req.query
      const max = Number(req.query.limit ?? 100)
      const keys: string[] = []
      for await (const key of store.keys({ prefix: prefix ?? '', limit: max + 1, ...(after === undefined ? {} : { after }), ...asOfQuery(req) })) keys.push(key)
      const more = keys.length > max
      if (more) keys.length = max
      return more ? { keys, next: keys[keys.length - 1] } : { keys }
    },

    getValue: async (req, reply) => {
      const { key } = req.params
      let rev: Revision | undefined
      if (req.query.rev !== undefined) {
        if (req.query.asOf !== undefined) throw new InvalidInputError('Give rev or asOf, not both: rev names one revision, asOf the head at a moment.')
        rev = await store.revision(await store.resolveRevision(req.query.rev, { key }))
      } else {
        rev = await store.head(key, asOfQuery(req))
      }
      const then = req.query.asOf === undefined ? '' : ` as of ${req.query.asOf}`
      if (rev === undefined) throw new NotFoundError(`Key ${JSON.stringify(key)} does not exist${then}.`)
      if (rev.deleted === true) {
        const history = `its history is at /v1/keys/${encodeURIComponent(key)}/log`
        throw new NotFoundError(req.query.rev === undefined
          ? `Key ${JSON.stringify(key)} is deleted${then} (tombstone ${rev.id}); ${history}.`
          : `Revision ${rev.id} of key ${JSON.stringify(key)} is a tombstone (the key was deleted there), so it has no value; ${history}.`)
      }
      reply.header('ETag', etagOf(rev.id))
      reply.header('Last-Modified', httpDate(rev.time))
      if (await evaluatePreconditions(key, preconditions(req), rev, true) === 'not-modified') return await reply.code(304).send()
      return await sendJson(reply, JSON.stringify(rev.value))
    },

    putValue: async (req, reply) => {
      requireType(req, 'PUT')
      if (req.body === undefined) {
        throw new InvalidInputError('PUT needs the value as a JSON body with Content-Type: application/json.')
      }
      return await write(req, reply, async (conditions) => await store.commit(req.params.key, req.body as JsonValue, conditions))
    },

    createValue: async (req, reply) => {
      requireType(req, 'POST')
      if (header(req, 'revkv-parent') !== undefined) {
        throw new InvalidInputError('POST creates (its parent is null): leave out Revkv-Parent, or PUT to update.')
      }
      return await write(req, reply, async (conditions) => await store.commit(req.params.key, req.body as JsonValue, conditions), null)
    },

    patchValue: async (req, reply) => {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
      if (!PATCH_TYPES.includes(type)) {
        return await refuse(reply, new HttpError(`PATCH takes ${PATCH_TYPES.join(' or ')}, not ${type === '' ? 'no content type' : type}.`, 'REVKV_UNSUPPORTED_MEDIA_TYPE', 415))
      }
      const { key } = req.params
      const patch = req.body as JsonValue
      return await write(req, reply, async (conditions) => {
        // The patch applies to the value it was written against: the named parent, else the
        // head now. If the head moves before the commit, the parent is stale and the key's
        // strategy merges, instead of the patch being applied blindly to a newer value.
        const base = conditions.parent ?? (await store.head(key))?.id
        const baseRev = base === undefined || base === null ? undefined : await store.revision(base)
        const current = baseRev === undefined || baseRev.deleted === true ? undefined : baseRev.value
        const value = type === 'application/merge-patch+json' ? applyMergePatch(current, patch) : applyJsonPatch(key, current, patch)
        return await store.commit(key, value, { ...conditions, parent: conditions.parent === undefined ? (base ?? null) : conditions.parent })
      })
    },

    deleteKey: async (req, reply) => {
      const ifNoneMatch = parseCondition(req, 'if-none-match')
      if (ifNoneMatch?.any === true) {
        // "Only if it does not exist" cannot delete anything: 412 when it exists, 404 when not.
        const head = await store.head(req.params.key)
        if (head !== undefined && head.deleted !== true) throw preconditionFailed(`Key ${JSON.stringify(req.params.key)} exists (If-None-Match: *).`, head.id)
        throw new NotFoundError(`Key ${JSON.stringify(req.params.key)} does not exist, so there is nothing to delete.`)
      }
      return await write(req, reply, async (conditions) => await store.delete(req.params.key, conditions))
    },

    getHead: async (req, reply) => {
      const head = await store.head(req.params.key, asOfQuery(req))
      if (head === undefined) throw new NotFoundError(`Key ${JSON.stringify(req.params.key)} does not exist${req.query.asOf === undefined ? '' : ` as of ${req.query.asOf}`}.`)
      reply.header('ETag', etagOf(head.id))
      reply.header('Last-Modified', httpDate(head.time))
      return head
    },

    getLog: async (req) => {
      const revisions: Revision[] = []
      const firstParent = String(req.query['first-parent']) === 'true'
      for await (const rev of store.log(req.params.key, { limit: Number(req.query.limit ?? 100), firstParent })) revisions.push(rev)
      return { revisions }
    },

    getDiff: async (req) => {
      const { key } = req.params
      const to = req.query.to === undefined ? await store.head(key) : await store.revision(await store.resolveRevision(req.query.to, { key }))
      if (to === undefined) throw new NotFoundError(`Key ${JSON.stringify(key)} does not exist.`)
      const fromId = req.query.from === undefined ? to.parents[0] : await store.resolveRevision(req.query.from, { key })
      if (fromId === undefined) return diffValues(undefined, to.deleted === true ? undefined : to.value)
      return await store.diff(key, fromId, to.id)
    },

    getConflicts: async (req) => ({ revisions: await store.conflicts(req.params.key) }),

    batch: async (req, reply) => {
      requireType(req, 'POST')
      const body = req.body as { ops: Array<BatchOp & { ifMatch?: string }>, author?: string, message?: string }
      const preconditioned = new Set<number>()
      const ops = body.ops.map(({ ifMatch, ...op }, i): BatchOp => {
        if (ifMatch === undefined) {
          if (options.requireParent === true && op.parent === undefined) {
            throw new HttpError(`This server requires every write to name the revision it is based on: batch op ${i} (key ${JSON.stringify(op.key)}) has neither parent nor ifMatch.`, 'REVKV_PRECONDITION_REQUIRED', 428)
          }
          return op
        }
        if (op.parent !== undefined) throw new InvalidInputError(`Batch op ${i}: give either ifMatch (a precondition: 412) or parent (a versioned edit: 409), not both.`)
        const condition = parseTagCondition(/^".*"$/.test(ifMatch) ? ifMatch : `"${ifMatch}"`)
        if (condition === null || condition === undefined || condition.any || condition.tags.length !== 1 || condition.tags[0]?.weak === true) {
          throw new InvalidInputError(`Batch op ${i}: ifMatch must be one revision id (the key's ETag, quoted or not), got ${JSON.stringify(ifMatch)}.`)
        }
        preconditioned.add(i)
        return { ...op, parent: condition.tags[0]?.opaque as string, strategy: 'reject' }
      })
      try {
        const revisions = await store.batch(ops, {
          ...(body.author === undefined ? {} : { author: body.author }),
          ...(body.message === undefined ? {} : { message: body.message })
        })
        return await reply.send({ revisions: revisions.map(({ value: _value, ...rev }) => rev) })
      } catch (err) {
        if (err instanceof BatchConflictError && err.conflicts.some((c) => preconditioned.has(c.index) && c.code === 'REVKV_CONFLICT')) {
          throw new HttpError(`Batch refused: the ifMatch of ${err.conflicts.filter((c) => preconditioned.has(c.index)).map((c) => `op ${c.index} (key ${JSON.stringify(c.key)})`).join(', ')} no longer holds, so nothing of the batch was written. Read those keys again and resend the batch with their new ETags.`,
            'REVKV_PRECONDITION_FAILED', 412, { conflicts: err.conflicts })
        }
        throw err
      }
    },

    merge: async (req, reply) => {
      requireType(req, 'POST')
      const { key } = req.params
      const body = req.body as { rev: string, strategy?: string, onConflict?: 'ours' | 'theirs', value?: JsonValue, resolutions?: Record<string, PlaceResolution>, author?: string, message?: string }
      const rev = await store.resolveRevision(body.rev, { key })
      const lock = lockToken(req, false)
      const merged = await store.merge(key, rev, {
        ...(lock === undefined ? {} : { lock }),
        ...(body.strategy === undefined ? {} : { strategy: body.strategy }),
        ...(body.onConflict === undefined ? {} : { onConflict: body.onConflict }),
        ...('value' in body && body.value !== undefined ? { value: body.value } : {}),
        ...(body.resolutions === undefined ? {} : { resolutions: body.resolutions }),
        ...(body.author === undefined ? {} : { author: body.author }),
        ...(body.message === undefined ? {} : { message: body.message })
      })
      reply.header('ETag', etagOf(merged.id))
      return merged
    },

    lockKey: async (req, reply) => {
      requireType(req, 'POST')
      const body = req.body as { ttl: number, owner?: string, wait?: number }
      // A client that goes away, or a server shutting down, leaves the queue.
      const abort = new AbortController()
      streams.add(abort)
      reply.raw.on('close', () => { abort.abort() })
      let lease
      try {
        lease = await store.lock(req.params.key, { ...body, signal: abort.signal })
      } finally {
        streams.delete(abort)
      }
      reply.header('Location', `/v1/keys/${encodeURIComponent(req.params.key)}/lock`)
      return await reply.code(201).send(lease)
    },

    renewLock: async (req) => {
      const body = (req.body ?? {}) as { ttl?: unknown }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidInputError('PATCH on a lock takes { "ttl": <ms> } as application/json.')
      return await store.renew(req.params.key, lockToken(req, true) as number, { ttl: body.ttl as number })
    },

    unlockKey: async (req) => ({ released: await store.unlock(req.params.key, lockToken(req, true) as number) }),

    listLocks: async (req) => ({ locks: await store.locks(req.query.prefix === undefined ? {} : { prefix: req.query.prefix }) }),

    listConflictedKeys: async () => {
      const keys: string[] = []
      for await (const key of store.conflictedKeys()) keys.push(key)
      return { keys }
    },

    resolveRevision: async (req) => {
      const { ref, key } = req.query as { ref: string, key?: string }
      return { id: await store.resolveRevision(ref, key === undefined ? {} : { key }) }
    },

    listChanges: async (req) => {
      const since = Number(req.query.since ?? 0)
      const changes: Change[] = []
      for await (const change of store.changes({ since, limit: Number(req.query.limit ?? 1000), ...(req.query.prefix === undefined ? {} : { prefix: req.query.prefix }) })) changes.push(change)
      return { changes, last: changes.length > 0 ? (changes[changes.length - 1] as Change).seq : since }
    },

    streamChanges: async (req, reply) => {
      // A reconnecting EventSource resumes after the last event it got; an id this stream
      // cannot have sent is refused rather than taken for 0 (a replay of everything).
      const lastEventId = header(req, 'last-event-id')
      if (lastEventId !== undefined && lastEventId !== '' && !(/^\d+$/.test(lastEventId) && Number.isSafeInteger(Number(lastEventId)))) {
        throw new InvalidInputError(`Last-Event-ID must be the id of an event of this stream, a sequence number (digits only), got ${shorten(JSON.stringify(lastEventId))}. Reconnect without it, or give ?since=<seq>.`)
      }
      const since = lastEventId !== undefined && lastEventId !== '' ? Number(lastEventId) : Number(req.query.since ?? 0)
      const abort = new AbortController()
      streams.add(abort)
      req.raw.on('close', () => { abort.abort() })
      reply.hijack()
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' })
      reply.raw.write('retry: 1000\n\n')
      // A comment now and then keeps proxies from closing an idle stream.
      const heartbeat = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000)
      try {
        for await (const change of store.watch({ since, signal: abort.signal, ...(req.query.prefix === undefined ? {} : { prefix: req.query.prefix }) })) {
          // Backpressure: a slow client pauses the replay instead of filling the server's memory.
          if (!reply.raw.write(`id: ${change.seq}\nevent: change\ndata: ${JSON.stringify(change)}\n\n`) && !abort.signal.aborted) {
            await new Promise<void>((resolve) => {
              const done = (): void => { reply.raw.off('drain', done); abort.signal.removeEventListener('abort', done); resolve() }
              reply.raw.on('drain', done)
              abort.signal.addEventListener('abort', done)
            })
          }
        }
      } finally {
        clearInterval(heartbeat)
        streams.delete(abort)
        reply.raw.end()
      }
    },

    getRevision: async (req) => {
      const { id } = req.params as unknown as { id: string }
      return await store.revision(await store.resolveRevision(id))
    },

    exportDump: async (req, reply) => {
      const { prefix } = req.query
      return await reply.type(`${NDJSON}; charset=utf-8`).send(ndjsonStream(store.export(prefix === undefined ? {} : { prefix })))
    },

    importDump: async (req) => {
      requireType(req, 'POST /v1/import', NDJSON)
      if (!(req.body instanceof Readable)) throw new InvalidInputError(`POST /v1/import takes a dump made by export as the body, with Content-Type: ${NDJSON}.`)
      return await store.import(createInterface({ input: req.body, crlfDelay: Infinity }))
    },

    verify: async (_req, reply) => await sendOperation(reply, async (progress) => await store.verify({ onProgress: progress })),

    syncInfo: async () => await store[kSync]().info(),

    syncHeads: async (req, reply) => {
      const { prefix, since } = req.query
      const heads = store[kSync]().heads(prefix ?? '', since === undefined ? undefined : Number(since))
      return await reply.type(`${NDJSON}; charset=utf-8`).send(ndjsonStream(headLines(heads)))
    },

    syncHeadsOf: async (req) => {
      const { keys } = req.body as { keys: string[] }
      for (const key of keys) validateKey(key)
      return { heads: (await store[kSync]().headsOf(keys)).map((head) => head ?? null) }
    },

    syncSend: async (req, reply) => {
      const { wants } = req.body as { wants: Want[] }
      for (const { key } of wants) validateKey(key)
      return await reply.type(`${NDJSON}; charset=utf-8`).send(ndjsonStream(store[kSync]().send(wants)))
    },

    syncReceive: async (req) => {
      requireType(req, 'POST /v1/sync/receive', NDJSON)
      if (!(req.body instanceof Readable)) throw new InvalidInputError(`POST /v1/sync/receive takes sync lines as the body, with Content-Type: ${NDJSON}.`)
      const { strategy } = req.query
      return await store[kSync]().receive(createInterface({ input: req.body, crlfDelay: Infinity }), strategy === undefined ? {} : { strategy })
    },

    compact: async (req, reply) => {
      requireType(req, 'POST')
      const { keep, prefix } = req.body as { keep: number, prefix?: string }
      return await sendOperation(reply, async () => await store.compact({ keep, ...(prefix === undefined ? {} : { prefix }) }))
    }
  }

  /**
   * A write under the request's conditions: preconditions give 412, stale parents go to the
   * strategy. `parent` null is a POST, a create whatever the query says.
   */
  async function write (req: KeyRequest, reply: FastifyReply, perform: (c: WriteOptions) => Promise<Revision>, parent?: null): Promise<unknown> {
    const { key } = req.params
    const c = writeConditions(req)
    if (parent === null) c.parent = null
    const preconditioned = c.ifMatch !== undefined || c.ifNoneMatch !== undefined || c.ifUnmodifiedSince !== undefined
    if (options.requireParent === true && c.parent === undefined && !preconditioned) {
      return await refuse(reply, new HttpError('This server requires every write to name the revision it is based on: send If-Match: "<rev>" or a parent (?parent= or Revkv-Parent), or If-None-Match: * to create.', 'REVKV_PRECONDITION_REQUIRED', 428))
    }
    const meta: WriteOptions = {
      ...(c.author === undefined ? {} : { author: c.author }),
      ...(c.message === undefined ? {} : { message: c.message }),
      ...(c.sinceOption === undefined ? {} : { ifUnmodifiedSince: new Date(c.sinceOption) }),
      ...(c.lock === undefined ? {} : { lock: c.lock })
    }
    // Whether the key is live before the write decides 201 vs 200. Read from the head cache,
    // it costs no disk read; a concurrent create in between can only turn a 201 into a 200.
    const before = await store.head(key)
    let rev: Revision
    if (preconditioned) {
      if (c.parent !== undefined) throw new InvalidInputError('Give either a precondition (If-Match / If-None-Match / If-Unmodified-Since) or a parent (?parent= / Revkv-Parent, or POST), not both.')
      if (c.onExists !== undefined) throw new InvalidInputError('Give either a precondition (If-Match / If-None-Match / If-Unmodified-Since) or onExists, not both: If-None-Match: * answers 412 on a live key, onExists=rename or replace settles it.')
      rev = await conditionalWrite(key, c, async (parent) => await perform({ ...meta, parent, strategy: 'reject' }))
    } else {
      rev = await perform({
        ...meta,
        ...(c.parent === undefined ? {} : { parent: c.parent }),
        ...(c.strategy === undefined ? {} : { strategy: c.strategy }),
        ...(c.onExists === undefined ? {} : { onExists: c.onExists })
      })
    }
    reply.header('ETag', etagOf(rev.id))
    reply.header('Last-Modified', httpDate(rev.time))
    // A rename wrote another key, which did not exist (or was deleted) until now.
    const created = rev.key !== key || (rev.deleted !== true && rev.strategy === undefined && (before === undefined || before.deleted === true))
    if (created || c.onExists !== undefined) reply.header('Location', `/v1/keys/${encodeURIComponent(rev.key)}`)
    const { value: _value, ...withoutValue } = rev
    return await reply.code(created ? 201 : 200).send(withoutValue)
  }

  /**
   * RFC 9110 preconditions on a write, made atomic by writing with the matched head as parent
   * under `reject`: if another write lands in between, the write is refused and reported as 412.
   */
  async function conditionalWrite (key: string, c: WriteConditions, perform: (parent: string | null) => Promise<Revision>): Promise<Revision> {
    for (let attempt = 0; ; attempt++) {
      const head = await store.head(key)
      await evaluatePreconditions(key, c, head, false)
      try {
        return await perform(c.ifNoneMatch?.any === true ? null : (head?.id ?? null))
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err
        // `*` and date conditions may still hold after a concurrent write; a named tag cannot.
        const retry = (c.ifMatch?.any === true || c.ifNoneMatch?.any === true || (c.ifMatch === undefined && c.ifUnmodifiedSince !== undefined)) && attempt < 3
        if (!retry) throw preconditionFailed(`The head of ${JSON.stringify(key)} changed: the precondition no longer holds. Nothing was written.`, err.actual)
      }
    }
  }

  /**
   * The preconditions of a request against the selected revision, in the order of RFC 9110
   * section 13.2.2: If-Match, else If-Unmodified-Since; then If-None-Match, else (reads only)
   * If-Modified-Since. Throws a 412 HttpError; 'not-modified' means 304 for a read.
   */
  async function evaluatePreconditions (key: string, c: Preconditions, rev: Revision | undefined, read: boolean): Promise<'proceed' | 'not-modified'> {
    const live = rev !== undefined && rev.deleted !== true ? rev : undefined
    if (c.ifMatch !== undefined) {
      if (!(c.ifMatch.any ? live !== undefined : matchesStrong(c.ifMatch, rev?.id))) {
        throw preconditionFailed(c.ifMatch.any ? `Key ${JSON.stringify(key)} does not exist (If-Match: * needs it to).` : `If-Match does not name the current head of ${JSON.stringify(key)}${rev === undefined ? ' (the key does not exist)' : ` (it is ${etagOf(rev.id)})`}.`, rev?.id ?? null)
      }
    } else if (c.ifUnmodifiedSince !== undefined && rev !== undefined && await changedSince(rev, c.ifUnmodifiedSince)) {
      throw preconditionFailed(
        `Key ${JSON.stringify(key)} may have changed since ${httpDate(c.ifUnmodifiedSince)} (If-Unmodified-Since): its head ${etagOf(rev.id)} ${rev.deleted === true ? 'was deleted' : 'was written'} at ${new Date(rev.time).toISOString()}` +
        `${Math.floor(rev.time / 1000) === Math.floor(c.ifUnmodifiedSince / 1000) ? ', in the same second as a revision before it, so which one was read cannot be told' : ''}. Nothing was written.`, rev.id)
    }
    if (c.ifNoneMatch !== undefined) {
      if (c.ifNoneMatch.any ? live !== undefined : matchesWeak(c.ifNoneMatch, rev?.id)) {
        if (read) return 'not-modified'
        throw preconditionFailed(c.ifNoneMatch.any ? `Key ${JSON.stringify(key)} exists (If-None-Match: * means create only).` : `If-None-Match names the current head of ${JSON.stringify(key)}.`, rev?.id ?? null)
      }
    } else if (read && c.ifModifiedSince !== undefined && live !== undefined && !(await changedSince(live, c.ifModifiedSince))) {
      return 'not-modified'
    }
    return 'proceed'
  }

  /** Whether `rev` may be newer than an HTTP date (whole seconds; see unmodified.ts for the same-second rule). */
  async function changedSince (rev: Revision, since: number): Promise<boolean> {
    return await modifiedSince({ head: rev, parentTime: async () => (await store.revision(rev.parents[0] as string))?.time }, since, 1000)
  }

  function preconditions (req: KeyRequest): Preconditions {
    const unmodified = parseHttpDate(req.headers['if-unmodified-since'])
    // A write's safety must not rest on a date the server could not read: 400, where RFC 9110
    // would ignore the header. If-Modified-Since only saves a transfer, so a bad one is ignored.
    if (unmodified === null) throw new InvalidInputError('Malformed If-Unmodified-Since header: use an HTTP-date like "Sun, 06 Nov 1994 08:49:37 GMT" (the Last-Modified revkv sent).')
    return {
      ifMatch: parseCondition(req, 'if-match'),
      ifNoneMatch: parseCondition(req, 'if-none-match'),
      ifUnmodifiedSince: unmodified,
      ifModifiedSince: parseHttpDate(req.headers['if-modified-since']) ?? undefined
    }
  }

  function writeConditions (req: KeyRequest): WriteConditions {
    const parentText = req.query.parent ?? header(req, 'revkv-parent')
    const strategyName = req.query.strategy
    const onConflict = req.query.onConflict as 'ours' | 'theirs' | undefined
    if (onConflict !== undefined && strategyName !== undefined && strategyName !== 'merge') {
      throw new InvalidInputError(`onConflict goes with strategy=merge, not ${strategyName}.`)
    }
    const since = req.query.ifUnmodifiedSince
    return {
      ...preconditions(req),
      parent: parentText === undefined ? undefined : parentText === 'null' ? null : parentText,
      onExists: req.query.onExists as WriteConditions['onExists'],
      sinceOption: since === undefined ? undefined : Number(since),
      strategy: onConflict !== undefined ? mergeStrategy({ onConflict }) : strategyName,
      author: req.query.author,
      message: req.query.message,
      lock: lockToken(req, false)
    }
  }

  for (const route of ROUTES) {
    const handler = handlers[route.operationId]
    if (handler === undefined) throw new Error(`no handler for ${route.operationId}`)
    const schema: Record<string, unknown> = {}
    if (route.querystring !== undefined) schema.querystring = route.querystring
    const json = route.body?.['application/json']
    if (json !== undefined && route.method === 'POST') schema.body = json
    // A read-only server turns writers away before anything is read or changed.
    const refused = options.readOnly === true && route.method !== 'GET' && route.reads !== true
    app.route({
      method: route.method,
      url: route.path,
      schema,
      handler: refused
        ? async (_req: FastifyRequest, reply: FastifyReply) => await refuse(reply, new HttpError(`This server is read-only (revkv serve --read-only): ${route.method} ${route.path} would change the store. Read, export or pull from it; write elsewhere.`, 'REVKV_READ_ONLY', 403))
        : handler as (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
      ...(route.largeBody === true ? { bodyLimit: BATCH_BODY_FACTOR * bodyLimit } : {})
    })
  }
  return app
}

/** Head lines as a stream sends them, then the end line with their count. */
async function * headLines (heads: AsyncIterable<HeadLine>): AsyncGenerator<string> {
  let keys = 0
  for await (const head of heads) {
    keys++
    yield JSON.stringify({ head })
  }
  yield JSON.stringify({ end: { keys } })
}

function applyJsonPatch (key: string, current: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (current === undefined) throw new NotFoundError(`Key ${JSON.stringify(key)} does not exist, so there is nothing to apply a JSON Patch to; PUT it first, or send a merge patch.`)
  if (!Array.isArray(patch)) throw new InvalidInputError('A JSON Patch (application/json-patch+json) is an array of operations.')
  const invalid = jsonpatch.validate(patch as unknown as jsonpatch.Operation[])
  if (invalid !== undefined) throw new InvalidInputError(`Invalid JSON Patch: ${firstLine(invalid.message, invalid.name)}${invalid.index === undefined ? '' : ` (operation ${invalid.index})`}.`)
  try {
    const copy = jsonpatch.deepClone(current) as JsonValue
    return jsonpatch.applyPatch(copy, patch as unknown as jsonpatch.Operation[], true, true, true).newDocument
  } catch (err) {
    const e = err as { name?: string, message?: string, index?: number }
    throw new HttpError(`The JSON Patch cannot be applied to the value of ${JSON.stringify(key)}: ${firstLine(e.message, e.name)}${e.index === undefined ? '' : ` (operation ${e.index})`}. Nothing was written.`, 'REVKV_PATCH_FAILED', 422)
  }
}

/** The first line of a library's error message (fast-json-patch appends the operation on more lines), never empty. */
function firstLine (message: string | undefined, name: string | undefined): string {
  const line = message?.split('\n')[0] ?? ''
  return line !== '' ? line : (name ?? 'unknown error')
}

/** A precondition that does not hold: nothing was written (RFC 9110 412); `actual` is the head. */
function preconditionFailed (detail: string, actual: string | null): HttpError {
  return new HttpError(detail, 'REVKV_PRECONDITION_FAILED', 412, { actual })
}

/** PUT and POST take plain JSON (a patch sent to them would be stored as the value itself); an import takes NDJSON. */
function requireType (req: FastifyRequest, method: string, expected = 'application/json'): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== undefined && type !== '' && type !== expected) {
    throw new HttpError(`${method} takes ${expected}, not ${type}${PATCH_TYPES.includes(type) ? ' (send patches with PATCH)' : ''}.`, 'REVKV_UNSUPPORTED_MEDIA_TYPE', 415)
  }
}

function parseCondition (req: FastifyRequest, name: 'if-match' | 'if-none-match'): TagCondition | undefined {
  const condition = parseTagCondition(req.headers[name])
  if (condition === null) throw new InvalidInputError(`Malformed ${name} header: use * or a list of quoted revision ids like "3fa9…".`)
  return condition
}

/** The fencing token a request carries in Revkv-Lock-Token; `required` for renewing and releasing. */
function lockToken (req: FastifyRequest, required: boolean): number | undefined {
  const text = header(req, LOCK_TOKEN_HEADER.toLowerCase())
  if (text === undefined) {
    if (required) throw new InvalidInputError(`Send the lease's fencing token in the ${LOCK_TOKEN_HEADER} header (the token POST /v1/keys/{key}/lock returned).`)
    return undefined
  }
  if (!/^[1-9]\d{0,15}$/.test(text.trim())) throw new InvalidInputError(`${LOCK_TOKEN_HEADER} must be a lease's fencing token (a whole number ≥ 1), got ${JSON.stringify(text)}.`)
  return Number(text.trim())
}

function header (req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

async function sendJson (reply: FastifyReply, text: string): Promise<FastifyReply> {
  return await reply.type('application/json; charset=utf-8').send(text)
}

/** Stream a whole-store operation's progress and result (see ndjson.ts). */
async function sendOperation (reply: FastifyReply, run: (progress: (done: number) => void) => Promise<unknown>): Promise<FastifyReply> {
  return await reply.type(`${NDJSON}; charset=utf-8`).send(ndjsonStream(operationLines(run), 0))
}

async function sendProblem (reply: FastifyReply, p: { status: number }): Promise<FastifyReply> {
  return await reply.code(p.status).type('application/problem+json; charset=utf-8').send(JSON.stringify(p))
}

/** Answer with the problem of a refusal. */
async function refuse (reply: FastifyReply, err: RevkvError | Error): Promise<FastifyReply> {
  return await sendProblem(reply, problemOf(err))
}

/** A path or value as a message quotes it: long ones cut in the middle, so a detail stays readable. */
function shorten (text: string): string {
  return text.length <= 120 ? text : `${text.slice(0, 80)}…${text.slice(-30)}`
}

function routePattern (route: RouteSpec): RegExp {
  return new RegExp(`^${route.path.replace(/:\w+/g, '[^/]+')}/?$`)
}

/** One Common Log Format line with the response time appended. */
function accessLogLine (address: string, req: FastifyRequest, reply: FastifyReply): string {
  const length = reply.getHeader('content-length')
  const time = new Date().toISOString()
  return `${address} - - [${time}] "${req.method} ${req.url} HTTP/${req.raw.httpVersion}" ${reply.statusCode} ${length === undefined ? '-' : String(length)} ${reply.elapsedTime.toFixed(1)}ms`
}
