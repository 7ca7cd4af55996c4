import { createHash, timingSafeEqual } from 'node:crypto'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import jsonpatch from 'fast-json-patch'
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js'
import { diffValues } from '../json-diff.js'
import { parseJsonText } from '../json-text.js'
import type { JsonValue } from '../json.js'
import type { Revision } from '../revision.js'
import type { Change } from '../changes.js'
import { mergeStrategy } from '../strategies/merge.js'
import type { StrategyRef } from '../strategies/types.js'
import type { Store } from '../store.js'
import { etagOf, matchesStrong, matchesWeak, parseTagCondition } from './conditional.js'
import type { TagCondition } from './conditional.js'
import { applyMergePatch } from './merge-patch.js'
import { NDJSON, ndjsonStream, operationLines } from './ndjson.js'
import { openApiDocument } from './openapi.js'
import { PreconditionFailed, problem, problemOf } from './problem.js'
import { ROUTES } from './routes.js'
import type { RouteSpec } from './routes.js'

/** Options of the HTTP server. */
export interface ServerOptions {
  /** Require `Authorization: Bearer <token>` on every route but /v1/health. */
  token?: string | undefined
  /** Answer 428 to writes that name neither a parent nor an If-Match / If-None-Match precondition. */
  requireParent?: boolean | undefined
  /** Largest request body in bytes (default the store's maxValueBytes + 64 KiB: a maximal value plus JSON spacing and escapes). Dumps sent to POST /v1/import stream and are not limited by it. */
  bodyLimit?: number | undefined
  /** Milliseconds a client has to send a whole request (default 30,000). */
  requestTimeout?: number | undefined
  /** Receives one access-log line per request; none when undefined. */
  log?: ((line: string) => void) | undefined
  /** The version reported by /v1/health and the OpenAPI document. */
  version?: string | undefined
}

type KeyRequest = FastifyRequest<{ Params: { key: string }, Querystring: Record<string, string | undefined> }>

/** A write's conditions as the request states them. */
interface WriteConditions {
  ifMatch: TagCondition | undefined
  ifNoneMatch: TagCondition | undefined
  parent: string | null | undefined
  strategy: StrategyRef | undefined
  author: string | undefined
  message: string | undefined
}

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json']
/** Room in a request body for JSON spacing and escapes around a value of the largest size. */
const BODY_OVERHEAD = 64 * 1024

/** Build the fastify app serving `store` (not listening yet; `app.inject()` works for tests). */
export function buildServer (store: Store, options: ServerOptions = {}): FastifyInstance {
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? store.maxValueBytes + BODY_OVERHEAD,
    requestTimeout: options.requestTimeout ?? 30_000,
    // Keep-alive connections outlive a typical load balancer's 60 s idle timeout.
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
    logger: false,
    // Unknown query parameters are errors (400), not silently dropped: a typo must not change a write.
    ajv: { customOptions: { removeAdditional: false } },
    // Keys may be long and contain anything; their percent-encoding is decoded once by the router.
    routerOptions: { maxParamLength: 4096 },
    // Errors raised before routing (a malformed percent-encoding) are problems like any other.
    frameworkErrors: (err, _req, reply) => {
      void sendProblem(reply, problem(400, 'REVKV_INVALID', `${err.message}: percent-encode keys with encodeURIComponent().`))
    }
  })
  const version = options.version ?? '0.0.0'
  const tokenDigest = options.token === undefined ? undefined : digest(options.token)

  // One JSON parser for values and patches, whose errors give line, column and position.
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser(['application/json', ...PATCH_TYPES], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonText(body as string, 'the request body'))
    } catch (err) {
      done(err as Error, undefined)
    }
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
        await sendProblem(reply, problem(401, 'REVKV_UNAUTHORIZED', 'This server needs Authorization: Bearer <token> (revkv serve --token / REVKV_TOKEN).'))
      }
    })
  }

  const log = options.log
  if (log !== undefined) {
    app.addHook('onResponse', async (req, reply) => {
      log(accessLogLine(req, reply))
    })
  }

  app.setErrorHandler(async (err: unknown, _req, reply) => {
    if (err instanceof PreconditionFailed) {
      return await sendProblem(reply, problem(412, 'REVKV_PRECONDITION_FAILED', err.detail, { actual: err.actual }))
    }
    const fastifyError = err as { statusCode?: number, code?: string, message?: string, validation?: unknown }
    if (fastifyError.statusCode !== undefined && fastifyError.statusCode < 500 && !(err instanceof ConflictError) && (err as { status?: number }).status === undefined) {
      const code = fastifyError.validation !== undefined
        ? 'REVKV_INVALID'
        : fastifyError.code?.startsWith('REVKV_') === true ? fastifyError.code : `REVKV_HTTP_${fastifyError.statusCode}`
      return await sendProblem(reply, problem(fastifyError.statusCode, code, describeHttpError(fastifyError)))
    }
    const p = problemOf(err)
    if (p.status >= 500) console.error(err)
    return await sendProblem(reply, p)
  })

  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0] ?? ''
    const allowed = ROUTES.filter((r) => routePattern(r).test(path)).map((r) => r.method)
    if (allowed.length > 0) {
      const methods = [...new Set(allowed.flatMap((m) => m === 'GET' ? ['GET', 'HEAD'] : [m]))]
      reply.header('Allow', methods.join(', '))
      return await sendProblem(reply, problem(405, 'REVKV_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}; use ${methods.join(', ')}.`))
    }
    return await sendProblem(reply, problem(404, 'REVKV_NO_ROUTE', `No route ${req.method} ${path}; see /v1/openapi.json.`))
  })

  // Live change streams, ended when the server closes (they would otherwise hold it open).
  const streams = new Set<AbortController>()
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.abort()
  })

  const handlers: Record<string, (req: KeyRequest, reply: FastifyReply) => Promise<unknown>> = {
    health: async () => ({ status: 'ok', version }),
    openapi: async () => openApiDocument(version),

    listKeys: async (req) => {
      const { prefix, after } = req.query
      const max = Number(req.query.limit ?? 100)
      const keys: string[] = []
      for await (const key of store.keys({ prefix: prefix ?? '', limit: max + 1, ...(after === undefined ? {} : { after }) })) keys.push(key)
      const more = keys.length > max
      if (more) keys.length = max
      return more ? { keys, next: keys[keys.length - 1] } : { keys }
    },

    getValue: async (req, reply) => {
      const { key } = req.params
      let rev: Revision | undefined
      if (req.query.rev !== undefined) {
        rev = await store.revision(await store.resolveRevision(req.query.rev, { key }))
      } else {
        rev = await store.head(key)
      }
      if (rev === undefined || rev.deleted === true) {
        throw new NotFoundError(rev === undefined ? `Key ${JSON.stringify(key)} does not exist.` : `Key ${JSON.stringify(key)} is deleted (tombstone ${rev.id}); its history is at /v1/keys/{key}/log.`)
      }
      reply.header('ETag', etagOf(rev.id))
      const ifNoneMatch = parseCondition(req, 'if-none-match')
      if (ifNoneMatch !== undefined && matchesWeak(ifNoneMatch, rev.id)) return await reply.code(304).send()
      return await sendJson(reply, JSON.stringify(rev.value))
    },

    putValue: async (req, reply) => {
      requireType(req, 'PUT')
      if (req.body === undefined) {
        throw new InvalidInputError('PUT needs the value as a JSON body with Content-Type: application/json.')
      }
      return await write(req, reply, async (conditions) => await store.commit(req.params.key, req.body as JsonValue, conditions))
    },

    patchValue: async (req, reply) => {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
      if (!PATCH_TYPES.includes(type)) {
        return await sendProblem(reply, problem(415, 'REVKV_HTTP_415', `PATCH takes ${PATCH_TYPES.join(' or ')}, not ${type === '' ? 'no content type' : type}.`))
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
        if (head !== undefined && head.deleted !== true) throw new PreconditionFailed(`Key ${JSON.stringify(req.params.key)} exists (If-None-Match: *).`, head.id)
        throw new NotFoundError(`Key ${JSON.stringify(req.params.key)} does not exist, so there is nothing to delete.`)
      }
      return await write(req, reply, async (conditions) => await store.delete(req.params.key, conditions))
    },

    getHead: async (req, reply) => {
      const head = await store.head(req.params.key)
      if (head === undefined) throw new NotFoundError(`Key ${JSON.stringify(req.params.key)} does not exist.`)
      reply.header('ETag', etagOf(head.id))
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

    merge: async (req, reply) => {
      requireType(req, 'POST')
      const { key } = req.params
      const body = req.body as { rev: string, strategy?: string, onConflict?: 'ours' | 'theirs', value?: JsonValue, author?: string, message?: string }
      const rev = await store.resolveRevision(body.rev, { key })
      const merged = await store.merge(key, rev, {
        ...(body.strategy === undefined ? {} : { strategy: body.strategy }),
        ...(body.onConflict === undefined ? {} : { onConflict: body.onConflict }),
        ...('value' in body && body.value !== undefined ? { value: body.value } : {}),
        ...(body.author === undefined ? {} : { author: body.author }),
        ...(body.message === undefined ? {} : { message: body.message })
      })
      reply.header('ETag', etagOf(merged.id))
      return merged
    },

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
      const lastEventId = header(req, 'last-event-id')
      const since = lastEventId !== undefined && /^\d+$/.test(lastEventId) ? Number(lastEventId) : Number(req.query.since ?? 0)
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

    compact: async (req, reply) => {
      requireType(req, 'POST')
      const { keep, prefix } = req.body as { keep: number, prefix?: string }
      return await sendOperation(reply, async () => await store.compact({ keep, ...(prefix === undefined ? {} : { prefix }) }))
    }
  }

  /** A write under the request's conditions: preconditions give 412, stale parents go to the strategy. */
  async function write (req: KeyRequest, reply: FastifyReply, perform: (c: { parent?: string | null, strategy?: StrategyRef, author?: string, message?: string }) => Promise<Revision>): Promise<unknown> {
    const { key } = req.params
    const c = writeConditions(req)
    if (options.requireParent === true && c.parent === undefined && c.ifMatch === undefined && c.ifNoneMatch === undefined) {
      return await sendProblem(reply, problem(428, 'REVKV_PRECONDITION_REQUIRED', 'This server requires every write to name the revision it is based on: send If-Match: "<rev>" or a parent (?parent= or Revkv-Parent), or If-None-Match: * to create.'))
    }
    const meta = { ...(c.author === undefined ? {} : { author: c.author }), ...(c.message === undefined ? {} : { message: c.message }) }
    // Whether the key is live before the write decides 201 vs 200. Read from the head cache,
    // it costs no disk read; a concurrent create in between can only turn a 201 into a 200.
    const before = await store.head(key)
    let rev: Revision
    if (c.ifMatch !== undefined || c.ifNoneMatch !== undefined) {
      if (c.parent !== undefined) throw new InvalidInputError('Give either a precondition (If-Match / If-None-Match) or a parent (?parent= / Revkv-Parent), not both.')
      rev = await preconditioned(key, c, async (parent) => await perform({ ...meta, parent, strategy: 'reject' }))
    } else {
      rev = await perform({ ...meta, ...(c.parent === undefined ? {} : { parent: c.parent }), ...(c.strategy === undefined ? {} : { strategy: c.strategy }) })
    }
    reply.header('ETag', etagOf(rev.id))
    const created = rev.deleted !== true && rev.strategy === undefined && (before === undefined || before.deleted === true)
    if (created) reply.header('Location', `/v1/keys/${encodeURIComponent(key)}`)
    const { value: _value, ...withoutValue } = rev
    return await reply.code(created ? 201 : 200).send(withoutValue)
  }

  /**
   * RFC 9110 preconditions on a write, made atomic by writing with the matched head as parent
   * under `reject`: if another write lands in between, the write is refused and reported as 412.
   */
  async function preconditioned (key: string, c: WriteConditions, perform: (parent: string | null) => Promise<Revision>): Promise<Revision> {
    for (let attempt = 0; ; attempt++) {
      const head = await store.head(key)
      const live = head !== undefined && head.deleted !== true ? head : undefined
      let parent: string | null
      if (c.ifNoneMatch !== undefined) {
        if (c.ifNoneMatch.any ? live !== undefined : matchesWeak(c.ifNoneMatch, head?.id)) {
          throw new PreconditionFailed(c.ifNoneMatch.any ? `Key ${JSON.stringify(key)} exists (If-None-Match: * means create only).` : `If-None-Match names the current head of ${JSON.stringify(key)}.`, head?.id ?? null)
        }
        parent = c.ifNoneMatch.any ? null : (head?.id ?? null)
      } else {
        const ifMatch = c.ifMatch as TagCondition
        const ok = ifMatch.any ? live !== undefined : matchesStrong(ifMatch, head?.id)
        if (!ok) {
          throw new PreconditionFailed(ifMatch.any ? `Key ${JSON.stringify(key)} does not exist (If-Match: * needs it to).` : `If-Match does not name the current head of ${JSON.stringify(key)}${head === undefined ? ' (the key does not exist)' : ` (it is ${etagOf(head.id)})`}.`, head?.id ?? null)
        }
        parent = head?.id ?? null
      }
      try {
        return await perform(parent)
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err
        // `*` conditions may still hold after a concurrent write; a named tag cannot.
        const retry = (c.ifMatch?.any === true || c.ifNoneMatch?.any === true) && attempt < 3
        if (!retry) throw new PreconditionFailed(`The head of ${JSON.stringify(key)} changed: the precondition no longer holds. Nothing was written.`, err.actual)
      }
    }
  }

  function writeConditions (req: KeyRequest): WriteConditions {
    const parentText = req.query.parent ?? header(req, 'revkv-parent')
    const strategyName = req.query.strategy
    const onConflict = req.query.onConflict as 'ours' | 'theirs' | undefined
    if (onConflict !== undefined && strategyName !== undefined && strategyName !== 'merge') {
      throw new InvalidInputError(`onConflict goes with strategy=merge, not ${strategyName}.`)
    }
    return {
      ifMatch: parseCondition(req, 'if-match'),
      ifNoneMatch: parseCondition(req, 'if-none-match'),
      parent: parentText === undefined ? undefined : parentText === 'null' ? null : parentText,
      strategy: onConflict !== undefined ? mergeStrategy({ onConflict }) : strategyName,
      author: req.query.author,
      message: req.query.message
    }
  }

  for (const route of ROUTES) {
    const handler = handlers[route.operationId]
    if (handler === undefined) throw new Error(`no handler for ${route.operationId}`)
    const schema: Record<string, unknown> = {}
    if (route.querystring !== undefined) schema.querystring = route.querystring
    const json = route.body?.['application/json']
    if (json !== undefined && route.method === 'POST') schema.body = json
    app.route({ method: route.method, url: route.path, schema, handler: handler as (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> })
  }
  return app
}

function applyJsonPatch (key: string, current: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (current === undefined) throw new NotFoundError(`Key ${JSON.stringify(key)} does not exist, so there is nothing to apply a JSON Patch to; PUT it first, or send a merge patch.`)
  if (!Array.isArray(patch)) throw new InvalidInputError('A JSON Patch (application/json-patch+json) is an array of operations.')
  const invalid = jsonpatch.validate(patch as unknown as jsonpatch.Operation[])
  if (invalid !== undefined) throw new InvalidInputError(`Invalid JSON Patch: ${invalid.message.split('\n')[0] ?? ''} (operation ${invalid.index ?? '?'}).`)
  try {
    const copy = jsonpatch.deepClone(current) as JsonValue
    return jsonpatch.applyPatch(copy, patch as unknown as jsonpatch.Operation[], true, true, true).newDocument
  } catch (err) {
    const e = err as { name?: string, message?: string, index?: number }
    throw new UnprocessablePatch(`The JSON Patch cannot be applied to the value of ${JSON.stringify(key)}: ${(e.message ?? '').split('\n')[0] ?? ''}${e.index === undefined ? '' : ` (operation ${e.index})`}. Nothing was written.`)
  }
}

/** A well-formed patch that does not apply to the value (RFC 5789: 422). */
class UnprocessablePatch extends Error {
  readonly statusCode = 422
  readonly code = 'REVKV_PATCH_FAILED'
}

/** PUT and POST take plain JSON (a patch sent to them would be stored as the value itself); an import takes NDJSON. */
function requireType (req: FastifyRequest, method: string, expected = 'application/json'): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== undefined && type !== '' && type !== expected) {
    throw Object.assign(new Error(`${method} takes ${expected}, not ${type}${PATCH_TYPES.includes(type) ? ' (send patches with PATCH)' : ''}.`), { statusCode: 415, code: 'REVKV_HTTP_415' })
  }
}

function parseCondition (req: FastifyRequest, name: 'if-match' | 'if-none-match'): TagCondition | undefined {
  const condition = parseTagCondition(req.headers[name])
  if (condition === null) throw new InvalidInputError(`Malformed ${name} header: use * or a list of quoted revision ids like "3fa9…".`)
  return condition
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

function routePattern (route: RouteSpec): RegExp {
  return new RegExp(`^${route.path.replace(/:\w+/g, '[^/]+')}/?$`)
}

function describeHttpError (err: { statusCode?: number, code?: string, message?: string }): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return `${err.message ?? 'Request body is too large'}: ask for the server's request size limit to be raised (revkv serve --body-limit, which follows --max-value-bytes by default).`
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return `${err.message ?? 'Unsupported media type'}: send JSON values as application/json.`
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return 'The body is empty; send a JSON value (null is one).'
    default: return `${err.message ?? 'Bad request'}.`.replace(/\.\.$/, '.')
  }
}

/** One Common Log Format line with the response time appended. */
function accessLogLine (req: FastifyRequest, reply: FastifyReply): string {
  const length = reply.getHeader('content-length')
  const time = new Date().toISOString()
  return `${req.ip} - - [${time}] "${req.method} ${req.url} HTTP/${req.raw.httpVersion}" ${reply.statusCode} ${length === undefined ? '-' : String(length)} ${reply.elapsedTime.toFixed(1)}ms`
}
