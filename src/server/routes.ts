/**
 * The HTTP surface of `revkv serve`, as data: every route with its method, path, JSON
 * schemas and documentation. The server registers exactly these routes and the OpenAPI
 * document is generated from them, so the document cannot drift from what is served.
 */

/** A JSON Schema fragment (what fastify validates with and OpenAPI shows). */
export type Schema = Record<string, unknown>

/** One route of the API. */
export interface RouteSpec {
  method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST'
  /** fastify path syntax (`:key`); OpenAPI shows `{key}`. */
  path: string
  operationId: string
  summary: string
  querystring?: Schema
  /** Request body content types and their schema. */
  body?: Record<string, Schema>
  /** Status codes this route answers with, and what each means. */
  responses: Record<string, string>
  /** Request headers this route reads. */
  headers?: string[]
  /** The body may hold many values (a batch): its size limit is BATCH_BODY_FACTOR times the server's. */
  largeBody?: true
  /** A POST that only reads (sync negotiation): a --read-only server still answers it. Every other non-GET route writes. */
  reads?: true
}

/** How many times the server's body limit a batch's body may be (many values in one request). */
export const BATCH_BODY_FACTOR = 16

import { LOCK_TOKEN_HEADER, MAX_TTL_MS, MAX_WAIT_MS } from '../leases.js'
import { MAX_BATCH_OPS } from '../op-group.js'

const limit = (max: number, fallback: number): Schema => ({ type: 'integer', minimum: 0, maximum: max, default: fallback })
/** A point in time to read at (see parseAsOf in ../as-of.ts). */
const asOf: Schema = { type: 'string', minLength: 1, maxLength: 40, description: 'Read as of a point in time: an ISO 8601 time with a zone (2026-12-01T10:00Z), epoch milliseconds, or @N for changes-feed sequence number N (400 past the last one). A future time reads as now' }
const revisionRef: Schema = { type: 'string', minLength: 4, maxLength: 64, description: 'A revision id, a unique prefix of at least 4 hex characters, HEAD or HEAD~N' }
const writeQuery: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    parent: { type: 'string', description: 'The revision this write is based on (a versioned edit; "null" = create only). Same as the Revkv-Parent header.' },
    strategy: { type: 'string', description: 'Strategy for this write if it is stale: reject, lww, merge, manual or a registered name' },
    onConflict: { type: 'string', enum: ['ours', 'theirs'], description: 'With strategy merge: settle conflicting places with this side' },
    ifUnmodifiedSince: { type: 'integer', description: 'The library\'s ifUnmodifiedSince, in ms since the epoch (RemoteStore sends it): 409 when the head was written after it. The If-Unmodified-Since header is the HTTP form (412).' },
    author: { type: 'string' },
    message: { type: 'string' }
  }
}
const onExists: Schema = { type: 'string', enum: ['reject', 'replace', 'rename'], description: 'With a parent of null (and on POST): when the key is live, reject (409, the default), replace (write on top of it) or rename (create under the first free name, `report (1).json`; Location says which)' }
const createQuery: Schema = { ...writeQuery, properties: { ...(writeQuery.properties as Schema), onExists } }
/** POST is a create: its parent is null, so it takes no parent. */
const { parent: _parent, ...postProperties } = createQuery.properties as Schema
const postQuery: Schema = { ...writeQuery, properties: postProperties }
const writeHeaders = ['If-Match', 'If-None-Match', 'If-Unmodified-Since', 'Revkv-Parent', LOCK_TOKEN_HEADER]

/** What the request headers revkv defines mean (the standard ones are RFC 9110's). */
export const HEADER_DESCRIPTIONS: Record<string, string> = {
  'Revkv-Parent': 'The revision this write is based on (a versioned edit; "null" = create only)',
  [LOCK_TOKEN_HEADER]: 'The fencing token of the lease held on the key (POST /v1/keys/{key}/lock). Needed to write a leased key; a token from an ended lease is refused (423)'
}
const ttl: Schema = { type: 'integer', minimum: 1, maximum: MAX_TTL_MS, description: 'How long the lease lasts, in milliseconds (at most one day; renew to hold it longer)' }
const lockResponses = {
  400: 'Bad ttl, owner, wait or token (a token never granted on this key)',
  401: 'Missing or wrong bearer token',
  423: 'Locked: another holder has the lease (problem+json with key, owner, expires), or the token\'s lease ended'
}
const writeResponses = {
  400: 'Malformed request (bad JSON with its position, bad key, bad parameter)',
  401: 'Missing or wrong bearer token',
  404: 'The parent revision is not a revision of this key',
  409: 'Conflict: the parent is stale and the strategy rejected it, a merge conflict, or kept unmerged by manual',
  412: 'If-Match / If-None-Match / If-Unmodified-Since precondition failed; nothing written',
  413: 'Body over the size limit',
  423: 'Locked: the key is leased and the write does not carry the live lease\'s token (Revkv-Lock-Token); problem+json names the holder (owner) and when the lease ends (expires)',
  415: 'Wrong content type',
  428: 'The server requires a parent or If-Match on writes (--require-parent)'
}

/** Every route of the API, in the order the OpenAPI document lists them. */
export const ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    path: '/v1/health',
    operationId: 'health',
    summary: 'Liveness: the server and its store are up',
    responses: { 200: '{ status: "ok" }' }
  },
  {
    method: 'GET',
    path: '/v1/openapi.json',
    operationId: 'openapi',
    summary: 'This OpenAPI 3.1 document',
    responses: { 200: 'The document' }
  },
  {
    method: 'GET',
    path: '/v1/keys',
    operationId: 'listKeys',
    summary: 'Live keys in order, paged',
    querystring: { type: 'object', additionalProperties: false, properties: { prefix: { type: 'string' }, limit: limit(1000, 100), after: { type: 'string', description: 'Continue after this key (the previous page\'s `next`)' }, asOf: { ...asOf, description: `The keys live then. ${asOf.description as string}` } } },
    responses: { 200: '{ keys: string[], next?: string }', 400: 'Bad parameter', 404: 'With asOf: a key\'s history at that moment was cut by compaction' }
  },
  {
    method: 'GET',
    path: '/v1/keys/:key',
    operationId: 'getValue',
    summary: 'The value of a key (or of an older revision with ?rev=, or as it was with ?asOf=); ETag is the revision id, Last-Modified its time. HEAD works too.',
    querystring: { type: 'object', additionalProperties: false, properties: { rev: revisionRef, asOf } },
    headers: ['If-Match', 'If-None-Match', 'If-Unmodified-Since', 'If-Modified-Since'],
    responses: { 200: 'The JSON value', 304: 'Not modified (If-None-Match names it, or If-Modified-Since holds)', 400: 'Malformed If-Match / If-None-Match / If-Unmodified-Since', 404: 'Missing or deleted key, or unknown revision', 412: 'If-Match or If-Unmodified-Since failed' }
  },
  {
    method: 'PUT',
    path: '/v1/keys/:key',
    operationId: 'putValue',
    summary: 'Write a value: If-Match / If-None-Match / If-Unmodified-Since are preconditions (412); a parent is a versioned edit (409 when its strategy refuses); with parent=null, onExists settles a live key',
    querystring: createQuery,
    headers: writeHeaders,
    body: { 'application/json': { description: 'Any JSON value' } },
    responses: { 200: 'Updated: the new head revision (without its value)', 201: 'Created: the new head revision (without its value); Location names the key written', ...writeResponses }
  },
  {
    method: 'POST',
    path: '/v1/keys/:key',
    operationId: 'createValue',
    summary: 'Create a key (parent null): onExists=reject (409 when it is live, the default), replace (write on top of it) or rename (the first free name); Location names the key written',
    querystring: postQuery,
    headers: writeHeaders.filter((name) => name !== 'Revkv-Parent'),
    body: { 'application/json': { description: 'Any JSON value' } },
    responses: { 200: 'Replaced (onExists=replace on a live key): the new head revision', 201: 'Created (perhaps under a new name: see Location and the revision\'s key)', ...writeResponses }
  },
  {
    method: 'PATCH',
    path: '/v1/keys/:key',
    operationId: 'patchValue',
    summary: 'Apply an RFC 6902 JSON Patch or RFC 7396 Merge Patch to the value at the parent revision (or the head), then commit it like a PUT',
    querystring: writeQuery,
    headers: writeHeaders,
    body: { 'application/json-patch+json': { type: 'array', items: { type: 'object' } }, 'application/merge-patch+json': { description: 'A JSON merge patch' } },
    responses: { 200: 'Updated', 201: 'Created (merge patch on a missing key)', 422: 'The patch cannot be applied to the value (a failed test, a missing path)', ...writeResponses }
  },
  {
    method: 'DELETE',
    path: '/v1/keys/:key',
    operationId: 'deleteKey',
    summary: 'Delete a key: writes a tombstone revision; history stays',
    querystring: writeQuery,
    headers: writeHeaders,
    responses: { 200: 'The tombstone revision', ...writeResponses, 404: 'Missing or already deleted key, or unknown parent' }
  },
  {
    method: 'POST',
    path: '/v1/batch',
    operationId: 'batch',
    summary: 'Several writes to distinct keys, all or nothing: each op is decided by its key\'s parent and strategy, and either every op is written in one atomic commit or none is',
    body: {
      'application/json': {
        type: 'object',
        required: ['ops'],
        additionalProperties: false,
        properties: {
          ops: {
            type: 'array',
            maxItems: MAX_BATCH_OPS,
            items: {
              type: 'object',
              required: ['type', 'key'],
              additionalProperties: false,
              properties: {
                type: { type: 'string', enum: ['commit', 'delete'] },
                key: { type: 'string' },
                value: { description: 'The new value (commit only): any JSON value' },
                parent: { type: ['string', 'null'], description: 'The revision the op is based on (null: create only); a stale one goes to the strategy (409 when it refuses)' },
                ifMatch: { type: 'string', description: 'A precondition: the key\'s head must be this revision (its ETag, quoted or not); 412 for the whole batch when it is not. Not with parent' },
                strategy: { type: 'string', description: 'Strategy for this op if it is stale: reject, lww, merge or a registered name (under manual a stale op is refused: a batch keeps nothing unmerged)' },
                lock: { type: 'integer', minimum: 1, description: 'The fencing token of the lease held on the key' }
              }
            }
          },
          author: { type: 'string' },
          message: { type: 'string' }
        }
      }
    },
    largeBody: true,
    responses: {
      200: '{ revisions: Revision[] }: each key\'s new head (without its value), in op order',
      400: 'A malformed op (named by its index), a key twice, more ops than the limit; nothing written',
      401: 'Missing or wrong bearer token',
      409: 'Refused: nothing written; conflicts lists every refused op { index, key, code, message, expected, actual, places? }',
      412: 'An op\'s ifMatch did not hold: nothing written; conflicts lists every refused op',
      413: 'Body over the batch size limit',
      415: 'Wrong content type',
      428: 'The server requires a parent or ifMatch on every op (--require-parent)'
    }
  },
  {
    method: 'GET',
    path: '/v1/keys/:key/head',
    operationId: 'getHead',
    summary: 'The head revision of a key (or the head it had then, with ?asOf=), with its value (a tombstone for a deleted key); ETag and Last-Modified as for the value',
    querystring: { type: 'object', additionalProperties: false, properties: { asOf } },
    responses: { 200: 'The revision', 400: 'Bad asOf (or a sequence number past the last)', 404: 'The key did not exist (then), or its history then was cut by compaction' }
  },
  {
    method: 'GET',
    path: '/v1/keys/:key/log',
    operationId: 'getLog',
    summary: 'Revisions reachable from the head, newest first',
    querystring: { type: 'object', additionalProperties: false, properties: { limit: limit(10000, 100), 'first-parent': { type: 'boolean', default: false } } },
    responses: { 200: '{ revisions: Revision[] }' }
  },
  {
    method: 'GET',
    path: '/v1/keys/:key/diff',
    operationId: 'getDiff',
    summary: 'RFC 6902 operations from one revision to another (defaults: to = head, from = its first parent)',
    querystring: { type: 'object', additionalProperties: false, properties: { from: revisionRef, to: revisionRef } },
    responses: { 200: 'JSON Patch operations', 404: 'Unknown key or revision' }
  },
  {
    method: 'GET',
    path: '/v1/keys/:key/conflicts',
    operationId: 'getConflicts',
    summary: 'Revisions kept unmerged by the manual strategy',
    responses: { 200: '{ revisions: Revision[] }' }
  },
  {
    method: 'POST',
    path: '/v1/keys/:key/merge',
    operationId: 'merge',
    summary: 'Merge a kept or side revision into the head, by a strategy or with an explicit value',
    body: {
      'application/json': {
        type: 'object',
        required: ['rev'],
        additionalProperties: false,
        properties: {
          rev: revisionRef,
          strategy: { type: 'string' },
          onConflict: { type: 'string', enum: ['ours', 'theirs'] },
          value: { description: 'An explicit resolution' },
          resolutions: {
            type: 'object',
            description: 'Settle conflicting places by JSON Pointer (a conflict\'s `path`): "ours", "theirs", "base" or { "value": <json> } (an array at a `range` place). Places not named still conflict; a pointer that names no conflicting place is a 400.',
            additionalProperties: { oneOf: [{ type: 'string', enum: ['ours', 'theirs', 'base'] }, { type: 'object', required: ['value'], additionalProperties: false, properties: { value: {} } }] }
          },
          author: { type: 'string' },
          message: { type: 'string' }
        }
      }
    },
    headers: [LOCK_TOKEN_HEADER],
    responses: { 200: 'The merge revision (or the head, if already merged)', 404: 'Unknown key or revision', 409: 'Merge conflict, with every conflicting place: { kind: "value" | "range", path, base?, ours?, theirs? }', 400: 'Bad request, or resolutions naming no conflicting place', 423: writeResponses[423] }
  },
  {
    method: 'POST',
    path: '/v1/keys/:key/lock',
    operationId: 'lockKey',
    summary: 'Take the lease on a key (which need not exist): until it ends, writes without its fencing token get 423. With wait, queue for a held lease (first come, first served)',
    body: {
      'application/json': {
        type: 'object',
        required: ['ttl'],
        additionalProperties: false,
        properties: { ttl, owner: { type: 'string', minLength: 1, maxLength: 256, description: 'Who holds it, shown to refused writers' }, wait: { type: 'integer', minimum: 0, maximum: MAX_WAIT_MS, default: 0, description: 'Milliseconds to queue for a held lease' } }
      }
    },
    responses: { 201: 'The lease { key, token, owner, expires }; Location is this resource', ...lockResponses, 423: 'Locked: another holder has the lease (problem+json with key, owner, expires), also after waiting' }
  },
  {
    method: 'PATCH',
    path: '/v1/keys/:key/lock',
    operationId: 'renewLock',
    summary: `Renew the lease whose token is in ${LOCK_TOKEN_HEADER}: it ends ttl ms from now. An ended lease cannot be renewed (423)`,
    headers: [LOCK_TOKEN_HEADER],
    body: { 'application/json': { type: 'object', required: ['ttl'], additionalProperties: false, properties: { ttl } } },
    responses: { 200: 'The renewed lease', ...lockResponses }
  },
  {
    method: 'DELETE',
    path: '/v1/keys/:key/lock',
    operationId: 'unlockKey',
    summary: `Release the lease whose token is in ${LOCK_TOKEN_HEADER}`,
    headers: [LOCK_TOKEN_HEADER],
    responses: { 200: '{ released: true }, or { released: false } when the lease had already ended', ...lockResponses, 423: 'Locked: the token is from an earlier lease and another holder has it now' }
  },
  {
    method: 'GET',
    path: '/v1/locks',
    operationId: 'listLocks',
    summary: 'The live leases in key order: { locks: [{ key, token, owner, expires }] }',
    querystring: { type: 'object', additionalProperties: false, properties: { prefix: { type: 'string' } } },
    responses: { 200: '{ locks: Lease[] }' }
  },
  {
    method: 'GET',
    path: '/v1/conflicts',
    operationId: 'listConflictedKeys',
    summary: 'Keys that have revisions kept unmerged',
    responses: { 200: '{ keys: string[] }' }
  },
  {
    method: 'GET',
    path: '/v1/resolve',
    operationId: 'resolveRevision',
    summary: 'Turn a revision reference (id, unique prefix, or with key: HEAD, HEAD~N) into a full id',
    querystring: { type: 'object', required: ['ref'], additionalProperties: false, properties: { ref: { type: 'string' }, key: { type: 'string' } } },
    responses: { 200: '{ id: string }', 400: 'Not a revision, or an ambiguous prefix (the candidates are listed)', 404: 'No such revision' }
  },
  {
    method: 'GET',
    path: '/v1/changes',
    operationId: 'listChanges',
    summary: 'Changes after a sequence number, in order: { changes: [{ seq, key, rev, deleted?, kept? }], last }',
    querystring: { type: 'object', additionalProperties: false, properties: { since: { type: 'integer', minimum: 0, default: 0 }, limit: limit(10000, 1000), prefix: { type: 'string' } } },
    responses: { 200: '{ changes, last }: pass `last` as `since` for the next page', 400: 'Bad parameter' }
  },
  {
    method: 'GET',
    path: '/v1/changes/stream',
    operationId: 'streamChanges',
    summary: 'A live text/event-stream of changes: replays from since (or Last-Event-ID), then each new change; event ids are sequence numbers',
    querystring: { type: 'object', additionalProperties: false, properties: { since: { type: 'integer', minimum: 0, default: 0 }, prefix: { type: 'string' } } },
    headers: ['Last-Event-ID'],
    responses: { 200: 'text/event-stream of `change` events' }
  },
  {
    method: 'GET',
    path: '/v1/export',
    operationId: 'exportDump',
    summary: 'A dump of the store (or of the keys under prefix) as application/x-ndjson, read from one snapshot: writes go on meanwhile and none of them is in the dump',
    querystring: { type: 'object', additionalProperties: false, properties: { prefix: { type: 'string', description: 'Only keys starting with this' } } },
    responses: { 200: 'The dump, streamed (see the README for its lines); a dump cut short by a failure has no end line, so import refuses it', 400: 'Bad parameter', 401: 'Missing or wrong bearer token' }
  },
  {
    method: 'POST',
    path: '/v1/import',
    operationId: 'importDump',
    summary: 'Restore a dump made by export, streamed as the body: every revision re-hashed, nothing written unless the whole dump is sound',
    body: { 'application/x-ndjson': { type: 'string', description: 'A dump, one JSON document per line' } },
    responses: { 200: '{ revisions, heads, keys }', 400: 'A damaged, truncated or foreign dump, or a key that already exists; nothing was imported', 401: 'Missing or wrong bearer token', 415: 'Not application/x-ndjson' }
  },
  {
    method: 'GET',
    path: '/v1/verify',
    operationId: 'verify',
    summary: 'Check the whole store (fsck) from one snapshot while writes go on: application/x-ndjson { progress } lines (records read), then { result: { revisions, keys, problems } }',
    responses: { 200: 'Progress lines, then the report as { result } (or { error: Problem } if the check failed after it began)', 401: 'Missing or wrong bearer token' }
  },
  {
    method: 'POST',
    path: '/v1/compact',
    operationId: 'compact',
    summary: 'Cut old history: keep the newest `keep` revisions of each key (under prefix); application/x-ndjson { progress } lines, then { result: { keys, dropped } }',
    body: {
      'application/json': {
        type: 'object',
        required: ['keep'],
        additionalProperties: false,
        properties: { keep: { type: 'integer', minimum: 1, description: 'Revisions to keep per key on the first-parent line' }, prefix: { type: 'string', description: 'Only keys starting with this' } }
      }
    },
    responses: { 200: 'Progress lines, then the report as { result } (or { error: Problem })', 400: 'Bad body', 401: 'Missing or wrong bearer token', 415: 'Not application/json' }
  },
  {
    method: 'GET',
    path: '/v1/revisions/:id',
    operationId: 'getRevision',
    summary: 'One revision by id or unique prefix',
    responses: { 200: 'The revision', 404: 'No such revision', 400: 'Not a revision id, or an ambiguous prefix' }
  },
  // Sync (store.pull / store.push with a RemoteStore; see the README's Sync section). A
  // client lists heads, compares them in batches, then fetches or sends histories as streams.
  {
    method: 'GET',
    path: '/v1/sync/info',
    operationId: 'syncInfo',
    summary: 'The store\'s sync id (stable, made on first use), its last change sequence number, and the stamp of its last import: { id, seq, imports }',
    responses: { 200: '{ id, seq, imports }', 401: 'Missing or wrong bearer token' }
  },
  {
    method: 'GET',
    path: '/v1/sync/heads',
    operationId: 'syncHeads',
    summary: 'Heads of every key under prefix, or (with since) of the keys changed after that sequence number, as application/x-ndjson lines {"head":{key,head,deleted?,unmerged?}}, then {"end":{"keys":N}}',
    querystring: { type: 'object', additionalProperties: false, properties: { prefix: { type: 'string', default: '' }, since: { type: 'integer', minimum: 0 } } },
    responses: { 200: 'The head lines, streamed; a list cut short by a failure has no end line', 400: 'Bad parameter', 401: 'Missing or wrong bearer token' }
  },
  {
    method: 'POST',
    path: '/v1/sync/heads',
    operationId: 'syncHeadsOf',
    summary: 'Heads of the keys named: { heads: [{key,head,deleted?,unmerged?} | null] }, in the order asked',
    body: { 'application/json': { type: 'object', additionalProperties: false, required: ['keys'], properties: { keys: { type: 'array', maxItems: 10000, items: { type: 'string' } } } } },
    responses: { 200: '{ heads }', 400: 'Bad body or key', 401: 'Missing or wrong bearer token' },
    largeBody: true,
    reads: true
  },
  {
    method: 'POST',
    path: '/v1/sync/send',
    operationId: 'syncSend',
    summary: 'Histories of the keys wanted, down to the revisions the client has (haves), as application/x-ndjson dump lines (dropped markers, revisions parents first, each key\'s head), then {"end":{"keys":N}}',
    body: {
      'application/json': {
        type: 'object',
        additionalProperties: false,
        required: ['wants'],
        properties: { wants: { type: 'array', maxItems: 10000, items: { type: 'object', additionalProperties: false, required: ['key', 'haves'], properties: { key: { type: 'string' }, haves: { type: 'array', maxItems: 1000, items: { type: 'string', pattern: '^[0-9a-f]{64}$' } } } } } }
      }
    },
    responses: { 200: 'The lines, streamed; an answer cut short has no end line, and the client refuses it', 400: 'Bad body or key', 401: 'Missing or wrong bearer token' },
    largeBody: true,
    reads: true
  },
  {
    method: 'POST',
    path: '/v1/sync/receive',
    operationId: 'syncReceive',
    summary: 'Apply a push: lines as /v1/sync/send gives them, streamed as the body; every revision re-hashed and checked, heads moved by the sync rules. Answers the report { keys, revisions, fastForwards, merges, conflicts, bytes, refused }',
    querystring: { type: 'object', additionalProperties: false, properties: { strategy: { type: 'string', description: 'Settles diverged keys instead of each key\'s strategy on the server: reject, lww, merge, manual or a registered name' } } },
    body: { 'application/x-ndjson': { type: 'string', description: 'Sync lines, one JSON document per line, ending with {"end":{"keys":N}}' } },
    responses: { 200: 'The report; keys whose revisions failed their checks are listed in refused and not applied', 400: 'Not a sync stream (not JSON, truncated), or an unknown strategy', 401: 'Missing or wrong bearer token', 403: 'The server runs with --read-only', 415: 'Not application/x-ndjson' }
  }
]
