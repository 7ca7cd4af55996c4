import { RevkvError, ValueTooLargeError } from '../errors.js'

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
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  423: 'Locked',
  428: 'Precondition Required',
  500: 'Internal Server Error',
  503: 'Service Unavailable'
}

/** The problem type URI of an error code: stable, like the codes themselves. */
export function problemType (code: string): string {
  return `urn:revkv:problem:${code.toLowerCase().replace(/^revkv_/, '').replace(/_/g, '-')}`
}

/** A problem object for a status, code and human detail, with extra members. */
export function problem (status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  return { type: problemType(code), title: TITLES[status] ?? 'Error', status, detail, code, ...extra }
}

/** The problem for an error thrown by the store: a RevkvError keeps its code, status and data. */
export function problemOf (err: unknown): Problem {
  // The store's own advice (a larger maxValueBytes) is not something a client can do.
  if (err instanceof ValueTooLargeError) err = new ValueTooLargeError(err.bytes, err.limit, 'ask for the server\'s limit to be raised (revkv serve --max-value-bytes, or the maxValueBytes of the store it serves)')
  if (err instanceof RevkvError) {
    const { name: _name, code, status, message, ...data } = err.toJSON() as { name: string, code: string, status: number, message: string }
    return problem(status, code, message, data)
  }
  return problem(500, 'REVKV_INTERNAL', 'The server failed to handle the request; its log has the details.')
}

/** A precondition failure: the write did not happen (RFC 9110 412). */
export class PreconditionFailed extends Error {
  constructor (readonly detail: string, readonly actual: string | null) {
    super(detail)
  }
}
