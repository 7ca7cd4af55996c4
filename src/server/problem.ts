import { HttpError, InvalidInputError, RevkvError, ValueTooLargeError } from '../errors.js'
import type { ErrorCode } from '../errors.js'

/** An RFC 9457 problem details object, plus revkv's conflict members. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: string
  [member: string]: unknown
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  422: 'Unprocessable Content',
  423: 'Locked',
  428: 'Precondition Required',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable'
}

/** The problem type URI of an error code: stable, like the codes themselves. */
export function problemType (code: string): string {
  return `urn:revkv:problem:${code.toLowerCase().replace(/^revkv_/, '').replace(/_/g, '-')}`
}

/** The reason line of a status, as the problem's `title` and the HTTP status line show it. */
export function statusTitle (status: number): string {
  return TITLES[status] ?? 'Error'
}

/** A problem object for a status, code and human detail, with extra members. */
export function problem (status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  return { type: problemType(code), title: statusTitle(status), status, detail, code, ...extra }
}

/** The problem for an error: a RevkvError keeps its code, status and data; fastify's 4xx get revkv codes. */
export function problemOf (err: unknown): Problem {
  // The store's own advice (a larger maxValueBytes) is not something a client can do.
  if (err instanceof ValueTooLargeError) err = new ValueTooLargeError(err.bytes, err.limit, 'ask for the server\'s limit to be raised (revkv serve --max-value-bytes, or the maxValueBytes of the store it serves)')
  const known = err instanceof RevkvError ? err : requestError(err)
  if (known !== undefined) {
    const { name: _name, code, status, message, ...data } = known.toJSON() as { name: string, code: string, status: number, message: string }
    return problem(status, code, message, data)
  }
  return problem(500, 'REVKV_INTERNAL', 'The server failed to handle the request; its log has the details.')
}

/** The code of a refusal by status, for errors fastify raises about a request. */
const CODES: Record<number, ErrorCode> = {
  408: 'REVKV_TIMEOUT',
  413: 'REVKV_TOO_LARGE',
  414: 'REVKV_TOO_LARGE',
  415: 'REVKV_UNSUPPORTED_MEDIA_TYPE',
  431: 'REVKV_TOO_LARGE'
}

/** A fastify error about the request (a 4xx: schema validation, body size, media type) as a revkv error. */
function requestError (err: unknown): RevkvError | undefined {
  const e = err as { statusCode?: unknown, code?: unknown, message?: unknown, validation?: unknown } | null
  if (e === null || typeof e !== 'object' || typeof e.statusCode !== 'number' || e.statusCode < 400 || e.statusCode >= 500) return undefined
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : statusTitle(e.statusCode)
  if (e.validation !== undefined) return new InvalidInputError(`${message}.`.replace(/\.\.$/, '.'))
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new HttpError(`${message}: ask for the server's request size limit to be raised (revkv serve --body-limit, which follows --max-value-bytes by default).`, 'REVKV_TOO_LARGE', 413)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new HttpError(`${message}: send JSON values as application/json.`, 'REVKV_UNSUPPORTED_MEDIA_TYPE', 415)
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return new InvalidInputError('The body is empty; send a JSON value (null is one).')
  }
  return new HttpError(`${message}.`.replace(/\.\.$/, '.'), CODES[e.statusCode] ?? 'REVKV_INVALID', e.statusCode)
}

/**
 * Log a failure the server answered with a 5xx. A bug (500) gets its stack; an outage the
 * server reports as such (503: the store is closing, its database server is down) is an
 * operational event that repeats for every request meanwhile, so it gets one line.
 */
export function logServerError (err: unknown, p: Problem): void {
  if (p.status < 500) return
  if (p.status === 503 && err instanceof RevkvError) console.error(`revkv serve: ${p.code}: ${err.message}`)
  else console.error(err)
}
